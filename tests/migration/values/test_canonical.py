"""The canonical text of a value is the same whether PostgreSQL computes it in SQL or Python does."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import random
import struct
from typing import Any

import pytest
from django.db import connections, models
from psycopg import sql

from core.fields import parse_timestamp
from migration.values import canonical

SEED = 20240101
FIELDS = {"n": models.DecimalField(max_digits=12, decimal_places=2)}
CASES = 400
UTC = dt.UTC

COLUMNS = [
    ("i", "bigint", canonical.INT),
    ("f", "double precision", canonical.FLOAT),
    ("b", "boolean", canonical.BOOL),
    ("t", "text", canonical.TEXT),
    ("ts", "timestamptz", canonical.TIMESTAMP),
    ("d", "date", canonical.DATE),
    ("j", "jsonb", canonical.JSON),
    ("n", "numeric(12,2)", canonical.NUMERIC),
]

AWKWARD_TEXT = ["", " ", "|", "1:|N", "v", "N", "İstanbul ığüşöç ĞÜŞÖÇ", "a\\nb", 'q"uote', "tab\tnew\nline\r",
                "\x01\x1f\x7f", "emoji 🍲🇹🇷", "ﬁ ǅ ß", "-", "'", "\u2028\u2029"]
AWKWARD_FLOATS = [0.1 + 0.2, 1e-300, 5e-324, -0.0, 0.0, 1.0, 100.0, 1e22, 1e16, 123456789.123456789,
                  1.7976931348623157e308, -2.5e-8, math.nextafter(1.0, 2.0), 2.0 ** 53 + 2, 1 / 3]
AWKWARD_JSON_TEXT = [
    '{"a":1.0,"b":1e2,"c":1E-7,"d":-0.0,"e":12345678901234567890,"f":-1.5e+300}',
    '{"bb":1,"a":2,"ccc":{"é":"ü","z":[]},"A":null,"":true}',
    '["\\u00e7\\n\\t\\"\\\\\\/", "\\u0001\\u001f", "\\ud83c\\udf72", 0.30000000000000004]',
    '{"dup":1,"dup":2}', '"just a string"', '123', '1.50', 'true', '[]', '{}', '[[[{"x":[1,{"y":"z"}]}]]]',
    '{"fiyat":12.5,"birim":"kg","etiketler":["kırmızı","Şeker"]}', '9007199254740993', '-0',
]


def _random_text(rng: random.Random) -> str:
    alphabet = "aZ09 |:\\\"'\n\t\x01çğıİöşüÇĞÖŞÜ€😀\u0300\u2028\x7f"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def _random_float(rng: random.Random) -> float:
    while True:
        value = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if math.isfinite(value):
            return value


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randint(0, 8 if depth < 3 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.random() < 0.5
    if choice == 2:
        return rng.choice([rng.randint(-10, 10), rng.getrandbits(70) - 2 ** 69, 2 ** 53 + 1])
    if choice == 3:
        return rng.choice([_random_float(rng), rng.choice(AWKWARD_FLOATS), rng.uniform(-1e6, 1e6)])
    if choice in (4, 5):
        return _random_text(rng)
    if choice in (6, 7):
        return {_random_text(rng): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def _random_timestamp(rng: random.Random) -> dt.datetime:
    shapes = [
        lambda: dt.datetime(1900, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=rng.getrandbits(62) % 6_300_000_000_000_000),
        lambda: parse_timestamp(f"20{rng.randint(0, 99):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"),
        lambda: parse_timestamp(f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:00:00."
                                f"{rng.randint(0, 999):03d}Z"),
        lambda: parse_timestamp(f"19{rng.randint(70, 99)}-12-31"),
        lambda: parse_timestamp(rng.randint(-10 ** 12, 4 * 10 ** 12)),
        lambda: parse_timestamp(f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(1990, 2030)}"),
        lambda: dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=3))),
    ]
    return rng.choice(shapes)()


def _cases() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    cases = []
    for n in range(CASES):
        json_value = (json.loads(AWKWARD_JSON_TEXT[n % len(AWKWARD_JSON_TEXT)]) if n % 3 == 0
                      else _random_json(rng))
        case = {
            "i": rng.choice([rng.getrandbits(63) - 2 ** 62, 2 ** 63 - 1, -2 ** 63, 0, 2 ** 53 + 1]),
            "f": AWKWARD_FLOATS[n % len(AWKWARD_FLOATS)] if n % 2 else _random_float(rng),
            "b": rng.random() < 0.5,
            "t": AWKWARD_TEXT[n % len(AWKWARD_TEXT)] if n % 2 else _random_text(rng),
            "ts": _random_timestamp(rng),
            "d": dt.date(1900, 1, 1) + dt.timedelta(days=rng.randint(0, 80_000)),
            "j": json_value,
            "n": decimal.Decimal(rng.randint(-10 ** 9, 10 ** 9)) / 100,
        }
        for column in rng.sample(list(case), rng.randint(0, 2)):  # NULLs anywhere
            case[column] = None
        cases.append(case)
    return cases


@pytest.mark.django_db
def test_canonical_python_equals_postgresql_for_awkward_values() -> None:
    connection = connections["default"]
    connection.ensure_connection()
    columns = ", ".join(f"{name} {db_type}" for name, db_type, _ in COLUMNS)
    cases = _cases()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE canon (k int PRIMARY KEY, {columns})")
        cursor.executemany(
            "INSERT INTO canon VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
            [[k, *(json.dumps(c["j"]) if name == "j" and c["j"] is not None else c[name]
                   for name, _, _ in COLUMNS)] for k, c in enumerate(cases)],
        )
        parts = sql.SQL(", ").join(canonical.sql_part(kind, name) for name, _, kind in COLUMNS)
        row_hash = canonical.sql_row_hash([(kind, name) for name, _, kind in COLUMNS])
        cursor.execute(sql.SQL("SELECT {}, {} FROM canon ORDER BY k").format(parts, row_hash)
                       .as_string(connection.connection))
        rows = cursor.fetchall()
    mismatches = []
    for case, row in zip(cases, rows):
        python_parts = [canonical.python_part(canonical.python_canonical(kind, FIELDS.get(name), connection),
                                              case[name]) for name, _, kind in COLUMNS]
        for (name, _, _), expected, got in zip(COLUMNS, row[:-1], python_parts):
            if expected != got:
                mismatches.append((name, case[name], expected, got))
        if not mismatches and canonical.row_hash(python_parts) != row[-1]:
            mismatches.append(("row hash", case, row[-1], canonical.row_hash(python_parts)))
    assert mismatches == [], "\n".join(map(repr, mismatches[:40]))


@pytest.mark.parametrize(("a", "b"), [
    (None, ""), (0.1 + 0.2, 0.3), (1.0, math.nextafter(1.0, 2.0)), ("A@x.com", "a@x.com"),
    ({"a": 1}, {"a": 1.0}), ({"a": [1, 2]}, {"a": [2, 1]}),
])
def test_canonical_parts_tell_close_values_apart(a: Any, b: Any) -> None:
    kind = canonical.JSON if isinstance(a, dict) else canonical.FLOAT if isinstance(a, float) else canonical.TEXT
    canon = canonical.python_canonical(kind, None, None)
    assert canonical.python_part(canon, a) != canonical.python_part(canon, b)


@pytest.mark.parametrize(("literal", "text"), [
    ("1e2", "100"), ("1.0", "1.0"), ("1E-3", "0.001"), ("-0.0", "0.0"), ("1.50e1", "15.0"),
    ("12345678901234567890", "12345678901234567890"),
])
def test_canonical_numeric_text_matches_postgresql_numeric_out(literal: str, text: str) -> None:
    assert canonical.numeric_text(literal) == text
