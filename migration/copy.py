"""Backfill: plan, stream, convert, COPY, checkpoint and reset sequences, from the source to the target.

Rows are read from the SQLite source in rowid order (keyset pagination), converted with the same
converters the ORM uses on the source and ``get_db_prep_value`` on the target, and written with
PostgreSQL ``COPY`` in batches. Each batch commits together with its table's checkpoint, so a crash
at any moment loses nothing and duplicates nothing. Rows already in the target are never
overwritten (a dual write is newer) and rows deleted while the copy runs are never brought back
(tombstones). Nothing here prints: progress goes to a callback the caller owns.
"""
from __future__ import annotations

import contextlib
import gc
import json
import math
import multiprocessing
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psycopg
from django.apps import apps
from django.db import DataError, IntegrityError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from psycopg.types.json import Jsonb

from migration import conf, inventory
from migration.backup import backup_sqlite
from migration.exceptions import CopyError, RejectLimitExceeded
from migration.models import BackupRecord, CopyCheckpoint, CopyReject, CopyRun, Tombstone

DEFAULT_BATCH_SIZE = 5000
# Rows are held a batch at a time; batches of wide rows shrink so that one batch of raw values
# stays near this many bytes (peak memory stays flat however large the rows are).
BATCH_BYTES = 24 * 1024 * 1024
# A copy this large into a table goes faster without its secondary indexes: PostgreSQL builds an
# index from sorted data far faster than it maintains one row by row (pgloader does the same).
DEFER_INDEXES_MIN_ROWS = 100_000
FIRST_KEY = -(2**63)  # below every rowid: SQLite allows zero and negative rowids
# A JSON number that may overflow a double: a three-digit exponent, or more than 308 digits.
_HUGE_NUMBER = re.compile(r"\d[eE]\+?\d{3}|\d{309}")

_INT_RANGES = {
    "SmallIntegerField": (-(2**15), 2**15 - 1),
    "PositiveSmallIntegerField": (0, 2**15 - 1),
    "SmallAutoField": (-(2**15), 2**15 - 1),
    "IntegerField": (-(2**31), 2**31 - 1),
    "PositiveIntegerField": (0, 2**31 - 1),
    "AutoField": (-(2**31), 2**31 - 1),
    "BigIntegerField": (-(2**63), 2**63 - 1),
    "PositiveBigIntegerField": (0, 2**63 - 1),
    "BigAutoField": (-(2**63), 2**63 - 1),
}
_AUTO_FIELDS = {"AutoField", "BigAutoField", "SmallAutoField"}
# Fields whose get_db_prep_value on PostgreSQL returns a value of the checked type unchanged,
# so the hot loop may skip the call without changing a single value.
_PLAIN_TEXT = (models.TextField, models.CharField)
_PLAIN_INT = tuple(
    getattr(models, name) for name in _INT_RANGES if hasattr(models, name)
)

ProgressCallback = Callable[["CopyEvent"], None]


# --- Results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TablePlan:
    """What the backfill will do for one model: where it is, how much is left, in how many batches."""

    label: str
    table: str
    absent: bool
    source_rows: int | None
    pending_rows: int
    last_key: int | None
    complete: bool
    batches: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TableResult:
    """What one table's backfill did in this run (and the checkpoint's totals over all runs)."""

    label: str
    table: str
    absent: bool = False
    source_rows: int | None = None
    copied: int = 0
    skipped: int = 0
    rejected: int = 0
    removed: int = 0
    seconds: float = 0.0
    complete: bool = False
    total_copied: int = 0
    total_rejected: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SequenceReset:
    """An integer primary-key sequence moved past the highest id either database has seen."""

    table: str
    sequence: str
    high_water: int
    next_before: int
    next_after: int


@dataclass
class CopyReport:
    """The outcome of :func:`migrate_data`."""

    plan: list[TablePlan]
    tables: list[TableResult] = field(default_factory=list)
    dry_run: bool = False
    backup: BackupRecord | None = None
    rejects_path: Path | None = None
    sequences: list[SequenceReset] = field(default_factory=list)
    analyzed: list[str] = field(default_factory=list)
    stopped: str | None = None
    run_id: int | None = None
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        """Rejected rows on record for the planned tables (all runs): what the exit code reports."""
        return sum(t.total_rejected for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "backup": None if self.backup is None else {
                "path": self.backup.path, "sha256": self.backup.sha256, "integrity": self.backup.integrity,
            },
            "rejects_file": None if self.rejects_path is None else str(self.rejects_path),
            "plan": [p.as_dict() for p in self.plan],
            "tables": [
                {
                    "table": t.table,
                    "label": t.label,
                    "absent": t.absent,
                    "source_rows": t.source_rows,
                    "copied": t.copied,
                    "skipped": t.skipped,
                    "rejected": t.rejected,
                    "removed": t.removed,
                    "seconds": round(t.seconds, 3),
                    "complete": t.complete,
                    "total_copied": t.total_copied,
                    "total_rejected": t.total_rejected,
                }
                for t in self.tables
            ],
            "sequences": [asdict(s) for s in self.sequences],
            "analyzed": list(self.analyzed),
        }


@dataclass(frozen=True)
class CopyEvent:
    """A progress report: ``kind`` is backup, table_start, batch, table_done, removed, sequences or analyze."""

    kind: str
    table: str = ""
    rows: int = 0
    total: int | None = None
    copied: int = 0
    skipped: int = 0
    rejected: int = 0
    detail: str = ""
    result: TableResult | None = None


@dataclass(frozen=True)
class TableProgress:
    """One table's checkpoint as the cutover gates and the console read it."""

    table: str
    source_rows: int | None
    copied_rows: int
    rejected_rows: int
    complete: bool
    updated_at: Any


@dataclass
class CopyOptions:
    """Everything one backfill run needs; the command fills it from its options."""

    labels: Sequence[str] | None = None
    source: str | None = None
    target: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    dry_run: bool = False
    fresh: bool = False
    jobs: int = 1
    backup: bool = True
    backup_dir: Path | None = None
    rejects_path: Path | None = None
    max_rejects: int = 0
    analyze: bool = False  # ANALYZE the tables this run wrote (planner statistics) at the end

    def resolved(self) -> CopyOptions:
        """A copy with the aliases and directories filled from settings."""
        source = self.source or conf.source_alias()
        target = self.target or conf.target_alias()
        for alias in (source, target):
            if alias not in connections.databases:
                raise CopyError(f"unknown database alias {alias!r}; choose one of {sorted(connections.databases)}")
        if connections[source].vendor != "sqlite":
            raise CopyError(f"source alias {source!r} is not SQLite ({connections[source].vendor})")
        if connections[target].vendor != "postgresql":
            raise CopyError(f"target alias {target!r} is not PostgreSQL ({connections[target].vendor})")
        if self.batch_size < 1:
            raise CopyError("--batch-size must be at least 1")
        if self.jobs < 1:
            raise CopyError("--jobs must be at least 1")
        if self.max_rejects < 0:
            raise CopyError("--max-rejects must be 0 or more")
        backup_dir = Path(self.backup_dir) if self.backup_dir else conf.backup_dir()
        return CopyOptions(
            labels=self.labels, source=source, target=target, batch_size=self.batch_size,
            dry_run=self.dry_run, fresh=self.fresh, jobs=self.jobs, backup=self.backup,
            backup_dir=backup_dir, rejects_path=Path(self.rejects_path) if self.rejects_path else
            backup_dir / "rejects.jsonl", max_rejects=self.max_rejects, analyze=self.analyze,
        )


# --- Public functions other parts call -----------------------------------------------------


def pk_text(model: type[models.Model], pk: Any) -> str:
    """The text form of a primary key in ``cutover_tombstone``: ``str(pk)``, or a JSON list if composite."""
    if len(model._meta.pk_fields) > 1:
        return json.dumps(list(pk), ensure_ascii=False, default=str)
    return str(pk)


def record_tombstone(model: type[models.Model], pk: Any, using: str | None = None) -> None:
    """Record that the row ``pk`` of ``model`` was deleted, so no backfill brings it back.

    The dual-write mirror calls this in the same transaction as its delete on the target.
    """
    alias = using or conf.target_alias()
    Tombstone.objects.using(alias).bulk_create(
        [Tombstone(table=model._meta.db_table, pk_value=pk_text(model, pk))],
        update_conflicts=True, unique_fields=["table", "pk_value"], update_fields=["deleted_at"],
    )


def progress(using: str | None = None) -> list[TableProgress]:
    """Every table's backfill checkpoint (source_rows is None for a table absent from the source)."""
    return [
        TableProgress(
            table=c.table, source_rows=c.source_rows, copied_rows=c.copied_rows,
            rejected_rows=c.rejected_rows, complete=c.complete, updated_at=c.updated_at,
        )
        for c in CopyCheckpoint.objects.using(using or conf.target_alias()).order_by("table")
    ]


# --- The source ----------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SourceReader:
    """A read-only sqlite3 connection that pages through a table by rowid."""

    def __init__(self, alias: str) -> None:
        name = connections[alias].settings_dict["NAME"]
        if not name or str(name) == ":memory:" or str(name).startswith("file::memory:"):
            raise CopyError(f"source alias {alias!r} has no database file to read")
        self.path = Path(name)
        if not self.path.is_file():
            raise CopyError(f"source database {self.path} (alias {alias!r}) does not exist")
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        self.connection = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
        # A second connection hands text back as bytes, to find cells that are not UTF-8.
        self.raw_connection = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
        self.raw_connection.text_factory = bytes

    def close(self) -> None:
        self.connection.close()
        self.raw_connection.close()

    def table_exists(self, table: str) -> bool:
        row = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
        ).fetchone()
        return row is not None

    def check_rowid(self, table: str) -> None:
        try:
            self.connection.execute(f"SELECT rowid FROM {_quote(table)} LIMIT 0")
        except sqlite3.OperationalError as exc:
            raise CopyError(
                f"source table {table} has no rowid (WITHOUT ROWID); the backfill pages by rowid and "
                "cannot copy it"
            ) from exc

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.connection.execute(f"PRAGMA table_xinfo({_quote(table)})")}

    def count(self, table: str, after: int | None = None) -> int:
        if after is None:
            return self.connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
        return self.connection.execute(
            f"SELECT count(*) FROM {_quote(table)} WHERE rowid > ?", [after]
        ).fetchone()[0]

    def high_water(self, table: str, column: str) -> int:
        """The highest id the source has handed out: sqlite_sequence, or max(column)."""
        seq = 0
        if self.table_exists("sqlite_sequence"):
            row = self.connection.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [table]).fetchone()
            seq = int(row[0]) if row and isinstance(row[0], int) else 0
        if self.table_exists(table):
            row = self.connection.execute(
                f"SELECT max({_quote(column)}) FROM {_quote(table)} WHERE typeof({_quote(column)}) = 'integer'"
            ).fetchone()
            seq = max(seq, row[0] or 0)
        return seq

    def has_pk(self, table: str, columns: Sequence[str], values: Sequence[Any]) -> bool:
        where = " AND ".join(f"{_quote(c)} = ?" for c in columns)
        return self.connection.execute(
            f"SELECT 1 FROM {_quote(table)} WHERE {where} LIMIT 1", list(values)
        ).fetchone() is not None

    def batch(
        self, table: str, columns: Sequence[str], after: int, limit: int, clean: str = "0"
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows after rowid ``after``: (rowid, clean, *columns).

        ``clean`` is an SQL condition computed per row (see :func:`_clean_check`). Text that is
        not UTF-8 raises sqlite3.OperationalError.
        """
        cols = ", ".join(_quote(c) for c in columns)
        return self.connection.execute(
            f"SELECT rowid, {clean}, {cols} FROM {_quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            [after, limit],
        ).fetchall()

    def raw_batch(
        self, table: str, columns: Sequence[str], after: int, limit: int
    ) -> list[tuple[int, list[tuple[Any, str]]]]:
        """Like :meth:`batch`, with each cell's storage class and text left undecoded."""
        cols = ", ".join(f"{_quote(c)}, typeof({_quote(c)})" for c in columns)
        rows = self.raw_connection.execute(
            f"SELECT rowid, {cols} FROM {_quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?", [after, limit]
        ).fetchall()
        # typeof() is text too, so it arrives as bytes on this connection.
        return [(row[0], [(row[i], row[i + 1].decode("ascii")) for i in range(1, len(row), 2)]) for row in rows]


# --- Conversion ----------------------------------------------------------------------------


class _Bad(ValueError):
    """A value the target cannot hold; ``reason`` is what goes in the rejects file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _json_problem(value: Any) -> str | None:
    """What jsonb would refuse in a parsed JSON value: NUL characters and NaN/Infinity."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "NUL character (\\u0000) in JSON; PostgreSQL jsonb cannot hold it"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{item!r} in JSON; PostgreSQL jsonb has no NaN or Infinity"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _clean_check(reader: inventory.ColumnReader, column: str) -> str | None:
    """An SQLite condition that holds when this column's value needs no conversion at all.

    Rows for which every such condition holds skip the per-cell checks for these columns: SQLite
    tests storage classes, integer ranges and NUL bytes in C, far faster than Python per cell.
    Returns None for columns whose values always go through the field's converters.
    """
    fld = reader.field
    base = fld.target_field if fld.is_relation else fld
    internal = base.get_internal_type()
    col = _quote(column)
    if reader.converters:
        return None
    if internal in _INT_RANGES and type(base) in _PLAIN_INT:
        low, high = _INT_RANGES[internal]
        if (low, high) == (-(2**63), 2**63 - 1):
            return f"typeof({col}) IN ('integer', 'null')"
        return f"(typeof({col}) = 'null' OR (typeof({col}) = 'integer' AND {col} BETWEEN {low} AND {high}))"
    if type(base) is models.FloatField:
        return f"typeof({col}) IN ('real', 'null')"
    if type(base) in _PLAIN_TEXT and not getattr(base, "max_length", None):
        return f"(typeof({col}) = 'null' OR (typeof({col}) = 'text' AND instr(CAST({col} AS BLOB), x'00') = 0))"
    return None


def _column_converter(
    model: type[models.Model],
    reader: inventory.ColumnReader,
    source: BaseDatabaseWrapper,
    target: BaseDatabaseWrapper,
) -> Callable[[Any], Any]:
    """raw source value -> value for the target column; raises for anything not loadable as is."""
    fld = reader.field
    base = fld.target_field if fld.is_relation else fld
    internal = base.get_internal_type()
    converters = reader.converters
    expression = reader.expression
    prep = fld.get_db_prep_value

    def text_guard(value: Any) -> None:
        if isinstance(value, bytes) and internal != "BinaryField":
            raise _Bad(f"a BLOB in a {internal} column")
        if isinstance(value, str) and "\x00" in value:
            raise _Bad("NUL character in text; PostgreSQL text cannot hold it")

    if internal in _INT_RANGES and not converters and type(base) in _PLAIN_INT:
        low, high = _INT_RANGES[internal]

        def convert_int(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not int:
                text_guard(value)
                kind = "text" if isinstance(value, str) else type(value).__name__
                raise _Bad(f"{kind} in an integer column")
            if not low <= value <= high:
                raise _Bad(f"out of range for {internal} ({low}..{high})")
            return value

        return convert_int

    if not converters and type(base) is models.FloatField:

        def convert_float(value: Any) -> Any:
            if value is None or type(value) is float:
                return value
            if type(value) is int:
                if abs(value) > 2**53:
                    raise _Bad("integer too large to be held exactly by a double precision column")
                return float(value)
            text_guard(value)
            kind = "text" if isinstance(value, str) else type(value).__name__
            raise _Bad(f"{kind} in a real column")

        return convert_float

    if not converters and type(base) in _PLAIN_TEXT and not getattr(base, "max_length", None):

        def convert_text(value: Any) -> Any:
            if type(value) is str:
                if "\x00" in value:
                    raise _Bad("NUL character in text; PostgreSQL text cannot hold it")
                return value
            if value is None:
                return None
            text_guard(value)
            return prep(value, target, prepared=False)

        return convert_text

    is_json = isinstance(base, models.JSONField)
    fast_jsonb = is_json and _writes_default_jsonb(base, prep, target)

    def convert(value: Any) -> Any:
        # NULL stays NULL: JSONField.get_db_prep_value would turn None into the JSON text 'null'.
        if value is None:
            return None
        raw = value
        if type(value) is str:
            if "\x00" in value:
                raise _Bad("NUL character in text; PostgreSQL text cannot hold it")
        else:
            text_guard(value)
        for converter in converters:
            value = converter(value, expression, source)
        if value is None:
            return None
        if is_json:
            # Only text that spells \u0000, NaN or Infinity, or a number beyond a double (1e400
            # parses to infinity), can parse into what jsonb refuses.
            if type(raw) is not str or _suspect_json(raw):
                problem = _json_problem(value)
                if problem:
                    raise _Bad(problem)
        elif type(value) is str and "\x00" in value:
            raise _Bad("NUL character in text; PostgreSQL text cannot hold it")
        if fast_jsonb:
            return Jsonb(value, _dump_json)
        return prep(value, target, prepared=False)

    hook = None if fld.is_relation else getattr(fld, "copy_converter", None)
    fast = hook(source, target) if hook is not None else None
    if fast is None:
        return convert

    def convert_fast(value: Any) -> Any:
        # The field's one-call converter for the common case. Text with a NUL, a BLOB, JSON
        # that spells \u0000, and whatever the fast converter refuses take the full path,
        # which names the reason when there is one.
        if value is None:
            return None
        if type(value) is str:
            if "\x00" in value or (is_json and "\\u0000" in value):
                return convert(value)
        elif type(value) is bytes or is_json:
            return convert(value)
        try:
            out = fast(value)
        except Exception:  # noqa: BLE001 - the full path decides
            return convert(value)
        if fast_jsonb and type(out) is Jsonb and out.dumps is json.dumps:
            out.dumps = _dump_json
        return out

    return convert_fast


def _suspect_json(text: str) -> bool:
    """JSON text that may parse into what jsonb refuses: \\u0000, NaN, Infinity, or a number beyond a double."""
    return "\\u0000" in text or "NaN" in text or "Infinity" in text or _HUGE_NUMBER.search(text) is not None


def _dump_json(value: Any) -> bytes | str:
    """``json.dumps`` for jsonb, faster: orjson where it can, the standard library for the rest.

    jsonb stores what PostgreSQL parses, and both texts parse to the same jsonb: the same
    strings, the same shortest round-trip digits for floats (orjson may spell an exponent
    ``1.5e-7`` where json.dumps writes ``1.5e-07``). orjson refuses integers beyond 64 bits and
    lone surrogates, which json.dumps writes; NaN and Infinity never get here (the caller
    rejects them first).
    """
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def _writes_default_jsonb(fld: models.Field, prep: Callable[..., Any], target: BaseDatabaseWrapper) -> bool:
    """True when the field writes a parsed JSON value to the target as ``json.dumps`` jsonb.

    Then the copy may write ``Jsonb(value)`` itself and dump it faster (see :func:`_dump_json`).
    A field with its own encoder or decoder, or one that changes values on the way in, keeps
    its own ``get_db_prep_value``.
    """
    if getattr(fld, "encoder", None) is not None or getattr(fld, "decoder", None) is not None:
        return False
    probe = {"probe": [1, 2.5, "x", None, True]}
    try:
        prepared = prep(probe, target, prepared=False)
    except Exception:  # noqa: BLE001 - any surprise means: keep the field's own path
        return False
    return type(prepared) is Jsonb and prepared.obj is probe and prepared.dumps is json.dumps


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason)
    messages = getattr(exc, "messages", None)
    if messages:
        return "; ".join(str(m) for m in messages)
    return f"{type(exc).__name__}: {exc}"


def _json_pk(value: Any) -> Any:
    if value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_pk(v) for v in value]
    return repr(value)


# --- One table -----------------------------------------------------------------------------


@dataclass
class _Reject:
    rowid: int
    pk: Any
    column: str
    value: str
    reason: str

    def record(self, table: str) -> dict[str, Any]:
        return {"table": table, "pk": self.pk, "column": self.column, "value": self.value,
                "reason": self.reason, "rowid": self.rowid}


class _RejectBudget:
    """Counts rows rejected in this run, across worker processes, against ``--max-rejects``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = multiprocessing.get_context("fork").Value("q", 0)

    def take(self, count: int) -> int | None:
        """Count ``count`` rejects; return the index among them of the first one over the limit."""
        with self.used.get_lock():
            before = self.used.value
            self.used.value += count
            return None if self.used.value <= self.limit else max(0, self.limit - before)


# A converted row: (source rowid, values in stored-field order). Plain tuples: one is made per row.
_Row = tuple[int, list[Any]]


class TableCopier:
    """Copies one model's table from the source reader into the target, batch by batch."""

    def __init__(
        self,
        model: type[models.Model],
        reader: SourceReader,
        options: CopyOptions,
        budget: _RejectBudget,
        callback: ProgressCallback,
    ) -> None:
        self.model = model
        self.reader = reader
        self.options = options
        self.budget = budget
        self.callback = callback
        self.table = model._meta.db_table
        self.target = connections[options.target]  # type: ignore[index]
        source = connections[options.source]  # type: ignore[index]
        readers = inventory.column_readers(model, source)
        self.fields = [r.field for r in readers]
        self.columns = [f.column for f in self.fields]
        self.converters = [_column_converter(model, r, source, self.target) for r in readers]
        pk_columns = [f.column for f in model._meta.pk_fields]
        self.pk_columns = pk_columns
        self.pk_index = [self.columns.index(c) for c in pk_columns]
        self.composite = len(pk_columns) > 1
        checks = [_clean_check(r, r.field.column) for r in readers]
        # Columns still converted in Python on a clean row, and the SQL that proves the rest clean.
        self.generic = [(i, conv) for i, (conv, check) in enumerate(zip(self.converters, checks)) if check is None]
        conditions = [check for check in checks if check is not None]
        conditions += [f"{_quote(c)} IS NOT NULL" for c in pk_columns]
        self.clean_sql = "(" + " AND ".join(conditions) + ")"
        self.fast_path = True
        self.limit = min(options.batch_size, 100)  # a small first batch measures the rows' width
        self._stage_ready = False
        self._dead: set[str] = set()
        self._tombstone_id = 0
        self.stage = f"_copy_stage_{abs(hash(self.table)) % 10**8}"

    # -- reading and converting --

    def _pk(self, raw: Sequence[Any]) -> Any:
        if self.composite:
            return [raw[i] for i in self.pk_index]
        return raw[self.pk_index[0]]

    def convert(self, rowid: int, raw: Sequence[Any]) -> _Row | _Reject:
        pk = self._pk(raw)
        for i in self.pk_index:
            if raw[i] is None:
                return _Reject(rowid, _json_pk(pk), self.columns[i], repr(None),
                               "NULL in a primary-key column; PostgreSQL keys cannot be NULL")
        try:
            values = [conv(value) for conv, value in zip(self.converters, raw)]
        except Exception:  # noqa: BLE001 - find the cell and name it below
            for column, conv, value in zip(self.columns, self.converters, raw):
                try:
                    conv(value)
                except Exception as exc:  # noqa: BLE001 - every reason becomes a reject record
                    return _Reject(rowid, _json_pk(pk), column, repr(value), _reason(exc))
            raise
        return (rowid, values)

    def _next_size(self, raw_rows: list[tuple[Any, ...]]) -> None:
        """Size the next batch from the width of this one's rows (a sample of them)."""
        sample = raw_rows[:: max(1, len(raw_rows) // 50)]
        if not sample:
            return
        width = sum(len(v) for row in sample for v in row if isinstance(v, (str, bytes))) / len(sample) + 64
        self.limit = max(1, min(self.options.batch_size, int(BATCH_BYTES / width)))

    def read(self, after: int) -> tuple[list[_Row], list[_Reject], int | None, int]:
        """Read and convert the next batch: rows, rejects, last rowid, rows read."""
        size = self.limit
        rows: list[_Row] = []
        rejects: list[_Reject] = []
        try:
            raw_rows = self.reader.batch(self.table, self.columns, after, size, self.clean_sql)
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
            (rejects if isinstance(item, _Reject) else rows).append(item)
        last = raw_rows[-1][0] if raw_rows else None
        return rows, rejects, last, len(raw_rows)

    def _read_undecoded(self, after: int, size: int) -> tuple[list[_Row], list[_Reject], int | None, int]:
        """The slow path for a batch holding text that is not UTF-8: decode cell by cell."""
        rows: list[_Row] = []
        rejects: list[_Reject] = []
        raw_rows = self.reader.raw_batch(self.table, self.columns, after, size)
        for rowid, cells in raw_rows:
            decoded: list[Any] = []
            bad: _Reject | None = None
            for column, (value, storage) in zip(self.columns, cells):
                if storage == "text":
                    try:
                        value = value.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        bad = bad or _Reject(rowid, None, column, repr(value), f"invalid UTF-8 ({exc.reason})")
                decoded.append(value)
            if bad is not None:
                pk = self._pk(decoded)
                bad.pk = _json_pk(pk)
                rejects.append(bad)
                continue
            item = self.convert(rowid, decoded)
            (rejects if isinstance(item, _Reject) else rows).append(item)
        last = raw_rows[-1][0] if raw_rows else None
        return rows, rejects, last, len(raw_rows)

    # -- writing --

    def _copy_sql(self, table: str) -> str:
        cols = ", ".join(_quote(c) for c in self.columns)
        return f"COPY {_quote(table)} ({cols}) FROM STDIN (FORMAT BINARY)"

    def _type_oids(self, cursor: Any) -> list[int]:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped", [_quote(self.table)],
        )
        oids = dict(cursor.fetchall())
        missing = [c for c in self.columns if c not in oids]
        if missing:
            raise CopyError(
                f"target table {self.table} lacks columns {missing}; run `manage.py migrate "
                f"--database {self.options.target}` first"
            )
        return [oids[c] for c in self.columns]

    def _copy(self, cursor: Any, table: str, rows: list[_Row]) -> None:
        with cursor.copy(self._copy_sql(table)) as copy:
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
        cols = ", ".join(_quote(c) for c in self.columns)
        cursor.execute(f"DROP TABLE IF EXISTS {_quote(self.stage)}")
        # Same column types, no constraints: the INSERT ... SELECT below applies them.
        cursor.execute(
            f"CREATE TEMP TABLE {_quote(self.stage)} ON COMMIT DELETE ROWS AS "
            f"SELECT {cols} FROM {_quote(self.table)} WITH NO DATA"
        )
        self._stage_ready = True

    def _load(self, rows: list[_Row]) -> int:
        """Write rows that are not in the target yet; return how many were inserted."""
        with self.target.cursor() as cursor:
            if self.fast_path:
                try:
                    with transaction.atomic(using=self.options.target):
                        self._copy(cursor, self.table, rows)
                    return len(rows)
                except (psycopg.errors.UniqueViolation, IntegrityError) as exc:
                    if not _is_unique_violation(exc):
                        raise
                    # A dual write got there first; from now on go through the staging table.
                    self.fast_path = False
            self._ensure_stage(cursor)
            cursor.execute(f"TRUNCATE {_quote(self.stage)}")
            self._copy(cursor, self.stage, rows)
            cols = ", ".join(_quote(c) for c in self.columns)
            conflict = ", ".join(_quote(c) for c in self.pk_columns)
            cursor.execute(
                f"INSERT INTO {_quote(self.table)} ({cols}) SELECT {cols} FROM {_quote(self.stage)} "
                f"ON CONFLICT ({conflict}) DO NOTHING"
            )
            return cursor.rowcount

    def _load_or_bisect(self, rows: list[_Row]) -> tuple[int, list[_Reject]]:
        """Load rows; when PostgreSQL refuses the batch, split it until the offending rows are alone."""
        if not rows:
            return 0, []
        try:
            with transaction.atomic(using=self.options.target):
                return self._load(rows), []
        except (psycopg.DataError, psycopg.IntegrityError, DataError, IntegrityError) as exc:
            self._stage_ready = False  # the savepoint rollback may have dropped it
            if len(rows) == 1:
                row = rows[0]
                cause = exc.__cause__ if isinstance(exc.__cause__, psycopg.Error) else exc
                diag = getattr(cause, "diag", None)
                constraint = getattr(diag, "constraint_name", None)
                column = (
                    getattr(diag, "column_name", None)
                    or _key_column(getattr(diag, "message_detail", None))
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
                return 0, [_Reject(rowid, _json_pk(self._pk(values)), column, value, reason)]
            middle = len(rows) // 2
            left, left_rejects = self._load_or_bisect(rows[:middle])
            right, right_rejects = self._load_or_bisect(rows[middle:])
            return left + right, left_rejects + right_rejects

    def _constraint_column(self, name: str | None) -> str | None:
        """The first column a CHECK constraint of the model names, to point the reject at a cell."""
        for constraint in self.model._meta.constraints:
            if constraint.name == name and isinstance(getattr(constraint, "condition", None), models.Q):
                for child in constraint.condition.flatten():
                    if isinstance(child, tuple):
                        field_name = child[0].split("__")[0]
                        return self.model._meta.get_field(field_name).column
        return None

    def _key_text(self, values: list[Any]) -> str:
        if self.composite:
            return pk_text(self.model, [values[i] for i in self.pk_index])
        return str(values[self.pk_index[0]])

    def _dead_keys(self, cursor: Any) -> set[str]:
        """This table's tombstoned keys, fetching only tombstones newer than the last look."""
        cursor.execute(
            f"SELECT id, pk_value FROM {Tombstone._meta.db_table} WHERE \"table\" = %s AND id > %s",
            [self.table, self._tombstone_id],
        )
        for tombstone_id, value in cursor.fetchall():
            self._dead.add(value)
            self._tombstone_id = max(self._tombstone_id, tombstone_id)
        return self._dead

    def _write_batch(
        self, rows: list[_Row], rejects: list[_Reject], last: int, started: float
    ) -> tuple[int, int, list[_Reject]]:
        """One transaction: the rows, their rejects and the checkpoint, or none of them."""
        alias = self.options.target
        with transaction.atomic(using=alias):
            with self.target.cursor() as cursor:
                # FKs are DEFERRABLE INITIALLY DEFERRED; check them per statement so a bad row
                # fails its own INSERT and can be isolated.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                dead = self._dead_keys(cursor)
            live = [r for r in rows if self._key_text(r[1]) not in dead] if dead else rows
            inserted, refused = self._load_or_bisect(live)
            rejects = rejects + refused
            over = self.budget.take(len(rejects)) if rejects else None
            if over is not None:
                first = sorted(rejects, key=lambda r: r.rowid)[over]
                raise RejectLimitExceeded(
                    first.record(self.table), self.budget.limit,
                    [r.record(self.table) for r in sorted(rejects, key=lambda r: r.rowid)],
                )
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

    def _defer_indexes(self, pending: int) -> None:
        """Drop the table's plain secondary indexes for a large copy, remembering them durably.

        Only non-unique indexes that back no constraint are dropped, so primary keys, unique
        constraints (ON CONFLICT needs them) and foreign keys keep working for dual writes.
        """
        if pending < DEFER_INDEXES_MIN_ROWS:
            return
        alias = self.options.target
        with transaction.atomic(using=alias), self.target.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                [_quote(self.table)],
            )
            found = [{"name": name, "sql": sql} for name, sql in cursor.fetchall()]
            if not found:
                return
            checkpoint = CopyCheckpoint.objects.using(alias).select_for_update().get(table=self.table)
            checkpoint.deferred_indexes = list(checkpoint.deferred_indexes) + found
            checkpoint.save(update_fields=["deferred_indexes", "updated_at"])
            for index in found:
                cursor.execute(f"DROP INDEX IF EXISTS {_quote(index['name'])}")

    def restore_indexes(self) -> int:
        """Rebuild the indexes a copy dropped; the rebuild and the checkpoint commit together."""
        return restore_deferred_indexes(self.table, self.options.target or conf.target_alias())

    def _sweep_tombstones(self) -> int:
        """Delete rows a tombstone says are gone and the source no longer has; return how many."""
        if self.composite:
            key = "json_build_array(" + ", ".join(f"t.{_quote(c)}" for c in self.pk_columns) + ")::text"
        else:
            key = f"t.{_quote(self.pk_columns[0])}::text"
        removed = 0
        with self.target.cursor() as cursor:
            cursor.execute(
                f"SELECT tb.pk_value FROM {Tombstone._meta.db_table} tb JOIN {_quote(self.table)} t "
                f"ON {key} = tb.pk_value WHERE tb.\"table\" = %s",
                [self.table],
            )
            candidates = [row[0] for row in cursor.fetchall()]
        for text in candidates:
            values = json.loads(text) if self.composite else [text]
            if self.reader.has_pk(self.table, self.pk_columns, values):
                continue  # recreated in the source after its deletion: a live row, keep it
            with transaction.atomic(using=self.options.target), self.target.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {_quote(self.table)} t WHERE {key} = %s", [text]
                )
                removed += cursor.rowcount
                cursor.execute(
                    f"UPDATE {CopyCheckpoint._meta.db_table} SET removed_rows = removed_rows + %s, "
                    "updated_at = now() WHERE \"table\" = %s", [cursor.rowcount, self.table],
                )
            self.callback(CopyEvent("removed", self.table, rows=1, detail=f"pk {text} deleted while copying"))
        return removed

    def run(self) -> TableResult:
        started = time.monotonic()
        label = self.model._meta.label
        result = TableResult(label=label, table=self.table)
        alias = self.options.target
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
        self.reader.check_rowid(self.table)
        checkpoint = CopyCheckpoint.objects.using(alias).filter(table=self.table).first()
        after = checkpoint.last_key if checkpoint and checkpoint.last_key is not None else FIRST_KEY
        pending = self.reader.count(self.table, after)
        source_rows = self.reader.count(self.table)
        result.source_rows = source_rows
        if checkpoint is None:
            checkpoint = CopyCheckpoint.objects.using(alias).create(
                table=self.table, model_label=label, source_rows=source_rows, started_at=timezone.now()
            )
        self.callback(CopyEvent("table_start", self.table, rows=0, total=pending))
        if pending:
            with self.target.cursor() as cursor:
                self.oids = self._type_oids(cursor)
                cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"cutover_copy:{self.table}"])
                if not cursor.fetchone()[0]:
                    raise CopyError(
                        f"table {self.table} is being copied by another migrate_data run; wait for it to finish"
                    )
                # Every batch commits with its checkpoint, so a server crash can only lose whole
                # batches together with their checkpoints, which the next run redoes: no fsync wait.
                cursor.execute("SET synchronous_commit = off")
            try:
                self._defer_indexes(pending)
                self._copy_pending(after, result)
            finally:
                self.restore_indexes()
                with self.target.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"cutover_copy:{self.table}"])
                    cursor.execute("RESET synchronous_commit")
        self.restore_indexes()  # also finishes what a run killed after its last batch left undone
        result.removed = self._sweep_tombstones()
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
            inserted, skipped, rejects = self._write_batch(rows, rejects, last, batch_started)
            after = last
            result.copied += inserted
            result.skipped += skipped
            result.rejected += len(rejects)
            self.callback(CopyEvent(
                "batch", self.table, rows=count, copied=inserted, skipped=skipped, rejected=len(rejects),
                detail=f"rowid <= {last}",
            ))


_KEY_DETAIL = re.compile(r'^Key \((?P<columns>[^)]*)\)=')


def _key_column(detail: str | None) -> str | None:
    """The column of an FK or unique violation, from PostgreSQL's 'Key (col)=(value) ...' detail."""
    match = _KEY_DETAIL.match(detail or "")
    return match.group("columns").split(",")[0].strip().strip('"') if match else None


def restore_deferred_indexes(table: str, target: str) -> int:
    """Recreate the secondary indexes the copy of ``table`` dropped (after a crash, say); idempotent."""
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


def _is_unique_violation(exc: BaseException) -> bool:
    cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    return isinstance(cause, psycopg.errors.UniqueViolation)


# --- Planning ------------------------------------------------------------------------------


def plan(options: CopyOptions) -> list[TablePlan]:
    """Order, source row counts and batches for each model; reads both databases, writes nothing."""
    options = options.resolved() if options.source is None or options.target is None else options
    models_ = _models(options)
    checkpoints = {
        c.table: c for c in CopyCheckpoint.objects.using(options.target).filter(
            table__in=[m._meta.db_table for m in models_]
        )
    }
    existing = set(connections[options.target].introspection.table_names())  # type: ignore[index]
    missing = [m._meta.db_table for m in models_ if m._meta.db_table not in existing]
    if missing:
        raise CopyError(
            f"target tables {missing} do not exist; create the schema first with "
            f"`manage.py migrate --database {options.target}`"
        )
    reader = SourceReader(options.source)  # type: ignore[arg-type]
    try:
        plans = []
        for model in models_:
            table = model._meta.db_table
            checkpoint = None if options.fresh else checkpoints.get(table)
            last_key = checkpoint.last_key if checkpoint else None
            if not reader.table_exists(table):
                plans.append(TablePlan(model._meta.label, table, True, None, 0, last_key, True, 0))
                continue
            missing_columns = sorted({f.column for f in inventory.stored_fields(model)} - reader.columns(table))
            if missing_columns:
                raise CopyError(
                    f"source table {table} has no column(s) {missing_columns} that {model._meta.label} "
                    "stores; the model and the legacy schema disagree: fix the model (or the source) first"
                )
            source_rows = reader.count(table)
            pending = reader.count(table, last_key) if last_key is not None else source_rows
            plans.append(TablePlan(
                model._meta.label, table, False, source_rows, pending, last_key,
                bool(checkpoint and checkpoint.complete), math.ceil(pending / options.batch_size),
            ))
        return plans
    finally:
        reader.close()


def _models(options: CopyOptions) -> list[type[models.Model]]:
    found = inventory.migrated_models(options.labels)
    if options.labels:
        known = {n for m in found for n in (m._meta.label_lower, m._meta.model_name, m._meta.db_table.lower())}
        unknown = [label for label in options.labels if label.lower() not in known]
        if unknown:
            raise CopyError(
                f"unknown table(s) {unknown}: name a model (app.Model), model name or table of "
                f"{conf.migrated_apps()}"
            )
    return found


# --- Repair --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairResult:
    """What :func:`copy_rows` did: rows written from the source, rows deleted, rows it could not load."""

    table: str
    written: int
    deleted: int
    rejected: list[dict[str, Any]]


def copy_rows(
    model: type[models.Model], pks: Sequence[Any], source: str | None = None, target: str | None = None
) -> RepairResult:
    """Make the target's rows for ``pks`` equal to the source's: overwrite, insert, or delete.

    For repairs after validation finds a difference: unlike the backfill, this *does* overwrite
    (the source is the truth for these keys), and a key the source no longer has is deleted from
    the target. Values are converted exactly as the backfill converts them. Composite keys are
    given as tuples.
    """
    options = CopyOptions(labels=[model._meta.label], source=source, target=target).resolved()
    reader = SourceReader(options.source)  # type: ignore[arg-type]
    try:
        copier = TableCopier(model, reader, options, _RejectBudget(len(pks)), _noop)
        keys = [tuple(pk) if copier.composite else (pk,) for pk in pks]
        where = " AND ".join(f"{_quote(c)} = ?" for c in copier.pk_columns)
        cols = ", ".join(_quote(c) for c in copier.columns)
        rows: list[_Row] = []
        rejects: list[_Reject] = []
        missing = []
        for key in keys:
            raw = reader.connection.execute(
                f"SELECT rowid, {cols} FROM {_quote(copier.table)} WHERE {where}", list(key)
            ).fetchone()
            if raw is None:
                missing.append(key)
                continue
            item = copier.convert(raw[0], raw[1:])
            (rejects if isinstance(item, _Reject) else rows).append(item)
        with transaction.atomic(using=options.target), copier.target.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            copier.oids = copier._type_oids(cursor)
            copier._ensure_stage(cursor)
            cursor.execute(f"TRUNCATE {_quote(copier.stage)}")
            copier._copy(cursor, copier.stage, rows)
            conflict = ", ".join(_quote(c) for c in copier.pk_columns)
            updates = ", ".join(
                f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in copier.columns if c not in copier.pk_columns
            ) or f"{_quote(copier.pk_columns[0])} = EXCLUDED.{_quote(copier.pk_columns[0])}"
            cursor.execute(
                f"INSERT INTO {_quote(copier.table)} ({cols}) SELECT {cols} FROM {_quote(copier.stage)} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )
            written = cursor.rowcount
            deleted = 0
            for key in missing:
                cursor.execute(
                    f"DELETE FROM {_quote(copier.table)} WHERE "
                    + " AND ".join(f"{_quote(c)} = %s" for c in copier.pk_columns), list(key),
                )
                deleted += cursor.rowcount
        return RepairResult(copier.table, written, deleted, [r.record(copier.table) for r in rejects])
    finally:
        reader.close()


# --- Sequences -----------------------------------------------------------------------------


def reset_sequences(
    models_: Sequence[type[models.Model]], source: str | None = None, target: str | None = None
) -> list[SequenceReset]:
    """Move each integer primary-key sequence past max(id) in either database and sqlite_sequence.

    Only ever moves a sequence forward, so a second call changes nothing.
    """
    source = source or conf.source_alias()
    target = target or conf.target_alias()
    connection = connections[target]
    reader = SourceReader(source)
    resets = []
    try:
        for model in models_:
            pk = model._meta.pk
            if len(model._meta.pk_fields) != 1 or pk.get_internal_type() not in _AUTO_FIELDS:
                continue
            table, column = model._meta.db_table, pk.column
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [_quote(table), column])
                sequence = cursor.fetchone()[0]
                if sequence is None:
                    continue
                cursor.execute(f"SELECT max({_quote(column)}) FROM {_quote(table)}")
                high = max(cursor.fetchone()[0] or 0, reader.high_water(table, column))
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
                last_value, is_called = cursor.fetchone()
                next_before = last_value + 1 if is_called else last_value
                if next_before > high:
                    continue
                cursor.execute("SELECT setval(%s, %s, true)", [sequence, high])
                resets.append(SequenceReset(table, sequence, high, next_before, high + 1))
    finally:
        reader.close()
    return resets


def analyze_tables(tables: Sequence[str], target: str | None = None) -> list[str]:
    """``ANALYZE`` each table on the target: planner statistics for what a bulk load just wrote.

    A table filled by COPY has none until autovacuum gets to it (never, where autovacuum is off),
    and the queries the rollout sends to PostgreSQL are planned blind until then.
    """
    connection = connections[target or conf.target_alias()]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {_quote(table)}")
    return list(tables)


# --- The run -------------------------------------------------------------------------------


def _noop(event: CopyEvent) -> None:
    return None


def truncate(models_: Sequence[type[models.Model]], target: str) -> None:
    """Empty the target tables and forget their checkpoints and rejects (``--fresh``)."""
    tables = [m._meta.db_table for m in models_]
    if not tables:
        return
    try:
        with transaction.atomic(using=target), connections[target].cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(_quote(t) for t in tables))
            for table in tables:  # cheap on empty tables, and their definitions go with the checkpoints
                restore_deferred_indexes(table, target)
            CopyCheckpoint.objects.using(target).filter(table__in=tables).delete()
            CopyReject.objects.using(target).filter(table__in=tables).delete()
    except (DataError, IntegrityError, psycopg.Error) as exc:
        raise CopyError(
            f"cannot truncate {tables}: {exc}; include the tables that reference them in --tables"
        ) from exc
    except Exception as exc:  # NotSupportedError for FK references is a DatabaseError subclass
        if "foreign key" in str(exc):
            raise CopyError(
                f"cannot truncate {tables}: {exc}; include the tables that reference them in --tables"
            ) from exc
        raise


def migrate_data(options: CopyOptions, callback: ProgressCallback | None = None) -> CopyReport:
    """Back up the source, then copy every planned table into the target and reset sequences."""
    callback = callback or _noop
    options = options.resolved()
    started = time.monotonic()
    planned = plan(options)
    report = CopyReport(plan=planned, dry_run=options.dry_run)
    if options.dry_run:
        report.seconds = time.monotonic() - started
        return report
    models_ = [apps.get_model(p.label) for p in planned]
    target = options.target or conf.target_alias()
    run = CopyRun.objects.using(target).create(options=_options_record(options))
    report.run_id = run.pk
    try:
        has_work = options.fresh or any(p.pending_rows or not p.complete for p in planned)
        if options.backup and has_work:
            callback(CopyEvent("backup", detail="backing up the source"))
            report.backup = backup_sqlite(options.source or conf.source_alias(), options.backup_dir,
                                          record_using=target)
            run.backup = report.backup
            callback(CopyEvent("backup", detail=report.backup.path, result=None))
        if options.fresh:
            truncate(models_, target)
        budget = _RejectBudget(options.max_rejects)
        try:
            with bulk_gc():
                if options.jobs > 1:
                    report.tables = _run_parallel(planned, options, budget, callback)
                else:
                    report.tables = _run_serial(models_, options, budget, callback)
        except RejectLimitExceeded as exc:
            report.stopped = str(exc)
            report.rejects_path = _write_rejects(options, planned, extra=exc.batch)
            _finish(run, report, CopyRun.Status.STOPPED)
            raise
        report.sequences = reset_sequences(models_, options.source, target)
        callback(CopyEvent("sequences", rows=len(report.sequences)))
        if options.analyze:
            report.analyzed = analyze_tables(
                [t.table for t in report.tables if not t.absent and (options.fresh or t.copied or t.removed)], target)
            callback(CopyEvent("analyze", rows=len(report.analyzed)))
        if report.rejected:
            report.rejects_path = _write_rejects(options, planned)
        report.seconds = time.monotonic() - started
        _finish(run, report, CopyRun.Status.REJECTED if report.rejected else CopyRun.Status.SUCCEEDED)
        return report
    except RejectLimitExceeded:
        raise
    except BaseException:
        connections[target].close()
        CopyRun.objects.using(target).filter(pk=run.pk).update(
            status=CopyRun.Status.FAILED, finished_at=timezone.now()
        )
        raise


@contextlib.contextmanager
def bulk_gc() -> Iterator[None]:
    """Fewer and cheaper garbage collections while rows stream through.

    Every converted row allocates containers, so the collector would run every few hundred rows
    and walk every object the process holds (Django's included). Freezing what exists now takes
    those out of its walks (and keeps forked workers from copying them), and a higher first
    threshold makes collections rarer; cycles are still collected.
    """
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 20_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _options_record(options: CopyOptions) -> dict[str, Any]:
    record = asdict(options)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in record.items()}


def _finish(run: CopyRun, report: CopyReport, status: str) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.totals = {t.table: {"copied": t.copied, "skipped": t.skipped, "rejected": t.rejected,
                            "removed": t.removed} for t in report.tables}
    run.save()


def _write_rejects(
    options: CopyOptions, planned: list[TablePlan], extra: list[dict[str, Any]] | None = None
) -> Path:
    """Export every recorded reject of the planned tables as JSON Lines (rewritten on each run)."""
    path = options.rejects_path or conf.backup_dir() / "rejects.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rejects = CopyReject.objects.using(options.target).filter(
        table__in=[p.table for p in planned]
    ).order_by("table", "source_rowid", "column")
    with path.open("w", encoding="utf-8") as handle:
        for reject in rejects.iterator():
            handle.write(json.dumps({
                "table": reject.table, "pk": json.loads(reject.pk_value) if reject.pk_value else None,
                "column": reject.column, "value": reject.value, "reason": reject.reason,
                "rowid": reject.source_rowid,
            }, ensure_ascii=False) + "\n")
        for record in extra or []:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _run_serial(
    models_: Sequence[type[models.Model]], options: CopyOptions, budget: _RejectBudget, callback: ProgressCallback
) -> list[TableResult]:
    reader = SourceReader(options.source)  # type: ignore[arg-type]
    try:
        return [TableCopier(model, reader, options, budget, callback).run() for model in models_]
    finally:
        reader.close()


# Worker processes: each gets the event queue at start and copies one table per task.
_worker_queue: Any = None
_worker_budget: _RejectBudget | None = None


def _worker_init(queue: Any, budget: _RejectBudget) -> None:
    global _worker_queue, _worker_budget
    _worker_queue = queue
    _worker_budget = budget


_worker_reader: SourceReader | None = None


def _worker_copy(label: str, options: CopyOptions) -> TableResult:
    """Copy one table in a worker; the worker keeps its source reader and target connection."""
    global _worker_reader
    if _worker_reader is None:
        _worker_reader = SourceReader(options.source)  # type: ignore[arg-type]
    model = apps.get_model(label)
    return TableCopier(model, _worker_reader, options, _worker_budget, _worker_queue.put).run()  # type: ignore[arg-type]


def _run_parallel(
    planned: list[TablePlan], options: CopyOptions, budget: _RejectBudget, callback: ProgressCallback
) -> list[TableResult]:
    """Copy tables in worker processes; a table starts once the tables it references are done."""
    labels = {p.label for p in planned}
    depends = {
        p.label: {
            f.related_model._meta.label for f in apps.get_model(p.label)._meta.concrete_fields
            if f.is_relation and f.related_model is not None
            and f.related_model._meta.label in labels and f.related_model._meta.label != p.label
        }
        for p in planned
    }
    # Forked children must not share the parent's sockets: close them first, reopen lazily.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    results: dict[str, TableResult] = {}
    # Largest first, so the biggest table is not the one left running alone at the end.
    waiting = sorted(planned, key=lambda p: -p.pending_rows)
    running: dict[Future[TableResult], str] = {}
    with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=_worker_init,
                             initargs=(queue, budget)) as pool:
        try:
            while waiting or running:
                for item in list(waiting):
                    if len(running) >= options.jobs:
                        break
                    if depends[item.label] <= set(results):
                        running[pool.submit(_worker_copy, item.label, options)] = item.label
                        waiting.remove(item)
                done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                for event in _drain(queue):
                    callback(event)
                for future in done:
                    label = running.pop(future)
                    results[label] = future.result()
            for event in _drain(queue):
                callback(event)
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return [results[p.label] for p in planned]


def _drain(queue: Any) -> Iterator[CopyEvent]:
    while True:
        try:
            yield queue.get_nowait()
        except Exception:  # noqa: BLE001 - queue.Empty: nothing more for now
            return
