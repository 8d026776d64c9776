"""The one reader of the legacy SQLite file: tables, columns, counts and raw rows, by rowid or by key.

Rows come back exactly as SQLite stores them (no field conversion: that is
:mod:`migration.values.convert`'s job). A reader either opens its own read-only connection to the
file (:meth:`LegacyReader.open`, for the backfill and its worker processes) or reads through
Django's connection of the alias (:meth:`LegacyReader.of`, for validation, which must see what a
surrounding transaction wrote).
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connections

from migration import conf
from migration.db import chunks, quote, sqlite_file
from migration.exceptions import SourceUnusable

FETCH_ROWS = 5_000
IN_CHUNK = 500  # keys per `IN (...)` query
FIRST_ROWID = -(2**63)  # below every rowid: SQLite allows zero and negative rowids
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database file
LOCK_POLL_MS = 250  # how long one attempt waits for a lock before the wait is reported
# SQLite's result codes for a file that is not a database, is damaged, or is held by another process.
NOT_A_DATABASE = {"SQLITE_NOTADB"}
DAMAGED = {"SQLITE_CORRUPT", "SQLITE_CORRUPT_INDEX", "SQLITE_CORRUPT_SEQUENCE", "SQLITE_CORRUPT_VTAB"}
BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_RECOVERY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_TIMEOUT"}

Notice = Callable[[str], None]


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
    def open(cls, alias: str, *, on_wait: Notice | None = None, timeout: float | None = None) -> LegacyReader:
        """A reader with its own read-only connection to the file behind ``alias``, checked before use.

        The file must exist, be a SQLite database and have a readable schema; otherwise
        :class:`SourceUnusable` says which of these failed. A file another process holds locked is
        waited for up to ``timeout`` seconds (default: the alias's busy timeout), and ``on_wait``
        hears about it once.
        """
        path = sqlite_file(alias)
        if path is None:
            raise SourceUnusable(f"database alias {alias!r} has no SQLite file to read")
        check_file(path, alias)
        timeout = conf.source_busy_timeout(alias) if timeout is None else timeout
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout,
                                     check_same_thread=False)
        try:
            _wait_for_schema(connection, path, alias, timeout, on_wait)
        except BaseException:
            connection.close()
            raise
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

    def column_info(self, table: str) -> list[ColumnInfo]:
        """Every column of ``table`` as declared: name, type, NOT NULL, default, key position, hidden."""
        return [ColumnInfo(row[1], row[2] or "", bool(row[3]), row[4], int(row[5]), int(row[6]))
                for row in self.connection.execute(f"PRAGMA table_xinfo({quote(table)})")]

    def table_kinds(self) -> dict[str, str]:
        """Every table of the file and its kind: ``table``, ``virtual`` or ``shadow`` (a virtual table's storage).

        SQLite's own tables are left out. Before SQLite 3.37 (no ``PRAGMA table_list``) every
        table is a ``table``.
        """
        try:
            rows = self.connection.execute("PRAGMA main.table_list").fetchall()
        except sqlite3.OperationalError:
            return dict.fromkeys(self.tables(), "table")
        return {row[1]: row[2] for row in rows
                if row[2] in ("table", "virtual", "shadow") and not row[1].startswith("sqlite_")}

    def filled(self, table: str, column: str, *, count: bool = True) -> int:
        """Rows whose ``column`` holds a value (neither NULL nor ''); with ``count=False``, 1 if any does."""
        where = f"{quote(column)} IS NOT NULL AND {quote(column)} <> ''"
        if not count:
            row = self.connection.execute(f"SELECT 1 FROM {quote(table)} WHERE {where} LIMIT 1").fetchone()
            return 0 if row is None else 1
        return int(self.connection.execute(f"SELECT count(*) FROM {quote(table)} WHERE {where}").fetchone()[0])

    def any_rows(self, table: str) -> bool:
        return self.connection.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1").fetchone() is not None

    def samples(self, table: str, column: str, limit: int) -> list[Any]:
        """Up to ``limit`` distinct values of ``column`` that are neither NULL nor '', raw."""
        return [row[0] for row in self.connection.execute(
            f"SELECT DISTINCT {self._plain}{quote(column)} FROM {quote(table)} "
            f"WHERE {quote(column)} IS NOT NULL AND {quote(column)} <> '' LIMIT ?", [limit])]

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


@dataclass(frozen=True)
class ColumnInfo:
    """One declared column as ``PRAGMA table_xinfo`` gives it (``hidden``: 1 virtual-table internal, 2-3 generated)."""

    name: str
    type: str
    not_null: bool
    default: str | None
    primary_key: int
    hidden: int


# -- a file that cannot be read, named


def check_file(path: Path, alias: str) -> None:
    """Raise SourceUnusable unless ``path`` is a non-empty file that starts like a SQLite database."""
    where = f"the legacy file {path} (alias {alias!r})"
    if not path.exists():
        raise SourceUnusable(f"{where} does not exist; check SQLITE_PATH")
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise SourceUnusable(f"{where} is {kind}, not a SQLite database; point SQLITE_PATH at the file itself")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise SourceUnusable(f"{where} cannot be read: {exc.strerror or exc}; check its permissions") from exc
    if not header:
        raise SourceUnusable(f"{where} is empty (0 bytes), not a SQLite database; check SQLITE_PATH")
    if header != SQLITE_HEADER:
        raise SourceUnusable(
            f"{where} is not a SQLite database (it starts with {header[:16]!r}, not {SQLITE_HEADER!r}); "
            "check SQLITE_PATH"
        )


def _wait_for_schema(connection: sqlite3.Connection, path: Path, alias: str, timeout: float,
                     on_wait: Notice | None) -> None:
    """Read the schema, waiting in short attempts while another process holds the file locked."""
    deadline = time.monotonic() + timeout
    told = False
    connection.execute(f"PRAGMA busy_timeout = {min(LOCK_POLL_MS, int(timeout * 1000))}")
    try:
        while True:
            try:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return
            except sqlite3.Error as exc:
                if error_name(exc) not in BUSY:
                    raise failure(exc, path, alias, timeout) from exc
                if time.monotonic() >= deadline:
                    raise failure(exc, path, alias, timeout) from exc
                if not told and on_wait is not None:
                    on_wait(f"the legacy file {path} is locked by another process; waiting up to {timeout:g} s")
                    told = True
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")


def error_name(exc: BaseException) -> str:
    """SQLite's name of the result code behind ``exc`` (``SQLITE_BUSY``...), or '' when it has none."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if not name and "database is locked" in str(exc):
        return "SQLITE_BUSY"
    return name


def failure(exc: BaseException, path: Path | None, alias: str, timeout: float | None = None) -> SourceUnusable:
    """What a SQLite error says about the file: not a database, damaged, locked, or not openable."""
    where = f"the legacy file {path} (alias {alias!r})" if path is not None else f"the database of alias {alias!r}"
    name = error_name(exc)
    if name in NOT_A_DATABASE:
        return SourceUnusable(f"{where} is not a SQLite database ({exc}); check SQLITE_PATH")
    if name in DAMAGED:
        return SourceUnusable(
            f"{where} is damaged: PRAGMA integrity_check: {first_integrity_finding(path) if path else exc}; "
            "restore it from a backup (MIGRATION_BACKUP_DIR), or repair it with the sqlite3 shell's .recover"
        )
    if name in BUSY:
        waited = f" for more than {timeout:g} s (its busy timeout)" if timeout is not None else ""
        return SourceUnusable(
            f"{where} is locked by another process{waited}; find the process holding it "
            f"(fuser {path}), or wait for it and run again; SQLITE_BUSY_TIMEOUT sets the wait"
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return SourceUnusable(f"{where} cannot be opened ({exc}); check SQLITE_PATH and the file's permissions")
    return SourceUnusable(f"{where} cannot be read: {exc}")


def first_integrity_finding(path: Path) -> str:
    """The first problem ``PRAGMA integrity_check`` reports on ``path`` (or the error it stops with)."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = connection.execute("PRAGMA integrity_check(1)").fetchall()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        connection.close()
    text = "\n".join(str(row[0]) for row in rows)
    lines = [line for line in text.splitlines() if line and not line.startswith("*** in database")]
    return lines[0] if lines else text
