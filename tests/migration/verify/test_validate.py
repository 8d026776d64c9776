"""Row-level validation finds and names every kind of difference, repairs it, and raises no false alarm."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from django.core.management.color import no_style
from django.db import connections, transaction

from core.models import AccuracyMetric, MarketPrice, QueueJob, Tender, User
from migration import flags, inventory, phase, verify
from migration.exceptions import UnknownTablesError
from migration.models import ValidationHashCache, ValidationRepair, ValidationRun
from migration.phase import Phase, PhaseState
from migration.verify import bisect, hashcache, postgres
from migration.verify import run as verify_run
from migration.verify.table import Table

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"], transaction=True)

UTC = dt.UTC
MODELS = [User, Tender, QueueJob, MarketPrice, AccuracyMetric]
TABLES = [m._meta.db_table for m in MODELS]

# --- Factories: rows exactly as the legacy app writes them -----------------------------------

LEGACY_ROWS: dict[str, list[dict[str, Any]]] = {
    "users": [
        {"id": "u1", "email": "Ayse.Yilmaz@Example.com", "name": "Ayşe Yılmaz", "password_hash": "x",
         "created_at": "2024-01-01 10:00:00"},
        {"id": "u2", "email": "mehmet@example.com", "name": "", "password_hash": "x",
         "created_at": "2024-01-01T10:00:00.123Z"},
        {"id": "u3", "email": "ipek@example.com", "name": None, "password_hash": "x", "created_at": None},
    ],
    "tenders": [
        {"id": "t1", "title": "Yemek hizmeti alımı — İstanbul", "partial_bid_allowed": 1,
         "publish_date": "01.02.2024", "tender_date": "-", "days_remaining": 12,
         "created_at": "2024-01-01 10:00:00", "updated_at": "2024-01-01 10:00:00"},
        {"id": "t2", "title": "Kahvaltı \\n malzemesi 'çeşitli' \"özel\"", "partial_bid_allowed": 0,
         "publish_date": "5/3/2024", "tender_date": "15.03.2024", "days_remaining": 2 ** 53 + 1,
         "created_at": "2023-12-31 23:59:59", "updated_at": "2024-02-29 12:00:00"},
    ],
    "queue_jobs": [
        {"id": "j1", "queue": "scrape", "status": "pending", "created_at": 1704103200123,
         "data": '{"b":1.0,"a":1e2,"ü":"\\u00e7\\n\\"x\\"","n":[0.30000000000000004,1e-300,12345678901234567890]}',
         "result": None},
        {"id": "j2", "queue": "scrape", "status": "completed", "created_at": 1704103200000,
         "data": '{"nested":{"deep":[{"x":null},true,false,-0.0]},"tr":"Şeker ğ"}', "result": "null"},
    ],
    "accuracy_metrics": [  # epoch ms in TIMESTAMP and a DATE column: sqlite3 would pre-parse both
        {"id": 1, "date": "2024-01-01", "provider_type": "api", "provider_name": "tuik",
         "accuracy_rate": 0.95, "created_at": 1704103200123},
        {"id": 2, "date": "2024-01-02", "provider_type": "ai", "provider_name": "claude",
         "accuracy_rate": 1e-300, "created_at": 1704189600000},
    ],
    "market_prices": [
        {"id": i, "product_key": f"urun-{i}", "unit": "kg", "unit_price": price, "source": "tuik",
         "created_at": created, "meta": meta}
        for i, price, created, meta in [
            (1, 0.1 + 0.2, "2024-01-01", '{"kaynak":"TÜİK","oran":1.0}'),
            (2, 1e-300, "2024-01-01 10:00:00", None),
            (3, 12.5, "2024-01-02", '[1,2,3]'),
            (4, 7.25, "2024-01-03", '{}'),
        ]
    ],
}


def insert_legacy(table: str, rows: list[dict[str, Any]]) -> None:
    """Write rows into the legacy SQLite file with raw SQL, in the legacy shapes."""
    with connections["sqlite"].cursor() as cursor:
        columns = ", ".join(f'"{c}"' for c in rows[0])
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join(["%s"] * len(rows[0]))})',
                           [list(row.values()) for row in rows])


def legacy_sql(statement: str, params: list[Any]) -> None:
    with connections["sqlite"].cursor() as cursor:
        cursor.execute(statement, params)


def target_sql(statement: str, params: list[Any]) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute(statement, params)


def copy_with_orm(models: list[Any], *, reset_sequences: bool = True) -> None:
    """A clean copy, independent of the copy engine: read each raw value with the field's converters,
    write it as the field prepares it for PostgreSQL, then reset the sequences.
    """
    source, target = connections["sqlite"], connections["default"]
    with target.cursor() as cursor:
        for model in models:
            fields = inventory.stored_fields(model)
            readers = inventory.column_readers(model, source)
            with source.cursor() as legacy_cursor:
                # "+column" keeps sqlite3's declared-type converters off the raw value.
                selected = ", ".join(f'+"{f.column}"' for f in fields)
                legacy_cursor.execute(f'SELECT {selected} FROM "{model._meta.db_table}"')
                rows = [[r(v, source) for r, v in zip(readers, raw)] for raw in legacy_cursor.fetchall()]
            columns = ", ".join(f'"{f.column}"' for f in fields)
            cursor.executemany(
                f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({", ".join(["%s"] * len(fields))})',
                [[f.get_db_prep_save(v, target) for f, v in zip(fields, row)] for row in rows],
            )
        if reset_sequences:
            for statement in target.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)


@pytest.fixture(autouse=True)
def empty_legacy_tables() -> Any:
    """Django's flush leaves the legacy file alone (no migrations run there), so empty it here."""
    def empty() -> None:
        with connections["sqlite"].cursor() as cursor:
            for table in TABLES:
                cursor.execute(f'DELETE FROM "{table}"')
    empty()
    yield
    empty()


@pytest.fixture
def legacy() -> None:
    for table, rows in LEGACY_ROWS.items():
        insert_legacy(table, rows)


@pytest.fixture
def copied(legacy: None) -> None:
    copy_with_orm(MODELS)


def run(**kwargs: Any) -> verify.ValidationReport:
    kwargs.setdefault("tables", TABLES)
    kwargs.setdefault("recheck_delay", 0)
    return verify.validate(**kwargs)


def table_result(report: verify.ValidationReport, table: str) -> verify.TableResult:
    return next(t for t in report.tables if t.table == table)


def changed_columns(result: verify.TableResult) -> dict[Any, dict[str, tuple[Any, Any]]]:
    return {row.pk: {c.column: (c.source, c.target) for c in row.columns} for row in result.changed_rows}


# --- No false positives -----------------------------------------------------------------------

def test_validate_clean_copy_of_awkward_values_is_clean(copied: None) -> None:
    report = run()
    assert {t.table: (t.source_count, t.target_count, t.clean) for t in report.tables} == {
        t: (len(LEGACY_ROWS[t]), len(LEGACY_ROWS[t]), True) for t in TABLES
    }
    assert report.clean and report.differences == 0


def test_validate_all_migrated_models_on_a_clean_copy_is_clean(copied: None) -> None:
    report = verify.validate(recheck_delay=0)
    assert len(report.tables) == len(verify.resolve_models(None)) > 60
    assert report.clean, [t.as_dict(3) for t in report.tables if not t.clean]
    assert report.source_rows == report.target_rows == sum(len(rows) for rows in LEGACY_ROWS.values())


def test_validate_counts_only_compares_counts(copied: None) -> None:
    target_sql('DELETE FROM "tenders" WHERE id = %s', ["t1"])
    report = run(row_level=False)
    tenders = table_result(report, "tenders")
    assert (tenders.source_count, tenders.target_count, tenders.clean) == (2, 1, False)
    assert table_result(report, "users").clean


# --- Each planted difference is found and named -----------------------------------------------

def test_validate_finds_missing_and_extra_rows(copied: None) -> None:
    target_sql('DELETE FROM "users" WHERE id = %s', ["u2"])
    target_sql('INSERT INTO "users" (id, email, password_hash) VALUES (%s, %s, %s)', ["u9", "x@y.z", "x"])
    users = table_result(run(), "users")
    assert (users.missing, users.extra, users.changed) == (["u2"], ["u9"], [])
    assert not users.clean


PLANTED = [
    # (table, pk, target SQL setting one column, column, source value, target value)
    ("tenders", "t1", "created_at = created_at + interval '3 hours'", "created_at",
     dt.datetime(2024, 1, 1, 10, tzinfo=UTC), dt.datetime(2024, 1, 1, 13, tzinfo=UTC)),
    ("queue_jobs", "j1", "created_at = created_at + interval '1 millisecond'", "created_at",
     dt.datetime(2024, 1, 1, 10, 0, 0, 123000, tzinfo=UTC), dt.datetime(2024, 1, 1, 10, 0, 0, 124000, tzinfo=UTC)),
    ("accuracy_metrics", 1, "created_at = created_at - interval '123 milliseconds'", "created_at",
     dt.datetime(2024, 1, 1, 10, 0, 0, 123000, tzinfo=UTC), dt.datetime(2024, 1, 1, 10, tzinfo=UTC)),
    ("accuracy_metrics", 2, "date = DATE '2024-01-03'", "date", dt.date(2024, 1, 2), dt.date(2024, 1, 3)),
    ("tenders", "t2", "partial_bid_allowed = true", "partial_bid_allowed", False, True),
    ("queue_jobs", "j2", """data = jsonb_set(data, '{tr}', '"Seker g"')""", "data",
     {"nested": {"deep": [{"x": None}, True, False, -0.0]}, "tr": "Şeker ğ"},
     {"nested": {"deep": [{"x": None}, True, False, 0.0]}, "tr": "Seker g"}),
    ("tenders", "t1", "publish_date = DATE '2024-02-02'", "publish_date", dt.date(2024, 2, 1), dt.date(2024, 2, 2)),
    ("tenders", "t1", "tender_date = DATE '2024-02-02'", "tender_date", None, dt.date(2024, 2, 2)),
    ("market_prices", 3, "unit_price = 12.51", "unit_price", 12.5, 12.51),
    ("tenders", "t2", "days_remaining = 9007199254740992", "days_remaining", 2 ** 53 + 1, 2 ** 53),
    ("tenders", "t1", "title = 'Yemek hizmeti alimi — Istanbul'", "title",
     "Yemek hizmeti alımı — İstanbul", "Yemek hizmeti alimi — Istanbul"),
    ("users", "u2", "name = NULL", "name", "", None),
    ("users", "u3", "name = ''", "name", None, ""),
    ("users", "u1", "email = lower(email)", "email", "Ayse.Yilmaz@Example.com", "ayse.yilmaz@example.com"),
]


@pytest.mark.parametrize(("table", "pk", "assignment", "column", "source", "target"), PLANTED,
                         ids=[f"{p[0]}.{p[3]}:{p[2][:30]}" for p in PLANTED])
def test_validate_names_the_changed_column_and_both_values(
    copied: None, table: str, pk: Any, assignment: str, column: str, source: Any, target: Any,
) -> None:
    target_sql(f'UPDATE "{table}" SET {assignment} WHERE id = %s', [pk])
    result = table_result(run(), table)
    assert (result.missing, result.extra, result.changed) == ([], [], [pk])
    assert changed_columns(result) == {pk: {column: (source, target)}}


def test_validate_finds_the_last_bit_of_a_float(copied: None) -> None:
    nudged = math.nextafter(0.1 + 0.2, 1.0)
    target_sql('UPDATE "market_prices" SET unit_price = %s WHERE id = 1', [nudged])
    result = table_result(run(), "market_prices")
    assert changed_columns(result) == {1: {"unit_price": (0.1 + 0.2, nudged)}}


def test_validate_finds_a_changed_json_float_representation(copied: None) -> None:
    target_sql("""UPDATE "market_prices" SET meta = '{"kaynak": "TÜİK", "oran": 1}' WHERE id = 1""", [])
    result = table_result(run(), "market_prices")
    assert list(changed_columns(result)[1]) == ["meta"]


def test_validate_reports_an_unreadable_source_row(copied: None) -> None:
    insert_legacy("tenders", [{"id": "t3", "publish_date": "yarın"}])
    result = table_result(run(), "tenders")
    assert [(r["pk"], r["column"], r["value"]) for r in result.unreadable] == [("t3", "publish_date", "'yarın'")]
    assert result.missing == [] and not result.clean


def test_validate_bisects_a_large_table_down_to_single_rows(legacy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    insert_legacy("market_prices", [
        {"id": i, "product_key": f"p{i}", "unit": "kg", "unit_price": i / 7, "source": "s",
         "created_at": "2024-01-01 10:00:00"} for i in range(10, 3010)
    ])
    copy_with_orm([MarketPrice])
    target_sql('UPDATE "market_prices" SET unit = %s WHERE id = %s', ["g", 1777])
    target_sql('DELETE FROM "market_prices" WHERE id IN (10, 3009)', [])
    target_sql('INSERT INTO "market_prices" (id, product_key, unit, unit_price, source, created_at) '
               "VALUES (5000, 'x', 'kg', 1, 's', now()), (0, 'y', 'kg', 1, 's', now())", [])
    monkeypatch.setattr(postgres, "SEGMENT_ROWS", 200)
    monkeypatch.setattr(bisect, "FANOUT", 4)
    monkeypatch.setattr(bisect, "LEAF_ROWS", 8)
    depths: list[int] = []
    report = run(tables=["market_prices"],
                 progress=lambda event, data: depths.append(data["depth"]) if event == "segment" else None)
    result = report.tables[0]
    assert (sorted(result.missing), sorted(result.extra), result.changed) == ([10, 3009], [0, 5000], [1777])
    assert changed_columns(result) == {1777: {"unit": ("kg", "g")}}
    assert max(depths) >= 2  # the changed row was reached by splitting, not by a full fetch


def test_validate_cuts_segments_at_the_targets_keys_even_where_the_sides_hold_different_keys(
    legacy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The top-level boundaries come from the target; a target missing half the source's keys and
    # holding a block the source lacks still gives exact differences, and equal segments stay equal.
    insert_legacy("market_prices", [
        {"id": i, "product_key": f"p{i}", "unit": "kg", "unit_price": i / 7, "source": "s",
         "created_at": "2024-01-01 10:00:00"} for i in range(10, 1010)
    ])
    copy_with_orm([MarketPrice])
    target_sql('DELETE FROM "market_prices" WHERE id BETWEEN 200 AND 599', [])
    target_sql('INSERT INTO "market_prices" (id, product_key, unit, unit_price, source, created_at) '
               "SELECT i, 'x', 'kg', 1, 's', now() FROM generate_series(2000, 2299) AS i", [])
    target_sql('UPDATE "market_prices" SET unit = %s WHERE id = %s', ["g", 900])
    monkeypatch.setattr(postgres, "SEGMENT_ROWS", 50)
    result = run(tables=["market_prices"]).tables[0]
    assert sorted(result.missing) == list(range(200, 600))
    assert sorted(result.extra) == list(range(2000, 2300))
    assert result.changed == [900]
    assert (result.source_count, result.target_count) == (1004, 1004 - 400 + 300)


def test_validate_cuts_text_keys_in_code_point_order_on_both_sides(
    legacy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL cuts text keys with COLLATE "C", the order of Python and SQLite: with a segment
    # every 3 keys, a linguistic order would put keys in the wrong segments and report them.
    ids = ["a", "B", "Z", "z", "ç", "İ", "ı", "ş", "Ş", "Ü", "ü", "10", "9", "a b", "a-b", "Ab", "é", "e"]
    insert_legacy("queue_jobs", [
        {"id": f"j-{key}", "queue": "scrape", "status": "pending", "created_at": 1704103200123,
         "data": "{}", "result": None} for key in ids
    ])
    copy_with_orm([QueueJob])
    monkeypatch.setattr(postgres, "SEGMENT_ROWS", 3)
    segments: list[dict[str, Any]] = []
    clean = run(tables=["queue_jobs"], progress=lambda event, data: segments.append(data) if event == "segment" else None)
    assert clean.tables[0].clean
    assert segments == []  # every segment of the identical copy matched: none was split
    target_sql('UPDATE "queue_jobs" SET status = %s WHERE id = %s', ["failed", "j-ş"])
    target_sql('DELETE FROM "queue_jobs" WHERE id = %s', ["j-İ"])
    result = run(tables=["queue_jobs"]).tables[0]
    assert (result.missing, result.extra, result.changed) == (["j-İ"], [], ["j-ş"])


def test_validate_uses_one_second_connection_for_all_tables_and_closes_it(
    copied: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Any] = []
    real_connect = postgres.psycopg.connect

    def counting_connect(*args: Any, **kwargs: Any) -> Any:
        connection = real_connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(postgres.psycopg, "connect", counting_connect)
    report = run()
    assert report.clean and len(report.tables) == len(TABLES) > 1
    assert len(opened) == 1 and opened[0].closed
    assert postgres._side_connections == {}


def test_validate_inside_a_transaction_cuts_and_sums_on_its_own_connection(copied: None) -> None:
    # A second connection would not see rows written in an open transaction: inside one, the
    # target is cut and summed on the transaction's connection, and the rows written there count.
    with transaction.atomic(using="default"):
        target_sql('UPDATE "market_prices" SET unit = %s WHERE id = %s', ["g", 3])
        target_sql('DELETE FROM "users" WHERE id = %s', ["u2"])
        report = run(tables=["market_prices", "users"])
        transaction.set_rollback(True, using="default")
    assert (table_result(report, "market_prices").changed, table_result(report, "users").missing) == ([3], ["u2"])
    assert postgres._side_connections == {}


def test_validate_replaces_a_second_connection_that_died_between_tables(copied: None) -> None:
    # The connection kept from table to table is terminated by the server after the first table:
    # the next table reconnects and the run finishes clean.
    terminated: list[int] = []

    def kill_after_first_table(event: str, data: dict[str, Any]) -> None:
        if event == "table_done" and not terminated:
            (connection,) = postgres._side_connections.values()
            terminated.append(connection.info.backend_pid)
            target_sql("SELECT pg_terminate_backend(%s)", [terminated[0]])

    report = run(progress=kill_after_first_table)
    assert terminated and report.clean and len(report.tables) == len(TABLES)


# --- Reused source hashes --------------------------------------------------------------------

def _market_rows(count: int) -> None:
    insert_legacy("market_prices", [
        {"id": i, "product_key": f"p{i}", "unit": "kg", "unit_price": i / 7, "source": "s",
         "created_at": "2024-01-01 10:00:00", "meta": f'{{"n":{i}}}'} for i in range(10, 10 + count)
    ])
    copy_with_orm([MarketPrice])


def test_validate_reuses_source_hashes_only_while_the_raw_rows_are_unchanged(
    legacy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashcache, "CACHE_ROWS", 100)
    _market_rows(1000)
    first = run(tables=["market_prices"]).tables[0]
    assert first.clean and first.reused_hashes == 0
    assert ValidationHashCache.objects.filter(table="market_prices").count() == 11  # 1,004 rows in runs of 100

    second = run(tables=["market_prices"]).tables[0]
    assert second.clean and second.reused_hashes == 1004

    # A source row changes: its run is hashed again and the difference is found.
    legacy_sql('UPDATE "market_prices" SET unit = %s WHERE id = %s', ["lt", 555])
    third = run(tables=["market_prices"]).tables[0]
    assert third.changed == [555] and changed_columns(third) == {555: {"unit": ("lt", "kg")}}
    assert third.reused_hashes == 1004 - 100
    legacy_sql('UPDATE "market_prices" SET unit = %s WHERE id = %s', ["kg", 555])

    # A target row changes while every source hash is reused: the target side is always hashed afresh.
    target_sql('UPDATE "market_prices" SET meta = %s WHERE id = %s', ['{"n": 778}', 777])
    fourth = run(tables=["market_prices"]).tables[0]
    assert fourth.reused_hashes == 1004 - 100  # the run with row 555 was hashed anew in the third pass
    assert fourth.changed == [777] and changed_columns(fourth) == {777: {"meta": ({"n": 777}, {"n": 778})}}
    fifth = run(tables=["market_prices"]).tables[0]
    assert fifth.reused_hashes == 1004 and fifth.changed == [777]

    assert run(tables=["market_prices"], reuse_hashes=False).tables[0].reused_hashes == 0


def test_validate_hash_cache_starts_afresh_when_the_hashing_changes(
    legacy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _market_rows(50)
    run(tables=["market_prices"])
    assert run(tables=["market_prices"]).tables[0].reused_hashes == 54
    monkeypatch.setattr(hashcache, "CACHE_FORMAT", "test")
    result = run(tables=["market_prices"]).tables[0]
    assert result.clean and result.reused_hashes == 0
    table = Table.of(MarketPrice, connections["sqlite"], connections["default"])
    assert set(ValidationHashCache.objects.values_list("fingerprint", flat=True)) == {
        hashcache.fingerprint(table, inventory.column_readers(MarketPrice, connections["sqlite"]))
    }


def test_validate_in_worker_processes_finds_the_same_differences(copied: None) -> None:
    target_sql('DELETE FROM "users" WHERE id = %s', ["u2"])
    target_sql("UPDATE \"market_prices\" SET meta = '{\"x\": 1}' WHERE id = 4", [])
    serial, parallel = run(jobs=1), run(jobs=2)

    def summary(report: verify.ValidationReport) -> list[tuple[Any, ...]]:
        return [(t.table, t.missing, t.extra, t.changed, t.source_count, t.target_count) for t in report.tables]

    assert summary(parallel) == summary(serial)
    assert (table_result(parallel, "users").missing, table_result(parallel, "market_prices").changed) == (["u2"], [4])


# --- Rows that change while they are checked ---------------------------------------------------

def test_validate_a_write_landing_during_the_run_is_not_a_difference(copied: None) -> None:
    target_sql('DELETE FROM "users" WHERE id = %s', ["u1"])
    target_sql('UPDATE "users" SET name = %s WHERE id = %s', ["Mehmet", "u2"])

    def dual_write_lands(event: str, data: dict[str, Any]) -> None:
        if event == "recheck":  # between the first pass and the re-check, the mirrored write arrives
            target_sql('INSERT INTO "users" (id, email, name, password_hash, created_at) '
                       "VALUES ('u1', 'Ayse.Yilmaz@Example.com', 'Ayşe Yılmaz', 'x', '2024-01-01 10:00:00+00')", [])

    users = table_result(run(progress=dual_write_lands), "users")
    assert users.in_flight == []  # u1 settled: both sides agree now
    assert (users.missing, users.changed) == ([], ["u2"])


def test_validate_a_row_pending_in_the_outbox_until_the_end_is_unverified_and_not_clean(
    copied: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    target_sql('UPDATE "users" SET name = %s WHERE id = %s', ["Mehmet", "u2"])
    monkeypatch.setattr(verify_run, "pending_pks", lambda model: {"u2"} if model is User else set())
    report = run(settle_seconds=0.5)
    users = table_result(report, "users")
    assert (users.in_flight, users.changed, users.clean) == (["u2"], [], False)
    assert not report.clean


def test_validate_a_row_another_process_keeps_updating_is_unverified(copied: None) -> None:
    import subprocess
    import sys
    import time

    target_sql('UPDATE "users" SET name = %s WHERE id = %s', ["Mehmet", "u2"])
    db = connections["default"].settings_dict
    # Another process updates the row every 10 ms, as a busy writer would, until it is stopped.
    script = (
        "import itertools, sys, time, psycopg\n"
        "conn = psycopg.connect(**dict(arg.split('=', 1) for arg in sys.argv[1:]), autocommit=True)\n"
        "print('ready', flush=True)\n"
        "for n in itertools.count():\n"
        "    conn.execute('UPDATE users SET name = %s WHERE id = %s', [f'Mehmet {n}', 'u2'])\n"
        "    time.sleep(0.01)\n"
    )
    params = {"dbname": db["NAME"], "user": db.get("USER") or "postgres"}
    params.update({k: str(v) for k, v in (("host", db.get("HOST")), ("port", db.get("PORT"))) if v})
    writer = subprocess.Popen([sys.executable, "-c", script, *(f"{k}={v}" for k, v in params.items())],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.05)
        users = table_result(run(settle_seconds=1.0), "users")
    finally:
        writer.kill()
        writer.wait(10)
    assert users.in_flight == ["u2"] and not users.clean


# --- Sequences --------------------------------------------------------------------------------

def test_validate_flags_a_sequence_behind_max_id(legacy: None) -> None:
    copy_with_orm([MarketPrice], reset_sequences=False)
    target_sql("SELECT setval(pg_get_serial_sequence('market_prices', 'id'), 1)", [])
    result = table_result(run(), "market_prices")
    assert result.sequence is not None and (result.sequence.max_pk, result.sequence.ok) == (4, False)
    assert result.differences == 0 and not result.clean


@pytest.mark.parametrize(("state", "clean"), [
    (PhaseState(Phase.DUAL_WRITE), True),
    (PhaseState(Phase.READ_ROLLOUT, 50), True),
    (PhaseState(Phase.POSTGRES_PRIMARY, 100), False),
])
def test_validate_a_sequence_behind_max_id_blocks_only_where_postgres_hands_out_ids(
    legacy: None, state: PhaseState, clean: bool,
) -> None:
    """Under dual writes SQLite's ids are copied and the sequence lags by design: reported, not a difference."""
    copy_with_orm([MarketPrice], reset_sequences=False)
    target_sql("SELECT setval(pg_get_serial_sequence('market_prices', 'id'), 1)", [])
    flags.write_state(**phase.flag_values(state))
    flags.forget()
    try:
        result = table_result(run(), "market_prices")
    finally:
        flags.write_state(**phase.flag_values(PhaseState(Phase.SQLITE)))
        flags.forget()
    assert (result.sequence.ok, result.sequence.ids_from_source) == (False, clean)
    assert (result.differences, result.clean) == (0, clean)


# --- Repair -----------------------------------------------------------------------------------

def test_validate_repair_fixes_every_planted_difference(copied: None) -> None:
    for table, pk, assignment, *_ in PLANTED:
        target_sql(f'UPDATE "{table}" SET {assignment} WHERE id = %s', [pk])
    target_sql('DELETE FROM "users" WHERE id = %s', ["u2"])
    target_sql('INSERT INTO "users" (id, email, password_hash) VALUES (%s, %s, %s)', ["u9", "x@y.z", "x"])
    target_sql("SELECT setval(pg_get_serial_sequence('market_prices', 'id'), 1)", [])
    asked: list[verify.ValidationReport] = []
    report = run(repair=True, confirm=lambda r: asked.append(r) or True)
    assert len(asked) == 1 and not report.found_clean and report.clean
    users = table_result(report, "users")
    assert users.repair is not None
    assert (users.repair.inserted, sorted(users.repair.updated), users.repair.deleted) == (["u2"], ["u1", "u3"], ["u9"])
    assert table_result(report, "market_prices").repair.sequence_reset
    assert run().clean
    deleted = ValidationRepair.objects.get(table="users", pk_value="u9")
    assert (deleted.action, deleted.verified, deleted.run_id) == ("delete", True, report.run_id)
    email = ValidationRepair.objects.get(table="users", pk_value="u1")
    assert email.columns == [["email", "ayse.yilmaz@example.com", "Ayse.Yilmaz@Example.com"]]


def test_validate_repair_of_an_extra_row_above_the_sequence_is_clean(copied: None) -> None:
    target_sql('INSERT INTO "market_prices" (id, product_key, unit, unit_price, source, created_at) '
               "VALUES (1000, 'x', 'kg', 1, 's', now())", [])
    first = table_result(run(), "market_prices")
    assert (first.extra, first.sequence.ok) == ([1000], False)
    repaired = table_result(run(repair=True), "market_prices")
    assert repaired.repair.deleted == [1000] and not repaired.repair.sequence_reset and repaired.clean
    assert run().clean


def test_validate_repair_declined_changes_nothing(copied: None) -> None:
    target_sql('DELETE FROM "users" WHERE id = %s', ["u2"])
    report = run(repair=True, confirm=lambda r: False)
    assert not report.clean and not report.repaired
    assert not run().clean


def test_repair_rows_rewrites_given_rows_from_the_source(copied: None) -> None:
    target_sql('UPDATE "queue_jobs" SET data = %s WHERE id = %s', ['{"x": 1}', "j1"])
    result = verify.repair_rows(QueueJob, ["j1", "j404"])
    assert (result.updated, result.inserted, result.deleted, result.verified) == (["j1"], [], [], True)
    assert run().clean


# --- Stored runs and names --------------------------------------------------------------------

def test_latest_run_returns_the_stored_result(copied: None) -> None:
    target_sql('DELETE FROM "tenders" WHERE id = %s', ["t1"])
    report = run()
    latest = verify.latest_run()
    assert latest is not None and latest.pk == report.run_id
    assert latest.finished_at is not None and latest.clean is False
    tenders = latest.tables.get(table="tenders")
    assert (tenders.source_count, tenders.target_count, tenders.missing) == (2, 1, 1)
    assert tenders.details["missing_pks"] == ["t1"]
    assert ValidationRun.objects.count() == 1


def test_validate_rejects_unknown_tables() -> None:
    with pytest.raises(UnknownTablesError, match="no_such_table"):
        verify.validate(tables=["users", "no_such_table"])
