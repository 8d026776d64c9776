"""Writing one table's batches into PostgreSQL: binary COPY, a staging table on conflict, bisection on refusal.

Each batch commits together with its rejects and its table's checkpoint, so a crash at any
moment loses nothing and duplicates nothing. Rows already in the target are never overwritten
(the applier's copy is newer) and tombstoned keys are left out.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import DataError, IntegrityError, connections, models, transaction

from migration import inventory
from migration.backfill.rejects import Reject, RejectBudget, key_column
from migration.backfill.tombstones import DeadKeys, pk_text
from migration.db import quote
from migration.exceptions import CopyError, RejectLimitExceeded
from migration.models import CopyCheckpoint, CopyReject
from migration.values.convert import json_pk

# A converted row: (source rowid, values in stored-field order). Plain tuples: one is made per row.
Row = tuple[int, list[Any]]


def is_unique_violation(exc: BaseException) -> bool:
    cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    return isinstance(cause, psycopg.errors.UniqueViolation)


class TableLoader:
    """Loads converted rows of one model's table into the target, batch by batch."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], target: str) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.columns = list(columns)
        self.pk_columns = [inventory.column_of(f) for f in model._meta.pk_fields]
        self.pk_index = [self.columns.index(c) for c in self.pk_columns]
        self.composite = len(self.pk_columns) > 1
        self.alias = target
        self.target = connections[target]
        self.fast_path = True  # plain COPY until a row meets one already there
        self.oids: list[int] = []
        self.dead = DeadKeys(self.table)
        self._stage_ready = False
        self.stage = f"_copy_stage_{abs(hash(self.table)) % 10**8}"

    def key_of(self, values: Sequence[Any]) -> Any:
        if self.composite:
            return [values[i] for i in self.pk_index]
        return values[self.pk_index[0]]

    def key_text(self, values: Sequence[Any]) -> str:
        if self.composite:
            return pk_text(self.model, self.key_of(values))
        return str(values[self.pk_index[0]])

    def prepare(self, cursor: Any) -> None:
        """Read the target columns' type OIDs, for binary COPY; the target must have every column."""
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped", [quote(self.table)],
        )
        oids = dict(cursor.fetchall())
        missing = [c for c in self.columns if c not in oids]
        if missing:
            raise CopyError(
                f"target table {self.table} lacks columns {missing}; run `manage.py migrate "
                f"--database {self.alias}` first"
            )
        self.oids = [oids[c] for c in self.columns]

    def _copy(self, cursor: Any, table: str, rows: list[Row]) -> None:
        cols = ", ".join(quote(c) for c in self.columns)
        with cursor.copy(f"COPY {quote(table)} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(self.oids)
            for row in rows:
                copy.write_row(row[1])

    def _ensure_stage(self, cursor: Any) -> None:
        """A connection-local temp table shaped like the target, made when the first conflict needs it.

        It is created inside the batch transaction, so a rollback takes it away again: the
        flag is cleared whenever a load fails (see :meth:`_load_or_bisect`).
        """
        if self._stage_ready:
            return
        cols = ", ".join(quote(c) for c in self.columns)
        cursor.execute(f"DROP TABLE IF EXISTS {quote(self.stage)}")
        # Same column types, no constraints: the INSERT ... SELECT below applies them.
        cursor.execute(
            f"CREATE TEMP TABLE {quote(self.stage)} ON COMMIT DELETE ROWS AS "
            f"SELECT {cols} FROM {quote(self.table)} WITH NO DATA"
        )
        self._stage_ready = True

    def _load(self, rows: list[Row]) -> int:
        """Write rows that are not in the target yet; return how many were inserted."""
        with self.target.cursor() as cursor:
            if self.fast_path:
                try:
                    with transaction.atomic(using=self.alias):
                        self._copy(cursor, self.table, rows)
                    return len(rows)
                except (psycopg.errors.UniqueViolation, IntegrityError) as exc:
                    if not is_unique_violation(exc):
                        raise
                    # The applier got there first; from now on go through the staging table.
                    self.fast_path = False
            self._ensure_stage(cursor)
            cursor.execute(f"TRUNCATE {quote(self.stage)}")
            self._copy(cursor, self.stage, rows)
            cols = ", ".join(quote(c) for c in self.columns)
            conflict = ", ".join(quote(c) for c in self.pk_columns)
            cursor.execute(
                f"INSERT INTO {quote(self.table)} ({cols}) SELECT {cols} FROM {quote(self.stage)} "
                f"ON CONFLICT ({conflict}) DO NOTHING"
            )
            return int(cursor.rowcount)

    def _load_or_bisect(self, rows: list[Row]) -> tuple[int, list[Reject]]:
        """Load rows; when PostgreSQL refuses the batch, split it until the offending rows are alone."""
        if not rows:
            return 0, []
        try:
            with transaction.atomic(using=self.alias):
                return self._load(rows), []
        except (psycopg.DataError, psycopg.IntegrityError, DataError, IntegrityError) as exc:
            self._stage_ready = False  # the savepoint rollback may have dropped it
            if len(rows) == 1:
                return 0, [self._refusal(rows[0], exc)]
            middle = len(rows) // 2
            left, left_rejects = self._load_or_bisect(rows[:middle])
            right, right_rejects = self._load_or_bisect(rows[middle:])
            return left + right, left_rejects + right_rejects

    def _refusal(self, row: Row, exc: BaseException) -> Reject:
        """The reject record of a single row PostgreSQL refused, naming the cell when it can."""
        cause = exc.__cause__ if isinstance(exc.__cause__, psycopg.Error) else exc
        diag = getattr(cause, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        column = (
            getattr(diag, "column_name", None)
            or key_column(getattr(diag, "message_detail", None))
            or self._constraint_column(constraint)
            or ""
        )
        primary = getattr(diag, "message_primary", None) or str(exc).splitlines()[0]
        detail = getattr(diag, "message_detail", None)
        reason = primary + (f" ({detail})" if detail else "")
        if constraint and constraint not in reason:
            reason += f" [constraint {constraint}]"
        rowid, values = row
        value = repr(values[self.columns.index(column)]) if column in self.columns else repr(
            dict(zip(self.columns, values))
        )
        return Reject(rowid, json_pk(self.key_of(values)), column, value, reason)

    def _constraint_column(self, name: str | None) -> str | None:
        """The first column a CHECK constraint of the model names, to point the reject at a cell."""
        for constraint in self.model._meta.constraints:
            condition = getattr(constraint, "condition", None)
            if constraint.name == name and isinstance(condition, models.Q):
                for child in condition.flatten():
                    if isinstance(child, tuple):
                        return inventory.column_named(self.model, child[0].split("__")[0])
        return None

    def write_batch(
        self, rows: list[Row], rejects: list[Reject], last: int, started: float, budget: RejectBudget
    ) -> tuple[int, int, list[Reject]]:
        """One transaction: the rows, their rejects and the checkpoint, or none of them."""
        with transaction.atomic(using=self.alias):
            with self.target.cursor() as cursor:
                # FKs are DEFERRABLE INITIALLY DEFERRED; check them per statement so a bad row
                # fails its own INSERT and can be isolated.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                dead = self.dead.refresh(cursor)
            live = [r for r in rows if self.key_text(r[1]) not in dead] if dead else rows
            inserted, refused = self._load_or_bisect(live)
            rejects = rejects + refused
            over = budget.take(len(rejects)) if rejects else None
            if over is not None:
                ordered = sorted(rejects, key=lambda r: r.rowid)
                raise RejectLimitExceeded(ordered[over].record(self.table), budget.limit,
                                          [r.record(self.table) for r in ordered])
            skipped = len(rows) - inserted - len(refused)
            with self.target.cursor() as cursor:
                if rejects:
                    cursor.executemany(
                        f"INSERT INTO {CopyReject._meta.db_table} (\"table\", pk_value, \"column\", value, "
                        "reason, source_rowid, created_at) VALUES (%s, %s, %s, %s, %s, %s, now()) "
                        "ON CONFLICT DO NOTHING",
                        [
                            (self.table, json.dumps(r.pk, ensure_ascii=False), r.column, r.value, r.reason, r.rowid)
                            for r in rejects
                        ],
                    )
                cursor.execute(
                    f"UPDATE {CopyCheckpoint._meta.db_table} SET last_key = %s, copied_rows = copied_rows + %s, "
                    "skipped_rows = skipped_rows + %s, rejected_rows = rejected_rows + %s, "
                    "seconds = seconds + %s, updated_at = now() WHERE \"table\" = %s",
                    [last, inserted, skipped, len(rejects), time.monotonic() - started, self.table],
                )
        return inserted, skipped, rejects
