"""Spot checks: one row, or a random sample, read from both databases and compared field by field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from migration import conf
from migration.exceptions import ConversionError, SpotCheckError
from migration.inventory import ColumnReader, column_of, column_readers, migrated_models
from migration.values.convert import READ_ERRORS, read_row
from migration.values.equality import same_value

MAX_SAMPLE = 200


@dataclass(frozen=True)
class FieldValue:
    """One column of one row on one database: the value as stored and the value as the ORM reads it."""

    stored: Any
    value: Any = None
    error: str = ""

    @property
    def stored_text(self) -> str:
        return display(self.stored)

    @property
    def value_text(self) -> str:
        return display(self.value)


def display(value: Any) -> str:
    """How the console prints a value: text quoted (so case and blanks show), instants in ISO 8601."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


@dataclass(frozen=True)
class FieldComparison:
    """One column compared across the two databases."""

    name: str
    column: str
    source: FieldValue | None
    target: FieldValue | None
    differs: bool


@dataclass(frozen=True)
class Side:
    """Where one side of a comparison was read: alias, vendor, and whether the row or table exists."""

    alias: str
    vendor: str
    table_exists: bool
    row_exists: bool


@dataclass(frozen=True)
class RowComparison:
    """One primary key read from the source and the target, with the differing fields named."""

    model_label: str
    table: str
    pk: Any
    source: Side
    target: Side
    fields: list[FieldComparison] = field(default_factory=list)

    @property
    def differing(self) -> list[str]:
        """Names of the fields whose values differ (every field when the row is missing on one side)."""
        return [f.name for f in self.fields if f.differs]

    @property
    def differs(self) -> bool:
        """True when the row is missing on one side or any field differs."""
        return self.source.row_exists != self.target.row_exists or bool(self.differing)


def resolve_model(label: str) -> type[models.Model]:
    """The migrated model named by ``app_label.ModelName``, model name or table; SpotCheckError otherwise."""
    found = migrated_models([label])
    if len(found) != 1:
        raise SpotCheckError(
            f"{label!r} names no migrated model; pick one of the models of {conf.migrated_apps()}"
        )
    return found[0]


def parse_pk(model: type[models.Model], raw_pk: str) -> Any:
    """The primary key typed in by an operator, converted by the model's primary key field."""
    try:
        return model._meta.pk.to_python(raw_pk.strip())
    except Exception as exc:  # django.core.exceptions.ValidationError and friends
        raise SpotCheckError(
            f"{raw_pk!r} is not a valid primary key for {model._meta.db_table} "
            f"({model._meta.pk.get_internal_type()}); enter a value the key column holds"
        ) from exc


def compare_row(
    model: type[models.Model], pk: Any, *, source: str | None = None, target: str | None = None
) -> RowComparison:
    """Read the row with primary key ``pk`` on both aliases and compare every stored field."""
    return compare_rows(model, [pk], source=source, target=target)[0]


def compare_rows(
    model: type[models.Model],
    pks: list[Any],
    *,
    source: str | None = None,
    target: str | None = None,
) -> list[RowComparison]:
    """Compare the rows with the given primary keys; one RowComparison per key, in the given order."""
    source = source or conf.source_alias()
    target = target or conf.target_alias()
    _require_aliases(source, target)
    source_rows, source_table = _fetch(model, source, pks)
    target_rows, target_table = _fetch(model, target, pks)
    source_conn, target_conn = connections[source], connections[target]
    fields = [r.field for r in column_readers(model, source_conn)]
    results = []
    for pk in pks:
        key = _key(pk)
        left, right = source_rows.get(key), target_rows.get(key)
        comparisons = []
        for index, fld in enumerate(fields):
            a = left[index] if left is not None else None
            b = right[index] if right is not None else None
            comparisons.append(FieldComparison(fld.name, column_of(fld), a, b, _differs(fld, a, b)))
        results.append(
            RowComparison(
                model_label=model._meta.label,
                table=model._meta.db_table,
                pk=pk,
                source=Side(source, source_conn.vendor, source_table, left is not None),
                target=Side(target, target_conn.vendor, target_table, right is not None),
                fields=comparisons,
            )
        )
    return results


def sample_rows(
    model: type[models.Model], size: int, *, source: str | None = None, target: str | None = None
) -> list[RowComparison]:
    """Compare ``size`` rows picked at random from the source (the target when the source has none)."""
    if not 1 <= size <= MAX_SAMPLE:
        raise SpotCheckError(f"a sample holds 1 to {MAX_SAMPLE} rows, not {size}")
    source = source or conf.source_alias()
    target = target or conf.target_alias()
    _require_aliases(source, target)
    pks = _random_pks(model, source, size) or _random_pks(model, target, size)
    return compare_rows(model, pks, source=source, target=target)


def _require_aliases(*aliases: str) -> None:
    """Both sides must be configured (after finalization the SQLite alias may be gone)."""
    for alias in aliases:
        if alias not in settings.DATABASES:
            raise SpotCheckError(
                f"database {alias!r} is not configured; a spot check needs both databases"
            )


def _table_exists(model: type[models.Model], alias: str) -> bool:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return model._meta.db_table in connection.introspection.table_names(cursor)


def _fetch(
    model: type[models.Model], alias: str, pks: list[Any]
) -> tuple[dict[Any, list[FieldValue]], bool]:
    """Rows keyed by primary key, each value in its stored and read forms; and whether the table exists."""
    if not _table_exists(model, alias):
        return {}, False
    if not pks:
        return {}, True
    connection = connections[alias]
    readers = column_readers(model, connection)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(r.column) for r in readers)
    pk_field = model._meta.pk
    params = [pk_field.get_db_prep_value(pk, connection) for pk in pks]
    placeholders = ", ".join(["%s"] * len(params))
    sql = (
        f"SELECT {columns} FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(column_of(pk_field))} IN ({placeholders})"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            raw_rows = cursor.fetchall()
    except DatabaseError as exc:
        raise SpotCheckError(f"cannot read {model._meta.db_table} on {alias!r}: {exc}") from exc
    pk_index = next(i for i, r in enumerate(readers) if r.field.primary_key)
    rows: dict[Any, list[FieldValue]] = {}
    for raw in raw_rows:
        values = _convert(model, raw, readers, connection)
        rows[_key(values[pk_index].value if not values[pk_index].error else raw[pk_index])] = values
    return rows, True


def _convert(
    model: type[models.Model],
    raw: tuple[Any, ...],
    readers: list[ColumnReader],
    connection: BaseDatabaseWrapper,
) -> list[FieldValue]:
    """Stored and read forms of one raw row; a value that cannot be read is shown with its reason."""
    pk_index = next(i for i, r in enumerate(readers) if r.field.primary_key)
    try:
        values = read_row(model._meta.db_table, raw[pk_index], raw, readers, connection)
        return [FieldValue(stored, value) for stored, value in zip(raw, values)]
    except ConversionError:
        # Read column by column so that every other value is still shown beside the bad one.
        converted = []
        for reader, stored in zip(readers, raw):
            try:
                converted.append(FieldValue(stored, reader(stored, connection)))
            except READ_ERRORS as exc:
                converted.append(FieldValue(stored, None, getattr(exc, "reason", None) or str(exc)))
        return converted


def _random_pks(model: type[models.Model], alias: str, size: int) -> list[Any]:
    if not _table_exists(model, alias):
        return []
    connection = connections[alias]
    quote = connection.ops.quote_name
    pk_column = column_of(model._meta.pk)
    random = "RANDOM()" if connection.vendor in ("sqlite", "postgresql") else "RAND()"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(pk_column)} FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(pk_column)} IS NOT NULL ORDER BY {random} LIMIT %s",
            [size],
        )
        raw = [row[0] for row in cursor.fetchall()]
    reader = next(r for r in column_readers(model, connection) if r.field.primary_key)
    return sorted((reader(value, connection) for value in raw), key=_sort_key)


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _key(pk: Any) -> Any:
    """A dictionary key for a primary key value as read from either database."""
    return str(pk) if not isinstance(pk, (int, str)) else pk


def _differs(field: models.Field, a: FieldValue | None, b: FieldValue | None) -> bool:
    """Whether two read values differ (:func:`migration.values.equality.same_value`); an unreadable value always does."""
    if a is None or b is None:
        return a is not b
    if a.error or b.error:
        return True
    return not same_value(field, a.value, b.value)
