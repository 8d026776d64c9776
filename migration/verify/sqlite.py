"""The source side of a validation: SQLite rows read raw and hashed in Python, as PostgreSQL hashes the target.

SQLite has no MD5, so each source row's canonical text (:mod:`migration.values.canonical`) is
built in Python from the values the model fields read, and hashed the way the target's SQL does.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from migration import inventory
from migration.exceptions import ConversionError
from migration.reader import LegacyReader
from migration.values import canonical
from migration.values.convert import READ_ERRORS
from migration.verify.table import Table

MEMO_ENTRIES = 8_192  # remembered raw value -> canonical part, per converted column
MEMO_VALUE_CHARS = 100  # longer values (JSON documents) rarely repeat: not worth their memory

RowParts = Callable[[tuple[Any, ...]], tuple[Any, list[str]]]
RowHash = Callable[[tuple[Any, ...]], tuple[Any, int]]


class SourceSide:
    """One table's rows in the legacy SQLite file, through Django's connection of the source alias."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.reader = LegacyReader.of(table.source.alias)

    def present(self) -> bool:
        return self.reader.table_exists(self.table.name)

    def count(self) -> int:
        return self.reader.count(self.table.name)

    def boundaries(self, every: int) -> list[Any]:
        """Every ``every``-th source primary key, in order: the top-level segment boundaries."""
        t = self.table
        keys = self.reader.keys(t.name, t.key_columns)
        if t.composite:
            return keys[every::every]
        wanted = int if t.key_kind == "int" else str  # a stray type would break the typed array
        return [k for k in keys[every::every] if isinstance(k, wanted)]

    def raw(self) -> Iterator[tuple[Any, ...]]:
        """Every source row, raw, in primary-key order."""
        return self.reader.rows_in_key_order(self.table.name, self.table.columns, self.table.key_columns)

    def raw_of(self, pks: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """The raw source rows with the given primary keys."""
        return self.reader.rows_with_keys(self.table.name, self.table.columns, self.table.key_columns, pks)

    def hasher(self) -> RowParts:
        """A function from a raw source row to (pk, canonical parts); raises ConversionError."""
        return row_hashers(self.table)[0]

    def row_hasher(self) -> RowHash:
        """A function from a raw source row to (pk, row hash); raises ConversionError."""
        return row_hashers(self.table)[1]

    def hashes_of(self, pks: Sequence[Any]) -> dict[Any, int]:
        """Row hash by primary key for the given source rows (absent or unreadable rows are left out)."""
        hash_of = self.row_hasher()
        found = {}
        for raw in self.raw_of(pks):
            try:
                pk, row_hash = hash_of(raw)
            except ConversionError:
                continue
            found[pk] = row_hash
        return found


def row_hashers(table: Table) -> tuple[RowParts, RowHash]:
    """(pk, canonical parts) and (pk, row hash) of a raw source row; both raise ConversionError.

    Columns without converters are canonicalized straight from the raw value; columns with
    converters (legacy timestamps, JSON, flags) memoize raw value -> part, because legacy data
    repeats such values a lot (defaults, dates, ``'[]'``).
    """
    readers = inventory.column_readers(table.model, table.source)
    source, target = table.source, table.target
    # Per column: its reader and memo if it has converters, and its canonical form.
    plan: list[tuple[inventory.ColumnReader | None, Callable[[Any], str], dict[Any, str] | None]] = [
        (r if r.converters else None, canonical.python_canonical(k, r.field, target), {} if r.converters else None)
        for r, k in zip(readers, table.kinds)
    ]
    key_of, read, name = table.key_of, table.read, table.name
    converted_key = any(plan[i][0] for i in table.key_indexes)

    def explain(raw: tuple[Any, ...]) -> None:
        values = read(raw, readers, source)  # raises the named reader error
        for (_, canon, _), value, reader in zip(plan, values, readers):
            try:
                None if value is None else canon(value)
            except READ_ERRORS as exc:
                raise ConversionError(name, key_of(raw), reader.column, value,
                                      f"the target column cannot hold it ({exc})") from exc

    def convert(index: int, value: Any) -> str:
        """A converted column's part, computed once per distinct raw value (up to MEMO_ENTRIES)."""
        reader, canon, memo = plan[index]
        if reader is None or memo is None:  # _compile_row_parts calls it for converted columns only
            raise RuntimeError(f"{name}: column {index} has no converters, so nothing to convert")
        converted = reader(value, source)
        part = "N" if converted is None else "v" + canon(converted)
        if len(memo) < MEMO_ENTRIES and (type(value) is not str or len(value) <= MEMO_VALUE_CHARS):
            memo[value if type(value) is str else (type(value), value)] = part
        return part

    row_parts, row_hash = _compile_row_parts(
        [(canon, memo, kind) for (_, canon, memo), kind in zip(plan, table.kinds)], convert)
    key_index = table.key_indexes[0]
    composite = table.composite

    def parts_of(raw: tuple[Any, ...]) -> tuple[Any, list[str]]:
        try:
            parts = row_parts(raw)
        except READ_ERRORS as exc:
            explain(raw)
            raise ConversionError(name, key_of(raw), "?", None, str(exc)) from exc
        if converted_key:
            return key_of(read(raw, readers, source)), parts
        return (key_of(raw) if composite else raw[key_index]), parts

    def hash_of(raw: tuple[Any, ...]) -> tuple[Any, int]:
        try:
            row = row_hash(raw)
        except READ_ERRORS:
            parts_of(raw)  # raises the named error
            raise
        if converted_key:
            return key_of(read(raw, readers, source)), row
        return (key_of(raw) if composite else raw[key_index]), row
    return parts_of, hash_of


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
