"""The target side of a validation: PostgreSQL counts, cuts, sums and hashes rows in SQL.

Queries are composed with psycopg.sql: identifiers come from model metadata only, values are
parameters. PostgreSQL hashes the whole target on a second connection while Python hashes the
source (:meth:`TargetSide.segments_async`).
"""
from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from django.db.models.fields import AutoFieldMixin
from psycopg import sql

from migration import inventory
from migration.db import chunks
from migration.values import canonical
from migration.verify.report import SequenceCheck
from migration.verify.table import Table

SEGMENT_ROWS = 10_000  # source rows per top-level segment
FETCH_ROWS = 5_000
IN_CHUNK = 500  # composite keys per `IN (...)` query


def segments_of(rows: Iterable[tuple[Any, Any, Any]]) -> dict[int, tuple[int, int]]:
    return {int(bucket): (int(count), int(total)) for bucket, count, total in rows}


class TargetSide:
    """One table's rows on the PostgreSQL target."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.connection = table.target

    # The annotations below name psycopg.sql in full: in the class body, ``sql`` is this method.
    def sql(self, composed: sql.Composable) -> str:
        self.connection.ensure_connection()
        return composed.as_string(self.connection.connection)

    @property
    def ident(self) -> psycopg.sql.Identifier:
        return sql.Identifier(self.table.name)

    @property
    def pk(self) -> psycopg.sql.Composable:
        """The key as PostgreSQL compares it: text in "C" (code point) order, like Python and SQLite."""
        t = self.table
        parts = []
        for i in t.key_indexes:
            column = sql.Identifier(inventory.column_of(t.fields[i]))
            parts.append(column if t.kinds[i] == canonical.INT else sql.SQL('{} COLLATE "C"').format(column))
        return parts[0] if len(parts) == 1 else sql.SQL("ROW({})").format(sql.SQL(", ").join(parts))

    @property
    def key_columns(self) -> psycopg.sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(c) for c in self.table.key_columns)

    @property
    def array_type(self) -> psycopg.sql.SQL:
        return sql.SQL("bigint[]" if self.table.key_kind == "int" else "text[]")

    def bound(self, key: Any) -> tuple[psycopg.sql.Composable, list[Any]]:
        if self.table.composite:
            return sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Placeholder() * len(key))), list(key)
        return sql.Placeholder(), [key]

    def keys_in(self, keys: Sequence[Any]) -> tuple[psycopg.sql.Composable, list[Any]]:
        """``key IN (...)`` for a chunk of keys, values as parameters."""
        t = self.table
        if not t.composite:
            return sql.SQL("{} = ANY(%s::{})").format(sql.Identifier(t.pk_column), self.array_type), [list(keys)]
        row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(t.key_indexes)))
        return (sql.SQL("({}) IN ({})").format(self.key_columns, sql.SQL(", ").join([row] * len(keys))),
                [value for key in keys for value in key])

    @property
    def row_hash(self) -> psycopg.sql.Composable:
        return canonical.sql_row_hash(list(zip(self.table.kinds, self.table.columns)))

    def where_range(self, lower: Any, upper: Any) -> tuple[psycopg.sql.Composable, list[Any]]:
        """A WHERE clause for ``lower <= pk < upper`` (None = unbounded) and its parameters."""
        conditions: list[sql.Composable] = [sql.SQL("true")]
        params: list[Any] = []
        for bound, operator in ((lower, ">="), (upper, "<")):
            if bound is not None:
                placeholder, values = self.bound(bound)
                conditions.append(sql.SQL("{} {} {}").format(self.pk, sql.SQL(operator), placeholder))
                params += values
        return sql.SQL(" AND ").join(conditions), params

    def count(self) -> int:
        query = sql.SQL("SELECT count(*) FROM {}").format(self.ident)
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql(query))
            return int(cursor.fetchone()[0])

    def segments(self, lower: Any, upper: Any, boundaries: Sequence[Any]) -> dict[int, tuple[int, int]]:
        """(count, sum of row hashes) per segment of ``[lower, upper)`` cut at ``boundaries``."""
        if self.table.composite:  # width_bucket cannot take row values: bucket in Python
            segments: dict[int, list[int]] = {}
            for key, row_hash in self.hashes(lower, upper).items():
                totals = segments.setdefault(bisect.bisect_right(boundaries, key), [0, 0])
                totals[0] += 1
                totals[1] += row_hash
            return {bucket: (count, total) for bucket, (count, total) in segments.items()}
        query, params = self.segments_query(lower, upper, boundaries)
        with self.connection.cursor() as cursor:
            cursor.execute(query, params)
            return segments_of(cursor.fetchall())

    def boundaries_query(self) -> str:
        """SQL for every ``%s``-th target primary key, in key order: the top-level segment boundaries.

        PostgreSQL numbers its keys itself, so Python reads a hundred keys instead of all of them.
        Any boundaries would do (each segment is compared as a key range on both sides); the
        target's are the source's wherever the two hold the same keys.
        """
        query = sql.SQL("SELECT k FROM (SELECT {pk} AS k, row_number() OVER (ORDER BY {pk}) AS n FROM {t}) AS s "
                        "WHERE n %% %s = 1 AND n > 1 ORDER BY n").format(pk=self.pk, t=self.ident)
        return self.sql(query)

    def segments_async(self, source_boundaries: Callable[[], list[Any]]
                       ) -> Callable[[], tuple[list[Any], dict[int, tuple[int, int]]]]:
        """Start cutting and summing the whole target table on a second connection; return its waiter.

        The waiter returns the top-level boundaries (:meth:`boundaries_query`) and the target's
        (count, sum of hashes) per segment. PostgreSQL hashes while Python hashes the source.
        Inside a transaction (tests without transaction=True), a second connection would not see
        its rows, so the queries run later on this connection instead; a composite key is cut at
        the source's keys (``source_boundaries()``) and summed in Python (``width_bucket`` cannot
        take row values).
        """
        if self.table.composite:
            boundaries = source_boundaries()
            return lambda: (boundaries, self.segments(None, None, boundaries))
        boundaries_query = self.boundaries_query()
        cut_query, _ = self.segments_query(None, None, [None])
        whole_query, _ = self.segments_query(None, None, [])

        def cut_and_sum(connection: psycopg.Connection[Any]) -> tuple[list[Any], dict[int, tuple[int, int]]]:
            boundaries = [row[0] for row in connection.execute(boundaries_query, [SEGMENT_ROWS])]
            query, params = (cut_query, [boundaries]) if boundaries else (whole_query, [])
            return boundaries, segments_of(connection.execute(query, params).fetchall())

        if self.connection.in_atomic_block:
            return lambda: cut_and_sum(self.connection.connection)
        connect_params = self.connection.get_connection_params()
        outcome: dict[str, Any] = {}
        alias = self.connection.alias

        def work() -> None:
            try:
                outcome["result"] = on_side_connection(alias, connect_params, cut_and_sum)
            except Exception as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
                outcome["error"] = exc

        thread = threading.Thread(target=work, name=f"validate-{self.table.name}", daemon=True)
        thread.start()

        def wait() -> tuple[list[Any], dict[int, tuple[int, int]]]:
            thread.join()
            if "error" in outcome:
                raise outcome["error"]
            return outcome["result"]
        return wait

    def segments_query(self, lower: Any, upper: Any, boundaries: Sequence[Any]) -> tuple[str, list[Any]]:
        where, params = self.where_range(lower, upper)
        bucket: sql.Composable = sql.SQL("0")
        if boundaries:
            bucket = sql.SQL("width_bucket({}, %s::{})").format(self.pk, self.array_type)
            params = [list(boundaries), *params]
        query = sql.SQL("SELECT {b} AS bucket, count(*), coalesce(sum({h}), 0) FROM {t} WHERE {w} GROUP BY 1").format(
            b=bucket, h=self.row_hash, t=self.ident, w=where)
        return self.sql(query), params

    def hashes(self, lower: Any, upper: Any) -> dict[Any, int]:
        """Row hash by primary key for the target rows in ``[lower, upper)``."""
        where, params = self.where_range(lower, upper)
        query = sql.SQL("SELECT {pk}, {h} FROM {t} WHERE {w}").format(
            pk=self.key_columns, h=self.row_hash, t=self.ident, w=where)
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql(query), params)
            return self._keyed(cursor.fetchall())

    def _keyed(self, rows: Iterable[Sequence[Any]]) -> dict[Any, int]:
        if self.table.composite:
            return {tuple(row[:-1]): row[-1] for row in rows}
        return {row[0]: row[1] for row in rows}

    def hashes_of(self, pks: Sequence[Any]) -> dict[Any, int]:
        """Row hash by primary key for the given target rows (absent rows are left out)."""
        found: dict[Any, int] = {}
        with self.connection.cursor() as cursor:
            for chunk in chunks(pks, IN_CHUNK if self.table.composite else FETCH_ROWS):
                where, params = self.keys_in(chunk)
                query = sql.SQL("SELECT {pk}, {h} FROM {t} WHERE {w}").format(
                    pk=self.key_columns, h=self.row_hash, t=self.ident, w=where)
                cursor.execute(self.sql(query), params)
                found.update(self._keyed(cursor.fetchall()))
        return found

    def rows_of(self, pks: Sequence[Any]) -> dict[Any, tuple[list[Any], list[str]]]:
        """Values (as the fields read them) and canonical parts by primary key, for the given target rows."""
        t = self.table
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in t.columns)
        parts = sql.SQL(", ").join(canonical.sql_part(k, c) for k, c in zip(t.kinds, t.columns))
        readers = inventory.column_readers(t.model, self.connection)
        width = len(t.fields)
        found = {}
        with self.connection.cursor() as cursor:
            for chunk in chunks(pks, IN_CHUNK if t.composite else FETCH_ROWS):
                where, params = self.keys_in(chunk)
                query = sql.SQL("SELECT {c}, {p} FROM {t} WHERE {w}").format(
                    c=columns, p=parts, t=self.ident, w=where)
                cursor.execute(self.sql(query), params)
                for raw in cursor.fetchall():
                    values = t.read(raw[:width], readers, self.connection)
                    found[t.key_of(values)] = (values, list(raw[width:]))
        return found

    def sequence_check(self, ids_from_source: bool = False) -> SequenceCheck | None:
        """The sequence of an auto-increment key and whether it is ahead of max(pk); None without one."""
        t = self.table
        pk = t.fields[t.pk_index]
        if t.composite or not isinstance(pk, AutoFieldMixin):
            return None
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.sql(self.ident), pk.column])
            sequence = cursor.fetchone()[0]
            if sequence is None:
                return None
            cursor.execute(
                "SELECT s.last_value, s.start_value, s.increment_by FROM pg_sequences s"
                " WHERE format('%%I.%%I', s.schemaname, s.sequencename)::regclass = %s::regclass",
                [sequence],
            )
            last_value, start_value, increment = cursor.fetchone()
            cursor.execute(self.sql(sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(pk.column), self.ident)))
            max_pk = cursor.fetchone()[0]
        next_value = start_value if last_value is None else last_value + increment
        return SequenceCheck(sequence, int(next_value), None if max_pk is None else int(max_pk),
                             ids_from_source=ids_from_source)


_side_connections: dict[tuple[int, str], psycopg.Connection[Any]] = {}


def on_side_connection(alias: str, connect_params: dict[str, Any], work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
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
