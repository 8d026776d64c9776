"""One table's backfill: read the source in rowid order, convert through the fields, load, checkpoint.

Rows are read in rowid order (keyset pagination), converted with the converters the ORM uses on
the source and ``get_db_prep_value`` on the target (:mod:`migration.values.convert`), and handed
to the :class:`~migration.backfill.load.TableLoader` a batch at a time.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from django.db import connections, models
from django.utils import timezone

from migration import inventory
from migration.backfill import indexes, tombstones
from migration.backfill.load import Row, TableLoader
from migration.backfill.rejects import Reject, RejectBudget
from migration.backfill.report import CopyEvent, CopyOptions, ProgressCallback, TableResult
from migration.db import quote
from migration.exceptions import CopyError
from migration.models import CopyCheckpoint
from migration.reader import FIRST_ROWID, LegacyReader
from migration.values.convert import clean_condition, column_converter, json_pk, reason_of

# Rows are held a batch at a time; batches of wide rows shrink so that one batch of raw values
# stays near this many bytes (peak memory stays flat however large the rows are).
BATCH_BYTES = 24 * 1024 * 1024


class TableCopier:
    """Copies one model's table from the legacy reader into the target, batch by batch."""

    def __init__(
        self,
        model: type[models.Model],
        reader: LegacyReader,
        options: CopyOptions,
        budget: RejectBudget,
        callback: ProgressCallback,
    ) -> None:
        self.model = model
        self.reader = reader
        self.options = options
        self.budget = budget
        self.callback = callback
        self.table = model._meta.db_table
        self.alias = options.target_alias
        source = connections[options.source_alias]
        target = connections[self.alias]
        readers = inventory.column_readers(model, source)
        self.columns = [r.column for r in readers]
        self.converters = [column_converter(model, r, source, target) for r in readers]
        self.loader = TableLoader(model, self.columns, self.alias)
        self.pk_index = self.loader.pk_index
        checks = [clean_condition(r, r.column) for r in readers]
        # Columns still converted in Python on a clean row, and the SQL that proves the rest clean.
        self.generic = [(i, conv) for i, (conv, check) in enumerate(zip(self.converters, checks)) if check is None]
        conditions = [check for check in checks if check is not None]
        conditions += [f"{quote(c)} IS NOT NULL" for c in self.loader.pk_columns]
        self.clean_sql = "(" + " AND ".join(conditions) + ")"
        self.limit = min(options.batch_size, 100)  # a small first batch measures the rows' width

    # -- reading and converting --

    def convert(self, rowid: int, raw: Sequence[Any]) -> Row | Reject:
        pk = self.loader.key_of(raw)
        for i in self.pk_index:
            if raw[i] is None:
                return Reject(rowid, json_pk(pk), self.columns[i], repr(None),
                              "NULL in a primary-key column; PostgreSQL keys cannot be NULL")
        try:
            values = [conv(value) for conv, value in zip(self.converters, raw)]
        except Exception:
            for column, conv, value in zip(self.columns, self.converters, raw):
                try:
                    conv(value)
                except Exception as exc:  # noqa: BLE001 - every reason becomes a reject record
                    return Reject(rowid, json_pk(pk), column, repr(value), reason_of(exc))
            raise
        return (rowid, values)

    def _next_size(self, raw_rows: list[tuple[Any, ...]]) -> None:
        """Size the next batch from the width of this one's rows (a sample of them)."""
        sample = raw_rows[:: max(1, len(raw_rows) // 50)]
        if not sample:
            return
        width = sum(len(v) for row in sample for v in row if isinstance(v, (str, bytes))) / len(sample) + 64
        self.limit = max(1, min(self.options.batch_size, int(BATCH_BYTES / width)))

    def read(self, after: int) -> tuple[list[Row], list[Reject], int | None, int]:
        """Read and convert the next batch: rows, rejects, last rowid, rows read."""
        size = self.limit
        rows: list[Row] = []
        rejects: list[Reject] = []
        try:
            raw_rows = self.reader.rows_after(self.table, self.columns, after, size, self.clean_sql)
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc).lower():
                raise
            return self._read_undecoded(after, size)
        self._next_size(raw_rows)
        generic = self.generic
        for raw in raw_rows:
            if raw[1]:
                # SQLite vouched for every plain column: convert only the field-typed ones.
                values = list(raw[2:])
                try:
                    for i, conv in generic:
                        if values[i] is not None:
                            values[i] = conv(values[i])
                except Exception:  # noqa: BLE001 - the full path below names the cell
                    pass
                else:
                    rows.append((raw[0], values))
                    continue
            item = self.convert(raw[0], raw[2:])
            if isinstance(item, Reject):
                rejects.append(item)
            else:
                rows.append(item)
        last = raw_rows[-1][0] if raw_rows else None
        return rows, rejects, last, len(raw_rows)

    def _read_undecoded(self, after: int, size: int) -> tuple[list[Row], list[Reject], int | None, int]:
        """The slow path for a batch holding text that is not UTF-8: decode cell by cell."""
        rows: list[Row] = []
        rejects: list[Reject] = []
        raw_rows = self.reader.raw_rows_after(self.table, self.columns, after, size)
        for rowid, cells in raw_rows:
            decoded: list[Any] = []
            bad: Reject | None = None
            for column, (value, storage) in zip(self.columns, cells):
                if storage == "text":
                    try:
                        value = value.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        bad = bad or Reject(rowid, None, column, repr(value), f"invalid UTF-8 ({exc.reason})")
                decoded.append(value)
            if bad is not None:
                bad.pk = json_pk(self.loader.key_of(decoded))
                rejects.append(bad)
                continue
            item = self.convert(rowid, decoded)
            if isinstance(item, Reject):
                rejects.append(item)
            else:
                rows.append(item)
        last = raw_rows[-1][0] if raw_rows else None
        return rows, rejects, last, len(raw_rows)

    # -- the run --

    def run(self) -> TableResult:
        started = time.monotonic()
        label = self.model._meta.label
        result = TableResult(label=label, table=self.table)
        alias = self.alias
        if not self.reader.table_exists(self.table):
            absent = CopyCheckpoint.objects.using(alias).filter(table=self.table)
            if not absent.filter(source_rows=None, complete=True).exists():
                absent.delete()
                CopyCheckpoint.objects.using(alias).create(
                    table=self.table, model_label=label, source_rows=None, complete=True
                )
            result.absent = True
            result.complete = True
            self.callback(CopyEvent("table_done", self.table, result=result, detail="absent in source, 0 rows"))
            return result
        if not self.reader.has_rowid(self.table):
            raise CopyError(
                f"source table {self.table} has no rowid (WITHOUT ROWID); the backfill pages by rowid and "
                "cannot copy it"
            )
        checkpoint = CopyCheckpoint.objects.using(alias).filter(table=self.table).first()
        after = checkpoint.last_key if checkpoint and checkpoint.last_key is not None else FIRST_ROWID
        pending = self.reader.count(self.table, after)
        source_rows = self.reader.count(self.table)
        result.source_rows = source_rows
        if checkpoint is None:
            checkpoint = CopyCheckpoint.objects.using(alias).create(
                table=self.table, model_label=label, source_rows=source_rows, started_at=timezone.now()
            )
        self.callback(CopyEvent("table_start", self.table, rows=0, total=pending))
        if pending:
            target = connections[alias]
            with target.cursor() as cursor:
                self.loader.prepare(cursor)
                cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"cutover_copy:{self.table}"])
                if not cursor.fetchone()[0]:
                    raise CopyError(
                        f"table {self.table} is being copied by another migrate_data run; wait for it to finish"
                    )
                # Every batch commits with its checkpoint, so a server crash can only lose whole
                # batches together with their checkpoints, which the next run redoes: no fsync wait.
                cursor.execute("SET synchronous_commit = off")
            try:
                indexes.defer(self.table, alias, pending)
                self._copy_pending(after, result)
            finally:
                indexes.restore(self.table, alias)
                with target.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"cutover_copy:{self.table}"])
                    cursor.execute("RESET synchronous_commit")
        indexes.restore(self.table, alias)  # also finishes what a run killed after its last batch left undone
        result.removed = tombstones.sweep(
            self.table, self.loader.pk_columns, self.reader, alias,
            lambda key: self.callback(CopyEvent("removed", self.table, rows=1, detail=f"pk {key} deleted while copying")),
        )
        checkpoint.refresh_from_db(using=alias)
        if not checkpoint.complete or checkpoint.source_rows != source_rows:
            CopyCheckpoint.objects.using(alias).filter(table=self.table).update(
                complete=True, source_rows=source_rows, updated_at=timezone.now()
            )
        result.complete = True
        result.total_copied = checkpoint.copied_rows
        result.total_rejected = checkpoint.rejected_rows
        result.seconds = time.monotonic() - started
        self.callback(CopyEvent("table_done", self.table, result=result))
        return result

    def _copy_pending(self, after: int, result: TableResult) -> None:
        while True:
            batch_started = time.monotonic()
            rows, rejects, last, count = self.read(after)
            if last is None:
                return
            inserted, skipped, rejects = self.loader.write_batch(rows, rejects, last, batch_started, self.budget)
            after = last
            result.copied += inserted
            result.skipped += skipped
            result.rejected += len(rejects)
            self.callback(CopyEvent(
                "batch", self.table, rows=count, copied=inserted, skipped=skipped, rejected=len(rejects),
                detail=f"rowid <= {last}",
            ))
