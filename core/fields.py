"""Legacy-aware field types: read every shape the Node.js app wrote, write it back the same way.

On SQLite each field reads the legacy representation (five timestamp shapes, epoch milliseconds,
0/1 flags, JSON in TEXT, Turkish ``DD.MM.YYYY`` dates) and writes the shape the legacy app uses for
that column, so the file stays valid for the legacy app and a rollback loses nothing. On PostgreSQL
the same fields use native types: ``timestamptz``, ``boolean``, ``jsonb`` and ``date``.

A value that cannot be interpreted raises :class:`LegacyValueError`, naming table, column and value.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import orjson
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = dt.timedelta(milliseconds=1)
_FROM_ISO = dt.datetime.fromisoformat

# The stored shapes of README section 5.1.
SQLITE_TS = "sqlite_ts"  # 'YYYY-MM-DD HH:MM:SS', UTC (CURRENT_TIMESTAMP, datetime('now'))
ISO_Z = "iso_z"  # 'YYYY-MM-DDTHH:MM:SS.sssZ' (JavaScript toISOString)
DATE_ONLY = "date_only"  # 'YYYY-MM-DD' (date('now'), toISOString().split('T')[0])
EPOCH_MS = "epoch_ms"  # INTEGER milliseconds since 1970 UTC (Date.now())
SHAPES = (SQLITE_TS, ISO_Z, DATE_ONLY, EPOCH_MS)

TURKISH_DATE_PLACEHOLDER = "-"
_TURKISH_DATE = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*$")


class LegacyValueError(ValueError):
    """A legacy value that no known shape explains."""

    def __init__(self, table: str, column: str, value: Any, reason: str) -> None:
        self.table = table
        self.column = column
        self.value = value
        self.reason = reason
        super().__init__(f"{table}.{column}: cannot read {value!r}: {reason}")


def _is_sqlite(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "sqlite"


# What parse_timestamp raises for a value it cannot read: OverflowError for an instant beyond the
# years 1-9999 (epoch milliseconds, or an offset past 9999-12-31), caught by the callers rather
# than wrapped, which would cost a call per value on the copy's hot path.
UNREADABLE_TIMESTAMP = (TypeError, ValueError, OverflowError)


def parse_timestamp(value: Any) -> dt.datetime:
    """Read any legacy timestamp shape as an aware UTC datetime; naive text is UTC.

    Raises one of UNREADABLE_TIMESTAMP for anything else.
    """
    if isinstance(value, str):
        text = value.strip()
        # ISO shapes first, the common case; a Turkish date never has '-' at index 4.
        if len(text) >= 10 and text[4] == "-":
            # Naive text is UTC: parsing it with an explicit UTC offset gives the same instant,
            # many times faster than replace(tzinfo=...). Text that carries its own offset fails
            # this parse and takes the general one.
            if len(text) > 10:  # a date alone ignores an offset
                try:
                    parsed = _FROM_ISO((text[:-1] if text[-1] == "Z" else text) + "+00:00")
                except ValueError:
                    pass
                else:
                    if parsed.tzinfo is UTC:
                        return parsed
            parsed = _FROM_ISO(text)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        match = _TURKISH_DATE.match(text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return dt.datetime(year, month, day, tzinfo=UTC)
        raise ValueError("not a known timestamp shape")
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int):
        return EPOCH + value * ONE_MS
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise TypeError(f"{type(value).__name__} is not a timestamp")


def format_timestamp(value: dt.datetime, shape: str) -> str | int:
    """Write an aware datetime in one legacy shape (UTC)."""
    utc = value.astimezone(UTC)
    if shape == EPOCH_MS:
        return (utc - EPOCH) // ONE_MS
    if shape == SQLITE_TS:
        return utc.strftime("%Y-%m-%d %H:%M:%S")
    if shape == ISO_Z:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if shape == DATE_ONLY:
        return utc.strftime("%Y-%m-%d")
    raise ValueError(f"unknown timestamp shape {shape!r}")


def _fits(value: dt.datetime, shape: str) -> bool:
    """True when ``shape`` represents ``value`` without losing anything."""
    if shape == DATE_ONLY:
        return (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
    if shape == SQLITE_TS:
        return value.microsecond == 0
    return value.microsecond % 1000 == 0


if TYPE_CHECKING:
    # The checker sees the model field the mixin is combined with; at runtime it is a plain mixin.
    _FieldBase: TypeAlias = models.Field[Any, Any]
else:
    _FieldBase = object


class LegacyFieldMixin(_FieldBase):
    """Shared bookkeeping: the legacy declared type, the stored shape, and named errors."""

    legacy_shape_label = ""

    def __init__(self, *args: Any, legacy_type: str = "TEXT", **kwargs: Any) -> None:
        self.legacy_type = legacy_type
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.legacy_type != "TEXT":
            kwargs["legacy_type"] = self.legacy_type
        return name, path, args, kwargs

    def legacy_error(self, value: Any, reason: str) -> LegacyValueError:
        table = self.model._meta.db_table if hasattr(self, "model") else "?"
        return LegacyValueError(table, self.column or "?", value, reason)

    def sqlite_db_type(self) -> str:
        return self.legacy_type

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if _is_sqlite(connection):
            return self.sqlite_db_type()
        return super().db_type(connection)


class LegacyDateTimeField(LegacyFieldMixin, models.DateTimeField):
    """A UTC instant stored in one or more legacy shapes; ``timestamptz`` on PostgreSQL.

    ``shapes`` lists what the legacy app writes in this column. On SQLite a value is written in the
    first listed shape that holds it exactly, so ``("sqlite_ts", "iso_z")`` keeps whole seconds as
    ``'YYYY-MM-DD HH:MM:SS'`` and milliseconds as ISO-Z. Defaults (``timezone.now``) are cut to the
    finest precision the shapes hold (seconds or milliseconds), so dual-written rows compare equal;
    values read from the legacy file or set explicitly are never truncated.

    Canonical shapes (what a round trip through PostgreSQL writes back to SQLite): the first listed
    shape that holds the instant exactly, in UTC. So in a ``sqlite_ts``/``iso_z`` column
    ``'2024-01-01T10:00:00.000Z'`` comes back as ``'2024-01-01 10:00:00'``; ``'...T13:00:00+03:00'``
    as the UTC ``sqlite_ts`` text; a text timestamp in an ``epoch_ms`` column as an integer; an
    instant no listed shape holds (milliseconds in a ``sqlite_ts`` column) as ISO-Z, or as ISO 8601
    with microseconds and ``Z``. A Turkish ``'DD.MM.YYYY'`` date (the TUIK CSV ``Tarih`` column) reads
    as midnight UTC and comes back as ``'YYYY-MM-DD'`` in a ``date_only`` column.
    """

    def __init__(self, *args: Any, shapes: Sequence[str] = (SQLITE_TS,), **kwargs: Any) -> None:
        unknown = set(shapes) - set(SHAPES)
        if not shapes or unknown:
            raise ValueError(f"shapes must be a non-empty subset of {SHAPES}, not {shapes!r}")
        self.shapes = tuple(shapes)
        self.legacy_shape_label = " or ".join(shape.upper() for shape in self.shapes)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.shapes != (SQLITE_TS,):
            kwargs["shapes"] = list(self.shapes)
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        # Not "DateTimeField": SQLite's converter for that type would choke on epoch integers
        # before from_db_value could read them.
        return "LegacyDateTimeField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if _is_sqlite(connection):
            return self.legacy_type
        if connection.vendor == "postgresql":
            return "timestamp with time zone"
        return connection.data_types["DateTimeField"] % self.db_type_parameters(connection)

    def truncate(self, value: dt.datetime) -> dt.datetime:
        """Drop precision no legacy shape of this column can hold."""
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if SQLITE_TS in self.shapes and ISO_Z not in self.shapes and EPOCH_MS not in self.shapes:
            return value.replace(microsecond=0)
        return value.replace(microsecond=value.microsecond - value.microsecond % 1000)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            try:
                return parse_timestamp(value)
            except UNREADABLE_TIMESTAMP:
                pass
        return super().to_python(value)

    def get_default(self) -> Any:
        # Only values the field makes itself are truncated; a value read from the legacy file
        # (milliseconds in a whole-second column) is saved as it is, never rounded.
        value = super().get_default()
        return self.truncate(value) if isinstance(value, dt.datetime) else value

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return None
        if _is_sqlite(connection) or not isinstance(value, dt.datetime):
            try:
                return parse_timestamp(value)
            except UNREADABLE_TIMESTAMP as exc:
                raise self.legacy_error(value, f"not a timestamp in any legacy shape ({exc})") from exc
        return value

    def copy_converter(
        self, source: BaseDatabaseWrapper, target: BaseDatabaseWrapper
    ) -> Callable[[Any], dt.datetime] | None:
        """One call from a raw SQLite value to what PostgreSQL is sent, for a bulk copy.

        The same as ``get_db_prep_value(from_db_value(raw))`` (an aware UTC datetime, passed
        through unchanged on PostgreSQL), without the per-value overhead of the two calls.
        """
        if not _is_sqlite(source) or _is_sqlite(target):
            return None

        def convert(value: Any) -> dt.datetime:
            try:
                return parse_timestamp(value)
            except UNREADABLE_TIMESTAMP as exc:
                raise self.legacy_error(value, f"not a timestamp in any legacy shape ({exc})") from exc

        return convert

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if hasattr(value, "as_sql") or value is None:
            return value
        if not prepared:
            value = self.to_python(value)
        if not isinstance(value, dt.datetime):
            raise self.legacy_error(value, "not a datetime")
        if _is_sqlite(connection):
            return self.to_legacy(value)
        return value

    def to_legacy(self, value: dt.datetime) -> str | int:
        """The legacy representation of ``value`` for this column.

        The first listed shape that holds the value exactly wins; a value none of them holds (an
        ISO-Z time with milliseconds found in a whole-second column) is written as ISO-Z, or as
        ISO 8601 with microseconds, rather than truncated.
        """
        shape = next((s for s in self.shapes if _fits(value, s)), None)
        if shape is not None:
            return format_timestamp(value, shape)
        if _fits(value, ISO_Z):
            return format_timestamp(value, ISO_Z)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def value_to_string(self, obj: models.Model) -> str:
        value = cast("dt.datetime | None", self.value_from_object(obj))
        return "" if value is None else value.isoformat()


class LegacyDateField(LegacyFieldMixin, models.DateField):
    """A calendar date stored as ``'YYYY-MM-DD'`` text; ``date`` on PostgreSQL."""

    legacy_shape_label = DATE_ONLY.upper()

    def get_internal_type(self) -> str:
        return "LegacyDateField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if _is_sqlite(connection):
            return self.legacy_type
        return connection.data_types["DateField"] % self.db_type_parameters(connection)

    def parse_legacy(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and len(value.strip()) == 10:
            return dt.date.fromisoformat(value.strip())
        raise ValueError("expected 'YYYY-MM-DD'")

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return None
        try:
            return self.parse_legacy(value)
        except (TypeError, ValueError) as exc:
            raise self.legacy_error(value, f"not a date ({exc})") from exc

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if hasattr(value, "as_sql"):
            return value
        if not prepared:
            value = self.to_python(value)
        if value is None:
            return self.legacy_null(connection)
        if _is_sqlite(connection):
            return self.to_legacy(value)
        return value

    def legacy_null(self, connection: BaseDatabaseWrapper) -> Any:
        return None

    def to_legacy(self, value: dt.date) -> str:
        return value.isoformat()


class TurkishDateField(LegacyDateField):
    """A tender date written as Turkish ``'DD.MM.YYYY'`` (or ``'D/M/YYYY'``), ``'-'`` when unknown.

    PostgreSQL stores a ``date``; ``'-'`` and NULL both mean "no date" and become NULL. Written back
    to SQLite, a date is ``'DD.MM.YYYY'`` and a missing date is ``'-'``, the scraper's placeholder.
    Canonical shapes: ``'5/3/2024'`` and ``'5.3.2024'`` come back as ``'05.03.2024'``, NULL as ``'-'``.
    """

    legacy_shape_label = "DD.MM.YYYY or '-'"

    def parse_legacy(self, value: Any) -> Any:
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            if value.strip() == TURKISH_DATE_PLACEHOLDER:
                return None
            match = _TURKISH_DATE.match(value)
            if match:
                day, month, year = (int(part) for part in match.groups())
                return dt.date(year, month, day)
        raise ValueError("expected 'DD.MM.YYYY' or '-'")

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or not _is_sqlite(connection):
            return value
        return super().from_db_value(value, expression, connection)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and (value.strip() == TURKISH_DATE_PLACEHOLDER or _TURKISH_DATE.match(value)):
            return self.parse_legacy(value)
        return super().to_python(value)

    def legacy_null(self, connection: BaseDatabaseWrapper) -> Any:
        return TURKISH_DATE_PLACEHOLDER if _is_sqlite(connection) else None

    def to_legacy(self, value: dt.date) -> str:
        return value.strftime("%d.%m.%Y")


class LegacyBooleanField(LegacyFieldMixin, models.BooleanField):
    """A flag stored as INTEGER 0/1 whatever its declared type; ``boolean`` on PostgreSQL."""

    legacy_shape_label = "0/1"

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self.legacy_error(value, "a flag must be 0 or 1")

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if _is_sqlite(connection) and isinstance(value, bool):
            return int(value)
        return value


def _strict_loads(text: str) -> Any:
    """orjson's parse where it equals ``json.loads``; raises ValueError everywhere else.

    orjson refuses NaN, Infinity, numbers beyond a double (1e400) and lone surrogates, which the
    standard library reads, and it reads an integer beyond 64 bits as a float, where the standard
    library keeps every digit. Such an integer needs at least 19 characters and comes out as a
    float of magnitude 2**63 or more, so that case is recognised after the parse.
    """
    value = orjson.loads(text)
    if len(text) >= 19 and _has_huge_float(value):
        raise ValueError("a number too large for orjson to read exactly")
    return value


def _has_huge_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if item >= 9.2e18 or item <= -9.2e18:
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _loads(text: str) -> Any:
    """``json.loads``, faster: orjson parses what it reads the same way, the standard library the rest.

    Where :func:`_strict_loads` succeeds both give the same value (same numbers, same
    last-duplicate-key rule); everything else (NaN, Infinity, 1e400, integers beyond 64 bits,
    lone surrogates) takes the standard path and comes out, or fails, exactly as before.
    """
    try:
        return _strict_loads(text)
    except (ValueError, UnicodeEncodeError):  # orjson.JSONDecodeError is a ValueError
        return json.loads(text)


def _dumps_like_javascript(value: Any) -> str:
    """``JSON.stringify``: no spaces after separators, non-ASCII characters kept as they are."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class LegacyJSONField(LegacyFieldMixin, models.JSONField):
    """JSON kept in a TEXT column, as ``JSON.stringify`` wrote it; ``jsonb`` on PostgreSQL.

    Text that is not JSON (an empty string, plain text) is an error, never guessed at: the copy
    puts such a row in its rejects file. The text ``'null'`` reads as None, like SQL NULL (to the
    legacy app ``JSON.parse(null)`` is ``null`` too), and is written back as NULL.

    Canonical shape written back to SQLite: ``JSON.stringify`` text (no spaces, non-ASCII kept,
    ``\\u015f`` escapes become the character). ``jsonb`` keeps no key order, so after a trip through
    PostgreSQL object keys come back shortest first, then in byte order:
    ``'{"zeta":1,"a":2}'`` becomes ``'{"a":2,"zeta":1}'``. Values, arrays and their order are kept.
    """

    legacy_shape_label = "JSON text"

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or not isinstance(value, str):
            return value
        try:
            return _loads(value)
        except ValueError as exc:
            if _is_sqlite(connection):
                raise self.legacy_error(value, f"not valid JSON ({exc})") from exc
            raise
        except RecursionError as exc:  # the standard library's parser recurses once per level
            raise self.legacy_error(value, "JSON nested too deeply to read (over about 1000 levels)") from exc

    def copy_converter(self, source: BaseDatabaseWrapper, target: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        """One call from legacy JSON text to what PostgreSQL is sent, for a bulk copy.

        The same as ``get_db_prep_value(from_db_value(raw))`` for text :func:`_strict_loads`
        reads; it raises for the rest, which the copy then sends through the two calls.
        """
        if not _is_sqlite(source) or _is_sqlite(target):
            return None
        adapt = target.ops.adapt_json_value
        encoder = self.encoder

        def convert(value: str) -> Any:
            parsed = _strict_loads(value)
            return None if parsed is None else adapt(parsed, encoder)

        return convert

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if _is_sqlite(connection) and not hasattr(value, "as_sql"):
            return None if value is None else _dumps_like_javascript(value)
        return super().get_db_prep_value(value, connection, prepared)

