"""Counts and row checksums across the source and target databases: find, pinpoint and repair differences.

The row-level check follows data-diff: both sides hash rows into primary-key segments, equal
segments are skipped, differing segments are split and compared again until single rows are
left. The target computes hashes in SQL; the source (SQLite, which has no MD5) computes the same
canonical text in Python from the values the model fields read (:mod:`migration.canonical`).
Differences are re-checked after a short delay, so rows written while validation runs are
reported as in flight rather than as differences. Nothing here prints; progress goes through a
callback.
"""
from __future__ import annotations

import bisect
import datetime as dt
import decimal
import hashlib
import inspect
import itertools
import marshal
import multiprocessing
import operator
import os
import platform
import struct
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Any

import django
import psycopg
from django.apps import apps
from django.db import DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from psycopg import sql

from migration import canonical, conf, inventory
from migration.exceptions import ConversionError, UnknownTablesError, ValidationSetupError
from migration.models import ValidationHashCache, ValidationRepair, ValidationRun, ValidationTable

Progress = Callable[[str, dict[str, Any]], None]

SEGMENT_ROWS = 10_000  # source rows per top-level segment
FANOUT = 16  # sub-segments per bisection step
LEAF_ROWS = 64  # at or below this many rows a segment is compared row by row
FETCH_ROWS = 5_000
IN_CHUNK = 500  # keys per `IN (...)` query on SQLite
MEMO_ENTRIES = 8_192  # remembered raw value -> canonical part, per converted column
MEMO_VALUE_CHARS = 100  # longer values (JSON documents) rarely repeat: not worth their memory
CACHE_ROWS = 10_000  # consecutive source rows per remembered run of row hashes
CACHE_FORMAT = "1"  # bump when the row hash changes in a way the fingerprint cannot see
_READ_ERRORS = (ValueError, TypeError, ArithmeticError, struct.error, decimal.InvalidOperation)


# --- Results --------------------------------------------------------------------------------

@dataclass
class ColumnDifference:
    """One column of a changed row: its name and the value on each side, as the fields read them."""

    column: str
    source: Any
    target: Any

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "source": _jsonable(self.source), "target": _jsonable(self.target)}


@dataclass
class ChangedRow:
    """A row present on both sides whose values differ, with the differing columns."""

    pk: Any
    columns: list[ColumnDifference]

    def as_dict(self) -> dict[str, Any]:
        return {"pk": _jsonable(self.pk), "columns": [c.as_dict() for c in self.columns]}


@dataclass
class SequenceCheck:
    """The target sequence behind a table's auto-increment key, and whether it is ahead of max(pk)."""

    sequence: str
    next_value: int
    max_pk: int | None
    # Phases 1-2: SQLite hands out the ids and mirrors copy them, so the sequence falls behind by
    # design; it is moved past max(id) when PostgreSQL becomes primary. Reported, not a difference.
    ids_from_source: bool = False

    @property
    def ok(self) -> bool:
        return self.max_pk is None or self.next_value > self.max_pk

    @property
    def blocking(self) -> bool:
        """Behind max(id) while the target hands out ids, or may soon without a reset."""
        return not self.ok and not self.ids_from_source

    def as_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "next_value": self.next_value, "max_pk": self.max_pk,
                "ok": self.ok, "ids_from_source": self.ids_from_source}


@dataclass
class RepairResult:
    """What :func:`repair_rows` changed on the target, and the rows that still differ afterwards."""

    table: str
    inserted: list[Any] = dataclass_field(default_factory=list)
    updated: list[Any] = dataclass_field(default_factory=list)
    deleted: list[Any] = dataclass_field(default_factory=list)
    unverified: list[Any] = dataclass_field(default_factory=list)
    sequence_reset: bool = False
    sequence_ok: bool = True  # after the repair

    @property
    def changed(self) -> int:
        return len(self.inserted) + len(self.updated) + len(self.deleted)

    @property
    def verified(self) -> bool:
        return not self.unverified

    def as_dict(self) -> dict[str, Any]:
        return {"inserted": [_jsonable(p) for p in self.inserted],
                "updated": [_jsonable(p) for p in self.updated],
                "deleted": [_jsonable(p) for p in self.deleted],
                "unverified": [_jsonable(p) for p in self.unverified],
                "sequence_reset": self.sequence_reset}


@dataclass
class TableResult:
    """One table's comparison: both counts and, at row level, every difference by kind."""

    model: type[models.Model]
    source_present: bool
    source_count: int
    target_count: int
    row_level: bool
    missing: list[Any] = dataclass_field(default_factory=list)
    extra: list[Any] = dataclass_field(default_factory=list)
    changed: list[Any] = dataclass_field(default_factory=list)
    changed_rows: list[ChangedRow] = dataclass_field(default_factory=list)
    unreadable: list[dict[str, Any]] = dataclass_field(default_factory=list)
    in_flight: list[Any] = dataclass_field(default_factory=list)
    sequence: SequenceCheck | None = None
    repair: RepairResult | None = None
    elapsed: float = 0.0
    reused_hashes: int = 0  # source rows whose hashes came from an earlier run (raw bytes unchanged)
    first_pass: _RowDiff | None = dataclass_field(default=None, repr=False)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def differences(self) -> int:
        """Rows found different (before any repair); unreadable source rows count as different."""
        return len(self.missing) + len(self.extra) + len(self.changed) + len(self.unreadable)

    @property
    def found_clean(self) -> bool:
        """True when the comparison found nothing (before any repair)."""
        counts_match = self.source_count == self.target_count or self.row_level
        return counts_match and self.differences == 0 and (self.sequence is None or not self.sequence.blocking)

    @property
    def clean(self) -> bool:
        """True when the target now matches: nothing was found, or the repair fixed all of it."""
        if self.found_clean:
            return True
        if self.repair is None or not self.repair.verified or self.unreadable:
            return False
        return self.repair.sequence_ok

    def as_dict(self, limit: int) -> dict[str, Any]:
        return {
            "table": self.table, "model": self.label, "source_present": self.source_present,
            "source_count": self.source_count, "target_count": self.target_count,
            "clean": self.clean, "found_clean": self.found_clean,
            "missing": len(self.missing), "extra": len(self.extra), "changed": len(self.changed),
            "unreadable": len(self.unreadable), "in_flight": len(self.in_flight),
            "missing_pks": [_jsonable(p) for p in self.missing[:limit]],
            "extra_pks": [_jsonable(p) for p in self.extra[:limit]],
            "changed_rows": [r.as_dict() for r in self.changed_rows[:limit]],
            "unreadable_rows": self.unreadable[:limit],
            "in_flight_pks": [_jsonable(p) for p in self.in_flight[:limit]],
            "sequence": None if self.sequence is None else self.sequence.as_dict(),
            "repair": None if self.repair is None else self.repair.as_dict(),
            "elapsed_seconds": round(self.elapsed, 3), "reused_hashes": self.reused_hashes,
        }


@dataclass
class ValidationReport:
    """The outcome of :func:`validate`: per-table results, totals, and the stored run's id."""

    row_level: bool
    source_alias: str
    target_alias: str
    tables: list[TableResult]
    elapsed: float
    limit: int
    run_id: int | None = None
    repaired: bool = False

    @property
    def clean(self) -> bool:
        return all(t.clean for t in self.tables)

    @property
    def found_clean(self) -> bool:
        return all(t.found_clean for t in self.tables)

    @property
    def source_rows(self) -> int:
        return sum(t.source_count for t in self.tables)

    @property
    def target_rows(self) -> int:
        return sum(t.target_count for t in self.tables)

    @property
    def differences(self) -> int:
        return sum(t.differences for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "mode": "rows" if self.row_level else "counts",
            "source": self.source_alias, "target": self.target_alias,
            "clean": self.clean, "found_clean": self.found_clean, "repaired": self.repaired,
            "source_rows": self.source_rows, "target_rows": self.target_rows,
            "differences": self.differences,
            "in_flight": sum(len(t.in_flight) for t in self.tables),
            "elapsed_seconds": round(self.elapsed, 3),
            "tables": [t.as_dict(self.limit) for t in self.tables],
        }


def _jsonable(value: Any) -> Any:
    """A JSON-serializable rendering that keeps what tells two values apart (floats keep all bits)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


# --- Table access ---------------------------------------------------------------------------

def _sqlite_name(name: str) -> str:
    """A quoted SQLite identifier (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Table:
    """What the comparison needs to know about one model on both connections."""

    model: type[models.Model]
    source: BaseDatabaseWrapper
    target: BaseDatabaseWrapper
    fields: list[models.Field]
    kinds: list[str]
    key_indexes: list[int]  # the primary-key columns among ``fields`` (several for a composite key)
    key_kind: str  # "int", "text" or "composite": how keys are ordered and passed as parameters

    @classmethod
    def of(cls, model: type[models.Model], source: BaseDatabaseWrapper, target: BaseDatabaseWrapper) -> _Table:
        fields = inventory.stored_fields(model)
        kinds = [canonical.column_kind(f, target) for f in fields]
        key_indexes = [next(i for i, f in enumerate(fields) if f is pk) for pk in model._meta.pk_fields]
        if len(key_indexes) > 1:
            key_kind = "composite"
        else:
            key_kind = "int" if kinds[key_indexes[0]] == canonical.INT else "text"
        return cls(model, source, target, fields, kinds, key_indexes, key_kind)

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @property
    def pk_index(self) -> int:
        """The single key column's index (the first key column's, for a composite key)."""
        return self.key_indexes[0]

    @property
    def pk_column(self) -> str:
        return self.fields[self.pk_index].column

    @property
    def key_columns(self) -> list[str]:
        return [self.fields[i].column for i in self.key_indexes]

    @property
    def composite(self) -> bool:
        return self.key_kind == "composite"

    def key_of(self, values: Sequence[Any]) -> Any:
        """The primary key of a row of values: a value, or a tuple for a composite key."""
        if self.composite:
            return tuple(values[i] for i in self.key_indexes)
        return values[self.key_indexes[0]]

    def read(self, raw: Sequence[Any], readers: list[inventory.ColumnReader], connection: BaseDatabaseWrapper) -> list[Any]:
        """Convert one raw row with the fields' converters; a value that cannot be read raises ConversionError."""
        values = []
        for reader, value in zip(readers, raw):
            try:
                values.append(reader(value, connection))
            except _READ_ERRORS as exc:
                raise ConversionError(self.name, self.key_of(raw), reader.field.column, value,
                                      getattr(exc, "reason", None) or str(exc)) from exc
        return values

    # Target (PostgreSQL), composed with psycopg.sql: identifiers come from model metadata only.

    def t_sql(self, composed: sql.Composable) -> str:
        self.target.ensure_connection()
        return composed.as_string(self.target.connection)

    @property
    def t_table(self) -> sql.Identifier:
        return sql.Identifier(self.name)

    @property
    def t_pk(self) -> sql.Composable:
        """The key as PostgreSQL compares it: text in "C" (code point) order, like Python and SQLite."""
        parts = []
        for i in self.key_indexes:
            column = sql.Identifier(self.fields[i].column)
            parts.append(column if self.kinds[i] == canonical.INT else sql.SQL('{} COLLATE "C"').format(column))
        return parts[0] if len(parts) == 1 else sql.SQL("ROW({})").format(sql.SQL(", ").join(parts))

    @property
    def t_key_columns(self) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(c) for c in self.key_columns)

    @property
    def t_array_type(self) -> sql.SQL:
        return sql.SQL("bigint[]" if self.key_kind == "int" else "text[]")

    def t_bound(self, key: Any) -> tuple[sql.Composable, list[Any]]:
        if self.composite:
            return sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Placeholder() * len(key))), list(key)
        return sql.Placeholder(), [key]

    def t_keys_in(self, keys: Sequence[Any]) -> tuple[sql.Composable, list[Any]]:
        """``key IN (...)`` for a chunk of keys, values as parameters."""
        if not self.composite:
            return sql.SQL("{} = ANY(%s::{})").format(sql.Identifier(self.pk_column), self.t_array_type), [list(keys)]
        row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(self.key_indexes)))
        return (sql.SQL("({}) IN ({})").format(self.t_key_columns, sql.SQL(", ").join([row] * len(keys))),
                [value for key in keys for value in key])

    @property
    def t_hash(self) -> sql.Composable:
        return canonical.sql_row_hash([(k, f.column) for k, f in zip(self.kinds, self.fields)])

    def t_range(self, lower: Any, upper: Any) -> tuple[sql.Composable, list[Any]]:
        """A WHERE clause for ``lower <= pk < upper`` (None = unbounded) and its parameters."""
        conditions: list[sql.Composable] = [sql.SQL("true")]
        params: list[Any] = []
        for bound, operator in ((lower, ">="), (upper, "<")):
            if bound is not None:
                placeholder, values = self.t_bound(bound)
                conditions.append(sql.SQL("{} {} {}").format(self.t_pk, sql.SQL(operator), placeholder))
                params += values
        return sql.SQL(" AND ").join(conditions), params

    def target_count(self) -> int:
        query = sql.SQL("SELECT count(*) FROM {}").format(self.t_table)
        with self.target.cursor() as cursor:
            cursor.execute(self.t_sql(query))
            return int(cursor.fetchone()[0])

    def target_segments(self, lower: Any, upper: Any, boundaries: Sequence[Any]) -> dict[int, tuple[int, int]]:
        """(count, sum of row hashes) per segment of ``[lower, upper)`` cut at ``boundaries``."""
        if self.composite:  # width_bucket cannot take row values: bucket in Python
            segments: dict[int, list[int]] = {}
            for key, row_hash in self.target_hashes(lower, upper).items():
                totals = segments.setdefault(bisect.bisect_right(boundaries, key), [0, 0])
                totals[0] += 1
                totals[1] += row_hash
            return {bucket: (count, total) for bucket, (count, total) in segments.items()}
        query, params = self.segments_query(lower, upper, boundaries)
        with self.target.cursor() as cursor:
            cursor.execute(query, params)
            return _segments(cursor.fetchall())

    def boundaries_query(self) -> str:
        """SQL for every ``%s``-th target primary key, in key order: the top-level segment boundaries.

        PostgreSQL numbers its keys itself, so Python reads a hundred keys instead of all of them.
        Any boundaries would do (each segment is compared as a key range on both sides); the
        target's are the source's wherever the two hold the same keys.
        """
        query = sql.SQL("SELECT k FROM (SELECT {pk} AS k, row_number() OVER (ORDER BY {pk}) AS n FROM {t}) AS s "
                        "WHERE n %% %s = 1 AND n > 1 ORDER BY n").format(pk=self.t_pk, t=self.t_table)
        return self.t_sql(query)

    def target_segments_async(self) -> Callable[[], tuple[list[Any], dict[int, tuple[int, int]]]]:
        """Start cutting and summing the whole target table on a second connection; return its waiter.

        The waiter returns the top-level boundaries (:meth:`boundaries_query`) and the target's
        (count, sum of hashes) per segment. PostgreSQL hashes while Python hashes the source.
        Inside a transaction (tests without transaction=True), a second connection would not see
        its rows, so the queries run later on this connection instead; a composite key is cut at
        the source's keys and summed in Python (``width_bucket`` cannot take row values).
        """
        if self.composite:
            boundaries = self.source_boundaries(SEGMENT_ROWS) if self.source_present() else []
            return lambda: (boundaries, self.target_segments(None, None, boundaries))
        boundaries_query = self.boundaries_query()
        cut_query, _ = self.segments_query(None, None, [None])
        whole_query, _ = self.segments_query(None, None, [])

        def cut_and_sum(connection: psycopg.Connection[Any]) -> tuple[list[Any], dict[int, tuple[int, int]]]:
            boundaries = [row[0] for row in connection.execute(boundaries_query, [SEGMENT_ROWS])]
            query, params = (cut_query, [boundaries]) if boundaries else (whole_query, [])
            return boundaries, _segments(connection.execute(query, params).fetchall())

        if self.target.in_atomic_block:
            return lambda: cut_and_sum(self.target.connection)
        connect_params = self.target.get_connection_params()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["result"] = _on_side_connection(self.target.alias, connect_params, cut_and_sum)
            except Exception as exc:  # handed to the waiting thread
                outcome["error"] = exc

        thread = threading.Thread(target=work, name=f"validate-{self.name}", daemon=True)
        thread.start()

        def wait() -> tuple[list[Any], dict[int, tuple[int, int]]]:
            thread.join()
            if "error" in outcome:
                raise outcome["error"]
            return outcome["result"]  # type: ignore[no-any-return]
        return wait

    def segments_query(self, lower: Any, upper: Any, boundaries: Sequence[Any]) -> tuple[str, list[Any]]:
        where, params = self.t_range(lower, upper)
        bucket: sql.Composable = sql.SQL("0")
        if boundaries:
            bucket = sql.SQL("width_bucket({}, %s::{})").format(self.t_pk, self.t_array_type)
            params = [list(boundaries), *params]
        query = sql.SQL("SELECT {b} AS bucket, count(*), coalesce(sum({h}), 0) FROM {t} WHERE {w} GROUP BY 1").format(
            b=bucket, h=self.t_hash, t=self.t_table, w=where)
        return self.t_sql(query), params

    def target_hashes(self, lower: Any, upper: Any) -> dict[Any, int]:
        """Row hash by primary key for the target rows in ``[lower, upper)``."""
        where, params = self.t_range(lower, upper)
        query = sql.SQL("SELECT {pk}, {h} FROM {t} WHERE {w}").format(
            pk=self.t_key_columns, h=self.t_hash, t=self.t_table, w=where)
        with self.target.cursor() as cursor:
            cursor.execute(self.t_sql(query), params)
            return self._keyed_hashes(cursor.fetchall())

    def _keyed_hashes(self, rows: Iterable[Sequence[Any]]) -> dict[Any, int]:
        if self.composite:
            return {tuple(row[:-1]): row[-1] for row in rows}
        return {row[0]: row[1] for row in rows}

    def target_hashes_of(self, pks: Sequence[Any]) -> dict[Any, int]:
        """Row hash by primary key for the given target rows (absent rows are left out)."""
        found: dict[Any, int] = {}
        with self.target.cursor() as cursor:
            for chunk in _chunks(pks, IN_CHUNK if self.composite else FETCH_ROWS):
                where, params = self.t_keys_in(chunk)
                query = sql.SQL("SELECT {pk}, {h} FROM {t} WHERE {w}").format(
                    pk=self.t_key_columns, h=self.t_hash, t=self.t_table, w=where)
                cursor.execute(self.t_sql(query), params)
                found.update(self._keyed_hashes(cursor.fetchall()))
        return found

    def target_rows_of(self, pks: Sequence[Any]) -> dict[Any, tuple[list[Any], list[str]]]:
        """Values (as the fields read them) and canonical parts by primary key, for the given target rows."""
        columns = sql.SQL(", ").join(sql.Identifier(f.column) for f in self.fields)
        parts = sql.SQL(", ").join(canonical.sql_part(k, f.column) for k, f in zip(self.kinds, self.fields))
        readers = inventory.column_readers(self.model, self.target)
        width = len(self.fields)
        found = {}
        with self.target.cursor() as cursor:
            for chunk in _chunks(pks, IN_CHUNK if self.composite else FETCH_ROWS):
                where, params = self.t_keys_in(chunk)
                query = sql.SQL("SELECT {c}, {p} FROM {t} WHERE {w}").format(
                    c=columns, p=parts, t=self.t_table, w=where)
                cursor.execute(self.t_sql(query), params)
                for raw in cursor.fetchall():
                    values = self.read(raw[:width], readers, self.target)
                    found[self.key_of(values)] = (values, list(raw[width:]))
        return found

    # Source (SQLite): plain SQL with quoted metadata names; values bound as parameters.

    def source_present(self) -> bool:
        return self.name in self.source.introspection.table_names()

    def source_count(self) -> int:
        with self.source.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {_sqlite_name(self.name)}")
            return int(cursor.fetchone()[0])

    def _source_select(self) -> str:
        # Unary plus is a no-op on the value but hides the declared type, so sqlite3's
        # PARSE_DECLTYPES converters (on by default in Django) cannot pre-parse TIMESTAMP or DATE
        # columns: an epoch-ms integer in a TIMESTAMP column would otherwise read as None.
        columns = ", ".join(f"+{_sqlite_name(f.column)}" for f in self.fields)
        return f"SELECT {columns} FROM {_sqlite_name(self.name)}"

    @property
    def _source_order(self) -> str:
        return ", ".join(_sqlite_name(c) for c in self.key_columns)

    def source_boundaries(self, every: int) -> list[Any]:
        """Every ``every``-th source primary key, in order: the top-level segment boundaries."""
        columns = ", ".join(f"+{_sqlite_name(c)}" for c in self.key_columns)
        not_null = " AND ".join(f"{_sqlite_name(c)} IS NOT NULL" for c in self.key_columns)
        with self.source.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {_sqlite_name(self.name)} WHERE {not_null} "
                           f"ORDER BY {self._source_order}")
            keys = [tuple(row) if self.composite else row[0] for row in cursor.fetchall()]
        if self.composite:
            return keys[every::every]
        wanted = int if self.key_kind == "int" else str  # a stray type would break the typed array
        return [k for k in keys[every::every] if isinstance(k, wanted)]

    def source_raw(self) -> Iterator[tuple[Any, ...]]:
        """Every source row, raw, in primary-key order."""
        with self.source.cursor() as cursor:
            cursor.execute(f"{self._source_select()} ORDER BY {self._source_order}")
            while batch := cursor.fetchmany(FETCH_ROWS):
                yield from batch

    def source_raw_of(self, pks: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """The raw source rows with the given primary keys."""
        with self.source.cursor() as cursor:
            for chunk in _chunks(pks, IN_CHUNK):
                if self.composite:
                    row = "(" + ", ".join(["%s"] * len(self.key_indexes)) + ")"
                    columns = ", ".join(_sqlite_name(c) for c in self.key_columns)
                    where = f"({columns}) IN (VALUES {', '.join([row] * len(chunk))})"
                    params = [value for key in chunk for value in key]
                else:
                    where = f"{_sqlite_name(self.pk_column)} IN ({', '.join(['%s'] * len(chunk))})"
                    params = list(chunk)
                cursor.execute(f"{self._source_select()} WHERE {where}", params)
                yield from cursor.fetchall()

    def fingerprint(self, readers: list[inventory.ColumnReader]) -> str:
        """What turns this table's raw source rows into row hashes, as one MD5.

        The columns and their kinds, each field's class and target type, the converters the
        source applies, and the code of the modules involved (the fields' modules, the canonical
        form, this module), with the Django and Python versions. Any change starts a new cache.
        ``readers`` are the source's column readers (:func:`inventory.column_readers`).
        """
        parts: list[str] = [CACHE_FORMAT, self.name, self.target.vendor, django.get_version(),
                            platform.python_version(), _module_digest(canonical), _module_digest(inventory),
                            _module_digest(inspect.getmodule(_module_digest))]
        for fld, kind, reader in zip(self.fields, self.kinds, readers):
            parts += [fld.column, kind, f"{type(fld).__module__}.{type(fld).__qualname__}",
                      str(fld.db_type(self.target)), _module_digest(inspect.getmodule(type(fld)))]
            parts += [getattr(c, "__qualname__", repr(type(c))) for c in reader.converters]
        return hashlib.md5("\x1f".join(parts).encode()).hexdigest()

    def hasher(self) -> Callable[[tuple[Any, ...]], tuple[Any, list[str]]]:
        """A function from a raw source row to (pk, canonical parts); raises ConversionError."""
        return self._hashers()[0]

    def row_hasher(self) -> Callable[[tuple[Any, ...]], tuple[Any, int]]:
        """A function from a raw source row to (pk, row hash); raises ConversionError."""
        return self._hashers()[1]

    def _hashers(self) -> tuple[Callable[[tuple[Any, ...]], tuple[Any, list[str]]],
                                Callable[[tuple[Any, ...]], tuple[Any, int]]]:
        """(pk, canonical parts) and (pk, row hash) of a raw source row; both raise ConversionError.

        Columns without converters are canonicalized straight from the raw value; columns with
        converters (legacy timestamps, JSON, flags) memoize raw value -> part, because legacy data
        repeats such values a lot (defaults, dates, ``'[]'``).
        """
        readers = inventory.column_readers(self.model, self.source)
        source, target = self.source, self.target
        plan = [(r if r.converters else None, canonical.python_canonical(k, r.field, target),
                 {} if r.converters else None) for r, k in zip(readers, self.kinds)]
        key_of, read, name = self.key_of, self.read, self.name
        converted_key = any(plan[i][0] for i in self.key_indexes)

        def explain(raw: tuple[Any, ...]) -> None:
            values = read(raw, readers, source)  # raises the named reader error
            for (_, canon, _), value, reader in zip(plan, values, readers):
                try:
                    None if value is None else canon(value)
                except _READ_ERRORS as exc:
                    raise ConversionError(name, key_of(raw), reader.field.column, value,
                                          f"the target column cannot hold it ({exc})") from exc

        def convert(index: int, value: Any) -> str:
            """A converted column's part, computed once per distinct raw value (up to MEMO_ENTRIES)."""
            reader, canon, memo = plan[index]
            converted = reader(value, source)
            part = "N" if converted is None else "v" + canon(converted)
            if len(memo) < MEMO_ENTRIES and (type(value) is not str or len(value) <= MEMO_VALUE_CHARS):
                memo[value if type(value) is str else (type(value), value)] = part
            return part

        row_parts, row_hash = _compile_row_parts(
            [(canon, memo, kind) for (_, canon, memo), kind in zip(plan, self.kinds)], convert)
        key_index = self.key_indexes[0]
        composite = self.composite

        def parts_of(raw: tuple[Any, ...]) -> tuple[Any, list[str]]:
            try:
                parts = row_parts(raw)
            except _READ_ERRORS as exc:
                explain(raw)
                raise ConversionError(name, key_of(raw), "?", None, str(exc)) from exc
            if converted_key:
                return key_of(read(raw, readers, source)), parts
            return (key_of(raw) if composite else raw[key_index]), parts

        def hash_of(raw: tuple[Any, ...]) -> tuple[Any, int]:
            try:
                row = row_hash(raw)
            except _READ_ERRORS:
                parts_of(raw)  # raises the named error
                raise
            if converted_key:
                return key_of(read(raw, readers, source)), row
            return (key_of(raw) if composite else raw[key_index]), row
        return parts_of, hash_of

    def source_hashes_of(self, pks: Sequence[Any]) -> dict[Any, int]:
        """Row hash by primary key for the given source rows (absent or unreadable rows are left out)."""
        hash_of = self.row_hasher()
        found = {}
        for raw in self.source_raw_of(pks):
            try:
                pk, row_hash = hash_of(raw)
            except ConversionError:
                continue
            found[pk] = row_hash
        return found


def _compile_row_parts(
    columns: list[tuple[Callable[[Any], str], dict[Any, str] | None, str]],
    convert: Callable[[int, Any], str],
) -> tuple[Callable[[tuple[Any, ...]], list[str]], Callable[[tuple[Any, ...]], int]]:
    """Functions from a raw row to its canonical parts and to its row hash, one expression per column.

    This is the hot loop of a validation (once per source row, a million times for a million
    rows); unrolling the columns into straight-line code instead of looping over a plan roughly
    halves its cost. Each expression does what :func:`canonical.python_part` does, inlining the
    common raw types and looking converted columns up in their memo before converting; the hash
    is :func:`canonical.row_hash`, inlined.
    """
    namespace: dict[str, Any] = {"convert": convert, "pack": canonical._pack_double}
    expressions = []
    for i, (canon, memo, kind) in enumerate(columns):
        namespace[f"c{i}"] = canon
        v = f"v{i}"
        if memo is not None:
            namespace[f"m{i}"] = memo
            value = f"(m{i}.get({v} if type({v}) is str else (type({v}), {v})) or convert({i}, {v}))"
        elif kind == canonical.TEXT:
            value = f'(f"v{{len({v})}}:{{{v}}}" if type({v}) is str else "v" + c{i}({v}))'
        elif kind == canonical.INT:
            value = f'(f"v{{{v}}}" if type({v}) is int else "v" + c{i}({v}))'
        elif kind == canonical.FLOAT:
            value = f'("v" + pack({v} + 0.0).hex() if type({v}) is float else "v" + c{i}({v}))'
        else:
            value = f'"v" + c{i}({v})'
        expressions.append(f'"N" if {v} is None else {value}')
    unpack = f"    {', '.join(f'v{i}' for i in range(len(columns)))}, = raw\n"
    parts = f"[{', '.join(expressions)}]"
    source = (f"def row_parts(raw):\n{unpack}    return {parts}\n"
              f"def row_hash(raw):\n{unpack}"
              f"    return from_bytes(md5('|'.join({parts}).encode()).digest()[:8], 'big') >> 4\n")
    namespace.update(md5=canonical._md5, from_bytes=int.from_bytes)
    exec(source, namespace)  # the source is built from column positions only, never from data
    return namespace["row_parts"], namespace["row_hash"]


def _segments(rows: Iterable[tuple[Any, Any, Any]]) -> dict[int, tuple[int, int]]:
    return {int(bucket): (int(count), int(total)) for bucket, count, total in rows}


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter), from any iterable."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_side_connections: dict[tuple[int, str], psycopg.Connection[Any]] = {}


def _on_side_connection(alias: str, connect_params: dict[str, Any], work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
    """``work(connection)`` on this process's second connection to ``alias``, kept from table to table.

    A kept connection that fails (the server restarted, the backend was terminated) is replaced
    once, and the work repeated on a fresh one; a fresh one's failure is raised.
    """
    key = (os.getpid(), alias)
    connection = _side_connections.pop(key, None)
    if connection is not None and (connection.closed or connection.broken):
        connection = None
    while True:
        kept = connection is not None
        if connection is None:
            connection = psycopg.connect(**connect_params, autocommit=True)
        try:
            result = work(connection)
        except psycopg.OperationalError:
            connection.close()
            if not kept:
                raise
            connection = None
            continue
        except BaseException:
            connection.close()
            raise
        _side_connections[key] = connection
        return result


def close_side_connections() -> None:
    """Close this process's second connections (a forked child forgets its parent's without closing them)."""
    for key in list(_side_connections):
        connection = _side_connections.pop(key)
        if key[0] == os.getpid():
            connection.close()


# --- Row-level comparison -------------------------------------------------------------------

@dataclass
class _SourceScan:
    """Every readable source row's primary key and hash, in key order, plus the unreadable ones."""

    keys: Any
    hashes: array
    unreadable: list[dict[str, Any]]
    unreadable_pks: set[Any]


_module_digests: dict[str, str] = {}


def _module_digest(module: Any) -> str:
    """MD5 of a module's source file, read once per process ("" for a module without one)."""
    name = getattr(module, "__name__", "")
    if name not in _module_digests:
        try:
            path = inspect.getsourcefile(module)
            data = Path(path).read_bytes() if path else b""
        except (TypeError, OSError):
            data = b""
        _module_digests[name] = hashlib.md5(data).hexdigest()
    return _module_digests[name]


class _HashCache:
    """Row hashes remembered per run of raw source rows (see :class:`ValidationHashCache`).

    Converting every source value is most of a validation's cost; a run of rows whose raw bytes
    are exactly those of a run hashed before (same digest, same fingerprint) reuses that run's
    hashes. The target side is hashed afresh every time, so a difference on either side is still
    found: a changed source row changes its run's digest, a changed target row its own hash.
    """

    def __init__(self, table: _Table, enabled: bool) -> None:
        self.table = table
        self.enabled = enabled
        self.fingerprint = ""
        self.known: dict[str, bytes] = {}
        if enabled:
            readers = inventory.column_readers(table.model, table.source)
            # A key read through converters is not the raw value the reused runs would give.
            self.enabled = not any(readers[i].converters for i in table.key_indexes)
        if self.enabled:
            self.fingerprint = table.fingerprint(readers)
            entries = ValidationHashCache.objects.using(table.target.alias).filter(
                table=table.name, fingerprint=self.fingerprint).values_list("digest", "hashes")
            self.known = {digest: bytes(hashes) for digest, hashes in entries}
        self.used: set[str] = set()
        self.new: dict[str, tuple[int, bytes]] = {}
        self.reused_rows = 0

    @staticmethod
    def digest(run: list[tuple[Any, ...]]) -> str:
        # marshal version 2 writes no back-references, so equal rows always give equal bytes.
        return hashlib.md5(marshal.dumps(run, 2)).hexdigest()

    def save(self) -> None:
        """Store the runs hashed now and forget those this table no longer has."""
        if not self.enabled:
            return
        alias = self.table.target.alias
        with transaction.atomic(using=alias):
            ValidationHashCache.objects.using(alias).filter(table=self.table.name).exclude(
                fingerprint=self.fingerprint, digest__in=list(self.used | set(self.new))).delete()
            ValidationHashCache.objects.using(alias).bulk_create(
                [ValidationHashCache(table=self.table.name, fingerprint=self.fingerprint, digest=digest,
                                     rows=rows, hashes=hashes) for digest, (rows, hashes) in self.new.items()],
                ignore_conflicts=True, batch_size=100,
            )


def _scan_source(table: _Table, progress: Progress, cache: _HashCache | None = None) -> _SourceScan:
    keys: Any = array("q") if table.key_kind == "int" else list()
    hashes = array("q")
    unreadable: list[dict[str, Any]] = []
    unreadable_pks: set[Any] = set()
    hash_of = table.row_hasher()
    cache = cache or _HashCache(table, enabled=False)
    key_of = table.key_of if table.composite else operator.itemgetter(table.pk_index)
    count = 0
    for run in _chunks(table.source_raw(), CACHE_ROWS):
        digest = cache.digest(run) if cache.enabled else ""
        remembered = cache.known.get(digest)
        if remembered is not None and len(remembered) == 8 * len(run):
            keys.extend(map(key_of, run))
            hashes.frombytes(remembered)
            cache.used.add(digest)
            cache.reused_rows += len(run)
        else:
            clean = True
            start = len(hashes)
            for raw in run:
                try:
                    pk, row_hash = hash_of(raw)
                    if pk is None or (table.composite and None in pk):
                        raise ConversionError(table.name, pk, table.pk_column, None,
                                              "a NULL primary key cannot be copied")
                except ConversionError as exc:
                    unreadable.append(exc.as_record())
                    unreadable_pks.add(table.key_of(raw))
                    clean = False
                    continue
                keys.append(pk)
                hashes.append(row_hash)
            if cache.enabled and clean:
                cache.new[digest] = (len(run), hashes[start:].tobytes())
        previous, count = count, count + len(run)
        if count // 100_000 > previous // 100_000:
            progress("source_rows", {"table": table.name, "rows": count})
    if not all(map(operator.le, keys, itertools.islice(keys, 1, None))):
        # SQLite's BINARY order is code-point order, like Python's; resort only if a type mix broke it.
        order = sorted(range(len(keys)), key=keys.__getitem__)
        keys = array("q", (keys[i] for i in order)) if table.key_kind == "int" else [keys[i] for i in order]
        hashes = array("q", (hashes[i] for i in order))
    return _SourceScan(keys, hashes, unreadable, unreadable_pks)


@dataclass
class _RowDiff:
    """Differing rows by kind, with both sides' hashes at first sight (None = absent)."""

    missing: dict[Any, tuple[int | None, int | None]] = dataclass_field(default_factory=dict)
    extra: dict[Any, tuple[int | None, int | None]] = dataclass_field(default_factory=dict)
    changed: dict[Any, tuple[int | None, int | None]] = dataclass_field(default_factory=dict)


class _Bisector:
    """Compare key-range segments by (count, sum of hashes) and split the differing ones."""

    def __init__(self, table: _Table, scan: _SourceScan, progress: Progress) -> None:
        self.table = table
        self.keys = scan.keys
        self.hashes = scan.hashes
        self.skip = scan.unreadable_pks
        self.progress = progress
        self.diff = _RowDiff()
        self.target_count = 0

    def run(self, boundaries: list[Any], segments: dict[int, tuple[int, int]]) -> _RowDiff:
        """Compare the top-level segments cut at ``boundaries`` (the target's sums given), then bisect."""
        self.target_count = sum(count for count, _ in segments.values())
        self._compare_segments(None, None, boundaries, segments, depth=0)
        return self.diff

    def _index(self, key: Any, default: int) -> int:
        return default if key is None else bisect.bisect_left(self.keys, key)

    def _compare_segments(self, lower: Any, upper: Any, boundaries: list[Any],
                          segments: dict[int, tuple[int, int]], depth: int) -> None:
        edges = [lower, *boundaries, upper]
        for bucket in range(len(edges) - 1):
            self._compare(edges[bucket], edges[bucket + 1], *segments.get(bucket, (0, 0)), depth=depth)

    def _compare(self, lower: Any, upper: Any, target_count: int, target_sum: int, depth: int) -> None:
        lo = self._index(lower, 0)
        hi = self._index(upper, len(self.keys))
        if (hi - lo, sum(self.hashes[lo:hi])) == (target_count, target_sum):
            return
        self.progress("segment", {"table": self.table.name, "depth": depth, "lower": lower, "upper": upper,
                                  "source_rows": hi - lo, "target_rows": target_count})
        if target_count == 0:
            for i in range(lo, hi):
                self.diff.missing[self.keys[i]] = (self.hashes[i], None)
            return
        if hi - lo <= max(1, LEAF_ROWS) or (target_count <= LEAF_ROWS and hi - lo <= LEAF_ROWS):
            self._compare_rows(lo, hi, self.table.target_hashes(lower, upper))
            return
        step = -(-(hi - lo) // FANOUT)
        boundaries = [self.keys[i] for i in range(lo + step, hi, step)]
        segments = self.table.target_segments(lower, upper, boundaries)
        self._compare_segments(lower, upper, boundaries, segments, depth + 1)

    def _compare_rows(self, lo: int, hi: int, target: dict[Any, int]) -> None:
        for i in range(lo, hi):
            key, source_hash = self.keys[i], self.hashes[i]
            target_hash = target.pop(key, None)
            if target_hash is None:
                self.diff.missing[key] = (source_hash, None)
            elif target_hash != source_hash:
                self.diff.changed[key] = (source_hash, target_hash)
        for key, target_hash in target.items():
            if key not in self.skip:
                self.diff.extra[key] = (None, target_hash)


def pending_pks(model: type[models.Model]) -> set[str]:
    """Primary keys (as text) of ``model`` rows waiting in the dual-write outbox; empty without one."""
    try:
        from migration import dualwrite
    except ImportError:
        return set()
    pending = getattr(dualwrite, "pending_pks", None)
    return set() if pending is None else {str(pk) for pk in pending(model)}


def _recheck(table: _Table, diff: _RowDiff, pending: set[str]) -> tuple[_RowDiff, list[Any]]:
    """Re-hash the differing rows; rows that moved since first sight or wait in the outbox are in flight."""
    kinds = (diff.missing, diff.extra, diff.changed)
    pks = [pk for kind in kinds for pk in kind]
    source_now = table.source_hashes_of(pks)
    target_now = table.target_hashes_of(pks)
    confirmed = _RowDiff()
    in_flight = []
    for kind, kept in zip(kinds, (confirmed.missing, confirmed.extra, confirmed.changed)):
        for pk, first in kind.items():
            now = (source_now.get(pk), target_now.get(pk))
            if now != first or str(pk) in pending:
                in_flight.append(pk)
            else:
                kept[pk] = first
    return confirmed, in_flight


def _column_differences(table: _Table, pks: Sequence[Any]) -> list[ChangedRow]:
    """Name the differing columns of changed rows, with both values as the fields read them."""
    parts_of = table.hasher()
    readers = inventory.column_readers(table.model, table.source)
    source = {}
    for raw in table.source_raw_of(pks):
        values = table.read(raw, readers, table.source)
        source[table.key_of(values)] = (values, parts_of(raw)[1])
    target = table.target_rows_of(pks)
    rows = []
    for pk in pks:
        if pk not in source or pk not in target:
            continue
        (s_values, s_parts), (t_values, t_parts) = source[pk], target[pk]
        columns = [ColumnDifference(f.column, s_values[i], t_values[i])
                   for i, f in enumerate(table.fields) if s_parts[i] != t_parts[i]]
        rows.append(ChangedRow(pk, columns))
    return rows


def _sequence_check(table: _Table) -> SequenceCheck | None:
    """The target sequence of an auto-increment key, or None when the key has none."""
    pk = table.fields[table.pk_index]
    if table.composite or not isinstance(pk, AutoFieldMixin):
        return None
    with table.target.cursor() as cursor:
        quoted_table = table.t_sql(table.t_table)
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [quoted_table, pk.column])
        sequence = cursor.fetchone()[0]
        if sequence is None:
            return None
        cursor.execute(
            "SELECT s.last_value, s.start_value, s.increment_by FROM pg_sequences s"
            " WHERE format('%%I.%%I', s.schemaname, s.sequencename)::regclass = %s::regclass",
            [sequence],
        )
        last_value, start_value, increment = cursor.fetchone()
        cursor.execute(table.t_sql(sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(pk.column),
                                                                          table.t_table)))
        max_pk = cursor.fetchone()[0]
    next_value = start_value if last_value is None else last_value + increment
    return SequenceCheck(sequence, int(next_value), None if max_pk is None else int(max_pk),
                         ids_from_source=_ids_from_source(table))


def _ids_from_source(table: _Table) -> bool:
    """True while dual writes copy the source's ids into the target (phases 1 and 2 of the cutover)."""
    from migration import phase

    try:
        state = phase.current_state()
    except DatabaseError:
        return False
    return (state.phase in (phase.Phase.DUAL_WRITE, phase.Phase.READ_ROLLOUT)
            and table.source.alias == conf.source_alias() and table.target.alias == conf.target_alias())


def _reset_sequence(table: _Table, check: SequenceCheck) -> None:
    with table.target.cursor() as cursor:
        cursor.execute("SELECT setval(%s::regclass, %s)", [check.sequence, check.max_pk])


def validate_table(
    model: type[models.Model],
    *,
    source: BaseDatabaseWrapper,
    target: BaseDatabaseWrapper,
    row_level: bool = True,
    limit: int = 10,
    progress: Progress | None = None,
    reuse_hashes: bool = True,
) -> TableResult:
    """Compare one model's table on both connections (first pass; see :func:`recheck_table`).

    With ``reuse_hashes``, runs of source rows whose raw bytes are unchanged since an earlier
    validation take their row hashes from it (:class:`_HashCache`) instead of converting again.
    """
    progress = progress or _silent
    started = time.monotonic()
    table = _Table.of(model, source, target)
    present = table.source_present()
    progress("table_start", {"table": table.name})
    if not row_level:
        result = TableResult(model, present, table.source_count() if present else 0,
                             table.target_count(), row_level=False)
    else:
        target_segments = table.target_segments_async()
        cache = _HashCache(table, enabled=reuse_hashes and present)
        scan = _scan_source(table, progress, cache) if present else _SourceScan([], array("q"), [], set())
        bisector = _Bisector(table, scan, progress)
        diff = bisector.run(*target_segments())
        cache.save()
        result = TableResult(model, present, len(scan.keys) + len(scan.unreadable), bisector.target_count,
                             row_level=True, unreadable=scan.unreadable, first_pass=diff,
                             reused_hashes=cache.reused_rows)
    result.sequence = _sequence_check(table)
    result.elapsed = time.monotonic() - started
    progress("table_done", {"table": table.name, "result": result})
    return result


def recheck_table(result: TableResult, *, source: BaseDatabaseWrapper, target: BaseDatabaseWrapper,
                  limit: int = 10) -> TableResult:
    """Second pass: confirm the first pass's differences, set rows in flight aside, name changed columns."""
    diff = result.first_pass
    if diff is None:
        return result
    table = _Table.of(result.model, source, target)
    if diff.missing or diff.extra or diff.changed:
        diff, result.in_flight = _recheck(table, diff, pending_pks(result.model))
    result.missing, result.extra, result.changed = list(diff.missing), list(diff.extra), list(diff.changed)
    result.changed_rows = _column_differences(table, result.changed[:limit]) if result.changed else []
    result.first_pass = None
    return result


def _silent(event: str, data: dict[str, Any]) -> None:
    """The default progress callback: report nothing."""


# --- Repair ---------------------------------------------------------------------------------

def repair_rows(
    model: type[models.Model],
    pks: Iterable[Any],
    *,
    source: str | None = None,
    target: str | None = None,
    run: ValidationRun | None = None,
) -> RepairResult:
    """Make the target's rows ``pks`` of ``model`` equal to the source's, then check them again.

    Rows present in the source are written to the target (inserted or updated, through the same
    field conversion as the copy); rows absent from the source are deleted from the target. The
    writes and their :class:`ValidationRepair` records commit together. Raises ConversionError
    when a source row cannot be read (nothing is written then).
    """
    source_db = connections[source or conf.source_alias()]
    target_db = connections[target or conf.target_alias()]
    table = _Table.of(model, source_db, target_db)
    key_fields = [table.fields[i] for i in table.key_indexes]
    if table.composite:
        wanted = list(dict.fromkeys(tuple(f.to_python(v) for f, v in zip(key_fields, pk)) for pk in pks))
    else:
        wanted = list(dict.fromkeys(key_fields[0].to_python(pk) for pk in pks))
    readers = inventory.column_readers(model, source_db)
    source_rows = {}
    if table.source_present():
        for raw in table.source_raw_of(wanted):
            values = table.read(raw, readers, source_db)
            source_rows[table.key_of(values)] = values
    before = table.target_rows_of(wanted)
    result = RepairResult(table.name)
    records = []
    with transaction.atomic(using=target_db.alias):
        _upsert(table, list(source_rows.values()))
        gone = [pk for pk in wanted if pk not in source_rows and pk in before]
        _delete(table, gone)
        source_hashes = table.source_hashes_of(wanted)
        target_hashes = table.target_hashes_of(wanted)
        for pk in wanted:
            if pk in source_rows:
                action = ValidationRepair.Action.UPDATE if pk in before else ValidationRepair.Action.INSERT
                (result.updated if pk in before else result.inserted).append(pk)
                columns = _changed_columns(table, before.get(pk), source_rows[pk])
            elif pk in before:
                action = ValidationRepair.Action.DELETE
                result.deleted.append(pk)
                columns = []
            else:
                continue
            verified = source_hashes.get(pk) == target_hashes.get(pk)
            if not verified:
                result.unverified.append(pk)
            records.append(ValidationRepair(run=run, table=table.name, pk_value=str(pk), action=action,
                                            columns=columns, verified=verified))
        before_check = check = _sequence_check(table)
        if before_check is not None and not before_check.ok:
            _reset_sequence(table, before_check)
            result.sequence_reset = True
            check = _sequence_check(table)
            records.append(ValidationRepair(
                run=run, table=table.name, pk_value=str(before_check.max_pk),
                action=ValidationRepair.Action.SEQUENCE,
                columns=[[before_check.sequence, before_check.next_value, None if check is None else check.next_value]],
                verified=check is None or check.ok,
            ))
        result.sequence_ok = check is None or check.ok
        ValidationRepair.objects.bulk_create(records)
    return result


def _changed_columns(table: _Table, before: tuple[list[Any], list[str]] | None,
                     values: list[Any]) -> list[list[Any]]:
    """[column, target value before, source value] for each column the repair changes."""
    canons = [canonical.python_canonical(k, f, table.target) for k, f in zip(table.kinds, table.fields)]
    changed = []
    for i, f in enumerate(table.fields):
        new_part = canonical.python_part(canons[i], values[i])
        if before is None or before[1][i] != new_part:
            changed.append([f.column, None if before is None else _jsonable(before[0][i]), _jsonable(values[i])])
    return changed


def _upsert(table: _Table, rows: list[list[Any]]) -> None:
    """INSERT ... ON CONFLICT (pk) DO UPDATE for a handful of rows, values prepared by each field."""
    if not rows:
        return
    columns = [sql.Identifier(f.column) for f in table.fields]
    updates = [sql.SQL("{} = EXCLUDED.{}").format(c, c) for i, c in enumerate(columns) if i not in table.key_indexes]
    statement = sql.SQL("INSERT INTO {t} ({c}) VALUES ({v}) ON CONFLICT ({pk}) DO {action}").format(
        t=table.t_table, c=sql.SQL(", ").join(columns), v=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        pk=table.t_key_columns,
        action=sql.SQL("UPDATE SET {}").format(sql.SQL(", ").join(updates)) if updates else sql.SQL("NOTHING"),
    )
    prepared = [[f.get_db_prep_save(v, table.target) for f, v in zip(table.fields, row)] for row in rows]
    with table.target.cursor() as cursor:
        cursor.executemany(table.t_sql(statement), prepared)


def _delete(table: _Table, pks: list[Any]) -> None:
    if not pks:
        return
    with table.target.cursor() as cursor:
        for chunk in _chunks(pks, IN_CHUNK):
            where, params = table.t_keys_in(chunk)
            cursor.execute(table.t_sql(sql.SQL("DELETE FROM {t} WHERE {w}").format(t=table.t_table, w=where)), params)


# --- The whole run --------------------------------------------------------------------------

def resolve_models(names: Iterable[str] | None) -> list[type[models.Model]]:
    """Migrated models named by table or label (all when ``names`` is None); unknown names raise."""
    if names is None:
        return inventory.migrated_models()
    wanted = [n for n in names if n]
    found = inventory.migrated_models(wanted)
    known = {name for m in found for name in (m._meta.label_lower, m._meta.model_name, m._meta.db_table.lower())}
    unknown = [n for n in wanted if n.lower() not in known]
    if unknown:
        raise UnknownTablesError(unknown, sorted(m._meta.db_table for m in inventory.migrated_models()))
    return found


def validate(
    tables: Iterable[str] | None = None,
    *,
    source: str | None = None,
    target: str | None = None,
    row_level: bool = True,
    limit: int = 10,
    recheck_delay: float = 1.0,
    repair: bool = False,
    confirm: Callable[[ValidationReport], bool] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    reuse_hashes: bool = True,
) -> ValidationReport:
    """Compare every migrated table (or ``tables``) on both databases, optionally repair, and store the run.

    Row level (the default): counts, missing, extra and changed rows with their columns, after a
    re-check ``recheck_delay`` seconds later that sets rows in flight aside. ``row_level=False``
    compares counts only. With ``repair``, differing rows are re-copied or deleted once
    ``confirm(report)`` agrees (no callback: no question). Sequences are checked in both modes.
    """
    progress = progress or _silent
    source_alias, target_alias = source or conf.source_alias(), target or conf.target_alias()
    for alias in (source_alias, target_alias):
        if alias not in connections:
            raise ValidationSetupError(f"no database alias {alias!r}; check --source/--target and DATABASES")
    if connections[target_alias].vendor != "postgresql":
        raise ValidationSetupError(f"the target {target_alias!r} must be PostgreSQL, not "
                                   f"{connections[target_alias].vendor}")
    models_ = resolve_models(tables)
    source_db, target_db = connections[source_alias], connections[target_alias]
    _check_tables(models_, source_db, target_db)
    started_at, started = timezone.now(), time.monotonic()
    run = ValidationRun.objects.create(started_at=started_at, source_alias=source_alias,
                                       target_alias=target_alias,
                                       mode=ValidationRun.Mode.ROWS if row_level else ValidationRun.Mode.COUNTS)
    progress("start", {"tables": len(models_), "row_level": row_level})
    try:
        results = _first_passes(models_, source_alias, target_alias, row_level, limit, progress, jobs, reuse_hashes)
    finally:
        close_side_connections()
    progress("first_pass_done", {"tables": len(results)})
    if row_level:
        if any(r.first_pass and (r.first_pass.missing or r.first_pass.extra or r.first_pass.changed)
               for r in results):
            progress("recheck", {"delay": recheck_delay})
            time.sleep(recheck_delay)
        for result in results:
            recheck_table(result, source=source_db, target=target_db, limit=limit)
    report = ValidationReport(row_level, source_alias, target_alias, results, 0.0, limit, run.pk)
    if repair and not report.found_clean and (confirm is None or confirm(report)):
        _repair_report(report, run, source_alias, target_alias, progress)
    report.elapsed = time.monotonic() - started
    _store(run, report)
    return report


def _check_tables(models_: list[type[models.Model]], source: BaseDatabaseWrapper,
                  target: BaseDatabaseWrapper) -> None:
    """Fail early, and say what to do, when the target lacks tables or the source has none of them."""
    target_tables = set(target.introspection.table_names())
    missing = [m._meta.db_table for m in models_ if m._meta.db_table not in target_tables]
    if missing:
        raise ValidationSetupError(
            f"the target {target.alias!r} has no table {', '.join(missing[:10])}"
            f"{' ...' if len(missing) > 10 else ''}; run ./manage.py migrate --database {target.alias}"
        )
    source_tables = set(source.introspection.table_names())
    if models_ and not any(m._meta.db_table in source_tables for m in models_):
        raise ValidationSetupError(
            f"the source {source.alias!r} ({source.settings_dict['NAME']}) has none of the "
            f"{len(models_)} table(s) to validate; check SQLITE_PATH or --source"
        )


def _first_passes(models_: list[type[models.Model]], source: str, target: str, row_level: bool, limit: int,
                  progress: Progress, jobs: int, reuse_hashes: bool = True) -> list[TableResult]:
    """Every table's first pass: in this process, or spread over ``jobs`` forked processes.

    The source side hashes in Python, one core per process; tables are independent, so several
    processes finish sooner on a multi-core machine. Inside a transaction (tests without
    transaction=True) other processes could not see its rows, so the work stays here.
    """
    in_transaction = any(connections[alias].in_atomic_block for alias in connections)
    if jobs <= 1 or len(models_) < 2 or in_transaction:
        return [validate_table(m, source=connections[source], target=connections[target], row_level=row_level,
                               limit=limit, progress=progress, reuse_hashes=reuse_hashes) for m in models_]
    # Biggest tables first, so that no large table starts last.
    sizes = {m: _source_size(m, connections[source]) for m in models_}
    # Children must not share the parent's sockets or SQLite handles: open fresh ones after fork.
    connections.close_all()
    close_side_connections()
    results: dict[str, TableResult] = {}
    context = multiprocessing.get_context("fork")
    with context.Pool(min(jobs, len(models_))) as pool:
        work = [(m._meta.label, source, target, row_level, limit, reuse_hashes)
                for m in sorted(models_, key=lambda m: -sizes[m])]
        for result in pool.imap_unordered(_first_pass_in_worker, work):
            results[result.label] = result
            progress("table_done", {"table": result.table, "result": result})
    return [results[m._meta.label] for m in models_]


def _source_size(model: type[models.Model], source: BaseDatabaseWrapper) -> int:
    table = _Table.of(model, source, source)
    return table.source_count() if table.source_present() else 0


def _first_pass_in_worker(work: tuple[str, str, str, bool, int, bool]) -> TableResult:
    """One table's first pass in a worker process, on the worker's own connections."""
    label, source, target, row_level, limit, reuse_hashes = work
    try:
        return validate_table(apps.get_model(label), source=connections[source], target=connections[target],
                              row_level=row_level, limit=limit, reuse_hashes=reuse_hashes)
    finally:
        connections.close_all()
        close_side_connections()


def _repair_report(report: ValidationReport, run: ValidationRun, source: str, target: str,
                   progress: Progress) -> None:
    """Repair every table's differences in one target transaction (deferred FKs hold at commit)."""
    with transaction.atomic(using=target):
        for result in report.tables:
            if result.found_clean:
                continue
            pks = [*result.missing, *result.changed, *result.extra]
            progress("repair", {"table": result.table, "rows": len(pks)})
            result.repair = repair_rows(result.model, pks, source=source, target=target, run=run)
            if result.repair.changed and not result.row_level:
                result.target_count = _Table.of(result.model, connections[source], connections[target]).target_count()
    report.repaired = True


def _store(run: ValidationRun, report: ValidationReport) -> None:
    """Record the finished run and its per-table results together."""
    with transaction.atomic(using=run._state.db):
        run.finished_at = timezone.now()
        run.clean = report.clean
        run.source_rows, run.target_rows = report.source_rows, report.target_rows
        run.differences = report.differences
        run.repaired = sum(t.repair.changed for t in report.tables if t.repair)
        run.elapsed_seconds = report.elapsed
        run.save()
        ValidationTable.objects.using(run._state.db).bulk_create(
            ValidationTable(
                run=run, table=t.table, model_label=t.label, source_count=t.source_count,
                target_count=t.target_count, missing=len(t.missing), extra=len(t.extra),
                changed=len(t.changed), unreadable=len(t.unreadable), in_flight=len(t.in_flight),
                sequence_ok=None if t.sequence is None else t.sequence.ok, clean=t.clean,
                details=t.as_dict(report.limit),
            )
            for t in report.tables
        )


def latest_run(*, finished: bool = True) -> ValidationRun | None:
    """The latest stored run (finished ones only by default), with ``clean`` and ``tables``, or None."""
    runs = ValidationRun.objects.all()
    if finished:
        runs = runs.filter(finished_at__isnull=False)
    return runs.order_by("-started_at", "-pk").prefetch_related("tables").first()
