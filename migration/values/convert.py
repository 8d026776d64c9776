"""One value conversion: a raw legacy value to what the target column takes, through the model fields.

The fields stay the single definition of what a legacy value means: a converter is built from a
field's own converters on the source connection and its ``get_db_prep_value`` on the target,
with fast paths that return exactly what the full path returns. A value the target cannot hold
raises :class:`Refused` with the reason that goes in the rejects report.
"""
from __future__ import annotations

import decimal
import json
import math
import re
import struct
from collections.abc import Callable, Sequence
from typing import Any, cast

import orjson
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields.related import RelatedField
from psycopg.types.json import Jsonb

from migration import inventory
from migration.db import quote
from migration.exceptions import ConversionError

# A JSON number that may overflow a double: a three-digit exponent, or more than 308 digits.
HUGE_NUMBER = re.compile(r"\d[eE]\+?\d{3}|\d{309}")

INT_RANGES = {
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
AUTO_FIELDS = {"AutoField", "BigAutoField", "SmallAutoField"}
# Fields whose get_db_prep_value on PostgreSQL returns a value of the checked type unchanged,
# so the hot loop may skip the call without changing a single value.
PLAIN_TEXT = (models.TextField, models.CharField)
PLAIN_INT = tuple(
    getattr(models, name) for name in INT_RANGES if hasattr(models, name)
)


class Refused(ValueError):
    """A value the target cannot hold; ``reason`` is what goes in the rejects file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def json_problem(value: Any) -> str | None:
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


def _column_type_field(fld: models.Field) -> models.Field:
    """The field whose type the column has: a foreign key's target field, else the field itself."""
    # A stored column that is a relation belongs to a foreign key, so it has a target field.
    return cast("RelatedField[Any, Any]", fld).target_field if fld.is_relation else fld


def clean_condition(reader: inventory.ColumnReader, column: str) -> str | None:
    """An SQLite condition that holds when this column's value needs no conversion at all.

    Rows for which every such condition holds skip the per-cell checks for these columns: SQLite
    tests storage classes, integer ranges and NUL bytes in C, far faster than Python per cell.
    Returns None for columns whose values always go through the field's converters.
    """
    base = _column_type_field(reader.field)
    internal = base.get_internal_type()
    col = quote(column)
    if reader.converters:
        return None
    if internal in INT_RANGES and type(base) in PLAIN_INT:
        low, high = INT_RANGES[internal]
        if (low, high) == (-(2**63), 2**63 - 1):
            return f"typeof({col}) IN ('integer', 'null')"
        return f"(typeof({col}) = 'null' OR (typeof({col}) = 'integer' AND {col} BETWEEN {low} AND {high}))"
    if type(base) is models.FloatField:
        return f"typeof({col}) IN ('real', 'null')"
    if type(base) in PLAIN_TEXT and not getattr(base, "max_length", None):
        return f"(typeof({col}) = 'null' OR (typeof({col}) = 'text' AND instr(CAST({col} AS BLOB), x'00') = 0))"
    return None


def column_converter(
    model: type[models.Model],
    reader: inventory.ColumnReader,
    source: BaseDatabaseWrapper,
    target: BaseDatabaseWrapper,
) -> Callable[[Any], Any]:
    """raw source value -> value for the target column; raises for anything not loadable as is."""
    fld = reader.field
    base = _column_type_field(fld)
    internal = base.get_internal_type()
    converters = reader.converters
    expression = reader.expression
    prep = fld.get_db_prep_value

    def text_guard(value: Any) -> None:
        if isinstance(value, bytes) and internal != "BinaryField":
            raise Refused(f"a BLOB in a {internal} column")
        if isinstance(value, str) and "\x00" in value:
            raise Refused("NUL character in text; PostgreSQL text cannot hold it")

    if internal in INT_RANGES and not converters and type(base) in PLAIN_INT:
        low, high = INT_RANGES[internal]

        def convert_int(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not int:
                text_guard(value)
                kind = "text" if isinstance(value, str) else type(value).__name__
                raise Refused(f"{kind} in an integer column")
            if not low <= value <= high:
                raise Refused(f"out of range for {internal} ({low}..{high})")
            return value

        return convert_int

    if not converters and type(base) is models.FloatField:

        def convert_float(value: Any) -> Any:
            if value is None or type(value) is float:
                return value
            if type(value) is int:
                if abs(value) > 2**53:
                    raise Refused("integer too large to be held exactly by a double precision column")
                return float(value)
            text_guard(value)
            kind = "text" if isinstance(value, str) else type(value).__name__
            raise Refused(f"{kind} in a real column")

        return convert_float

    if not converters and type(base) in PLAIN_TEXT and not getattr(base, "max_length", None):

        def convert_text(value: Any) -> Any:
            if type(value) is str:
                if "\x00" in value:
                    raise Refused("NUL character in text; PostgreSQL text cannot hold it")
                return value
            if value is None:
                return None
            text_guard(value)
            return prep(value, target, prepared=False)

        return convert_text

    is_json = isinstance(base, models.JSONField)
    fast_jsonb = is_json and writes_default_jsonb(base, prep, target)

    def convert(value: Any) -> Any:
        # NULL stays NULL: JSONField.get_db_prep_value would turn None into the JSON text 'null'.
        if value is None:
            return None
        raw = value
        if type(value) is str:
            if "\x00" in value:
                raise Refused("NUL character in text; PostgreSQL text cannot hold it")
        else:
            text_guard(value)
        for converter in converters:
            value = converter(value, expression, source)
        if value is None:
            return None
        if is_json:
            # Only text that spells \u0000, NaN or Infinity, or a number beyond a double (1e400
            # parses to infinity), can parse into what jsonb refuses.
            if type(raw) is not str or suspect_json(raw):
                problem = json_problem(value)
                if problem:
                    raise Refused(problem)
        elif type(value) is str and "\x00" in value:
            raise Refused("NUL character in text; PostgreSQL text cannot hold it")
        if fast_jsonb:
            return Jsonb(value, dump_json)
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
            out.dumps = dump_json
        return out

    return convert_fast


def suspect_json(text: str) -> bool:
    """JSON text that may parse into what jsonb refuses: \\u0000, NaN, Infinity, or a number beyond a double."""
    return "\\u0000" in text or "NaN" in text or "Infinity" in text or HUGE_NUMBER.search(text) is not None


def dump_json(value: Any) -> bytes | str:
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


def writes_default_jsonb(fld: models.Field, prep: Callable[..., Any], target: BaseDatabaseWrapper) -> bool:
    """True when the field writes a parsed JSON value to the target as ``json.dumps`` jsonb.

    Then the copy may write ``Jsonb(value)`` itself and dump it faster (see :func:`dump_json`).
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


def reason_of(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason)
    messages = getattr(exc, "messages", None)
    if messages:
        return "; ".join(str(m) for m in messages)
    return f"{type(exc).__name__}: {exc}"


def json_pk(value: Any) -> Any:
    if value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [json_pk(v) for v in value]
    return repr(value)


READ_ERRORS = (ValueError, TypeError, ArithmeticError, struct.error, decimal.InvalidOperation)


def read_row(
    table: str,
    key: Any,
    raw: Sequence[Any],
    readers: Sequence[inventory.ColumnReader],
    connection: BaseDatabaseWrapper,
) -> list[Any]:
    """Convert one raw row with the fields' readers; a value that cannot be read raises ConversionError.

    ``key`` names the row in the error (its primary key as stored).
    """
    values = []
    for reader, value in zip(readers, raw):
        try:
            values.append(reader(value, connection))
        except READ_ERRORS as exc:
            raise ConversionError(table, key, reader.column, value,
                                  getattr(exc, "reason", None) or str(exc)) from exc
    return values
