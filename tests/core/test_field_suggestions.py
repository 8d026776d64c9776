"""The legacy-aware field proposed for a new legacy column, from its declared type and stored values."""
from __future__ import annotations

from typing import Any

import pytest

from core.field_suggestions import suggest
from migration.modelcode import ColumnFacts, FieldCode


def facts(name: str, declared: str, *samples: Any) -> ColumnFacts:
    return ColumnFacts("t", name, declared, False, False, None, samples)


@pytest.mark.parametrize(("column", "expected"), [
    (facts("created_at", "DATETIME", "2024-01-01 10:00:00"),
     FieldCode("core.fields", "LegacyDateTimeField", {"legacy_type": "DATETIME"})),
    (facts("sent_at", "TEXT", "2024-01-01T10:00:00.000Z", "2024-01-02 10:00:00"),
     FieldCode("core.fields", "LegacyDateTimeField", {"shapes": ["iso_z", "sqlite_ts"]})),
    (facts("seen_at", "INTEGER", 1717171717000),
     FieldCode("core.fields", "LegacyDateTimeField", {"legacy_type": "INTEGER", "shapes": ["epoch_ms"]})),
    (facts("due", "DATE", "2024-03-05"), FieldCode("core.fields", "LegacyDateField", {"legacy_type": "DATE"})),
    (facts("ihale_tarihi", "TEXT", "05.03.2024", "-"), FieldCode("core.fields", "TurkishDateField", {})),
    (facts("active", "BOOLEAN", 1, 0), FieldCode("core.fields", "LegacyBooleanField", {"legacy_type": "BOOLEAN"})),
    (facts("is_public", "INTEGER", 0, 1), FieldCode("core.fields", "LegacyBooleanField", {"legacy_type": "INTEGER"})),
    (facts("meta", "TEXT", '{"a": 1}', "[1, 2]"), FieldCode("core.fields", "LegacyJSONField", {})),
])
def test_field_suggestions_read_what_the_legacy_app_stored(column: ColumnFacts, expected: FieldCode) -> None:
    assert suggest(column) == expected


@pytest.mark.parametrize("column", [
    facts("count", "INTEGER", 0, 1, 7),  # an integer, not a flag nor an instant
    facts("note", "TEXT", "hello", '{"a": 1}'),  # text, some of it JSON
    facts("price", "REAL", 1.5),
    facts("id", "INTEGER"),
])
def test_field_suggestions_leave_plain_columns_to_the_engine(column: ColumnFacts) -> None:
    assert suggest(column) is None
