"""One canonical text per column value, computed identically in PostgreSQL SQL and in Python.

Row checksums compare the two databases without moving every row through Python twice: the
target computes each row's canonical text and hash in SQL, the source computes the same text in
Python from the values its model fields read (the converters the ORM uses). The canonical text
of a value is what the target column holds once the value is written through the field:

* integers: decimal text; booleans: ``0``/``1``;
* floats: the 8 IEEE bytes in hex (``float8send``), so the last bit counts; negative zero is zero,
  because Django's client-side parameter binding writes ``-0.0`` as the numeric ``-0``, i.e. 0;
* timestamps: microseconds since 1970 UTC; dates: days since 1970-01-01;
* text: length-prefixed (``5:hello``) so a separator inside a value cannot shift columns;
* JSON: as PostgreSQL prints ``jsonb`` (keys by length then bytes, ``", "`` and ``": "``, numbers
  as ``numeric`` text), with no length prefix: a JSON text ends where its syntax says (a ``|``
  can only stand inside a quoted string), so it cannot shift columns either, and PostgreSQL
  prints each ``jsonb`` once instead of twice;
* NULL is ``N`` and every other value is prefixed with ``v``, so NULL and ``''`` differ.

A row's hash is the first 60 bits of the MD5 of its parts joined by ``|``, as a signed bigint.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
import struct
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

INT, FLOAT, BOOL, TEXT, TIMESTAMP, DATE, JSON, NUMERIC, OTHER = (
    "int", "float", "bool", "text", "timestamp", "date", "json", "numeric", "other",
)

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = dt.date(1970, 1, 1)
ONE_MICROSECOND = dt.timedelta(microseconds=1)
_pack_double = struct.Struct(">d").pack
_md5 = hashlib.md5
_INF = float("inf")

_INT_TYPES = ("bigint", "integer", "smallint", "bigserial", "serial", "smallserial")


def column_kind(field: models.Field, target: BaseDatabaseWrapper) -> str:
    """The canonical kind of ``field``'s column on the target (PostgreSQL) connection."""
    db_type = (field.db_type(target) or "").lower()
    if db_type.startswith(_INT_TYPES):
        return INT
    if db_type == "double precision":
        return FLOAT
    if db_type == "boolean":
        return BOOL
    if db_type == "timestamp with time zone":
        return TIMESTAMP
    if db_type == "date":
        return DATE
    if db_type == "jsonb":
        return JSON
    if db_type == "text" or db_type.startswith(("varchar", "character varying")):
        return TEXT
    if db_type.startswith("numeric"):
        return NUMERIC
    return OTHER


# --- PostgreSQL -----------------------------------------------------------------------------

def _sql_canonical(kind: str, column: sql.Composable) -> sql.Composable:
    """The SQL expression of one column's canonical text (NULL stays NULL)."""
    templates = {
        INT: "{c}::text",
        FLOAT: "encode(float8send({c} + 0.0::float8), 'hex')",
        BOOL: "{c}::int::text",
        TIMESTAMP: "(extract(epoch FROM {c}) * 1000000)::bigint::text",
        DATE: "({c} - DATE '1970-01-01')::text",
        JSON: "{c}::text",
        NUMERIC: "{c}::text",
        TEXT: "length({c})::text || ':' || {c}",
        OTHER: "length({c}::text)::text || ':' || {c}::text",
    }
    return sql.SQL(templates[kind]).format(c=column)


def sql_part(kind: str, column_name: str) -> sql.Composable:
    """One column's part of the row text: ``'N'`` for NULL, ``'v' || canonical`` otherwise."""
    canonical = _sql_canonical(kind, sql.Identifier(column_name))
    return sql.SQL("coalesce('v' || {}, 'N')").format(canonical)


def sql_row_hash(kinds: Sequence[tuple[str, str]]) -> sql.Composable:
    """The SQL bigint row hash over ``(kind, column)`` pairs, equal to :func:`row_hash` in Python."""
    row_text = sql.SQL(" || '|' || ").join(sql_part(kind, column) for kind, column in kinds)
    return sql.SQL("('x' || substr(md5({}), 1, 15))::bit(60)::bigint").format(row_text)


# --- Python ---------------------------------------------------------------------------------

_JSON_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_JSON_ESCAPES.update({0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t",
                      0x22: '\\"', 0x5C: "\\\\"})


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _json_string(value: str) -> str:
    if _NEEDS_ESCAPE.search(value) is None:
        return '"' + value + '"'
    return '"' + value.translate(_JSON_ESCAPES) + '"'


def _key_order(key: str) -> tuple[int, Any]:
    # jsonb orders keys by byte length, then bytes; for ASCII that is length, then the string.
    if key.isascii():
        return len(key), key
    encoded = key.encode()
    return len(encoded), encoded.decode("latin-1")


def numeric_text(literal: str) -> str:
    """How PostgreSQL ``numeric`` prints the number written as ``literal`` (scale kept, no exponent)."""
    number = decimal.Decimal(literal)
    if number.is_zero():
        number = abs(number)  # numeric has no negative zero
    return format(number, "f")


def _jsonb_keys(keys: list[str]) -> list[str]:
    """Object keys in jsonb order: shorter first (in bytes), then bytewise."""
    if "".join(keys).isascii():
        return sorted(sorted(keys), key=len)  # two C-level sorts; the second is stable
    return sorted(keys, key=_key_order)


def _json_key(key: Any) -> str:
    # json.dumps turns non-string keys into strings before PostgreSQL sees them.
    return key if isinstance(key, str) else json.loads(json.dumps({key: 0})).popitem()[0]


def jsonb_text(value: Any) -> str:
    """``value::jsonb::text`` in PostgreSQL, for a value written through ``json.dumps``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return _json_string(value)
    if kind is dict:
        items = {k if type(k) is str else _json_key(k): v for k, v in value.items()}
        return "{" + ", ".join([f"{_json_string(k)}: {jsonb_text(items[k])}" for k in _jsonb_keys(list(items))]) + "}"
    if kind is list:
        return "[" + ", ".join([jsonb_text(v) for v in value]) + "]"
    if kind is float:
        if value != value or value in (_INF, -_INF):
            raise ValueError(f"{value!r} is not valid JSON")
        text = repr(value)  # what json.dumps writes for a float
        return text if "e" not in text and text != "-0.0" else numeric_text(text)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return jsonb_text(float(value))
    if isinstance(value, decimal.Decimal):
        return numeric_text(str(value))
    if isinstance(value, dict):
        return jsonb_text(dict(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _timestamp(value: Any) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str((value - EPOCH) // ONE_MICROSECOND)


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return str((value - EPOCH_DATE).days)


def _text(value: Any) -> str:
    text = value if type(value) is str else str(value)
    return f"{len(text)}:{text}"


def _numeric(value: Any, places: int | None = None) -> str:
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    if places is not None:  # numeric(p, s) pads to its scale
        number = number.quantize(decimal.Decimal(1).scaleb(-places))
    return format(number, "f")


_PYTHON: dict[str, Callable[[Any], str]] = {
    INT: lambda v: str(v) if type(v) is int else str(int(v)),
    FLOAT: lambda v: _pack_double(v + 0.0).hex(),
    BOOL: lambda v: "1" if v else "0",
    TIMESTAMP: _timestamp,
    DATE: _date,
    JSON: jsonb_text,
    NUMERIC: _numeric,
    TEXT: _text,
}


def python_canonical(kind: str, field: models.Field, target: BaseDatabaseWrapper) -> Callable[[Any], str]:
    """A function from a field's Python value (not None) to its canonical text."""
    places = getattr(field, "decimal_places", None)
    if kind == NUMERIC and places is not None:
        return lambda value: _numeric(value, places)
    if kind in _PYTHON:
        return _PYTHON[kind]

    def other(value: Any) -> str:
        return _text(field.get_db_prep_save(value, target))
    return other


def python_part(canonical: Callable[[Any], str], value: Any) -> str:
    """One column's part of the row text, as :func:`sql_part` computes it."""
    return "N" if value is None else "v" + canonical(value)


def row_hash(parts: Sequence[str]) -> int:
    """The 60-bit row hash of the joined parts, as PostgreSQL's :func:`sql_row_hash` computes it."""
    return int.from_bytes(_md5("|".join(parts).encode()).digest()[:8], "big") >> 4
