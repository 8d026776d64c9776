"""The one reader of the legacy SQLite file: tables, columns, counts and raw rows, by rowid or by key.

Rows come back exactly as SQLite stores them (no field conversion: that is
:mod:`migration.values.convert`'s job). A reader either opens its own read-only connection to the
file (:meth:`LegacyReader.open`, for the backfill and its worker processes) or reads through
Django's connection of the alias (:meth:`LegacyReader.of`, for validation, which must see what a
surrounding transaction wrote).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db import connections

from migration.db import chunks, quote, sqlite_file
from migration.exceptions import SourceUnusable

FETCH_ROWS = 5_000
IN_CHUNK = 500  # keys per `IN (...)` query
FIRST_ROWID = -(2**63)  # below every rowid: SQLite allows zero and negative rowids


class LegacyReader:
    """Read-only access to one SQLite database's tables and raw rows."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None, *, owned: bool, plain: str = "") -> None:
        self.connection = connection
        self.path = path
        self._owned = owned
        # Unary plus is a no-op on a value but hides its declared type, so that sqlite3's
        # PARSE_DECLTYPES converters (Django's default) cannot pre-parse TIMESTAMP or DATE columns:
        # an epoch-ms integer in a TIMESTAMP column would otherwise read as None.
        self._plain = plain
        self._raw: sqlite3.Connection | None = None

    @classmethod
    def open(cls, alias: str) -> LegacyReader:
        """A reader with its own read-only connection to the file behind ``alias``."""
        path = sqlite_file(alias)
        if path is None:
            raise SourceUnusable(f"database alias {alias!r} has no SQLite file to read")
        if not path.exists():
            raise SourceUnusable(f"source database {path} (alias {alias!r}) does not exist; check SQLITE_PATH")
        if not path.is_file():
            raise SourceUnusable(f"source database {path} (alias {alias!r}) is not a file")
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        return cls(connection, path, owned=True)

    @classmethod
    def of(cls, alias: str) -> LegacyReader:
        """A reader through Django's connection of ``alias`` (it sees that connection's transaction)."""
        wrapper = connections[alias]
        wrapper.ensure_connection()
        detect = wrapper.settings_dict.get("OPTIONS", {}).get("detect_types", sqlite3.PARSE_DECLTYPES)
        return cls(wrapper.connection, sqlite_file(alias), owned=False,
                   plain="+" if detect & sqlite3.PARSE_DECLTYPES else "")

    def close(self) -> None:
        if self._owned:
            self.connection.close()
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def _select(self, columns: Sequence[str]) -> str:
        return ", ".join(f"{self._plain}{quote(c)}" for c in columns)

    # -- the schema

    def tables(self) -> set[str]:
        """Every table of the file (SQLite's own excluded)."""
        rows = self.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
        return {row[0] for row in rows}

    def table_exists(self, table: str) -> bool:
        row = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
        ).fetchone()
        return row is not None

    def has_rowid(self, table: str) -> bool:
        """False for a WITHOUT ROWID table."""
        try:
            self.connection.execute(f"SELECT rowid FROM {quote(table)} LIMIT 0")
        except sqlite3.OperationalError:
            return False
        return True

    def columns(self, table: str) -> dict[str, str]:
        """Column name -> declared type, generated columns included (``table_xinfo``)."""
        return {row[1]: row[2] or "" for row in self.connection.execute(f"PRAGMA table_xinfo({quote(table)})")}

    # -- counting

    def count(self, table: str, after: int | None = None) -> int:
        """Rows of ``table`` (those after rowid ``after``, when given)."""
        if after is None:
            return int(self.connection.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0])
        return int(self.connection.execute(
            f"SELECT count(*) FROM {quote(table)} WHERE rowid > ?", [after]
        ).fetchone()[0])

    def high_water(self, table: str, column: str) -> int:
        """The highest integer id the file has handed out for ``table``: sqlite_sequence, or max(column)."""
        seq = 0
        if self.table_exists("sqlite_sequence"):
            row = self.connection.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [table]).fetchone()
            seq = int(row[0]) if row and isinstance(row[0], int) else 0
        if self.table_exists(table):
            row = self.connection.execute(
                f"SELECT max({quote(column)}) FROM {quote(table)} WHERE typeof({quote(column)}) = 'integer'"
            ).fetchone()
            seq = max(seq, row[0] or 0)
        return seq

    # -- rows by rowid (the backfill)

    def rows_after(self, table: str, columns: Sequence[str], after: int, limit: int,
                   clean: str = "0") -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows after rowid ``after``, in rowid order: (rowid, clean, *columns).

        ``clean`` is an SQL condition computed per row. Text that is not UTF-8 raises
        sqlite3.OperationalError; :meth:`raw_rows_after` reads such rows.
        """
        return self.connection.execute(
            f"SELECT rowid, {clean}, {self._select(columns)} FROM {quote(table)} WHERE rowid > ? "
            "ORDER BY rowid LIMIT ?", [after, limit],
        ).fetchall()

    def raw_rows_after(self, table: str, columns: Sequence[str], after: int,
                       limit: int) -> list[tuple[int, list[tuple[Any, str]]]]:
        """Like :meth:`rows_after`, with each cell's storage class and its text left undecoded (bytes)."""
        if self._raw is None:
            if self.path is None:
                raise SourceUnusable("undecodable text in a database without a file cannot be read byte by byte")
            self._raw = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                                        check_same_thread=False)
            self._raw.text_factory = bytes
        cols = ", ".join(f"{quote(c)}, typeof({quote(c)})" for c in columns)
        rows = self._raw.execute(
            f"SELECT rowid, {cols} FROM {quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?", [after, limit]
        ).fetchall()
        # typeof() is text too, so it arrives as bytes on this connection.
        return [(row[0], [(row[i], row[i + 1].decode("ascii")) for i in range(1, len(row), 2)]) for row in rows]

    # -- rows by key (validation, repair, the applier)

    def has_key(self, table: str, key_columns: Sequence[str], values: Sequence[Any]) -> bool:
        where = " AND ".join(f"{quote(c)} = ?" for c in key_columns)
        return self.connection.execute(
            f"SELECT 1 FROM {quote(table)} WHERE {where} LIMIT 1", list(values)
        ).fetchone() is not None

    def keys(self, table: str, key_columns: Sequence[str]) -> list[Any]:
        """Every non-NULL key in key order: a value per row, or a tuple for a composite key."""
        not_null = " AND ".join(f"{quote(c)} IS NOT NULL" for c in key_columns)
        order = ", ".join(quote(c) for c in key_columns)
        rows = self.connection.execute(
            f"SELECT {self._select(key_columns)} FROM {quote(table)} WHERE {not_null} ORDER BY {order}"
        ).fetchall()
        return [tuple(row) for row in rows] if len(key_columns) > 1 else [row[0] for row in rows]

    def rows_in_key_order(self, table: str, columns: Sequence[str],
                          key_columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Every row, raw, in key order, fetched a batch at a time."""
        order = ", ".join(quote(c) for c in key_columns)
        cursor = self.connection.execute(f"SELECT {self._select(columns)} FROM {quote(table)} ORDER BY {order}")
        try:
            while batch := cursor.fetchmany(FETCH_ROWS):
                yield from batch
        finally:
            cursor.close()

    def rows_with_keys(self, table: str, columns: Sequence[str], key_columns: Sequence[str],
                       keys: Sequence[Any], *, rowid: bool = False) -> Iterator[tuple[Any, ...]]:
        """The raw rows whose key is among ``keys`` (tuples for a composite key), in no set order.

        With ``rowid`` each row starts with its rowid.
        """
        select = ("rowid, " if rowid else "") + self._select(columns)
        for chunk in chunks(keys, IN_CHUNK):
            if len(key_columns) > 1:
                row = "(" + ", ".join(["?"] * len(key_columns)) + ")"
                names = ", ".join(quote(c) for c in key_columns)
                where = f"({names}) IN (VALUES {', '.join([row] * len(chunk))})"
                params = [value for key in chunk for value in key]
            else:
                where = f"{quote(key_columns[0])} IN ({', '.join(['?'] * len(chunk))})"
                params = list(chunk)
            yield from self.connection.execute(f"SELECT {select} FROM {quote(table)} WHERE {where}", params)
