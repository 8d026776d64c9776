"""The phase: derived from switches, advanced through gates, rolled back without loss, audited with backups."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, connections
from django.db.models import F
from django.utils import timezone
from waffle import get_waffle_switch_model

from core.models.auth import User
from core.models.menu import MenuCategory
from migration import backfill, dualwrite, flags, gates, phase, transitions, verify
from migration.dualwrite import apply as dw_apply
from migration.exceptions import GateRefused, InvalidTransition
from migration.models import OutboxRecord, PhaseChange
from migration.phase import Phase, PhaseState
from tests.support.cutover import (  # noqa: F401
    BOTH,
    assert_same_rows,
    child_env,
    cutover_state,
    mirror,
    set_phase,
)

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        (flags.FlagState(), PhaseState(Phase.SQLITE)),
        (flags.FlagState(read_percent=50), PhaseState(Phase.SQLITE)),  # no reads from PG without dual writes
        (flags.FlagState(dual_write=True), PhaseState(Phase.DUAL_WRITE)),
        (flags.FlagState(dual_write=True, read_percent=10), PhaseState(Phase.READ_ROLLOUT, 10)),
        (flags.FlagState(dual_write=True, read_percent=100), PhaseState(Phase.READ_ROLLOUT, 100)),
        (flags.FlagState(dual_write=True, postgres_primary=True), PhaseState(Phase.POSTGRES_PRIMARY, 100)),
        (flags.FlagState(postgres_primary=True, finalized=True), PhaseState(Phase.FINALIZED, 100)),
    ],
)
def test_phase_is_derived_from_switches(snapshot: flags.FlagState, expected: PhaseState) -> None:
    assert phase.state_from(snapshot) == expected


@pytest.mark.parametrize(
    ("before", "percent", "after"),
    [
        (PhaseState(Phase.SQLITE), None, PhaseState(Phase.DUAL_WRITE)),
        (PhaseState(Phase.DUAL_WRITE), None, PhaseState(Phase.READ_ROLLOUT, 10)),
        (PhaseState(Phase.READ_ROLLOUT, 10), None, PhaseState(Phase.READ_ROLLOUT, 50)),
        (PhaseState(Phase.READ_ROLLOUT, 50), None, PhaseState(Phase.READ_ROLLOUT, 100)),
        (PhaseState(Phase.READ_ROLLOUT, 100), None, PhaseState(Phase.POSTGRES_PRIMARY, 100)),
        (PhaseState(Phase.POSTGRES_PRIMARY, 100), None, PhaseState(Phase.FINALIZED, 100)),
        (PhaseState(Phase.READ_ROLLOUT, 10), 25.0, PhaseState(Phase.READ_ROLLOUT, 25)),
    ],
)
def test_phase_next_state(before: PhaseState, percent: float | None, after: PhaseState) -> None:
    assert transitions.next_state(before, percent) == after


@pytest.mark.parametrize(
    ("before", "percent"),
    [(PhaseState(Phase.FINALIZED, 100), None), (PhaseState(Phase.READ_ROLLOUT, 50), 10.0), (PhaseState(Phase.SQLITE), 10.0)],
)
def test_phase_next_state_refuses_impossible_moves(before: PhaseState, percent: float | None) -> None:
    with pytest.raises(InvalidTransition):
        transitions.next_state(before, percent)


def _clean_validation(monkeypatch: pytest.MonkeyPatch, *, clean: bool = True, age: dt.timedelta = dt.timedelta(0)) -> None:
    run = {"finished_at": timezone.now() - age, "clean": clean}
    monkeypatch.setattr(verify, "latest_run", lambda: run)


def _complete_copy(monkeypatch: pytest.MonkeyPatch, complete: bool = True) -> None:
    """Stand in for migration.backfill.progress(): one checkpoint per table (the copy engine's shape)."""
    from migration import inventory

    tables = [m._meta.db_table for m in inventory.migrated_models()]
    checkpoints = [
        types.SimpleNamespace(table=t, complete=complete or i > 0, source_rows=0, copied_rows=0)
        for i, t in enumerate(tables)
    ]
    monkeypatch.setattr(backfill, "progress", lambda: checkpoints)


def test_phase_advance_refused_by_outbox_gate() -> None:
    OutboxRecord.objects.using("sqlite").create(
        model_label="core.MenuCategory", pk_value="1", operation="dirty",
        created_at=timezone.now() - dt.timedelta(minutes=1),
    )
    with pytest.raises(GateRefused, match="outbox: 1 pending records older than 5s"):
        transitions.advance()
    assert phase.current_state_fresh() == PhaseState(Phase.SQLITE)


def test_phase_outbox_gate_lets_writes_in_flight_pass() -> None:
    OutboxRecord.objects.using("default").create(model_label="core.MenuCategory", pk_value="1", operation="dirty")
    assert gates.outbox_empty().ok


def test_phase_advance_refused_before_any_copy_or_validation() -> None:
    set_phase(Phase.DUAL_WRITE)
    with pytest.raises(GateRefused) as refused:
        transitions.advance()
    failed = {g.name: g.detail for g in refused.value.results if not g.ok}
    assert set(failed) >= {"copy", "validation"} or set(failed) == {"copy", "validation"}
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)


@pytest.mark.parametrize(
    ("copy_complete", "clean", "age_minutes", "refused_by"),
    [
        (False, True, 1, "copy"),
        (True, False, 1, "validation"),
        (True, True, 120, "validation"),
    ],
)
def test_phase_advance_refused_by_copy_or_validation_gate(
    monkeypatch: pytest.MonkeyPatch, copy_complete: bool, clean: bool, age_minutes: int, refused_by: str
) -> None:
    set_phase(Phase.DUAL_WRITE)
    _complete_copy(monkeypatch, copy_complete)
    _clean_validation(monkeypatch, clean=clean, age=dt.timedelta(minutes=age_minutes))
    with pytest.raises(GateRefused) as refused:
        transitions.advance()
    assert [g.name for g in refused.value.results if not g.ok] == [refused_by]


def test_phase_advance_through_every_phase_with_gates_audit_and_backups(monkeypatch: pytest.MonkeyPatch) -> None:
    _complete_copy(monkeypatch)
    _clean_validation(monkeypatch)
    seen = []
    while phase.current_state_fresh().phase != Phase.FINALIZED:
        transition = transitions.advance(actor="operator@test")
        assert not transition.forced and all(g.ok for g in transition.gates)
        seen.append(str(transition.after))
        MenuCategory.objects.create(name=f"during {transition.after}", name_tr="x")
    assert seen == ["1 dual-write", "2 read-rollout 10%", "2 read-rollout 50%", "2 read-rollout 100%",
                    "3 postgres-primary", "4 finalized"]
    changes = list(PhaseChange.objects.order_by("at", "id"))
    assert [(c.from_phase, c.to_phase) for c in changes] == [(0, 1), (1, 2), (2, 2), (2, 2), (2, 3), (3, 4)]
    for change in changes:
        assert change.actor == "operator@test" and change.via == "cutover command"
        assert hashlib.sha256(Path(change.backup_path).read_bytes()).hexdigest() == change.backup_sha256
    assert all(c.dump_path and Path(c.dump_path).stat().st_size > 0 for c in changes if c.to_phase >= 3)
    assert "final SQLite archive" in changes[-1].note
    archive = Path(changes[-1].note.split()[3])
    assert archive.exists() and not archive.stat().st_mode & 0o222


def test_phase_force_moves_past_failed_gates_with_a_warning() -> None:
    set_phase(Phase.DUAL_WRITE)
    transition = transitions.advance(force=True, actor="operator@test")
    assert transition.forced and transition.after == PhaseState(Phase.READ_ROLLOUT, 10)
    assert any("forced past failed gates" in w for w in transition.warnings)
    assert PhaseChange.objects.get(via="cutover command").forced


def _write_everything(tag: str) -> None:
    MenuCategory.objects.create(name=f"{tag}-new", name_tr="x")
    User.objects.create(id=f"{tag}-user", email=f"{tag}@example.com", password_hash="h")
    MenuCategory.objects.filter(name__endswith="-new").update(display_order=3)


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (PhaseState(Phase.DUAL_WRITE), Phase.SQLITE),
        (PhaseState(Phase.READ_ROLLOUT, 50), Phase.DUAL_WRITE),
        (PhaseState(Phase.POSTGRES_PRIMARY, 100), Phase.READ_ROLLOUT),
        (PhaseState(Phase.POSTGRES_PRIMARY, 100), Phase.SQLITE),
    ],
)
def test_phase_rollback_loses_no_write(start: PhaseState, to: Phase, mirror: str) -> None:
    set_phase(start)
    _write_everything("before")
    expected = {name for name in MenuCategory.objects.values_list("name", flat=True)}
    transition = transitions.rollback(to=int(to), actor="operator@test")
    assert transition.after.phase == to
    primary = phase.primary_alias()
    assert set(MenuCategory.objects.using(primary).values_list("name", flat=True)) == expected
    assert User.objects.using(primary).filter(pk="before-user").exists()
    _write_everything("after")
    if to != Phase.SQLITE:
        assert_same_rows(MenuCategory, User)
    assert dualwrite.outbox_depth() == 0
    assert PhaseChange.objects.get(via="cutover command").to_phase == int(to)


def test_phase_rollback_from_finalized_needs_reverse_copy() -> None:
    set_phase(Phase.FINALIZED)
    only_postgres = MenuCategory.objects.create(name="after finalization", name_tr="x")
    assert not MenuCategory.objects.using("sqlite").filter(pk=only_postgres.pk).exists()
    with pytest.raises(InvalidTransition, match="reverse copy"):
        transitions.rollback()
    transition = transitions.rollback(reverse_copy=True, actor="operator@test")
    assert transition.after.phase == Phase.POSTGRES_PRIMARY
    assert_same_rows(MenuCategory)


def test_phase_rollback_lowers_the_read_percent() -> None:
    set_phase(Phase.READ_ROLLOUT, 50)
    assert transitions.rollback(to=2).after == PhaseState(Phase.READ_ROLLOUT, 10)
    assert transitions.rollback(to=2, percent=5).after == PhaseState(Phase.READ_ROLLOUT, 5)


def test_phase_waffle_admin_toggle_has_the_same_effect_and_is_audited() -> None:
    switch = get_waffle_switch_model().objects.create(name=flags.SWITCH_DUAL_WRITE, active=True)
    switch.flush()
    assert phase.current() == Phase.DUAL_WRITE
    created = MenuCategory.objects.create(name="mirrored", name_tr="x")
    assert MenuCategory.objects.using("default").filter(pk=created.pk).exists()
    change = PhaseChange.objects.get()
    assert (change.via, change.from_phase, change.to_phase, change.forced) == ("waffle", 0, 1, True)
    switch.active = False
    switch.save()
    assert phase.current() == Phase.SQLITE
    assert PhaseChange.objects.count() == 2


def test_phase_gates_report_every_gate_in_one_place() -> None:
    results = gates.check(PhaseState(Phase.DUAL_WRITE), PhaseState(Phase.READ_ROLLOUT, 10))
    assert [g.name for g in results] == ["outbox", "databases", "schema", "capture", "fence", "copy", "validation"]


def test_phase_rollback_from_postgres_primary_moves_sqlite_counters_past_postgres_ids() -> None:
    set_phase(Phase.POSTGRES_PRIMARY)
    transitions.reset_sequences()
    on_postgres = MenuCategory.objects.create(name="pg", name_tr="x")
    transitions.rollback(to=1, actor="operator@test")
    on_sqlite = MenuCategory.objects.create(name="sqlite", name_tr="x")
    assert on_sqlite.pk >= on_postgres.pk + transitions.SEQUENCE_HEADROOM
    assert_same_rows(MenuCategory)


@contextlib.contextmanager
def _mirror_held_back(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Writes inside leave their outbox records pending, as if their mirror had not run yet."""
    with monkeypatch.context() as patch:
        patch.setattr(dw_apply, "after_commit", lambda source, jobs: None)
        yield


@pytest.mark.parametrize("old", ["default", "sqlite"])
def test_phase_switch_a_process_that_missed_it_is_refused_by_the_old_primary_and_follows(old: str) -> None:
    set_phase(Phase.POSTGRES_PRIMARY if old == "default" else Phase.DUAL_WRITE)
    transitions.reset_sequences()
    row = MenuCategory.objects.create(name="on both sides", name_tr="x", display_order=0)
    assert_same_rows(MenuCategory)
    missed = flags.state()
    set_phase(Phase.DUAL_WRITE if old == "default" else Phase.POSTGRES_PRIMARY)  # the switch
    new = "sqlite" if old == "default" else "default"
    table = MenuCategory._meta.db_table
    with pytest.raises(DatabaseError, match="cutover fence: .* is not the primary database"), \
            connections[old].cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET display_order = 9 WHERE id = %s', [row.pk])
    flags.adopt(missed)  # this process has not seen the switch yet
    assert phase.primary_alias() == old
    MenuCategory.objects.filter(pk=row.pk).update(display_order=F("display_order") + 1)
    assert phase.primary_alias() == new  # the refusal made it read the phase again, and retry
    assert MenuCategory.objects.using(new).get(pk=row.pk).display_order == 1
    assert dualwrite.replay().clean
    assert MenuCategory.objects.using(old).get(pk=row.pk).display_order == 1
    assert_same_rows(MenuCategory)


def test_phase_switch_delete_on_old_primary_is_replayed_into_the_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    set_phase(Phase.POSTGRES_PRIMARY)
    transitions.reset_sequences()
    row = MenuCategory.objects.create(name="on both sides", name_tr="x")
    pk = row.pk
    assert MenuCategory.objects.using("sqlite").filter(pk=pk).exists()
    with _mirror_held_back(monkeypatch):
        row.delete()  # on PostgreSQL, just before the rollback; its mirror has not run
    assert dualwrite.outbox_depth_by_alias() == {"sqlite": 0, "default": 1}
    transitions.rollback(to=1, actor="operator@test")  # the switch drains PostgreSQL before SQLite takes writes
    assert dualwrite.outbox_depth_by_alias() == {"sqlite": 0, "default": 0}
    assert not MenuCategory.objects.using("sqlite").filter(pk=pk).exists()
    assert not MenuCategory.objects.using("default").filter(pk=pk).exists()
    assert dualwrite.outbox_depth() == 0


IN_FLIGHT_WRITER = """
import sys, time
import django
django.setup()
from core.models.menu import MenuCategory
deadline = time.monotonic() + float(sys.argv[1])
i = 0
while time.monotonic() < deadline:
    c = MenuCategory.objects.create(name=f"w-{i}", name_tr="x", display_order=i)
    if i % 4 == 0:
        MenuCategory.objects.filter(pk=c.pk).update(display_order=-i)
    if i % 7 == 6:
        c.delete()
    i += 1
    time.sleep(0.005)
print(i)
"""


def test_phase_writes_in_flight_during_changes_are_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: str,
) -> None:
    import subprocess

    from django.conf import settings

    _complete_copy(monkeypatch)
    _clean_validation(monkeypatch)
    set_phase(Phase.DUAL_WRITE)
    env = child_env()
    script = tmp_path / "writer.py"
    script.write_text(IN_FLIGHT_WRITER)
    writer = subprocess.Popen([sys.executable, str(script), "12"], env=env, cwd=settings.BASE_DIR,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        transitions.advance(percent=100, actor="operator@test")
        transitions.advance(actor="operator@test")  # 3: PostgreSQL primary, while the writer writes
        transitions.rollback(to=1, actor="operator@test")  # and back
        out, err = writer.communicate(timeout=120)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, err
    written = int(out.strip().splitlines()[-1])
    assert written > 50
    assert dualwrite.replay().failed == 0
    assert dualwrite.outbox_depth() == 0
    assert MenuCategory.objects.using("sqlite").count() == written - written // 7
    assert_same_rows(MenuCategory)


def test_phase_advance_refused_by_databases_gate() -> None:
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("ALTER TABLE menu_categories RENAME TO menu_categories_elsewhere")
    try:
        with pytest.raises(GateRefused, match="databases: 1 migrated tables missing on default"):
            transitions.advance()
    finally:
        with connections["default"].cursor() as cursor:
            cursor.execute("ALTER TABLE menu_categories_elsewhere RENAME TO menu_categories")


def test_phase_rollback_refuses_when_pending_records_cannot_be_applied_unless_forced() -> None:
    set_phase(Phase.DUAL_WRITE)
    OutboxRecord.objects.using("sqlite").create(model_label="core.NoSuchModel", pk_value="1", operation="dirty")
    with pytest.raises(GateRefused, match="1 outbox records could not be applied before the change"):
        transitions.rollback(actor="operator@test")
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)
    transition = transitions.rollback(force=True, actor="operator@test")
    assert phase.current_state_fresh() == PhaseState(Phase.SQLITE)
    assert transition.forced and any("could not be applied" in w for w in transition.warnings)
    assert OutboxRecord.objects.using("sqlite").filter(model_label="core.NoSuchModel").exists()  # kept, not dropped
