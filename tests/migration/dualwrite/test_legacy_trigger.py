"""The legacy app's own trigger on market_sources, through the whole road and back: only the app's writes stamp updated_at."""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.db.models import F

from core.models.market import MarketSource
from migration import dualwrite, fence, phase, transitions
from migration.phase import Phase, PhaseState
from tests.support.cutover import BOTH, assert_same_rows, cutover_state  # noqa: F401 (fixture)
from tests.support.factories import insert

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]

TRIGGER = "update_market_sources_timestamp"
# The text the legacy app created (src/lib/db/migrations/007_market_prices_real.sql, quoted in
# fixtures/legacy_schema.sql): it stamps every UPDATE of a row, even one that sets updated_at itself.
LEGACY_APP_TRIGGER = f"""
CREATE TRIGGER {TRIGGER} AFTER UPDATE ON market_sources
BEGIN UPDATE market_sources SET updated_at = datetime('now') WHERE id = NEW.id; END
"""
ROWS = 50
UTC = dt.UTC

Expected = dict[int, dt.datetime]


@pytest.fixture(params=["as the legacy app created it", "as fixtures/legacy_schema.sql lays it"])
def legacy_trigger(request: pytest.FixtureRequest) -> Iterator[str]:
    """The legacy file's trigger on market_sources: the app's own text, or the schema fixture's guarded one."""
    with connections["sqlite"].cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGER])
        laid = cursor.fetchone()[0]  # the test file is built from fixtures/legacy_schema.sql
        if request.param == "as the legacy app created it":
            cursor.execute(f"DROP TRIGGER {TRIGGER}")
            cursor.execute(LEGACY_APP_TRIGGER)
    yield request.param
    with connections["sqlite"].cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        cursor.execute(laid)


def _legacy_rows() -> Expected:
    """ROWS market sources written by the legacy app in 2024, each with its own updated_at."""
    expected = {}
    for i in range(1, ROWS + 1):
        stamp = dt.datetime(2024, 1, 1, 8, tzinfo=UTC) + dt.timedelta(days=7 * i, minutes=i)
        legacy = stamp.strftime("%Y-%m-%d %H:%M:%S")
        insert("sqlite", "market_sources", id=i, source_key=f"market-{i}", source_name=f"Market {i}",
               source_type="web", is_active=1, created_at=legacy, updated_at=legacy)
        expected[i] = stamp
    return expected


def _app_updates(pks: range, expected: Expected, *, stamps: dict[int, dt.datetime] | None = None) -> None:
    """The application updates some rows through the ORM, and ``expected`` learns what it wrote.

    Without ``stamps`` the update leaves updated_at to the app (the ORM's touch, then on SQLite the
    legacy trigger): what the primary holds after the write is what the app wrote. With ``stamps``
    the app sets updated_at itself, a value the trigger's clock could never give.
    """
    primary = phase.primary_alias()
    started = dt.datetime.now(UTC).replace(microsecond=0)
    if stamps is None:
        MarketSource.objects.filter(pk__in=pks).update(success_count=F("success_count") + 1)
    else:
        for pk in pks:
            MarketSource.objects.filter(pk=pk).update(source_name=f"Market {pk} (renamed)", updated_at=stamps[pk])
    written = dict(MarketSource.objects.using(primary).filter(pk__in=pks).values_list("pk", "updated_at"))
    assert len(written) == len(pks)
    if stamps is None:
        assert all(value >= started for value in written.values()), "the app's update did not refresh updated_at"
    else:
        assert written == {pk: stamps[pk] for pk in pks}
    expected.update(written)


def _assert_as_the_app_wrote(expected: Expected, *aliases: str) -> None:
    """Every market_sources.updated_at on ``aliases`` is the value the app last wrote."""
    assert dualwrite.wait_for_mirrors(60), "background mirrors still running after 60 s"
    for alias in aliases:
        found = dict(MarketSource._base_manager.using(alias).values_list("pk", "updated_at"))
        wrong = {pk: (found.get(pk), want) for pk, want in expected.items() if found.get(pk) != want}
        assert not wrong, f"{alias}: {len(wrong)} of {len(expected)} updated_at not as the app wrote them " \
                          f"(found, wanted): {sorted(wrong.items())[:3]}"
        assert set(found) == set(expected), alias


def _validate(*args: str) -> str:
    """validate_counts over every migrated table; a finding fails the test with the command's report."""
    out = io.StringIO()
    try:
        call_command("validate_counts", "--recheck-delay", "0", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        pytest.fail(f"validate_counts {' '.join(args)}: {exc}\n{out.getvalue()}")
    return out.getvalue()


def _advance() -> PhaseState:
    transition = transitions.advance(actor="operator@test")
    assert not transition.forced and all(g.ok for g in transition.gates)
    return transition.after


def test_legacy_trigger_full_road_and_back_keeps_every_updated_at_the_app_wrote(legacy_trigger: str) -> None:
    expected = _legacy_rows()
    app_stamps = {pk: dt.datetime(2025, 3, 1, 12, tzinfo=UTC) + dt.timedelta(hours=pk) for pk in expected}

    # Phase 0: only the legacy file.
    _app_updates(range(1, 4), expected)
    _assert_as_the_app_wrote(expected, "sqlite")

    # Phase 1: dual writes; the copy runs while writes are mirrored.
    assert _advance() == PhaseState(Phase.DUAL_WRITE)
    _app_updates(range(4, 7), expected)  # mirrored before the copy has run
    call_command("migrate_data", "--no-backup", "--no-input", stdout=io.StringIO(), stderr=io.StringIO())
    _assert_as_the_app_wrote(expected, *BOTH)
    _app_updates(range(7, 10), expected)
    _assert_as_the_app_wrote(expected, *BOTH)

    # Phase 2: the read rollout, 10 %, 50 %, 100 %.
    for percent, pks in ((10.0, range(10, 13)), (50.0, range(13, 16)), (100.0, range(16, 19))):
        _validate()
        assert _advance() == PhaseState(Phase.READ_ROLLOUT, percent)
        _app_updates(pks, expected)
        _assert_as_the_app_wrote(expected, *BOTH)

    # Phase 3: PostgreSQL primary; every app write is mirrored into SQLite by the applier.
    _validate()
    assert _advance() == PhaseState(Phase.POSTGRES_PRIMARY, 100.0)
    _app_updates(range(19, 25), expected, stamps=app_stamps)
    _assert_as_the_app_wrote(expected, *BOTH)
    # The secondary drifts behind the engine's back (past its fence; the app's trigger may stamp the
    # rows too): the repair brings back PostgreSQL's values, updated_at included, and stamps nothing.
    with fence.lifted("sqlite"), connections["sqlite"].cursor() as cursor:
        cursor.execute("UPDATE market_sources SET source_name = 'drifted' WHERE id IN (25, 26)")
    repaired = _validate("--repair", "--no-input")
    assert "repair" in repaired.lower()
    assert set(MarketSource.objects.using("sqlite").filter(pk__in=(25, 26)).values_list("source_name", flat=True)) \
        == {"Market 25", "Market 26"}
    _assert_as_the_app_wrote(expected, *BOTH)
    assert_same_rows(MarketSource)

    # Phase 4: PostgreSQL only; SQLite keeps what it had.
    _validate()
    assert _advance() == PhaseState(Phase.FINALIZED, 100.0)
    on_sqlite = dict(expected)
    _app_updates(range(27, 33), expected, stamps=app_stamps)
    _assert_as_the_app_wrote(expected, "default")
    _assert_as_the_app_wrote(on_sqlite, "sqlite")

    # Back to 3 with the reverse copy: every row is written into SQLite again, none stamped.
    transitions.rollback(to=3, reverse_copy=True, actor="operator@test")
    assert phase.current_state_fresh() == PhaseState(Phase.POSTGRES_PRIMARY, 100.0)
    _assert_as_the_app_wrote(expected, *BOTH)
    assert_same_rows(MarketSource)
    _validate()

    # Back to 1: SQLite primary again; the app's writes there fire its trigger, and are mirrored.
    transitions.rollback(to=1, actor="operator@test")
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)
    _assert_as_the_app_wrote(expected, *BOTH)
    _app_updates(range(33, 36), expected)
    _assert_as_the_app_wrote(expected, *BOTH)
    assert_same_rows(MarketSource)

    assert _validate("--no-color").splitlines()[-1].endswith("equal")
