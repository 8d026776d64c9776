"""Which legacy-aware field reads a new legacy column: the suggestions of ``describe_schema --drift``.

The engine asks this module (``MIGRATION_FIELD_SUGGESTER``) with a column's declared type and a
sample of its stored values, and prints the field it returns. The rules follow how the Node.js app
stored values: timestamps in their shapes (read from the samples), 0/1 flags, JSON text, ISO and
Turkish dates. Anything else is left to the engine's plain Django field.
"""
from __future__ import annotations

import json
import re
from typing import Any

from core.fields import DATE_ONLY, EPOCH_MS, ISO_Z, SQLITE_TS
from migration.modelcode import ColumnFacts, FieldCode

FIELDS = "core.fields"
_SHAPES = (
    (SQLITE_TS, re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")),
    (ISO_Z, re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")),
    (DATE_ONLY, re.compile(r"^\d{4}-\d\d-\d\d$")),
)
_TURKISH = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{4}$")
# Epoch milliseconds of 2001-09-09 .. 2286-11-20: integers that size in a *_at column are instants.
_EPOCH_MS_RANGE = (10**12, 10**13)
_TIME_NAMES = ("_at", "_time", "timestamp", "_date", "expires")


def suggest(facts: ColumnFacts) -> FieldCode | None:
    """The legacy-aware field for ``facts``, or None to let the engine choose a plain one."""
    declared = facts.declared_type.upper()
    values = list(facts.samples)
    keep_type = {"legacy_type": facts.declared_type} if declared and declared != "TEXT" else {}
    if facts.primary_key:
        return None
    if "BOOL" in declared or (values and "INT" in declared and set(values) <= {0, 1}
                              and facts.name.startswith(("is_", "has_", "can_"))):
        return FieldCode(FIELDS, "LegacyBooleanField", keep_type)
    shapes = _timestamp_shapes(facts.name, declared, values)
    if shapes is not None:
        if shapes == [DATE_ONLY] and "DATE" in declared and "TIME" not in declared:
            return FieldCode(FIELDS, "LegacyDateField", keep_type)
        kwargs: dict[str, Any] = dict(keep_type)
        if shapes != [SQLITE_TS]:
            kwargs["shapes"] = shapes
        return FieldCode(FIELDS, "LegacyDateTimeField", kwargs,
                         comment="" if values else "no values yet: shapes guessed from the declared type")
    if values and all(isinstance(v, str) and _TURKISH.match(v.strip()) or v == "-" for v in values):
        return FieldCode(FIELDS, "TurkishDateField", keep_type)
    if values and all(isinstance(v, str) and _is_json_document(v) for v in values):
        return FieldCode(FIELDS, "LegacyJSONField", keep_type)
    return None


def _timestamp_shapes(name: str, declared: str, values: list[Any]) -> list[str] | None:
    """The shapes the samples are stored in, in the order first seen; None when they are not timestamps."""
    timelike = "TIME" in declared or "DATE" in declared or name.lower().endswith(_TIME_NAMES)
    if not values:
        return [SQLITE_TS] if "TIME" in declared or "DATE" in declared else None
    shapes: list[str] = []
    for value in values:
        shape = _shape_of(value) if timelike or isinstance(value, str) else None
        if shape is None or (shape == EPOCH_MS and not timelike):
            return None
        if shape not in shapes:
            shapes.append(shape)
    return shapes


def _shape_of(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return EPOCH_MS if _EPOCH_MS_RANGE[0] <= value < _EPOCH_MS_RANGE[1] else None
    if isinstance(value, str):
        return next((shape for shape, pattern in _SHAPES if pattern.match(value.strip())), None)
    return None


def _is_json_document(text: str) -> bool:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True
