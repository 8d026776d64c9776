"""Capture in PostgreSQL: row triggers write the outbox record in the writer's own transaction.

While PostgreSQL is the primary and writes are mirrored back to SQLite (phase 3), every migrated
table on PostgreSQL carries an ``AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW`` trigger that
inserts an :class:`~migration.models.OutboxRecord` for the row, so a write through ``psql``, raw
SQL, a cascade or another application is mirrored as an ORM write is. A primary-key change records
the old key as a delete. ``TRUNCATE`` cannot be captured row by row, so it is refused while the
triggers stand (delete the rows instead).

The engine's own writes (``cutover.writer = 'engine'``, see :mod:`migration.fence`, or
``session_replication_role = replica``) are not captured again. The phase change into phase 3
installs the triggers in the same transaction that promotes PostgreSQL; the change out removes them.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db import connections, models, transaction

from migration import fence, inventory
from migration.db import quote
from migration.models import OutboxRecord

TRIGGER = "cutover_capture"
TRUNCATE_TRIGGER = "cutover_capture_truncate"
FUNCTION = "cutover_capture"
TRUNCATE_FUNCTION = "cutover_capture_truncate"


def _functions_sql() -> list[str]:
    outbox = quote(OutboxRecord._meta.db_table)
    insert = (f"INSERT INTO {outbox} (model_label, pk_value, operation, created_at, attempts, last_error) "
              "VALUES (TG_ARGV[0], {key}, {operation}, now(), 0, '')")
    return [
        f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_key text;
    old_key text;
BEGIN
    IF coalesce(current_setting('{fence.SETTING}', true), '') = 'engine' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_key := to_jsonb(NEW) ->> TG_ARGV[1];
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_key := to_jsonb(OLD) ->> TG_ARGV[1];
    END IF;
    IF old_key IS NOT NULL AND old_key IS DISTINCT FROM new_key THEN
        {insert.format(key="old_key", operation="'" + OutboxRecord.Operation.DELETE + "'")};
    END IF;
    IF new_key IS NOT NULL THEN
        {insert.format(key="new_key", operation="'" + OutboxRecord.Operation.SAVE + "'")};
    END IF;
    RETURN NULL;
END
$$""",
        f"""
CREATE OR REPLACE FUNCTION {TRUNCATE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('{fence.SETTING}', true), '') = 'engine' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE =
        'cutover: TRUNCATE of ' || TG_TABLE_NAME || ' cannot be mirrored to SQLite (phase 3); delete the rows instead';
END
$$""",
    ]


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _captured_tables(alias: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND pg_table_is_visible(c.oid)", [TRIGGER],
        )
        return {row[0] for row in cursor.fetchall()}


def install(alias: str, models_: Iterable[type[models.Model]]) -> list[str]:
    """Install the capture triggers on every migrated table of PostgreSQL ``alias``; the tables."""
    present, done = set(connections[alias].introspection.table_names()), []
    captured = _captured_tables(alias)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        for statement in _functions_sql():
            cursor.execute(statement)
        for model in models_:
            table = model._meta.db_table
            if table not in present:
                continue
            if table not in captured:
                pk = inventory.column_of(model._meta.pk)
                args = f"{_text(model._meta.label)}, {_text(pk)}"
                cursor.execute(f"CREATE TRIGGER {quote(TRIGGER)} AFTER INSERT OR UPDATE OR DELETE ON {quote(table)} "
                               f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}({args})")
                cursor.execute(f"CREATE TRIGGER {quote(TRUNCATE_TRIGGER)} BEFORE TRUNCATE ON {quote(table)} "
                               f"FOR EACH STATEMENT EXECUTE FUNCTION {TRUNCATE_FUNCTION}()")
            done.append(table)
    return done


def remove(alias: str) -> int:
    """Drop the capture triggers from every table of PostgreSQL ``alias``; how many tables had them."""
    captured = _captured_tables(alias)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        for table in sorted(captured):
            cursor.execute(f"DROP TRIGGER IF EXISTS {quote(TRIGGER)} ON {quote(table)}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {quote(TRUNCATE_TRIGGER)} ON {quote(table)}")
    return len(captured)


def missing(alias: str, models_: Iterable[type[models.Model]]) -> list[str]:
    """Migrated tables on PostgreSQL ``alias`` lacking the capture trigger."""
    present, captured = set(connections[alias].introspection.table_names()), _captured_tables(alias)
    return sorted(m._meta.db_table for m in models_ if m._meta.db_table in present and m._meta.db_table not in captured)


def installed(alias: str) -> int:
    """How many tables of PostgreSQL ``alias`` capture their writes."""
    return len(_captured_tables(alias))


def live(alias: str, model: type[models.Model]) -> bool:
    """Does ``model``'s table on PostgreSQL ``alias`` capture its writes itself?"""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s",
            [quote(model._meta.db_table), TRIGGER],
        )
        return cursor.fetchone() is not None
