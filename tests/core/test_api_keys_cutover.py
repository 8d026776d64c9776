"""API keys through the real cutover router: issued, used and revoked across switches of primary."""
from __future__ import annotations

from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import api_keys
from core.models import ApiKey
from migration.phase import Phase
from tests.support.cutover import cutover_state, set_phase  # noqa: F401 - a fixture

# Transactional: mirrors run after the primary commits, and never inside a transaction left open.
pytestmark = [pytest.mark.django_db(databases=["default", "sqlite"], transaction=True), pytest.mark.usefixtures("cutover_state")]

# (phase, read percent, where the key's row is read): forward to phase 3, then rolled back to 1.
WALK = [
    (Phase.DUAL_WRITE, None, "sqlite"),
    (Phase.READ_ROLLOUT, 100.0, "default"),
    (Phase.POSTGRES_PRIMARY, None, "default"),
    (Phase.READ_ROLLOUT, 100.0, "default"),
    (Phase.DUAL_WRITE, None, "sqlite"),
]


@pytest.fixture(autouse=True)
def every_request_reads_the_row(settings: Any) -> Any:
    """No memo: each request reads the key where the phase routes it."""
    settings.API_KEY_MEMO_SECONDS = 0
    api_keys.forget()
    yield
    api_keys.forget()


def tenders(key: str, read_from: str) -> int:
    """GET /api/tenders with ``key``; asserts the key's row was read on ``read_from``."""
    with CaptureQueriesContext(connections[read_from]) as queries:
        response = Client().get("/api/tenders", headers={"Authorization": f"Bearer {key}"})
    assert any('"api_keys"' in query["sql"] for query in queries), f"api_keys not read on {read_from}"
    return response.status_code


def rows_on_both(pk: int) -> dict[str, tuple[Any, ...]]:
    return {
        alias: ApiKey.objects.using(alias).values_list("key_hash", "permissions", "active").get(pk=pk)
        for alias in ("sqlite", "default")
    }


def test_api_key_issued_in_phase_1_works_through_phase_3_and_a_rollback() -> None:
    set_phase(Phase.DUAL_WRITE)
    row, key = api_keys.issue("across the cutover", ["tenders:read"])

    on_both = rows_on_both(row.pk)
    assert on_both["sqlite"] == on_both["default"] == (api_keys.hash_key(key), ["tenders:read"], True)
    for phase, percent, read_from in WALK:
        set_phase(phase, percent)
        assert tenders(key, read_from) == 200, (phase, percent)


def test_api_key_revoked_in_phase_3_stays_revoked_after_the_rollback() -> None:
    set_phase(Phase.DUAL_WRITE)
    row, key = api_keys.issue("revoked on postgres", ["tenders:read"])
    set_phase(Phase.POSTGRES_PRIMARY)
    assert tenders(key, "default") == 200

    # Written on PostgreSQL, the primary now, and mirrored back to the legacy file.
    api_keys.revoke(key_id=row.pk)

    assert [active for _, _, active in rows_on_both(row.pk).values()] == [False, False]
    assert tenders(key, "default") == 401
    set_phase(Phase.DUAL_WRITE)
    assert tenders(key, "sqlite") == 401


def test_api_key_issued_in_phase_3_works_after_a_rollback_to_phase_1() -> None:
    set_phase(Phase.POSTGRES_PRIMARY)
    row, key = api_keys.issue("born on postgres", ["tenders:read"])
    assert tenders(key, "default") == 200

    set_phase(Phase.DUAL_WRITE)

    assert ApiKey.objects.using("sqlite").get(pk=row.pk).key_hash == api_keys.hash_key(key)
    assert tenders(key, "sqlite") == 200


def test_api_key_of_phase_0_is_unknown_on_postgres_until_copied() -> None:
    # A key issued before dual writes exists only in the legacy file: the backfill copy moves it,
    # like any other row, before reads may go to PostgreSQL.
    set_phase(Phase.SQLITE)
    row, key = api_keys.issue("before the cutover", ["tenders:read"])
    assert tenders(key, "sqlite") == 200
    assert not ApiKey.objects.using("default").filter(pk=row.pk).exists()
