"""Phase knowledge fails closed: a process that cannot learn the phase refuses, it never guesses phase 0."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from migration import breaker, flags, phase, transitions
from migration.exceptions import PhaseUnknown
from migration.middleware import CutoverReadMiddleware
from migration.phase import Phase, PhaseState
from tests.support.cutover import BOTH, cutover_state, unreachable  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]


def _cold_process() -> None:
    """Forget everything this process and the shared cache remember about the switches."""
    flags.forget()
    flags._last_known = None
    cache.clear()
    breaker.reset()


def _drop_source_copy() -> None:
    with connections["sqlite"].cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{flags.SOURCE_COPY_TABLE}"')


def test_phase_a_cold_process_reads_the_phase_from_the_sqlite_file_while_postgresql_is_down() -> None:
    transitions.advance(actor="operator@test")  # 0 -> 1 records the phase in the file too
    with unreachable("default"):
        _cold_process()
        assert phase.current_state() == PhaseState(Phase.DUAL_WRITE)
        assert not flags.state().stale  # the file's copy is the phase while SQLite is the primary


def test_phase_a_cold_process_with_no_copy_refuses_instead_of_assuming_phase_0() -> None:
    transitions.advance(actor="operator@test")
    _drop_source_copy()
    with unreachable("default"):
        _cold_process()
        with pytest.raises(PhaseUnknown, match="phase is unknown: PostgreSQL cannot be read"):
            phase.primary_alias()


def test_phase_unknown_gives_an_http_503_with_a_json_body() -> None:
    _drop_source_copy()

    def view(request: HttpRequest) -> HttpResponse:
        phase.primary_alias()  # what routing a write asks
        return HttpResponse("routed")

    middleware = CutoverReadMiddleware(view)
    request = RequestFactory().post("/api/logs")
    with unreachable("default"):
        _cold_process()
        try:
            response = view(request)
        except PhaseUnknown as exc:
            response = middleware.process_exception(request, exc) or HttpResponse(status=500)
        assert response.status_code == 503
        assert b"phase is unknown" in response.content
        assert middleware(request).status_code == 503  # the bucket lookup needs the phase too


def test_phase_changes_made_in_waffles_admin_update_the_files_copy() -> None:
    from tests.support.cutover import set_phase

    set_phase(Phase.DUAL_WRITE)
    copy = flags.read_source_copy()
    assert copy is not None and copy.dual_write and not copy.postgres_primary


def test_phase_the_switch_fence_inside_sqlites_write_lock_never_asks_postgresql(caplog: pytest.LogCaptureFixture) -> None:
    from django.db import transaction

    from migration import dualwrite

    transitions.advance(actor="operator@test")
    with unreachable("default"):
        _cold_process()
        with transaction.atomic(using="sqlite"):  # a writer holding SQLite's write lock
            assert dualwrite.primary_moved("sqlite") is False
        assert breaker.allows("default")  # PostgreSQL was never tried
    assert "cutover flags unreadable" not in caplog.text
