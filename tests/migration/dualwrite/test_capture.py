"""Capture in the database: writes by other processes reach PostgreSQL, whoever made them."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from core.models.auth import User
from core.models.menu import MenuCategory
from migration import dualwrite, fence, gates, inventory, status, transitions
from migration.dualwrite import capture
from migration.models import OutboxRecord
from migration.phase import Phase, PhaseState
from tests.support.cutover import BOTH, assert_same_rows, cutover_state, set_phase, write_legacy_file  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]

ROOT = Path(__file__).resolve().parents[3]


def _write(writer: str, statements: list[tuple[str, list[object]]]) -> list[dict[str, object]]:
    """Run ``statements`` in another process: ``node`` (better-sqlite3) or ``python`` (sqlite3)."""
    done = write_legacy_file(writer, statements)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _advance_to_dual_writes() -> None:
    transitions.advance(actor="operator@test")
    assert transitions.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)


def _replicate() -> None:
    call_command("replicate", "--once", stdout=io.StringIO())


@pytest.mark.parametrize("writer", ["node", "python"])
def test_capture_other_processes_writes_arrive_in_postgresql(writer: str) -> None:
    _advance_to_dual_writes()
    users = "INSERT INTO users (id, email, name, password_hash) VALUES (?, ?, ?, 'x')"
    _write(writer, [
        ("INSERT INTO menu_categories (id, name, name_tr) VALUES (1, 'Çorba', 'çorba')", []),
        ("INSERT INTO menu_categories (id, name, name_tr) VALUES (2, 'Tatlı', 'tatlı')", []),
        ("UPDATE menu_categories SET name = 'Soup' WHERE id = 1", []),
        ("DELETE FROM menu_categories WHERE id = 2", []),
        ("UPDATE menu_categories SET id = 7 WHERE id = 1", []),  # a key change: the old key goes
        (users, ["u1", "ayse@example.com", "Ayşe"]),
        (users, ["u2", "can@example.com", "Can"]),
    ])
    assert OutboxRecord.objects.using("sqlite").count() > 0
    _replicate()
    assert sorted(User.objects.using("default").values_list("id", flat=True)) == ["u1", "u2"]
    # INSERT OR REPLACE on the e-mail deletes u1 without firing its DELETE trigger.
    _write(writer, [
        ("INSERT OR REPLACE INTO users (id, email, name, password_hash) VALUES ('u3', 'ayse@example.com', 'Ayşe Y.', 'x')", []),
    ])
    _replicate()
    assert sorted(MenuCategory.objects.using("default").values_list("id", "name")) == [(7, "Soup")]
    assert sorted(User.objects.using("default").values_list("id", flat=True)) == ["u2", "u3"]
    assert_same_rows(MenuCategory, User)
    assert dualwrite.outbox_depth() == 0


def test_capture_a_failed_statement_leaves_no_record() -> None:
    _advance_to_dual_writes()
    _write("python", [("INSERT INTO users (id, email, name, password_hash) VALUES ('u1', 'a@example.com', 'A', 'x')", [])])
    _replicate()
    with pytest.raises(AssertionError, match="UNIQUE constraint failed"):
        _write("python", [("INSERT INTO users (id, email, name, password_hash) VALUES ('u9', 'a@example.com', 'B', 'x')", [])])
    assert OutboxRecord.objects.using("sqlite").count() == 0


def test_capture_orm_writes_leave_one_record_per_row_and_mirror_at_once() -> None:
    _advance_to_dual_writes()
    category = MenuCategory.objects.create(name="Ana yemek", name_tr="ana yemek")
    assert MenuCategory.objects.using("default").filter(pk=category.pk).exists()  # mirrored after commit
    dualwrite.flush_applied()
    assert OutboxRecord.objects.using("sqlite").count() == 0  # its trigger's record, applied: no second one
    with connections["sqlite"].cursor() as cursor:
        cursor.execute("UPDATE menu_categories SET name = 'raw SQL' WHERE id = %s", [category.pk])
    assert list(OutboxRecord.objects.using("sqlite").values_list("pk_value", flat=True)) == [str(category.pk)]
    _replicate()
    assert MenuCategory.objects.using("default").get(pk=category.pk).name == "raw SQL"


def test_capture_mark_dirty_queues_the_rows_the_triggers_did_not_capture() -> None:
    _advance_to_dual_writes()
    written = MenuCategory.objects.create(name="Ana yemek", name_tr="ana yemek")  # its record: applied, kept a while
    with fence.lifted("default"):  # PostgreSQL is fenced in phase 1: this row is planted, not written by the app
        MenuCategory.objects.using("default").create(id=written.pk + 1, name="only on PostgreSQL", name_tr="x")
    dualwrite.mark_dirty(MenuCategory, [written.pk, written.pk + 1], using="sqlite")  # a repair's queue
    assert not MenuCategory.objects.using("default").filter(pk=written.pk + 1).exists()
    assert MenuCategory.objects.using("default").get(pk=written.pk).name == "Ana yemek"


def test_capture_a_record_from_postgresql_is_never_applied_into_sqlite_while_sqlite_is_primary() -> None:
    _advance_to_dual_writes()
    MenuCategory.objects.create(id=40, name="the application's", name_tr="x")
    # A record PostgreSQL still holds (stranded by a forced rollback), for a row it holds differently.
    with fence.lifted("default"):
        MenuCategory.objects.using("default").filter(pk=40).update(name="PostgreSQL's, older")
    OutboxRecord.objects.using("default").create(model_label="core.MenuCategory", pk_value="40", operation="save")
    result = dualwrite.replay()
    assert result.failed == 1 and "sqlite is the primary now" in result.by_alias["default"].errors[0]
    assert MenuCategory.objects.using("sqlite").get(pk=40).name == "the application's"  # not overwritten
    assert OutboxRecord.objects.using("default").get().attempts == 1  # kept, with its error


def test_capture_triggers_follow_the_phase() -> None:
    models = inventory.migrated_models()
    assert capture.installed("sqlite") == 0
    _advance_to_dual_writes()
    assert capture.missing("sqlite", models) == []
    assert status.status().capture["triggers"] == capture.installed("sqlite") > 0
    transitions.advance(percent=10, force=True, actor="operator@test")  # the read rollout keeps them
    assert capture.missing("sqlite", models) == []
    transitions.rollback(to=0, actor="operator@test")
    assert capture.installed("sqlite") == 0
    set_phase(Phase.DUAL_WRITE)  # the waffle admin's path installs them too
    assert capture.missing("sqlite", models) == []


def test_capture_a_rebuilt_table_is_named_by_the_gate_status_and_check() -> None:
    _advance_to_dual_writes()
    with connections["sqlite"].cursor() as cursor:  # what a legacy migration rebuilding the table does
        cursor.execute('DROP TRIGGER "cutover_capture_menu_categories_insert"')
    gate = gates.capture_complete()
    assert not gate.ok and "menu_categories" in gate.detail
    assert any("menu_categories" in finding for finding in status.status().findings)
    warnings = [m for m in checks.run_checks(databases=["sqlite"]) if m.id == "migration.W020"]
    assert warnings and "menu_categories" in warnings[0].msg
    with pytest.raises(CommandError, match="capture"):
        call_command("cutover", "advance", interactive=False, stdout=io.StringIO(), stderr=io.StringIO())


def test_capture_a_failing_outer_transaction_on_postgresql_leaves_the_mirror_pending() -> None:
    from django.db import transaction

    _advance_to_dual_writes()
    with pytest.raises(RuntimeError), transaction.atomic(using="default"):
        category = MenuCategory.objects.create(name="committed on SQLite", name_tr="x")
        raise RuntimeError("the view fails after its write")
    assert MenuCategory.objects.using("sqlite").filter(pk=category.pk).exists()  # SQLite committed
    assert not MenuCategory.objects.using("default").filter(pk=category.pk).exists()
    assert dualwrite.outbox_depth_by_alias()["sqlite"] == 1  # still pending, not taken as applied
    _replicate()
    assert MenuCategory.objects.using("default").get(pk=category.pk).name == "committed on SQLite"


def test_capture_the_applier_survives_sigkill_mid_batch_and_loses_nothing() -> None:
    import os
    import signal
    import time

    from tests.support.cutover import child_env

    _advance_to_dual_writes()
    rows: list[tuple[str, list[object]]] = [(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
        "INSERT INTO menu_categories (id, name, name_tr) SELECT i, 'row ' || i, 'x' FROM n", [])]
    rows += [("UPDATE menu_categories SET name = name || ' updated' WHERE id % 3 = 0", []),
             ("DELETE FROM menu_categories WHERE id % 5 = 0", [])]
    _write("python", rows)
    expected = dict(MenuCategory.objects.using("sqlite").values_list("id", "name"))
    manage = [sys.executable, str(ROOT / "manage.py"), "replicate", "--batch-size", "50", "--interval", "0.05"]
    env = child_env()
    killed = 0
    for _ in range(3):  # start the applier, let it apply some batches, kill it without warning
        applier = subprocess.Popen(manage, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        before = OutboxRecord.objects.using("sqlite").count()
        while time.monotonic() < deadline and OutboxRecord.objects.using("sqlite").count() > before - 200:
            time.sleep(0.02)
        os.kill(applier.pid, signal.SIGKILL)
        applier.wait(10)
        killed += 1
    assert killed == 3 and OutboxRecord.objects.using("sqlite").count() > 0  # killed with work left
    _replicate()  # a fresh applier finishes the job
    assert dict(MenuCategory.objects.using("default").values_list("id", "name")) == expected
    assert dualwrite.outbox_depth() == 0


LEGACY_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS update_market_sources_timestamp
AFTER UPDATE ON market_sources
FOR EACH ROW
WHEN NEW.updated_at IS OLD.updated_at AND OLD.updated_at IS NOT datetime('now')
BEGIN
  UPDATE market_sources SET updated_at = datetime('now') WHERE id = NEW.id;
END
"""


def test_capture_the_legacy_apps_trigger_does_not_fire_for_the_appliers_writes() -> None:
    import datetime as dt

    from core.models.market import MarketSource

    with connections["sqlite"].cursor() as cursor:  # the real file's one trigger (the test file has it too)
        cursor.execute(LEGACY_TRIGGER)
    set_phase(Phase.POSTGRES_PRIMARY)  # the applier writes SQLite
    written = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
    source = MarketSource.objects.create(source_key="migros", source_name="Migros", source_type="web",
                                         created_at=written, updated_at=written)
    with connections["default"].cursor() as cursor:  # a change that leaves updated_at alone
        cursor.execute("UPDATE market_sources SET source_name = 'Migros Sanal' WHERE id = %s", [source.pk])
    dualwrite.mark_dirty(MarketSource, [source.pk], using="default")
    _replicate()
    on_sqlite = MarketSource.objects.using("sqlite").get(pk=source.pk)
    assert on_sqlite.source_name == "Migros Sanal"
    assert on_sqlite.updated_at == written  # the legacy trigger would have stamped the time of the mirror
    with connections["sqlite"].cursor() as cursor:  # and it is still there for the app's own writes
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'update_market_sources_timestamp'")
        assert cursor.fetchone()[0] == 1


def test_capture_a_legacy_trigger_that_writes_another_table_adds_no_row_for_a_mirror() -> None:
    with connections["sqlite"].cursor() as cursor:  # an audit trigger, as a legacy app might have
        cursor.execute("CREATE TABLE audit_rows (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
        cursor.execute("CREATE TRIGGER audit_menu_categories AFTER UPDATE ON menu_categories "
                       "BEGIN INSERT INTO audit_rows (note) VALUES ('updated ' || NEW.id); END")
    try:
        set_phase(Phase.POSTGRES_PRIMARY)
        category = MenuCategory.objects.create(name="Çorba", name_tr="çorba")  # mirrored into SQLite
        category.name = "Mercimek çorbası"
        category.save()  # mirrored again: an UPDATE of the SQLite row, by the applier
        assert MenuCategory.objects.using("sqlite").get(pk=category.pk).name == "Mercimek çorbası"
        with connections["sqlite"].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM audit_rows")
            assert cursor.fetchone()[0] == 0  # the copy is not an application write
        with pytest.raises(AssertionError, match="cutover fence: the SQLite file is not the primary"):
            _write("python", [("UPDATE menu_categories SET icon = 'bowl' WHERE id = ?", [category.pk])])
        set_phase(Phase.DUAL_WRITE)  # back on SQLite, where the application writes
        _write("python", [("UPDATE menu_categories SET icon = 'bowl' WHERE id = ?", [category.pk])])
        with connections["sqlite"].cursor() as cursor:
            cursor.execute("SELECT note FROM audit_rows")
            assert [row[0] for row in cursor.fetchall()] == [f"updated {category.pk}"]  # the app's write still fires it
    finally:
        with connections["sqlite"].cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_menu_categories")
            cursor.execute("DROP TABLE IF EXISTS audit_rows")
