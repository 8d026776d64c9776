"""Capture in the database: SQLite triggers write the outbox record in the writer's own transaction.

While SQLite is the primary and writes are mirrored (phases 1 and 2), every migrated table on
SQLite carries triggers that insert a :class:`~migration.models.OutboxRecord` for each row an
INSERT, UPDATE or DELETE touches. They run inside the writing statement, so whoever writes the
file (the legacy Node.js application, the ``sqlite3`` shell, raw SQL through Django, a cascade)
leaves a record that commits or rolls back with the write, and the applier copies the row.

- An UPDATE that changes the primary key records the old key too (the applier deletes it).
- ``INSERT OR REPLACE`` deletes the rows it conflicts with without firing DELETE triggers (unless
  the connection turned ``recursive_triggers`` on, which is per connection). A BEFORE INSERT
  trigger records every row holding one of the new row's unique values under another key, so
  those deletes are captured on every connection; on a plain INSERT that then fails, the
  statement rolls back and the record with it.
- Records carry the same columns as the ORM's own, so the applier and replay need not tell them
  apart. A Django write on a table whose triggers are live inserts no second record: it hands its
  trigger's records to the after-commit mirror instead (:func:`records_for`).

The phase change into phase 1 installs the triggers (:func:`install`), the change out of phase 2
(to 3, or back to 0) removes them (:func:`remove`). A table rebuilt by a legacy schema change loses
its triggers; :func:`missing` names such tables for ``cutover status``, the gates and the checks.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, transaction

from migration import fence, inventory
from migration.db import chunks, quote
from migration.dualwrite import pgcapture
from migration.models import OutboxRecord

PREFIX = "cutover_capture_"
KINDS = ("insert", "update", "rekey", "delete", "replace")


def trigger_name(table: str, kind: str) -> str:
    """The name of ``table``'s capture trigger of ``kind``."""
    return f"{PREFIX}{table}_{kind}"


@dataclass(frozen=True)
class TableCapture:
    """The capture triggers one table needs, as SQL."""

    table: str
    statements: tuple[str, ...]


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _record(label: str, pk_sql: str, operation: str) -> str:
    """An INSERT of one outbox record, naming the row by the SQL expression ``pk_sql``."""
    outbox = quote(OutboxRecord._meta.db_table)
    return (
        f"INSERT INTO {outbox} (model_label, pk_value, operation, created_at, attempts, last_error) "
        f"VALUES ({_text(label)}, CAST({pk_sql} AS TEXT), {_text(operation)}, "
        "strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, '')"
    )


def _unique_column_sets(model: type[models.Model]) -> list[list[str]]:
    """Column lists of the model's unique constraints other than the primary key."""
    meta = model._meta
    sets: list[list[str]] = [
        [inventory.column_of(f)] for f in meta.concrete_fields if f.unique and not f.primary_key
    ]
    for together in meta.unique_together:
        sets.append([inventory.column_named(model, name) for name in together])
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and constraint.condition is None:
            sets.append([inventory.column_named(model, name) for name in constraint.fields])
    return sets


def table_capture(model: type[models.Model]) -> TableCapture:
    """The CREATE TRIGGER statements that capture every write of ``model``'s table."""
    table, label, pk = model._meta.db_table, model._meta.label, quote(inventory.column_of(model._meta.pk))
    t = quote(table)
    statements = [
        f"CREATE TRIGGER IF NOT EXISTS {quote(trigger_name(table, 'insert'))} AFTER INSERT ON {t} "
        f"BEGIN {_record(label, f'NEW.{pk}', OutboxRecord.Operation.SAVE)}; END",
        f"CREATE TRIGGER IF NOT EXISTS {quote(trigger_name(table, 'update'))} AFTER UPDATE ON {t} "
        f"BEGIN {_record(label, f'NEW.{pk}', OutboxRecord.Operation.SAVE)}; END",
        f"CREATE TRIGGER IF NOT EXISTS {quote(trigger_name(table, 'rekey'))} AFTER UPDATE OF {pk} ON {t} "
        f"WHEN OLD.{pk} IS NOT NEW.{pk} "
        f"BEGIN {_record(label, f'OLD.{pk}', OutboxRecord.Operation.DELETE)}; END",
        f"CREATE TRIGGER IF NOT EXISTS {quote(trigger_name(table, 'delete'))} AFTER DELETE ON {t} "
        f"BEGIN {_record(label, f'OLD.{pk}', OutboxRecord.Operation.DELETE)}; END",
    ]
    unique = _unique_column_sets(model)
    if unique:
        outbox = quote(OutboxRecord._meta.db_table)
        displaced = []
        for columns in unique:
            match = " AND ".join(f"{quote(c)} = NEW.{quote(c)}" for c in columns)
            displaced.append(
                f"INSERT INTO {outbox} (model_label, pk_value, operation, created_at, attempts, last_error) "
                f"SELECT {_text(label)}, CAST({pk} AS TEXT), {_text(OutboxRecord.Operation.DELETE)}, "
                f"strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, '' FROM {t} WHERE {match} AND {pk} IS NOT NEW.{pk}"
            )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {quote(trigger_name(table, 'replace'))} BEFORE INSERT ON {t} "
            f"BEGIN {'; '.join(displaced)}; END"
        )
    return TableCapture(table, tuple(statements))


def _existing_tables(alias: str) -> set[str]:
    return fence.sqlite_tables(alias)


def _triggers(alias: str) -> set[str]:
    return fence.sqlite_triggers(alias, PREFIX)


def _expected(model: type[models.Model]) -> set[str]:
    kinds = KINDS if _unique_column_sets(model) else KINDS[:-1]
    return {trigger_name(model._meta.db_table, kind) for kind in kinds}


def install(alias: str, models_: Iterable[type[models.Model]]) -> list[str]:
    """Install the capture triggers on every migrated table present on ``alias``; the tables."""
    if connections[alias].vendor == "postgresql":
        return pgcapture.install(alias, models_)
    if connections[alias].vendor != "sqlite":
        return []
    present = _existing_tables(alias)
    done = []
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        for model in models_:
            if model._meta.db_table not in present:
                continue  # a legacy table the old app never created
            for statement in table_capture(model).statements:
                cursor.execute(statement)
            done.append(model._meta.db_table)
    return done


def remove(alias: str) -> int:
    """Drop every capture trigger on ``alias``; how many were dropped (on PostgreSQL: tables)."""
    if alias not in connections.databases:
        return 0
    if connections[alias].vendor == "postgresql":
        return pgcapture.remove(alias)
    if connections[alias].vendor != "sqlite":
        return 0
    names = _triggers(alias)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        for name in sorted(names):
            cursor.execute(f"DROP TRIGGER IF EXISTS {quote(name)}")
    return len(names)


def missing(alias: str, models_: Iterable[type[models.Model]]) -> list[str]:
    """Migrated tables on ``alias`` lacking one of their capture triggers (a rebuilt table)."""
    if connections[alias].vendor == "postgresql":
        return pgcapture.missing(alias, models_)
    present, triggers = _existing_tables(alias), _triggers(alias)
    return sorted(
        m._meta.db_table for m in models_ if m._meta.db_table in present and not _expected(m) <= triggers
    )


def installed(alias: str) -> int:
    """How many capture triggers ``alias`` holds (on PostgreSQL: tables carrying one)."""
    if alias not in connections.databases:
        return 0
    if connections[alias].vendor == "postgresql":
        return pgcapture.installed(alias)
    if connections[alias].vendor != "sqlite":
        return 0
    return len(_triggers(alias))


def live(alias: str, model: type[models.Model]) -> bool:
    """Does ``model``'s table on ``alias`` capture its writes itself (checked in the caller's transaction)?"""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        return pgcapture.live(alias, model)
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s",
            [trigger_name(model._meta.db_table, "insert")],
        )
        return cursor.fetchone() is not None


def records_for(alias: str, model: type[models.Model], pks: Sequence[Any]) -> list[tuple[int, str, str]]:
    """The pending records (id, label, pk) of these rows: the jobs a write hands to its after-commit mirror."""
    label = model._meta.label
    keys = [str(pk) for pk in pks]
    jobs: list[tuple[int, str, str]] = []
    for part in chunks(keys, 500):
        jobs += OutboxRecord.objects.using(alias).filter(model_label=label, pk_value__in=part) \
            .order_by("pk").values_list("pk", "model_label", "pk_value")
    return jobs


# --- The application's own triggers stay quiet for the engine's writes ------------------------

_superuser: dict[str, bool] = {}


@contextmanager
def app_triggers_quiet(alias: str) -> Iterator[None]:
    """Inside the caller's write transaction on ``alias``: the application's triggers do not fire.

    The fence of a database that is not the primary lets these writes through
    (:func:`migration.fence.passed`). On SQLite the file's own triggers are dropped and recreated before
    the transaction commits; DDL is transactional and the write lock keeps every other writer out,
    so no other write ever sees them missing, and a failed write rolls the drop back. On
    PostgreSQL ``session_replication_role = replica`` for the transaction, as logical replication
    does (it needs a superuser; without one the triggers fire and the rest is unchanged). The
    application's own writes still fire its triggers on the primary, and what those write is
    mirrored like any other change.
    """
    connection = connections[alias]
    if connection.vendor == "postgresql":
        fence.engine_writes(alias)
        if _may_set_replication_role(alias):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        return
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL "
            "AND name NOT LIKE 'cutover\\_%' ESCAPE '\\'"
        )
        app_triggers = cursor.fetchall()
        for name, _ in app_triggers:
            cursor.execute(f"DROP TRIGGER {quote(name)}")
    with fence.passed(alias):
        yield
    with connection.cursor() as cursor:
        for _, sql in app_triggers:
            cursor.execute(sql)


def _may_set_replication_role(alias: str) -> bool:
    if alias not in _superuser:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
        _superuser[alias] = bool(row and row[0])
    return _superuser[alias]
