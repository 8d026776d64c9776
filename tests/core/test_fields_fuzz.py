"""A bounded fuzz of every legacy field's reading path: whatever SQLite holds, only LegacyValueError escapes.

Each distinct legacy-aware field of the core models (class, declared type, shapes) reads values
SQLite can store (NULL, 64-bit integers, doubles, text, BLOBs), plus text built to look like the
shapes the legacy app wrote, through both of its reading paths: ``from_db_value`` on the SQLite
connection (the ORM, validation) and ``copy_converter`` (the bulk copy). A value is either read
or refused with the named error; no other exception may reach the copy or the validation.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import connections, models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.fields import LegacyFieldMixin, LegacyValueError


def _legacy_fields() -> dict[str, models.Field]:
    """One field per distinct (class, legacy type, shapes) among the core models."""
    found: dict[str, models.Field] = {}
    for model in apps.get_app_config("core").get_models():
        for f in model._meta.concrete_fields:
            typed = f.output_field if isinstance(f, models.GeneratedField) else f
            if isinstance(typed, LegacyFieldMixin):
                key = f"{type(typed).__name__}[{typed.legacy_type}]{getattr(typed, 'shapes', '')}"
                found.setdefault(key, f)
    return found


FIELDS = _legacy_fields()

_digits = st.integers(min_value=0, max_value=99999).map(str)
_separator = st.sampled_from(["-", ".", "/", "T", " ", ":", "Z", "+", ""])


def _timestamp(year: int, month: int, day: int, time: str, offset: str) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}{time}{offset}"


def _json_text(value: Any) -> str:
    return json.dumps(value)


# Text shaped like timestamps, dates and JSON, so the fuzz reaches past the first check of each parser.
shaped_text = st.one_of(
    st.builds(_timestamp, st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32),
              st.sampled_from(["", "T23:59", " 00:00:00", "T23:59:59.999", " 24:00:60"]),
              st.sampled_from(["", "Z", "+14:00", "-23:59", "+00:00", "z", "+99:99"])),
    st.lists(st.one_of(_digits, _separator), max_size=12).map("".join),
    st.builds("{}.{}.{}".format, st.integers(0, 99), st.integers(0, 99), st.integers(0, 99999)),
    st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=5)),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                 max_leaves=10).map(_json_text),
    st.one_of(st.integers(1, 50), st.sampled_from([999, 1000, 1024, 5000])).map(lambda n: "[" * n + "]" * n),
    st.sampled_from(["-", "", " ", "null", "NaN", "Infinity", "1e400", "0", "1", "true", "{}", "[]", "\x00"]),
)
# Everything a SQLite cell can hold, as sqlite3 hands it to the field.
sqlite_value = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.binary(max_size=40),
    shaped_text,
)


def _reading_paths(f: models.Field) -> list[tuple[str, Callable[[Any], Any]]]:
    sqlite, postgres = connections["sqlite"], connections["default"]
    typed = f.output_field if isinstance(f, models.GeneratedField) else f
    paths: list[tuple[str, Callable[[Any], Any]]] = [
        ("from_db_value", lambda value: typed.from_db_value(value, None, sqlite)),
    ]
    hook = getattr(typed, "copy_converter", None)
    fast = hook(sqlite, postgres) if hook is not None else None
    if fast is not None:
        paths.append(("copy_converter", fast))
    return paths


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_legacy_field_reading_raises_only_legacy_value_error(name: str) -> None:
    paths = _reading_paths(FIELDS[name])

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(value=sqlite_value)
    def read(value: Any) -> None:
        for path, convert in paths:
            try:
                convert(value)
            except LegacyValueError:
                pass
            except Exception as exc:  # the point: name what escaped
                if path == "copy_converter" and isinstance(exc, (ValueError, TypeError)):
                    continue  # the copy sends what its fast path refuses through from_db_value (fuzzed above)
                shown = repr(value) if len(repr(value)) < 120 else repr(value)[:120] + "..."
                raise AssertionError(f"{name} {path}({shown}) raised {type(exc).__name__}: {exc}") from exc

    read()
