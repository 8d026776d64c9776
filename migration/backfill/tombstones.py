"""Rows deleted while a backfill runs are never brought back: tombstones, recorded and swept.

The applier records a tombstone in the same transaction as every delete it applies to the target;
the copy leaves tombstoned keys out of each batch and, at the end of a table, deletes rows a
tombstone names that the source no longer has (the copy read them before the delete).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models, transaction

from migration import conf
from migration.db import quote
from migration.models import CopyCheckpoint, Tombstone
from migration.reader import LegacyReader


def pk_text(model: type[models.Model], pk: Any) -> str:
    """The text form of a primary key in ``cutover_tombstone``: ``str(pk)``, or a JSON list if composite."""
    if len(model._meta.pk_fields) > 1:
        return json.dumps(list(pk), ensure_ascii=False, default=str)
    return str(pk)


def record_tombstone(model: type[models.Model], pk: Any, using: str | None = None) -> None:
    """Record that the row ``pk`` of ``model`` was deleted, so no backfill brings it back.

    The applier calls this in the same transaction as its delete on the target.
    """
    alias = using or conf.target_alias()
    Tombstone.objects.using(alias).bulk_create(
        [Tombstone(table=model._meta.db_table, pk_value=pk_text(model, pk))],
        update_conflicts=True, unique_fields=["table", "pk_value"], update_fields=["deleted_at"],
    )


class DeadKeys:
    """One table's tombstoned keys, read incrementally: each look fetches only newer tombstones."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.keys: set[str] = set()
        self._last_id = 0

    def refresh(self, cursor: Any) -> set[str]:
        cursor.execute(
            f"SELECT id, pk_value FROM {Tombstone._meta.db_table} WHERE \"table\" = %s AND id > %s",
            [self.table, self._last_id],
        )
        for tombstone_id, value in cursor.fetchall():
            self.keys.add(value)
            self._last_id = max(self._last_id, tombstone_id)
        return self.keys


def sweep(
    table: str,
    pk_columns: Sequence[str],
    reader: LegacyReader,
    target: str,
    report: Callable[[str], None],
) -> int:
    """Delete target rows a tombstone names and the source no longer has; return how many.

    A key the source holds again was recreated after its deletion: a live row, kept.
    """
    composite = len(pk_columns) > 1
    if composite:
        key = "json_build_array(" + ", ".join(f"t.{quote(c)}" for c in pk_columns) + ")::text"
    else:
        key = f"t.{quote(pk_columns[0])}::text"
    connection = connections[target]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tb.pk_value FROM {Tombstone._meta.db_table} tb JOIN {quote(table)} t "
            f"ON {key} = tb.pk_value WHERE tb.\"table\" = %s",
            [table],
        )
        candidates = [row[0] for row in cursor.fetchall()]
    removed = 0
    for text in candidates:
        values = json.loads(text) if composite else [text]
        if reader.has_key(table, pk_columns, values):
            continue
        with transaction.atomic(using=target), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {quote(table)} t WHERE {key} = %s", [text])
            removed += cursor.rowcount
            cursor.execute(
                f"UPDATE {CopyCheckpoint._meta.db_table} SET removed_rows = removed_rows + %s, "
                "updated_at = now() WHERE \"table\" = %s", [cursor.rowcount, table],
            )
        report(text)
    return removed
