"""The fence and the fenced switch of primary, with real processes on real databases.

Writers: the legacy app's driver (Node.js, better-sqlite3), plain sqlite3, and Django processes.
The end state is compared with what each writer was told had committed.
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connections
from django.db.models import F

from core.models.auth import User
from core.models.menu import MenuCategory
from migration import breaker, dualwrite, fence, flags, gates, inventory, phase, status, transitions
from migration.dualwrite import apply as dw_apply
from migration.exceptions import GateRefused
from migration.models import OutboxRecord
from migration.phase import Phase, PhaseState
from tests.migration.test_phase import _clean_validation, _complete_copy
from tests.support.cutover import (  # noqa: F401
    BOTH,
    NODE_MODULES,
    WRITERS,
    assert_same_rows,
    child_env,
    cutover_state,
    hung,
    set_phase,
    unreachable,
    write_legacy_file,
)

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]

TABLE = MenuCategory._meta.db_table
SQLITE_REFUSAL = "cutover fence: the SQLite file is not the primary database"
PG_REFUSAL = "cutover fence: PostgreSQL is not the primary database"


def _gates_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy and the validation gates pass (their own tests are elsewhere); every other gate runs."""
    _complete_copy(monkeypatch)
    _clean_validation(monkeypatch)


def _tables_on(alias: str) -> int:
    present = set(connections[alias].introspection.table_names())
    return sum(1 for m in inventory.migrated_models() if m._meta.db_table in present)


@pytest.mark.parametrize("writer", ["node", "python"])
def test_fence_other_processes_writes_to_sqlite_are_refused_from_phase_3_with_the_message(writer: str) -> None:
    set_phase(Phase.DUAL_WRITE)
    category = MenuCategory.objects.create(name="Çorba", name_tr="çorba")
    set_phase(Phase.POSTGRES_PRIMARY)
    for sql in (
        f"INSERT INTO {TABLE} (name, name_tr) VALUES ('Tatlı', 'tatlı')",
        f"UPDATE {TABLE} SET name = 'Soup' WHERE id = {category.pk}",
        f"DELETE FROM {TABLE} WHERE id = {category.pk}",
        f"INSERT OR REPLACE INTO {TABLE} (id, name, name_tr) VALUES ({category.pk}, 'x', 'x')",
    ):
        done = write_legacy_file(writer, [(sql, [])])
        assert done.returncode != 0, sql
        assert SQLITE_REFUSAL in done.stderr and "cutover phase 3" in done.stderr
    assert list(MenuCategory.objects.using("sqlite").values_list("pk", "name")) == [(category.pk, "Çorba")]
    MenuCategory.objects.filter(pk=category.pk).update(name="Mercimek")  # PostgreSQL's write is mirrored
    assert MenuCategory.objects.using("sqlite").get(pk=category.pk).name == "Mercimek"
    assert_same_rows(MenuCategory)


def test_fence_postgresql_refuses_other_writers_while_sqlite_is_primary_and_lets_the_mirror_through() -> None:
    set_phase(Phase.DUAL_WRITE)
    for sql in (f"UPDATE {TABLE} SET name = name", f"DELETE FROM {TABLE}", f"TRUNCATE {TABLE} CASCADE"):
        with pytest.raises(DatabaseError, match=PG_REFUSAL), connections["default"].cursor() as cursor:
            cursor.execute(sql)
    category = MenuCategory.objects.create(name="Çorba", name_tr="çorba")
    category.delete()
    kept = MenuCategory.objects.create(name="Tatlı", name_tr="tatlı")
    assert list(MenuCategory.objects.using("default").values_list("pk", flat=True)) == [kept.pk]
    assert_same_rows(MenuCategory)
    set_phase(Phase.SQLITE)  # phase 0: nothing is mirrored, PostgreSQL is the copy's to fill
    with connections["default"].cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET name = name")


def test_fence_a_switch_whose_drain_cannot_finish_is_undone(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.MIGRATION_SWITCH_TIMEOUT = 0.5  # a failing record is retried until then
    _gates_open(monkeypatch)
    set_phase(Phase.READ_ROLLOUT, 100)
    steps: list[str] = []

    def progress(message: str) -> None:
        steps.append(message)
        if message.startswith("demoting"):  # the last write before the fence leaves a record that cannot apply
            OutboxRecord.objects.using("sqlite").create(model_label="core.NoSuchModel", pk_value="1", operation="dirty")

    with pytest.raises(GateRefused, match="the outbox of sqlite did not drain: 1 records cannot be applied .*"
                                          "the demotion was undone"):
        transitions.advance(actor="operator@test", progress=progress)
    assert phase.current_state_fresh() == PhaseState(Phase.READ_ROLLOUT, 100)
    assert fence.fenced_tables("sqlite") == []  # SQLite takes writes again
    assert write_legacy_file("python", [(f"INSERT INTO {TABLE} (name, name_tr) VALUES ('a', 'a')", [])]).returncode == 0
    assert len(fence.fenced_tables("default")) == _tables_on("default")  # PostgreSQL still is not the primary
    assert any(s.startswith("draining the outbox of sqlite") for s in steps)


def test_fence_each_switch_records_the_epoch_in_both_databases_and_status_shows_the_fence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _gates_open(monkeypatch)
    transitions.advance(actor="operator@test")  # 0 -> 1: PostgreSQL is fenced, no switch of primary yet
    report = status.status()
    assert report.fence["fenced"] == {"sqlite": 0, "default": _tables_on("default")}
    assert report.fence["epoch"] == {"sqlite": 0, "default": 0}
    transitions.advance(percent=100, actor="operator@test")
    transitions.advance(actor="operator@test")  # 2 -> 3
    report = status.status()
    assert report.fence["fenced"] == {"sqlite": _tables_on("sqlite"), "default": 0}
    assert report.fence["epoch"] == {"sqlite": 1, "default": 1}
    assert not [f for f in report.findings if "fence" in f]
    transitions.rollback(to=1, actor="operator@test")  # 3 -> 1
    out = io.StringIO()
    call_command("cutover", "status", stdout=out)
    assert (f"refusing writes (fence): default on {_tables_on('default')} tables; "
            "epoch (switches of primary): sqlite 2, default 2") in out.getvalue()


def test_fence_a_table_that_lost_its_fence_is_named_by_the_gate_and_status() -> None:
    set_phase(Phase.POSTGRES_PRIMARY)
    with connections["sqlite"].cursor() as cursor:  # what a legacy schema change that rebuilds the table leaves
        for kind in fence.KINDS:
            cursor.execute(f'DROP TRIGGER "{fence.SQLITE_PREFIX}{TABLE}_{kind}"')
    result = gates.fence_complete(phase.current_state_fresh())
    assert not result.ok and f"1 tables on sqlite lack their fence ({TABLE})" in result.detail
    assert any(f"lack their fence ({TABLE})" in finding for finding in status.status().findings)


# --- Counters through every switch ------------------------------------------------------------

DJANGO_COUNTER = """
import datetime as dt, json, os, sys, time
import django
django.setup()
import django.utils.timezone
from django.db.models import F
from core.models.menu import MenuCategory

pk, stopfile, skew = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])


class Skewed(dt.datetime):  # this host's clock is off by `skew` seconds
    @classmethod
    def now(cls, tz=None):
        return dt.datetime.now(tz) + dt.timedelta(seconds=skew)


django.utils.timezone.datetime = Skewed
real_time = time.time
time.time = lambda: real_time() + skew
acked = failed = missing = 0
errors = []
while not os.path.exists(stopfile):
    try:
        rows = MenuCategory.objects.filter(pk=pk).update(display_order=F("display_order") + 1)
    except Exception as exc:
        failed += 1
        errors.append(f"{type(exc).__name__}: {exc}"[:300])
    else:
        acked += rows == 1
        missing += rows != 1
    time.sleep(0.002)
print(json.dumps({"acked": acked, "failed": failed, "missing": missing, "errors": errors[:5]}))
"""


def test_fence_counters_equal_their_acknowledged_increments_through_every_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two Django processes (clocks off by +2 s and -2 s) increment one counter with F(), the legacy
    app's driver another; the phases go 1 -> 2 (100 %) -> 3 -> 1 -> 2 (100 %) -> 3 meanwhile."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    assert NODE_MODULES.is_dir(), "better-sqlite3 is missing: run `npm install` in the repository"
    _gates_open(monkeypatch)
    transitions.advance(actor="operator@test")  # 1
    django_counter = MenuCategory.objects.create(name="django", name_tr="x", display_order=0)
    node_counter = MenuCategory.objects.create(name="node", name_tr="x", display_order=0)
    script = tmp_path / "counter.py"
    script.write_text(DJANGO_COUNTER)
    stop = tmp_path / "stop"
    env = child_env()
    connections["sqlite"].close()
    writers: list[subprocess.Popen[str]] = [
        subprocess.Popen([sys.executable, str(script), str(django_counter.pk), str(stop), skew], env=env,
                         cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for skew in ("2", "-2")
    ]
    writers.append(subprocess.Popen(
        ["node", str(WRITERS / "counter.js"), str(connections["sqlite"].settings_dict["NAME"]), TABLE,
         "display_order", str(node_counter.pk), str(stop)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ))
    # The long-running applier: the legacy app's writes reach PostgreSQL through it.
    applier = subprocess.Popen([sys.executable, "manage.py", "replicate", "--interval", "0.05"], env=env,
                               cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        steps = [
            lambda: transitions.advance(percent=100, actor="operator@test"),
            lambda: transitions.advance(actor="operator@test"),  # 2 -> 3: the primary moves to PostgreSQL
            lambda: transitions.rollback(to=1, actor="operator@test"),  # 3 -> 1: back to SQLite
            lambda: transitions.advance(percent=100, actor="operator@test"),
            lambda: transitions.advance(actor="operator@test"),  # and to PostgreSQL again
        ]
        time.sleep(1.5)
        for step in steps:
            step()
            time.sleep(1.5)
        stop.touch()
        results: list[dict[str, Any]] = []
        for writer in writers:
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        stop.touch()
        applier.terminate()
        for process in [*writers, applier]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    *django_writers, node = results
    dualwrite.replay()
    acked = sum(r["acked"] for r in django_writers)
    for alias in BOTH:
        assert MenuCategory.objects.using(alias).get(pk=django_counter.pk).display_order == acked, alias
        assert MenuCategory.objects.using(alias).get(pk=node_counter.pk).display_order == node["acked"], alias
    assert_same_rows(MenuCategory, User)
    for result in django_writers:
        assert result["failed"] == 0 and result["missing"] == 0, result["errors"]
        assert result["acked"] > 50
    assert node["acked"] > 50 and node["errors"] == 0
    assert node["refused"] > 0 and SQLITE_REFUSAL in node["refusal"]  # phase 3 refuses the legacy app
    assert phase.current_state_fresh().phase == Phase.POSTGRES_PRIMARY
    assert flags.read_epoch("sqlite") == flags.read_epoch("default") == 3


# --- Capture on PostgreSQL in phase 3 ----------------------------------------------------------


def test_fence_phase_3_captures_raw_sql_on_postgresql_and_mirrors_it_to_sqlite() -> None:
    set_phase(Phase.POSTGRES_PRIMARY)
    transitions.reset_sequences()
    with connections["default"].cursor() as cursor:  # psql, another application, raw SQL
        cursor.execute(f"INSERT INTO {TABLE} (name, name_tr) VALUES ('Çorba', 'çorba'), ('Tatlı', 'tatlı') RETURNING id")
        first, second = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(f"UPDATE {TABLE} SET name = 'Soup' WHERE id = %s", [first])
        cursor.execute(f"UPDATE {TABLE} SET id = %s WHERE id = %s", [second + 100, second])  # a key change
        with pytest.raises(DatabaseError, match="TRUNCATE of menu_categories cannot be mirrored"):
            cursor.execute(f"TRUNCATE {TABLE} CASCADE")
    call_command("replicate", "--once", stdout=io.StringIO())
    assert sorted(MenuCategory.objects.using("sqlite").values_list("pk", "name")) == [
        (first, "Soup"), (second + 100, "Tatlı")]
    with connections["default"].cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [first])
    category = MenuCategory.objects.create(name="ORM", name_tr="orm")  # one record per row, not two
    assert OutboxRecord.objects.using("default").filter(pk_value=str(category.pk)).count() <= 1
    call_command("replicate", "--once", stdout=io.StringIO())
    assert sorted(MenuCategory.objects.using("sqlite").values_list("pk", flat=True)) == sorted([second + 100, category.pk])
    assert_same_rows(MenuCategory)
    set_phase(Phase.DUAL_WRITE)  # out of phase 3: PostgreSQL captures no more
    assert dualwrite.capture.installed("default") == 0


# --- An emergency rollback while PostgreSQL is unreachable -------------------------------------


def test_fence_emergency_rollback_with_postgresql_unreachable_refuses_then_forced_promotes_sqlite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _gates_open(monkeypatch)
    for step in ({}, {"percent": 100}, {}):
        transitions.advance(actor="operator@test", **step)  # to phase 3 by the book
    category = MenuCategory.objects.create(name="mirrored", name_tr="x")
    with monkeypatch.context() as patch:  # a write whose mirror has not landed when PostgreSQL goes away
        patch.setattr(dw_apply, "after_commit", lambda source, jobs: None)
        MenuCategory.objects.filter(pk=category.pk).update(name="only on PostgreSQL")
    update = f"UPDATE {TABLE} SET name = 'written by the legacy app after the emergency' WHERE id = {category.pk}"
    with unreachable("default"):
        with pytest.raises(GateRefused, match="would be stranded, and how many cannot be known"):
            transitions.rollback(to=1, actor="operator@test")
        assert SQLITE_REFUSAL in write_legacy_file("python", [(update, [])]).stderr  # nothing changed
        transition = transitions.rollback(to=1, force=True, actor="operator@test")
        assert any("SQLite was promoted on its own (epoch 2)" in w for w in transition.warnings)
        assert write_legacy_file("python", [(update, [])]).returncode == 0  # SQLite takes writes again
        flags.forget()
        assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)  # every process follows it
    breaker.reset()
    flags.forget()
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)  # though PostgreSQL's switches say 3
    assert any("emergency rollback" in finding for finding in status.status().findings)
    recorded = transitions.rollback(actor="operator@test")  # PostgreSQL answers: record it there
    assert flags.emergency() is None
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)
    stranded = next(w for w in recorded.warnings if "stranded" in w)
    listing = json.loads(Path(stranded.split(" are in ")[1].split(": ")[0]).read_text())
    assert {"model": "core.MenuCategory", "pk": str(category.pk)} in [{k: r[k] for k in ("model", "pk")} for r in listing]
    assert any(r["row_on_postgresql"]["name"] == "only on PostgreSQL" for r in listing)
    assert len(fence.fenced_tables("default")) == _tables_on("default") and fence.fenced_tables("sqlite") == []
    assert dualwrite.replay().clean
    assert MenuCategory.objects.using("default").get(pk=category.pk).name == "written by the legacy app after the emergency"
    assert_same_rows(MenuCategory)


# --- A PostgreSQL that accepts connections and never answers -----------------------------------


def test_fence_a_hung_postgresql_does_not_slow_sqlite_writes_in_phase_1(settings: Any) -> None:
    settings.MIGRATION_MIRROR = "applier"  # a write costs its SQLite transaction; `replicate` mirrors
    set_phase(Phase.DUAL_WRITE)  # the switches, and the file's copy of them

    def timed_writes(tag: str) -> list[float]:
        took = []
        for i in range(40):
            started = time.perf_counter()
            MenuCategory.objects.create(name=f"{tag}-{i}", name_tr="x")
            took.append(time.perf_counter() - started)
        return took

    before = timed_writes("before")
    with hung("default") as tried:
        flags.forget()  # the phase is read afresh while PostgreSQL hangs
        during = timed_writes("during")
        time.sleep(flags.MEMO_SECONDS)
        during += timed_writes("later")  # and again after the memo ran out
        assert tried == []  # nothing even connected to PostgreSQL
    assert max(during) < max(0.25, 3 * max(before)), (max(before), max(during))
    assert sorted(during)[len(during) // 2] < 3 * sorted(before)[len(before) // 2] + 0.005
    call_command("replicate", "--once", stdout=io.StringIO())
    assert MenuCategory.objects.using("default").count() == 120
    assert_same_rows(MenuCategory)


UPDATE_OR_CREATE = """
import json, os, sys, time
import django
django.setup()
from core.models.auth import User

name, stopfile = sys.argv[1], sys.argv[2]
acked, last, errors = 0, None, []
while not os.path.exists(stopfile):
    value = f"{name}-{acked}"
    try:
        User.objects.update_or_create(id="shared", defaults={"name": value, "email": "shared@example.com",
                                                             "password_hash": "h"})
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}"[:300])
    else:
        acked, last = acked + 1, (value, time.time())
    time.sleep(0.003)
print(json.dumps({"acked": acked, "last": last, "errors": errors[:5]}))
"""


def test_fence_update_or_create_of_one_key_from_two_processes_across_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _gates_open(monkeypatch)
    transitions.advance(actor="operator@test")
    transitions.advance(percent=100, actor="operator@test")  # 2
    script = tmp_path / "uoc.py"
    script.write_text(UPDATE_OR_CREATE)
    stop = tmp_path / "stop"
    env = child_env()
    writers = [subprocess.Popen([sys.executable, str(script), name, str(stop)], env=env, cwd=settings.BASE_DIR,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    try:
        time.sleep(1.0)
        transitions.advance(actor="operator@test")  # 2 -> 3
        time.sleep(1.0)
        transitions.rollback(to=1, actor="operator@test")  # 3 -> 1
        time.sleep(1.0)
        stop.touch()
        results = []
        for writer in writers:
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        stop.touch()
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
    assert all(r["acked"] > 20 and not r["errors"] for r in results), results
    dualwrite.replay()
    last = max((r["last"] for r in results), key=lambda pair: pair[1])[0]
    for alias in BOTH:
        assert list(User.objects.using(alias).values_list("id", "name")) == [("shared", last)], alias
    assert_same_rows(User)


@pytest.mark.parametrize("back", [False, True])
def test_fence_a_mirror_that_arrives_after_the_switch_does_not_overwrite_the_new_primary(
    back: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process applies its write's records right after its commit; if the primary moves in
    between, that apply reaches the new primary late, after the switch drained the row."""
    _gates_open(monkeypatch)
    for step in ({}, {"percent": 100}, *([{}] if back else [])):
        transitions.advance(actor="operator@test", **step)
    old, new = ("default", "sqlite") if back else ("sqlite", "default")
    counter = MenuCategory.objects.create(name="counter", name_tr="x", display_order=0)
    late: list[tuple[str, Any]] = []
    with monkeypatch.context() as patch:
        patch.setattr(dw_apply, "after_commit", lambda source, jobs: late.append((source, jobs)))
        MenuCategory.objects.filter(pk=counter.pk).update(display_order=F("display_order") + 1)  # its mirror waits
    assert late and late[0][0] == old
    if back:
        transitions.rollback(to=1, actor="operator@test")
    else:
        transitions.advance(actor="operator@test")  # the switch drains the row: both hold 1
    with monkeypatch.context() as patch:  # 2, on the new primary; its own mirror back waits too
        patch.setattr(dw_apply, "after_commit", lambda source, jobs: None)
        MenuCategory.objects.filter(pk=counter.pk).update(display_order=F("display_order") + 1)
    assert MenuCategory.objects.using(old).get(pk=counter.pk).display_order == 1
    for source, jobs in late:
        dw_apply.after_commit(source, jobs)  # the late mirror lands now, reading the old primary's 1
    assert MenuCategory.objects.using(new).get(pk=counter.pk).display_order == 2
    dualwrite.replay()
    for alias in BOTH:
        assert MenuCategory.objects.using(alias).get(pk=counter.pk).display_order == 2, alias
