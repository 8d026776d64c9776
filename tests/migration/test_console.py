"""What the console shows, read from the real databases and the engine's bookkeeping tables."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from core.models.auth import Membership, SecurityAuditLog
from core.models.market import MarketSource
from migration import console, console_actions, fence, phase, spotcheck
from migration.exceptions import GateRefused, RepairRefused
from migration.models import (
    CopyCheckpoint,
    LatencySample,
    OutboxRecord,
    PhaseChange,
    ShadowMismatch,
    ValidationRepair,
    ValidationRun,
    ValidationTable,
)
from migration.phase import Phase
from tests.support.cutover import BOTH, cutover_state, rows, set_phase  # noqa: F401 (fixture)
from tests.support.factories import audit_pair, fresh_flags, insert  # noqa: F401 (fixture)


@pytest.mark.django_db(databases=BOTH)
def test_table_counts_counts_both_databases_and_names_absent_tables() -> None:
    for pk in (1, 2):
        insert("sqlite", "security_audit_logs", id=pk, action="a")
    insert("default", "security_audit_logs", id=1, action="a")

    audit, membership = console.table_counts([SecurityAuditLog, Membership])

    assert (audit.table, audit.source, audit.target, audit.equal) == (
        "security_audit_logs",
        2,
        1,
        False,
    )
    assert (membership.source, membership.target, membership.equal) == (None, 0, True)


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.usefixtures("fresh_flags")
def test_databases_name_alias_vendor_role_and_primary_only() -> None:
    assert console.databases() == [
        console.Database("sqlite", "sqlite", "source", primary=True),
        console.Database("default", "postgresql", "target", primary=False),
    ]


@pytest.mark.django_db(databases=BOTH)
def test_copy_view_lists_every_migrated_table_with_its_checkpoint() -> None:
    CopyCheckpoint.objects.create(
        table="security_audit_logs",
        model_label="core.SecurityAuditLog",
        source_rows=10,
        copied_rows=4,
        rejected_rows=1,
        complete=False,
    )
    CopyCheckpoint.objects.create(
        table="memberships",
        model_label="core.Membership",
        source_rows=None,
        complete=True,
    )

    rows = {row.table: row for row in console.copy_view()}

    audit = rows["security_audit_logs"]
    assert (audit.status, audit.percent) == ("in progress", 50.0)
    assert rows["memberships"].status == "complete (absent in source)"
    assert rows["memberships"].percent == 100.0
    assert (rows["users"].status, rows["users"].percent) == ("not started", None)


@pytest.mark.django_db(databases=BOTH)
def test_snapshot_copy_summary_counts_states() -> None:
    CopyCheckpoint.objects.create(
        table="users", model_label="core.User", source_rows=0, complete=True
    )

    snapshot = console.snapshot()

    total = len(snapshot.sections["copy"])
    assert (
        snapshot.copy_summary
        == f"1 of {total} tables complete, 0 in progress, {total - 1} not started"
    )
    assert [row.table for row in snapshot.tables] == sorted(row.table for row in snapshot.tables)


@pytest.mark.django_db(databases=BOTH)
def test_validation_view_says_when_validation_has_never_run() -> None:
    assert console.validation_view() == console.Unavailable(
        "validation has never run: run ./manage.py validate_counts"
    )


@pytest.mark.django_db(databases=BOTH)
def test_snapshot_joins_the_last_validation_to_each_table() -> None:
    now = timezone.now()
    run = ValidationRun.objects.create(
        started_at=now,
        finished_at=now,
        mode="rows",
        source_alias="sqlite",
        target_alias="default",
        clean=False,
        differences=3,
    )
    ValidationTable.objects.create(
        run=run,
        table="security_audit_logs",
        model_label="core.SecurityAuditLog",
        source_count=5,
        target_count=4,
        missing=1,
        changed=2,
        clean=False,
    )
    ValidationTable.objects.create(
        run=run, table="users", model_label="core.User", source_count=0, target_count=0, clean=True
    )

    snapshot = console.snapshot()

    rows = {row.table: row for row in snapshot.tables}
    assert rows["security_audit_logs"].validation == console.TableValidation(
        False, "1 missing, 2 changed"
    )
    assert rows["users"].validation == console.TableValidation(True, "clean")
    assert rows["logs"].validation is None
    assert snapshot.sections["validation"].differences == 3


@pytest.mark.django_db(databases=BOTH)
def test_outbox_view_names_the_oldest_pending_record_across_databases() -> None:
    old = timezone.now() - dt.timedelta(minutes=5)
    OutboxRecord.objects.using("sqlite").create(
        model_label="core.SecurityAuditLog",
        pk_value="7",
        operation="save",
        created_at=old,
        attempts=2,
        last_error="connection to postgres://u:Hidden99@h/db refused",
    )
    OutboxRecord.objects.using("default").create(
        model_label="core.User", pk_value="u1", operation="delete"
    )

    outbox = console.outbox_view()

    assert outbox.depth_by_alias == {"sqlite": 1, "default": 1}
    assert outbox.depth == 2
    assert outbox.oldest["on"] == "sqlite"
    assert (outbox.oldest["model"], outbox.oldest["pk"], outbox.oldest["attempts"]) == (
        "core.SecurityAuditLog",
        "7",
        2,
    )
    assert "Hidden99" not in outbox.oldest["last error"]


@pytest.mark.django_db(databases=BOTH)
def test_outbox_view_empty() -> None:
    outbox = console.outbox_view()

    assert (outbox.depth, outbox.oldest) == (0, None)


@pytest.mark.django_db(databases=BOTH)
def test_latency_view_reports_p95_per_alias_and_kind() -> None:
    # Buckets follow migration.metrics: 95 fast reads and 5 slow ones put p95 in the fast bucket.
    from migration import metrics

    fast, slow = metrics.bucket_of(1.0), metrics.bucket_of(200.0)
    LatencySample.objects.create(
        alias="sqlite",
        kind="read",
        count=100,
        total_ms=1095.0,
        histogram={str(fast): 95, str(slow): 5},
    )
    LatencySample.objects.create(
        alias="default", kind="write", count=10, total_ms=2000.0, histogram={str(slow): 10}
    )

    rows = {(r.alias, r.kind): r for r in console.latency_view()}

    assert rows[("sqlite", "read")].p95_ms == round(metrics.bucket_bound(fast), 3)
    assert rows[("sqlite", "read")].count == 100
    assert rows[("default", "write")].p95_ms == round(metrics.bucket_bound(slow), 3)


@pytest.mark.django_db(databases=BOTH)
def test_shadow_view_counts_recent_mismatches() -> None:
    common = {"model_label": "core.Log", "query": "SELECT 1", "primary_alias": "sqlite",
              "shadow_alias": "default", "primary_ms": 1.0, "shadow_ms": 2.0}
    ShadowMismatch.objects.create(**common, primary_rows=3, shadow_rows=2, detail="pk 9 differs")
    ShadowMismatch.objects.create(**common, primary_rows=1, shadow_rows=1, at=timezone.now() - dt.timedelta(days=2))

    shadow = console.shadow_view()

    assert shadow.total == 1
    assert [m["detail"] for m in shadow.recent] == ["pk 9 differs", ""]


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.usefixtures("fresh_flags")
def test_phase_view_from_phase_zero_lists_gates_of_the_next_step() -> None:
    view = console.phase_view()

    assert (view.current, view.next, view.previous) == ("0 sqlite", "1 dual-write", None)
    required = {g.name: g.passed for g in view.gates if g.required}
    assert required == {"outbox": True, "databases": True, "schema": True}
    later = {g.name: g.passed for g in view.gates if not g.required}
    assert later == {"copy": False, "validation": False}
    assert view.gates_passed


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.usefixtures("fresh_flags")
def test_phase_view_red_gate_when_outbox_holds_records() -> None:
    OutboxRecord.objects.using("default").create(
        model_label="core.Log", pk_value="1", operation="save",
        created_at=timezone.now() - dt.timedelta(minutes=5),  # older than the gate tolerates
    )

    view = console.phase_view()

    outbox = next(g for g in view.gates if g.name == "outbox")
    assert (outbox.passed, outbox.required) == (False, True)
    assert "1 pending records" in outbox.detail
    assert not view.gates_passed


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.usefixtures("fresh_flags")
def test_change_phase_advances_and_rolls_back_through_the_engine() -> None:
    forward = console_actions.change_phase("advance", actor="ops (admin console)")
    assert phase.current_state_fresh() == phase.PhaseState(phase.Phase.DUAL_WRITE)
    back = console_actions.change_phase("rollback", actor="ops (admin console)")

    assert forward.startswith("Advanced the cutover from 0 sqlite to 1 dual-write")
    assert back.startswith("Rolled back the cutover from 1 dual-write to 0 sqlite")
    assert phase.current() == phase.Phase.SQLITE
    audit = list(PhaseChange.objects.order_by("id").values_list("actor", "from_phase", "to_phase"))
    assert audit == [("ops (admin console)", 0, 1), ("ops (admin console)", 1, 0)]
    assert console.phase_view().history[0].endswith("1 (0%) → 0 (0%)")


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.usefixtures("fresh_flags")
def test_change_phase_refused_by_a_red_gate() -> None:
    OutboxRecord.objects.using("default").create(
        model_label="core.Log", pk_value="1", operation="save",
        created_at=timezone.now() - dt.timedelta(minutes=5),  # older than the gate tolerates
    )

    with pytest.raises(GateRefused, match="outbox: 1 pending records"):
        console_actions.change_phase("advance", actor="ops")

    assert phase.current_state_fresh().phase == phase.Phase.SQLITE
    assert not PhaseChange.objects.exists()


@pytest.mark.django_db(databases=BOTH)
def test_repair_makes_the_target_row_equal_and_says_what_it_did() -> None:
    audit_pair(11, user_id="wrong@example.com")
    insert(
        "sqlite",
        "security_audit_logs",
        id=12,
        action="only in source",
        success=1,
        created_at="2024-01-02 00:00:00",
    )

    summary = console_actions.repair(SecurityAuditLog, [11, 12])

    assert summary == "Repaired security_audit_logs on default: inserted 12; updated 11"
    assert not any(r.differs for r in spotcheck.compare_rows(SecurityAuditLog, [11, 12]))


# --- The repair button while writes are mirrored: only the secondary is written ---------------

WRITTEN = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)


def _market_source(key: str) -> MarketSource:
    return MarketSource.objects.create(source_key=key, source_name=key.title(), source_type="web",
                                       created_at=WRITTEN, updated_at=WRITTEN)


def _raw(alias: str, statement: str, params: list[object]) -> None:
    """A change behind the engine's back (no outbox record), past the fence as an operator's
    maintenance would go: how a copy drifts."""
    with fence.lifted(alias), connections[alias].cursor() as cursor:
        cursor.execute(statement, params)


def _plant_extra_row(alias: str, pk: int) -> None:
    """A row only ``alias`` holds, in that database's own form."""
    legacy = connections[alias].vendor == "sqlite"
    stamp = "2024-02-01 08:00:00" if legacy else dt.datetime(2024, 2, 1, 8, tzinfo=dt.UTC)
    with fence.lifted(alias):
        insert(alias, "market_sources", id=pk, source_key="extra", source_name="Extra", source_type="web",
               is_active=1 if legacy else True, created_at=stamp, updated_at=stamp)


@pytest.mark.django_db(databases=BOTH, transaction=True)
@pytest.mark.usefixtures("cutover_state")
@pytest.mark.parametrize(
    ("at", "primary", "secondary"),
    [(Phase.DUAL_WRITE, "sqlite", "default"), (Phase.POSTGRES_PRIMARY, "default", "sqlite")],
)
def test_repair_writes_only_the_secondary_and_keeps_the_primarys_values(
    at: Phase, primary: str, secondary: str
) -> None:
    set_phase(Phase.DUAL_WRITE)  # the rows on both sides
    missing, stale = _market_source("migros"), _market_source("a101")
    set_phase(at)
    # The secondary drifted: a row lost, a row stamped by something else, a row the primary never had.
    _raw(secondary, "DELETE FROM market_sources WHERE id = %s", [missing.pk])
    _raw(secondary, "UPDATE market_sources SET source_name = 'stale', updated_at = %s WHERE id = %s",
         ["2026-01-01 00:00:00" if secondary == "sqlite" else dt.datetime(2026, 1, 1, tzinfo=dt.UTC), stale.pk])
    extra = stale.pk + 100
    _plant_extra_row(secondary, extra)
    pks = [missing.pk, stale.pk, extra]
    on_primary = rows(MarketSource, primary)

    plan = console_actions.repair_plan(MarketSource, pks)
    summary = console_actions.repair(MarketSource, pks)

    assert (plan.copy_from, plan.copy_to, plan.mirrored) == (primary, secondary, True)
    assert (plan.of("insert"), plan.of("update"), plan.of("delete")) == ([missing.pk], [stale.pk], [extra])
    assert plan.rows[1].differing == ["source_name", "updated_at"] and not plan.warnings
    assert summary == (f"Repaired market_sources on {secondary}: inserted {missing.pk}; updated {stale.pk}; "
                       f"deleted {extra}")
    assert rows(MarketSource, primary) == on_primary  # not one value of the primary changed
    assert rows(MarketSource, secondary) == on_primary
    assert MarketSource.objects.using(secondary).get(pk=stale.pk).updated_at == WRITTEN
    recorded = ValidationRepair.objects.filter(table="market_sources").values_list("pk_value", "action", "verified")
    assert sorted(recorded) == sorted([(str(missing.pk), "insert", True), (str(stale.pk), "update", True),
                                       (str(extra), "delete", True)])


@pytest.mark.django_db(databases=BOTH, transaction=True)
@pytest.mark.usefixtures("cutover_state")
def test_repair_plan_warns_when_every_row_differs_in_one_column() -> None:
    set_phase(Phase.DUAL_WRITE)
    sources = [_market_source(key) for key in ("migros", "a101", "bim")]
    set_phase(Phase.POSTGRES_PRIMARY)
    _raw("sqlite", "UPDATE market_sources SET updated_at = '2026-01-01 00:00:00'", [])  # a trigger's mark

    plan = console_actions.repair_plan(MarketSource, [s.pk for s in sources])

    assert (plan.copy_from, plan.copy_to, plan.changes, plan.counts) == ("default", "sqlite", 3, "3 updated")
    assert plan.warnings == ["market_sources: all 3 rows to update differ in updated_at only. That looks "
                             "systematic (a trigger or a value conversion), not like lost writes: check which "
                             "side is right before repairing."]


@pytest.mark.django_db(databases=BOTH, transaction=True)
@pytest.mark.usefixtures("cutover_state")
def test_repair_in_phase_four_is_refused_and_writes_nothing() -> None:
    set_phase(Phase.FINALIZED)
    source = _market_source("migros")  # PostgreSQL only: SQLite no longer receives writes
    before = {alias: rows(MarketSource, alias) for alias in BOTH}

    plan = console_actions.repair_plan(MarketSource, [source.pk])
    with pytest.raises(RepairRefused, match="only database"):
        console_actions.repair(MarketSource, [source.pk])

    assert "rollback --reverse-copy" in plan.refused and not plan.rows
    assert {alias: rows(MarketSource, alias) for alias in BOTH} == before
    assert not ValidationRepair.objects.exists()
