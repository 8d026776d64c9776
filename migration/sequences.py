"""The one sequence rule: a counter only ever moves forward, past every id either database has handed out.

PostgreSQL's sequences must be ahead of every id SQLite handed out (``max(id)`` and
``sqlite_sequence``) before PostgreSQL hands out ids itself, and SQLite's AUTOINCREMENT counters
ahead of every id PostgreSQL handed out before SQLite does again (a rollback). The copy, the
phase changes and the validation's repair all call these two functions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections, models, transaction

from migration import conf
from migration.db import quote
from migration.reader import LegacyReader

AUTO_FIELDS = {"AutoField", "BigAutoField", "SmallAutoField"}


@dataclass(frozen=True)
class SequenceReset:
    """A counter moved past the highest id either database has seen."""

    table: str
    sequence: str
    high_water: int
    next_before: int
    next_after: int


def _auto_key(model: type[models.Model]) -> str | None:
    """The column of ``model``'s single integer auto-increment key, or None."""
    pk = model._meta.pk
    if len(model._meta.pk_fields) != 1 or pk.get_internal_type() not in AUTO_FIELDS:
        return None
    return pk.column


def target_sequence(table: str, column: str, target: str | None = None) -> str | None:
    """The sequence behind ``table.column`` on PostgreSQL, or None."""
    with connections[target or conf.target_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [quote(table), column])
        return cursor.fetchone()[0]


def advance_target_sequences(
    models_: Sequence[type[models.Model]], source: str | None = None, target: str | None = None, *, headroom: int = 0
) -> list[SequenceReset]:
    """Move each integer primary-key sequence on PostgreSQL past max(id) on both sides and sqlite_sequence.

    ``headroom`` ids are left unused above that high-water mark (a phase change leaves room for ids
    the old primary may still hand out in processes that have not yet seen the change).
    """
    source, target = source or conf.source_alias(), target or conf.target_alias()
    reader = LegacyReader.of(source) if source in connections.databases else None
    resets = []
    try:
        with connections[target].cursor() as cursor:
            for model in models_:
                column = _auto_key(model)
                if column is None:
                    continue
                table = model._meta.db_table
                sequence = target_sequence(table, column, target)
                if sequence is None:
                    continue
                cursor.execute(f"SELECT max({quote(column)}) FROM {quote(table)}")
                high = cursor.fetchone()[0] or 0
                if reader is not None:
                    high = max(high, reader.high_water(table, column))
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
                last_value, is_called = cursor.fetchone()
                next_before = last_value + 1 if is_called else last_value
                wanted = high + headroom
                if next_before > wanted:
                    continue  # forward only
                cursor.execute("SELECT setval(%s, %s, true)", [sequence, wanted])
                resets.append(SequenceReset(table, sequence, high, next_before, wanted + 1))
    finally:
        if reader is not None:
            reader.close()
    return resets


def advance_source_counters(
    models_: Sequence[type[models.Model]], source: str | None = None, target: str | None = None, *, headroom: int = 0
) -> list[SequenceReset]:
    """Move SQLite's AUTOINCREMENT counters past every id PostgreSQL's sequences have handed out
    (plus ``headroom``, as in :func:`advance_target_sequences`).

    Tables without AUTOINCREMENT take max(rowid) + 1, and every PostgreSQL row is in SQLite by
    then (the switch drains the outbox first), so they need nothing.
    """
    source, target = source or conf.source_alias(), target or conf.target_alias()
    reader = LegacyReader.of(source)
    counters: dict[str, int] = {}
    if reader.table_exists("sqlite_sequence"):
        counters = {name: int(seq or 0) for name, seq in reader.connection.execute("SELECT name, seq FROM sqlite_sequence")}
    autoincrement = {
        name for (name,) in reader.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")
    }
    resets = []
    for model in models_:
        table, column = model._meta.db_table, _auto_key(model)
        if column is None or table not in autoincrement:
            continue
        sequence = target_sequence(table, column, target)
        if sequence is None:
            continue
        with connections[target].cursor() as cursor:
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last_value, is_called = cursor.fetchone()
        handed_out = last_value if is_called else last_value - 1
        before = counters.get(table, 0)
        wanted = max(handed_out, reader.high_water(table, column)) + headroom
        if before >= wanted:
            continue  # forward only
        with transaction.atomic(using=source), connections[source].cursor() as cursor:
            if table in counters:
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s AND seq < %s", [wanted, table, wanted])
            else:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, wanted])
        resets.append(SequenceReset(table, "sqlite_sequence", handed_out, before + 1, wanted + 1))
    return resets
