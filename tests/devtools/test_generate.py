"""devtools.legacydb.generate writes a valid, realistic, deterministic legacy database of exactly the rows asked for."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

from core import fields, legacy
from devtools.legacydb import generate, tables
from devtools.legacydb import rows as recipes
from devtools.legacydb.shapes import dumps
from migration.inventory import column_readers, migrated_models, stored_fields
from migration.values.convert import read_row

ROWS = 4_000
SEED = 11

SHAPE_PATTERNS = {
    fields.SQLITE_TS: re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
    fields.ISO_Z: re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"),
    fields.DATE_ONLY: re.compile(r"^\d{4}-\d{2}-\d{2}$"),
}
TURKISH_DATE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
TURKISH_SLASHED_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")


def make(path: Path, rows: int = ROWS, seed: int = SEED) -> generate.GenerationResult:
    return generate.generate_legacy_database(path, rows=rows, seed=seed)


@pytest.fixture(scope="module")
def legacy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("legacy") / "procheff.db"
    make(path)
    return path


@pytest.fixture
def db(legacy_file: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(legacy_file)
    yield connection
    connection.close()


def column(db: sqlite3.Connection, table: str, name: str) -> list[Any]:
    return [
        row[0] for row in db.execute(f'SELECT "{name}" FROM "{table}" WHERE "{name}" IS NOT NULL')
    ]


def dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def open_legacy_file(path: Path, alias: str = "sqlite") -> DatabaseWrapper:
    """A Django connection to a legacy file, with the settings of the ``sqlite`` alias."""
    return DatabaseWrapper({**settings.DATABASES["sqlite"], "NAME": str(path)}, alias=alias)


# -- plan


@pytest.mark.parametrize("rows", [generate.minimum_rows(), 150, 999, 2_000, 12_345, 1_000_000])
def test_plan_counts_add_up_to_rows(rows: int) -> None:
    counts = generate.plan_counts(rows)

    assert sum(counts.values()) == rows
    assert list(counts) == list(generate.TABLE_ORDER)
    assert counts["proactive_triggers"] % 5 == 0
    assert counts["data_pools"] <= counts["analysis_history"]
    assert counts["user_2fa"] <= counts["users"]
    assert counts["chat_feedback"] <= counts["chat_analytics"] // 2
    assert counts["_migrations"] == 0


def test_plan_counts_follow_the_real_database() -> None:
    counts = generate.plan_counts(100_000)

    assert max(counts, key=counts.__getitem__) == "logs"
    assert counts["logs"] > counts["market_prices"] > counts["tenders"] > counts["users"]
    assert (
        counts["menu_items"] == 29 and counts["menu_categories"] == 10 and counts["markets"] == 10
    )
    assert all(counts[table] < counts["tenders"] for table in generate.UNWRITTEN)


def test_plan_counts_rejects_fewer_rows_than_the_seeds() -> None:
    with pytest.raises(generate.GenerationError, match=r"at least \d+"):
        generate.plan_counts(generate.minimum_rows() - 1)


# -- the file


@pytest.mark.parametrize("rows", [generate.minimum_rows(), 1_500])
def test_generate_writes_exactly_the_rows_asked_for(tmp_path: Path, rows: int) -> None:
    result = make(tmp_path / "legacy.db", rows=rows)

    connection = sqlite3.connect(tmp_path / "legacy.db")
    actual = {
        t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
        for t in generate.TABLE_ORDER
    }
    connection.close()
    assert actual == result.counts
    assert sum(actual.values()) == rows == result.rows


def test_generate_same_seed_gives_the_same_rows(tmp_path: Path) -> None:
    make(tmp_path / "a.db", rows=1_200, seed=3)
    make(tmp_path / "b.db", rows=1_200, seed=3)
    make(tmp_path / "c.db", rows=1_200, seed=4)

    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert dump(tmp_path / "a.db") != dump(tmp_path / "c.db")


def test_generate_refuses_an_existing_file_unless_told_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    path.write_bytes(b"keep me")

    with pytest.raises(FileExistsError):
        make(path, rows=300)
    assert path.read_bytes() == b"keep me"

    with pytest.raises(generate.GenerationError):
        generate.generate_legacy_database(path, rows=10, overwrite=True)
    assert path.read_bytes() == b"keep me"

    generate.generate_legacy_database(path, rows=300, overwrite=True)
    assert sum(1 for line in dump(path) if line.startswith('INSERT INTO "logs"')) > 0


def test_generate_leaves_the_never_created_tables_absent(db: sqlite3.Connection) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    assert not tables & {
        "memberships",
        "orchestrations",
        "analysis_results",
        "activity_logs",
        "user_settings",
        "app_settings",
        "backup_history",
        "tender_analysis",
        "tender_full_content",
    }
    assert set(generate.TABLE_ORDER) <= tables


def test_generate_passes_sqlite_integrity_and_foreign_key_checks(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_generate_rows_satisfy_every_check_unique_and_not_null(
    legacy_file: Path, tmp_path: Path
) -> None:
    """Copy every row into a fresh legacy schema with constraints enforced: nothing may be refused."""
    fresh = tmp_path / "fresh.db"
    legacy.create_legacy_database(fresh)
    connection = sqlite3.connect(fresh, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("ATTACH DATABASE ? AS generated", (str(legacy_file),))
    copied = 0
    for table in generate.TABLE_ORDER:
        # table_info leaves out the generated columns, which cannot be inserted.
        names = ", ".join(
            f'"{row[1]}"' for row in connection.execute(f'PRAGMA main.table_info("{table}")')
        )
        copied += connection.execute(
            f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM generated."{table}"'
        ).rowcount
    connection.close()
    assert copied == ROWS


def test_generate_rows_read_through_the_models_without_conversion_errors(
    legacy_file: Path, django_db_blocker: Any
) -> None:
    read = 0
    with django_db_blocker.unblock():
        connection = open_legacy_file(legacy_file)
        try:
            for model in migrated_models():
                table = model._meta.db_table
                if table not in generate.TABLE_ORDER:
                    continue  # declared by the legacy code, never created
                readers = column_readers(model, connection)
                names = ", ".join(f'"{f.column}"' for f in stored_fields(model))
                with connection.cursor() as cursor:
                    cursor.execute(f'SELECT {names} FROM "{table}"')
                    for raw in cursor.fetchall():
                        read_row(table, raw[0], raw, readers, connection)  # raises ConversionError
                        read += 1
        finally:
            connection.close()
    assert read == ROWS


def test_generate_rows_load_as_model_instances_through_the_orm(
    legacy_file: Path, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        connections["generated_legacy"] = open_legacy_file(legacy_file, alias="generated_legacy")
        try:
            loaded = {
                model._meta.db_table: len(list(model._base_manager.using("generated_legacy").all()))
                for model in migrated_models()
                if model._meta.db_table in generate.TABLE_ORDER
            }
        finally:
            connections["generated_legacy"].close()
            del connections["generated_legacy"]
    assert sum(loaded.values()) == ROWS
    assert loaded["logs"] > 0 and loaded["cache_entries"] > 0 and loaded["tenders"] > 0


# -- legacy shapes (README section 5)


def test_generate_writes_every_timestamp_in_its_columns_legacy_shapes(
    db: sqlite3.Connection,
) -> None:
    checked = 0
    for model in migrated_models():
        table = model._meta.db_table
        if table not in generate.TABLE_ORDER:
            continue
        for field in stored_fields(model):
            if not isinstance(field, fields.LegacyDateTimeField):
                continue
            for value in column(db, table, field.column):
                if isinstance(value, int):
                    assert fields.EPOCH_MS in field.shapes, (table, field.column, value)
                else:
                    assert any(
                        SHAPE_PATTERNS[s].match(value) for s in field.shapes if s != fields.EPOCH_MS
                    ), (table, field.column, value)
                checked += 1
    assert checked > ROWS


def test_generate_mixes_iso_z_and_sqlite_timestamps_in_analysis_history(
    db: sqlite3.Connection,
) -> None:
    values = column(db, "analysis_history", "created_at")

    assert any(SHAPE_PATTERNS[fields.ISO_Z].match(v) for v in values)
    assert any(SHAPE_PATTERNS[fields.SQLITE_TS].match(v) for v in values)


@pytest.mark.parametrize(
    "table, name",
    [
        ("cache_entries", "created_at"),
        ("cache_entries", "expires_at"),
        ("queue_jobs", "created_at"),
        ("coverage_metrics", "last_updated"),
        ("accuracy_metrics", "created_at"),
        ("webhook_subscriptions", "created_at"),
    ],
)
def test_generate_writes_epoch_milliseconds_as_integers(
    db: sqlite3.Connection, table: str, name: str
) -> None:
    types = {row[0] for row in db.execute(f'SELECT DISTINCT typeof("{name}") FROM "{table}"')}
    values = column(db, table, name)

    assert types == {"integer"}
    assert all(1_750_000_000_000 < v < 1_770_000_000_000 for v in values)


def test_generate_writes_date_only_seed_prices(db: sqlite3.Connection) -> None:
    values = column(db, "market_prices", "created_at")

    assert sum(bool(SHAPE_PATTERNS[fields.DATE_ONLY].match(v)) for v in values) > len(values) * 0.8
    assert any(SHAPE_PATTERNS[fields.SQLITE_TS].match(v) for v in values)


@pytest.mark.parametrize("name", ["publish_date", "tender_date"])
def test_generate_writes_turkish_tender_dates_and_placeholders(
    db: sqlite3.Connection, name: str
) -> None:
    values = column(db, "tenders", name)

    assert "-" in values
    assert any(TURKISH_DATE.match(v) for v in values)
    assert any(TURKISH_SLASHED_DATE.match(v) for v in values)
    assert all(v == "-" or TURKISH_DATE.match(v) or TURKISH_SLASHED_DATE.match(v) for v in values)


@pytest.mark.parametrize(
    "table, name",
    [
        ("user_2fa", "user_id"),
        ("security_audit_logs", "user_id"),
        ("notification_channels", "user_id"),
        ("report_templates", "created_by"),
        ("report_history", "generated_by"),
        ("performance_settings", "updated_by"),
    ],
)
def test_generate_writes_emails_in_the_user_columns_that_hold_emails(
    db: sqlite3.Connection, table: str, name: str
) -> None:
    emails = set(column(db, "users", "email"))
    values = column(db, table, name)

    assert values
    assert set(values) <= emails


def test_generate_writes_flags_as_0_or_1(db: sqlite3.Connection) -> None:
    checked = 0
    for model in migrated_models():
        table = model._meta.db_table
        if table not in generate.TABLE_ORDER:
            continue
        for field in stored_fields(model):
            if isinstance(field, fields.LegacyBooleanField):
                values = set(
                    db.execute(
                        f'SELECT DISTINCT typeof("{field.column}"), "{field.column}" FROM "{table}"'
                    )
                )
                assert values <= {("integer", 0), ("integer", 1), ("null", None)}, (
                    table,
                    field.column,
                    values,
                )
                checked += 1
    assert checked >= 20


def test_generate_writes_json_like_json_stringify(db: sqlite3.Connection) -> None:
    non_ascii = 0
    for model in migrated_models():
        table = model._meta.db_table
        if table not in generate.TABLE_ORDER:
            continue
        for field in stored_fields(model):
            if isinstance(field, fields.LegacyJSONField):
                for text in column(db, table, field.column):
                    assert dumps(json.loads(text)) == text, (table, field.column, text)
                    non_ascii += not text.isascii()
    assert non_ascii > 100


def test_generate_writes_turkish_text(db: sqlite3.Connection) -> None:
    text = " ".join(
        column(db, "logs", "message")
        + column(db, "users", "name")
        + column(db, "tenders", "organization")
        + column(db, "analysis_history", "extracted_fields")
    )

    assert set("ğüşıöçİÜŞÖÇ") <= set(text)


@pytest.mark.parametrize(
    "table, name, pattern",
    [
        ("users", "id", r"^[A-Za-z0-9_-]{12}$"),
        ("organizations", "id", r"^[A-Za-z0-9_-]{10}$"),
        ("analysis_history", "id", r"^analysis_\d{13}_[0-9a-z]{9}$"),
        ("semantic_cache", "id", r"^[0-9a-f]{32}$"),
        ("tenders", "id", r"^\d+$"),
        ("product_cards", "id", r"^product_[a-z0-9_]+_\d{13}$"),
        ("chat_analytics", "id", r"^msg_\d{13}_[0-9a-z]{9}(_response)?$"),
        ("chat_analytics", "conversation_id", r"^conv_\d{13}_[0-9a-z]{9}$"),
    ],
)
def test_generate_writes_ids_in_the_apps_formats(
    db: sqlite3.Connection, table: str, name: str, pattern: str
) -> None:
    values = column(db, table, name)

    assert values
    assert all(re.match(pattern, v) for v in values), [
        v for v in values if not re.match(pattern, v)
    ][:3]


def test_generate_writes_uuid4_queue_job_ids(db: sqlite3.Connection) -> None:
    values = column(db, "queue_jobs", "id")

    assert values and all(uuid.UUID(v).version == 4 and str(uuid.UUID(v)) == v for v in values)


def test_generate_duplicates_proactive_trigger_seeds_like_the_app(db: sqlite3.Connection) -> None:
    per_type = dict(
        db.execute("SELECT trigger_type, count(*) FROM proactive_triggers GROUP BY trigger_type")
    )

    assert len(per_type) == 5 and len(set(per_type.values())) == 1
    assert generate.plan_counts(1_000)["proactive_triggers"] == 5
    assert (
        generate.plan_counts(120_000)["proactive_triggers"] == 15
    )  # one more seeding per app start


def test_generate_data_pools_belong_to_analyses(db: sqlite3.Connection) -> None:
    orphans = db.execute(
        "SELECT count(*) FROM data_pools WHERE analysis_id NOT IN (SELECT id FROM analysis_history)"
    ).fetchone()[0]

    assert orphans == 0


class _WarnNotificationFactory(tables.auth.NotificationFactory):
    """notifier.ts sends level 'warn', which the legacy CHECK refuses."""

    level = "warn"
    message = "Fiyat verisi eski: Domates"


def test_generate_names_the_refused_row_and_removes_the_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(recipes.TABLE_FACTORIES, "notifications", _WarnNotificationFactory)
    path = tmp_path / "legacy.db"

    with pytest.raises(generate.GenerationError) as excinfo:
        make(path, rows=2_000)

    message = str(excinfo.value)
    assert message.startswith("notifications: the factory wrote a row the legacy schema rejects")
    assert (
        "CHECK constraint failed" in message
        and "'level': 'warn'" in message
        and "'id': 1" in message
    )
    assert not path.exists()
