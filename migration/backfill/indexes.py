"""Secondary indexes of a large copy are dropped before and rebuilt after, durably remembered in between.

PostgreSQL builds an index from sorted data far faster than it maintains one row by row (pgloader
and pgcopydb do the same). Only plain non-unique indexes backing no constraint are dropped, so
primary keys, unique constraints (ON CONFLICT needs them) and foreign keys keep working for the
applier while the copy runs.
"""
from __future__ import annotations

from django.db import connections, transaction

from migration.db import quote
from migration.models import CopyCheckpoint

# A copy this large into a table goes faster without its secondary indexes.
DEFER_INDEXES_MIN_ROWS = 100_000


def defer(table: str, target: str, pending: int) -> None:
    """Drop ``table``'s plain secondary indexes for a copy of ``pending`` rows, recording them first."""
    if pending < DEFER_INDEXES_MIN_ROWS:
        return
    with transaction.atomic(using=target), connections[target].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [quote(table)],
        )
        found = [{"name": name, "sql": sql} for name, sql in cursor.fetchall()]
        if not found:
            return
        checkpoint = CopyCheckpoint.objects.using(target).select_for_update().get(table=table)
        checkpoint.deferred_indexes = list(checkpoint.deferred_indexes) + found
        checkpoint.save(update_fields=["deferred_indexes", "updated_at"])
        for index in found:
            cursor.execute(f"DROP INDEX IF EXISTS {quote(index['name'])}")


def restore(table: str, target: str) -> int:
    """Recreate the indexes the copy of ``table`` dropped (after a crash, say); idempotent.

    The rebuild and the checkpoint's update commit together.
    """
    with transaction.atomic(using=target), connections[target].cursor() as cursor:
        checkpoint = CopyCheckpoint.objects.using(target).select_for_update().filter(table=table).first()
        if checkpoint is None or not checkpoint.deferred_indexes:
            return 0
        for index in checkpoint.deferred_indexes:
            cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [index["name"]])
            if cursor.fetchone() is None:
                cursor.execute(index["sql"])
        count = len(checkpoint.deferred_indexes)
        checkpoint.deferred_indexes = []
        checkpoint.save(update_fields=["deferred_indexes", "updated_at"])
        return count
