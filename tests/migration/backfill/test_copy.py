"""The backfill engine: Chinook end to end, idempotence, bad rows, sequences, tombstones, live writes."""
from __future__ import annotations

import datetime as dt
import json
import math
import random
import struct
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connections

from core.models import Log, MarketPriceV2, MenuCategory, User
from migration import backfill
from migration.backfill import indexes, table
from migration.exceptions import CopyError, RejectLimitExceeded
from migration.models import CopyCheckpoint, CopyReject, Tombstone
from tests.support.backfill import (
    SOURCE,
    chinook_source,
    execute,
    insert,
    legacy_source,
    reltuples,
    rows_of,
)

pytestmark = pytest.mark.django_db(databases=["default", SOURCE], transaction=True)


def run(**kwargs: Any) -> backfill.CopyReport:
    kwargs.setdefault("backup", False)
    return backfill.migrate_data(backfill.CopyOptions(**kwargs))


def chinook_models() -> list[Any]:
    return list(apps.get_app_config("chinook").get_models())


def log_rows(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [
        {"id": i, "level": "info", "message": f"message {i} ğüşıöç", "data": json.dumps({"n": i}),
         "created_at": "2025-01-02 03:04:05" if i % 2 else "2025-01-02T03:04:05.678Z"}
        for i in range(start, start + count)
    ]


def test_migrate_data_copies_chinook_row_by_row(tmp_path: Path) -> None:
    with chinook_source(tmp_path) as path:
        report = run(batch_size=1000)
        assert report.rejected == 0
        for model in chinook_models():
            source_rows = rows_of(model, SOURCE)
            assert source_rows, model
            assert rows_of(model, "default") == source_rows, model._meta.db_table
        invoice = apps.get_model("chinook", "Invoice").objects.using("default").get(pk=1)
        assert invoice.total == Decimal("1.98")
        assert invoice.invoice_date == dt.datetime(2009, 1, 1, tzinfo=dt.UTC)
        counts = dict(execute(path, "SELECT name, seq FROM sqlite_sequence"))
        assert sum(t.copied for t in report.tables) == 15607
        assert {t.table: t.source_rows for t in report.tables}["PlaylistTrack"] == 8715
    # every integer key sequence continues after the legacy high-water mark
    with connections["default"].cursor() as cursor:
        for table, seq in counts.items():
            column = apps.get_model("chinook", table)._meta.pk.column
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", [f'"{table}"', column])
            assert cursor.fetchone()[0] == seq + 1, table


def test_migrate_data_second_run_copies_and_changes_nothing(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        run()
        before = {m._meta.db_table: rows_of(m, "default") for m in chinook_models()}
        checkpoints = list(CopyCheckpoint.objects.order_by("table").values())
        again = run(backup=True)
        assert [t.copied for t in again.tables] == [0] * len(before)
        assert again.backup is None  # nothing to do, so nothing to back up
        assert again.sequences == []
        assert {m._meta.db_table: rows_of(m, "default") for m in chinook_models()} == before
        assert list(CopyCheckpoint.objects.order_by("table").values()) == checkpoints


def test_migrate_data_catches_up_rows_added_after_a_complete_run(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(3))
        run(labels=["logs"])
        insert(path, "logs", log_rows(2, start=4))
        report = run(labels=["logs"])
        assert report.tables[0].copied == 2
        assert rows_of(Log, "default") == rows_of(Log, SOURCE)


def test_migrate_data_dry_run_plans_and_writes_nothing(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        report = run(dry_run=True, batch_size=1000, backup=True)
        by_table = {p.table: p for p in report.plan}
        assert by_table["PlaylistTrack"].source_rows == 8715
        assert by_table["PlaylistTrack"].batches == 9
        order = [p.table for p in report.plan]
        assert order.index("Artist") < order.index("Album") < order.index("Track") < order.index("PlaylistTrack")
        assert report.tables == [] and report.backup is None
        assert not CopyCheckpoint.objects.exists()
        assert all(not m.objects.using("default").exists() for m in chinook_models())
        assert not (tmp_path / "backups").exists()


def test_migrate_data_reports_absent_source_tables(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        execute(path, "DROP TABLE notifications")
        report = run(labels=["notifications", "memberships", "logs"])
        absent = {t.table for t in report.tables if t.absent}
        assert absent == {"notifications", "memberships"}
        assert {p.table: p.source_rows for p in backfill.progress()} == {
            "notifications": None, "memberships": None, "logs": 0,
        }


BAD_ROWS = [
    # (case, table, row, column, reason fragment)
    ("nul in text", "logs", {"level": "info", "message": "a\x00b"}, "message", "NUL"),
    ("invalid utf-8", "logs", {"level": "info", "message": b"caf\xe9"}, "message", "invalid UTF-8"),
    ("text in integer", "menu_items",
     {"name": "x", "meal_type": "ogle", "default_gramaj": "two hundred", "unit_cost": 1.5}, "default_gramaj",
     "text in an integer column"),
    ("text in real", "menu_items",
     {"name": "x", "meal_type": "ogle", "default_gramaj": 200, "unit_cost": "cheap"}, "unit_cost",
     "text in a real column"),
    ("invalid json", "logs", {"level": "info", "message": "m", "data": "{not json"}, "data", "not valid JSON"),
    ("nul in json", "logs", {"level": "info", "message": "m", "data": '{"a": "\\u0000"}'}, "data", "NUL"),
    # 1e400 parses to infinity, which jsonb cannot hold; it must not be written as null.
    ("number beyond a double in json", "logs", {"level": "info", "message": "m", "data": '{"a": [null, 1e400]}'},
     "data", "inf in JSON"),
    ("nan in json", "logs", {"level": "info", "message": "m", "data": '{"a": NaN}'}, "data", "nan in JSON"),
    ("bad timestamp", "logs", {"level": "info", "message": "m", "created_at": "yesterday"}, "created_at",
     "not a timestamp"),
    ("null text key", "users", {"id": None, "email": "a@b.c", "password_hash": "h"}, "id", "NULL"),
    ("orphan foreign key", "menu_items",
     {"name": "x", "category_id": 999, "meal_type": "ogle", "default_gramaj": 1, "unit_cost": 1.0},
     "category_id", "foreign key"),
    ("check violation", "notifications", {"level": "warn", "message": "m"}, "", "notifications_level_check"),
]


@pytest.mark.parametrize(("case", "table", "row", "column", "reason"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_migrate_data_rejects_bad_rows_and_keeps_the_good_ones(
    tmp_path: Path, case: str, table: str, row: dict[str, Any], column: str, reason: str
) -> None:
    with legacy_source(tmp_path) as path:
        good = {"logs": {"level": "info", "message": "fine"},
                "menu_items": {"name": "ok", "meal_type": "ogle", "default_gramaj": 1, "unit_cost": 2.0},
                "users": {"id": "u1", "email": "ok@b.c", "password_hash": "h"},
                "notifications": {"level": "info", "message": "fine"}}[table]
        if isinstance(row.get("message"), bytes):
            execute(path, "INSERT INTO logs (level, message) VALUES ('info', CAST(? AS TEXT))", [row["message"]])
        else:
            insert(path, table, [row], ignore_checks=True)
        insert(path, table, [good])
        report = run(labels=[table], max_rejects=5, batch_size=100)
        result = report.tables[0]
        assert (result.copied, result.rejected) == (1, 1), list(CopyReject.objects.values())
        lines = [json.loads(line) for line in report.rejects_path.read_text().splitlines()]
        assert len(lines) == 1
        record = lines[0]
        assert record["table"] == table and record["column"] == column
        assert reason.lower() in record["reason"].lower()
        assert set(record) >= {"table", "pk", "column", "value", "reason"}
        model = next(m for m in apps.get_app_config("core").get_models() if m._meta.db_table == table)
        assert model.objects.using("default").count() == 1
        assert CopyReject.objects.get().table == table


def test_migrate_data_stops_beyond_max_rejects_naming_the_row(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(5))
        insert(path, "logs", [{"id": 6, "level": "info", "message": "m", "data": "oops"},
                              {"id": 7, "level": "info", "message": "m", "data": "again"}])
        with pytest.raises(RejectLimitExceeded, match=r"logs pk=7 column data: value 'again'"):
            run(labels=["logs"], max_rejects=1)
        rejects = (tmp_path / "backups" / "rejects.jsonl").read_text().splitlines()
        assert [json.loads(line)["pk"] for line in rejects] == [6, 7]  # the whole stopped batch
        # the batch holding the row beyond the limit was rolled back with its checkpoint
        assert not Log.objects.using("default").exists()
        assert CopyCheckpoint.objects.get(table="logs").copied_rows == 0


def test_migrate_data_moves_sequences_past_sqlite_high_water_marks(tmp_path: Path) -> None:
    with connections["default"].cursor() as cursor:  # earlier tests may have moved them
        for table in ("logs", "menu_categories"):
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 1, false)", [table])
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(3))
        insert(path, "menu_categories", [{"id": 9, "name": "n", "name_tr": "n"}])
        execute(path, "DELETE FROM menu_categories")  # empty, but sqlite_sequence remembers 9
        execute(path, "UPDATE sqlite_sequence SET seq = 50 WHERE name = 'logs'")
        report = run(labels=["logs", "menu_categories", "notifications"])
        assert Log.objects.using("default").create(level="info", message="new").pk == 51
        assert MenuCategory.objects.using("default").create(name="n", name_tr="n").pk == 10
        # an empty table with no high-water mark keeps its sequence where it is
        assert "notifications" not in {s.table for s in report.sequences}
        assert not run(labels=["logs", "menu_categories"]).sequences  # only ever moves forward


def test_migrate_data_analyzes_the_tables_it_wrote_when_asked(tmp_path: Path) -> None:
    # reltuples is -1 (never counted) or 0 (truncated by the flush between tests) until ANALYZE or
    # VACUUM counts the table's rows; COPY does not.
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(7))
        report = run(labels=["logs", "notifications"])  # not by default
        assert report.analyzed == [] and report.tables[0].copied == 7
        assert reltuples("logs") <= 0
        insert(path, "logs", log_rows(4, start=8))
        report = run(labels=["logs", "notifications"], analyze=True)
        assert report.analyzed == ["logs"]  # notifications is empty and nothing was written to it
        assert reltuples("logs") == 11
        assert report.as_dict()["analyzed"] == ["logs"]
        # --fresh empties every planned table, so each one's statistics are renewed
        assert run(labels=["logs", "notifications"], fresh=True, analyze=True).analyzed == ["logs", "notifications"]


def test_migrate_data_leaves_generated_columns_to_postgresql(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "market_prices_v2", [{"product_key": "p", "unit": "kg", "unit_price": 9.5, "source": "s",
                                           "created_at": "2025-03-04T05:06:07.000Z"}])
        run(labels=["market_prices_v2"])
        assert MarketPriceV2.objects.using("default").get().year_month == "2025-03"


def test_migrate_data_never_overwrites_a_row_already_in_the_target(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(4))
        Log.objects.using("default").create(id=2, level="error", message="newer, from a dual write")
        result = run(labels=["logs"]).tables[0]
        assert (result.copied, result.skipped) == (3, 1)
        assert Log.objects.using("default").get(pk=2).message == "newer, from a dual write"


def test_migrate_data_skips_tombstoned_rows(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(4))
        insert(path, "users", [{"id": "gone", "email": "g@x", "password_hash": "h"},
                               {"id": "kept", "email": "k@x", "password_hash": "h"}])
        backfill.record_tombstone(Log, 3)
        backfill.record_tombstone(User, "gone")
        report = run(labels=["logs", "users"])
        assert sorted(Log.objects.using("default").values_list("pk", flat=True)) == [1, 2, 4]
        assert list(User.objects.using("default").values_list("pk", flat=True)) == ["kept"]
        assert [t.skipped for t in report.tables] == [1, 1]


def test_migrate_data_removes_a_row_deleted_while_it_was_copied(tmp_path: Path) -> None:
    """The race the per-batch check cannot see: the row landed after its tombstone was written."""
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(2))
        Log.objects.using("default").create(id=7, level="info", message="resurrected")
        backfill.record_tombstone(Log, 7)  # deleted from the source and the target meanwhile
        backfill.record_tombstone(Log, 2)
        result = run(labels=["logs"]).tables[0]
        assert result.removed == 1
        assert sorted(Log.objects.using("default").values_list("pk", flat=True)) == [1]


def test_migrate_data_keeps_a_tombstoned_row_the_source_has_again(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "users", [{"id": "back", "email": "b@x", "password_hash": "h"}])
        User.objects.using("default").create(id="back", email="b@x", password_hash="h")
        backfill.record_tombstone(User, "back")
        assert run(labels=["users"]).tables[0].removed == 0
        assert User.objects.using("default").filter(pk="back").exists()


def test_migrate_data_with_jobs_copies_the_same_rows(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        report = run(jobs=2, batch_size=2000)
        assert [t.table for t in report.tables] == [p.table for p in report.plan]
        for model in chinook_models():
            assert rows_of(model, "default") == rows_of(model, SOURCE), model._meta.db_table


def _random_double(rng: random.Random) -> float:
    while True:
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(value):
            return value


def test_migrate_data_writes_json_numbers_exactly(tmp_path: Path) -> None:
    """Every JSON number arrives as PostgreSQL reads the legacy text through json.loads and json.dumps.

    Integers beyond 64 bits keep every digit (a fast parser would read them as floats), and
    floats of every magnitude keep their shortest round-trip digits.
    """
    rng = random.Random(7)
    documents = [
        '{"id": 123456789012345678901234567890}',
        '[-9223372036854775809, 18446744073709551616, 18446744073709551615, -9223372036854775808]',
        '{"n": 12345678901234567890123.0, "m": 9.2e18}',
        '[0.1, -0.0, 1e-05, 1.5e-07, 1e16, 1e+22, 5e-324, 1.7976931348623157e308, 100.0, 1E2]',
        '{"nested": {"deep": [1, 2.5, {"x": 1e-300}], "s": "\\u015feker"}}',
    ]
    documents += [json.dumps([_random_double(rng) for _ in range(20)]) for _ in range(20)]
    documents += [json.dumps({"i": rng.randrange(-(2**70), 2**70), "f": rng.uniform(-1e6, 1e6)}) for _ in range(20)]
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m", "data": text} for text in documents])
        run(labels=["logs"])
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT data::text FROM logs ORDER BY id")
            copied = [row[0] for row in cursor.fetchall()]
            expected = []
            for text in documents:
                cursor.execute("SELECT %s::jsonb::text", [json.dumps(json.loads(text))])
                expected.append(cursor.fetchone()[0])
    assert copied == expected
    assert "123456789012345678901234567890" in copied[0]


def test_migrate_data_refuses_unknown_tables_and_aliases(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        with pytest.raises(CopyError, match="unknown table"):
            run(labels=["nope"])
        with pytest.raises(CopyError, match="unknown database alias"):
            run(source="missing")


def test_record_tombstone_names_composite_keys_as_json(tmp_path: Path) -> None:
    playlist_track = apps.get_model("chinook", "PlaylistTrack")
    backfill.record_tombstone(playlist_track, (1, 3402))
    backfill.record_tombstone(playlist_track, (1, 3402))  # idempotent
    assert list(Tombstone.objects.values_list("table", "pk_value")) == [("PlaylistTrack", "[1, 3402]")]


def test_migrate_data_skips_a_tombstoned_composite_key(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        playlist_track = apps.get_model("chinook", "PlaylistTrack")
        backfill.record_tombstone(playlist_track, (1, 3402))
        report = run()
        assert {t.table: t.skipped for t in report.tables}["PlaylistTrack"] == 1
        assert not playlist_track.objects.using("default").filter(playlist_id=1, track_id=3402).exists()


def test_migrate_data_beside_live_orm_writes_ends_equal_to_the_source(tmp_path: Path) -> None:
    """A writer thread creates, updates and deletes through the ORM and mirrors each write, as dual
    writes do, while the copy runs; afterwards the target holds exactly the source's rows."""
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(3000))
        done = threading.Event()
        errors: list[BaseException] = []
        counts = {"created": 0, "updated": 0, "deleted": 0}

        def mirror_save(obj: Log) -> None:
            obj.save(using=SOURCE)
            Log.objects.using("default").bulk_create(
                [obj], update_conflicts=True, unique_fields=["id"],
                update_fields=["level", "message", "data", "created_at"],
            )

        def writer() -> None:
            rng = random.Random(7)
            try:
                while not done.is_set() or sum(counts.values()) < 60:
                    action = rng.choice(["create", "update", "delete"])
                    if action == "create":
                        mirror_save(Log(level="info", message="live", data={"live": True}))
                        counts["created"] += 1
                        continue
                    pk = rng.randint(1, 3000 + counts["created"])
                    obj = Log.objects.using(SOURCE).filter(pk=pk).first()
                    if obj is None:
                        continue
                    if action == "update":
                        obj.message = f"updated {rng.random()}"
                        mirror_save(obj)
                        counts["updated"] += 1
                    else:
                        obj.delete(using=SOURCE)
                        with connections["default"].cursor():
                            Log.objects.using("default").filter(pk=pk).delete()
                            backfill.record_tombstone(Log, pk, using="default")
                        counts["deleted"] += 1
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
            finally:
                for alias in (SOURCE, "default"):
                    connections[alias].close()

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            report = run(labels=["logs"], batch_size=50)
        finally:
            writes_during_copy = sum(counts.values())
            done.set()
            thread.join(60)
        assert not errors, errors
        assert writes_during_copy > 0
        assert counts["deleted"] and counts["updated"] and counts["created"]
        assert report.tables[0].rejected == 0
        assert rows_of(Log, "default") == rows_of(Log, SOURCE)


def test_progress_lists_every_checkpoint(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(3))
        run(labels=["logs", "memberships"])
        rows = {p.table: p for p in backfill.progress()}
        assert (rows["logs"].source_rows, rows["logs"].copied_rows, rows["logs"].complete) == (3, 3, True)
        assert rows["memberships"].source_rows is None


def test_migrate_data_fresh_truncates_and_recopies(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(3))
        run(labels=["logs"])
        Log.objects.using("default").filter(pk=1).update(message="changed in the target")
        report = run(labels=["logs"], fresh=True)
        assert report.tables[0].copied == 3
        assert rows_of(Log, "default") == rows_of(Log, SOURCE)


def _index_names(table: str) -> set[str]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def test_migrate_data_rebuilds_secondary_indexes_it_deferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexes, "DEFER_INDEXES_MIN_ROWS", 1)
    before = _index_names("logs")
    assert {"idx_logs_level", "idx_logs_created_at"} <= before
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(20))
        seen: list[set[str]] = []
        backfill.migrate_data(backfill.CopyOptions(labels=["logs"], backup=False, batch_size=5),
                          lambda event: seen.append(_index_names("logs")) if event.kind == "batch" else None)
        assert "idx_logs_level" not in seen[0]  # dropped while the rows went in
        assert _index_names("logs") == before
        assert CopyCheckpoint.objects.get(table="logs").deferred_indexes == []


def test_restore_deferred_indexes_after_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed mid-copy leaves the dropped indexes in its checkpoint; the next run rebuilds them."""
    monkeypatch.setattr(indexes, "DEFER_INDEXES_MIN_ROWS", 1)
    before = _index_names("logs")
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(20))
        CopyCheckpoint.objects.create(table="logs", model_label="core.Log")
        indexes.defer("logs", "default", 20)  # what a run does before its first batch, and then it dies
        assert "idx_logs_level" not in _index_names("logs")
        assert {i["name"] for i in CopyCheckpoint.objects.get(table="logs").deferred_indexes} == before - _index_names("logs")
        run(labels=["logs"])
        assert _index_names("logs") == before
        assert rows_of(Log, "default") == rows_of(Log, SOURCE)


def test_migrate_data_shrinks_batches_of_wide_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "BATCH_BYTES", 4000)
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "x" * 1000} for _ in range(300)])
        sizes: list[int] = []
        backfill.migrate_data(backfill.CopyOptions(labels=["logs"], backup=False),
                          lambda event: sizes.append(event.rows) if event.kind == "batch" else None)
        assert sizes[0] == 100  # the first batch measures the rows
        assert max(sizes[1:]) <= 4  # then about 4000 bytes of 1000-character rows at a time
        assert sum(sizes) == 300 == Log.objects.using("default").count()


def test_migrate_data_with_jobs_stops_at_the_rejects_limit_across_processes(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"id": 1, "level": "info", "message": "m", "data": "bad"}])
        insert(path, "users", [{"id": "u1", "email": "e", "password_hash": "h"}])
        with pytest.raises(RejectLimitExceeded, match="logs pk=1 column data: value 'bad'"):
            run(labels=["logs", "users"], jobs=2)
        assert not Log.objects.using("default").exists()


def test_migrate_data_refuses_a_table_another_run_is_copying(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", log_rows(3))
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(hashtext('cutover_copy:logs'))")
            with pytest.raises(CopyError, match="being copied by another migrate_data run"):
                run(labels=["logs"])
        finally:
            other.close()
        assert run(labels=["logs"]).tables[0].copied == 3


def test_migrate_data_names_columns_the_source_lacks(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        execute(path, "ALTER TABLE logs DROP COLUMN data")
        with pytest.raises(CopyError, match=r"logs.data: core.Log stores this column, the source table has no such"):
            run(labels=["logs"])
        assert not CopyCheckpoint.objects.exists()
        plan = run(labels=["logs"], dry_run=True)  # a dry run reports it instead
        assert [f.name for f in plan.drift.blocking] == ["logs.data"]
