"""Round trips of every legacy value shape: SQLite -> Python -> PostgreSQL -> Python -> SQLite."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import connections
from psycopg.types.json import Jsonb

from core.fields import LegacyValueError, parse_timestamp

UTC = dt.UTC
DATABASES = ["default", "sqlite"]
TABLE_MODELS = {m._meta.db_table: m for m in apps.get_app_config("core").get_models()}

# The NOT NULL columns each table needs besides the one under test.
REQUIRED: dict[str, dict[str, Any]] = {
    "logs": {"level": "info", "message": "Analiz tamamlandı"},
    "users": {"id": "u_1a2b3c4d5e6f", "email": "ayse@example.com.tr", "password_hash": "$2a$10$x"},
    "semantic_cache": {
        "id": "0123456789abcdef0123456789abcdef",
        "prompt_hash": "ab",
        "prompt_text": "menü",
        "response_data": "{}",
        "model": "claude",
        "temperature": 0.2,
        "tokens_used": 12,
        "expires_at": "2024-01-02T10:00:00.000Z",
    },
    "analysis_history": {"id": "analysis_1704103200000_k3j4h5g6f"},
    "accuracy_metrics": {"date": "2024-01-01", "provider_type": "api", "provider_name": "tuik"},
    "cache_entries": {
        "key": "menu:ankara",
        "value": "{}",
        "category": "menu",
        "expires_at": 1704103200000,
        "created_at": 1704103200000,
    },
    "webhook_subscriptions": {
        "market_name": "migros",
        "webhook_url": "https://example.com/h",
        "secret_key": "s",
        "events": "[]",
    },
    "market_prices": {"product_key": "domates", "unit": "kg", "unit_price": 24.5, "source": "TUIK"},
    "market_prices_v2": {
        "product_key": "domates",
        "unit": "kg",
        "unit_price": 24.5,
        "source": "TUIK",
    },
    "price_history": {"product_key": "domates", "price": 24.5, "source": "TUIK"},
    "tenders": {"id": "1234567"},
    "market_sources": {"source_key": "migros", "source_name": "Migros", "source_type": "scraping"},
    "api_metrics": {"endpoint": "/api/analysis"},
    "data_pools": {"analysis_id": "analysis_1704103200000_k3j4h5g6f", "data_pool_json": "{}"},
    "recipes": {},
}


@dataclass(frozen=True)
class Case:
    """One legacy value in one column, what it means in Python, and what SQLite gets back."""

    id: str
    table: str
    column: str
    legacy: Any
    python: Any
    back: Any = field(default=None)
    same_back: bool = True  # ``back`` is ``legacy`` unless a canonical shape is documented

    @property
    def expected_back(self) -> Any:
        return self.legacy if self.same_back else self.back


def canonical(case_id: str, table: str, column: str, legacy: Any, python: Any, back: Any) -> Case:
    """A case whose value comes back in the field's documented canonical shape."""
    return Case(case_id, table, column, legacy, python, back, same_back=False)


T = dt.datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
T_MS = T.replace(microsecond=123000)
EPOCH_T_MS = 1704103200123

CASES = [
    # Timestamps: the five shapes and the mixed columns.
    Case("sqlite_ts_text", "users", "created_at", "2024-01-01 10:00:00", T),
    Case("sqlite_ts_datetime", "logs", "created_at", "2024-01-01 10:00:00", T),
    Case("iso_z", "semantic_cache", "expires_at", "2024-01-01T10:00:00.123Z", T_MS),
    Case("iso_z_whole_second", "semantic_cache", "expires_at", "2024-01-01T10:00:00.000Z", T),
    Case("iso_z_declared_datetime", "data_pools", "expires_at", "2024-01-01T10:00:00.123Z", T_MS),
    Case("mixed_sqlite_ts", "analysis_history", "created_at", "2024-01-01 10:00:00", T),
    Case("mixed_iso_z_ms", "analysis_history", "created_at", "2024-01-01T10:00:00.123Z", T_MS),
    canonical(
        "mixed_iso_z_whole_second",
        "analysis_history",
        "created_at",
        "2024-01-01T10:00:00.000Z",
        T,
        "2024-01-01 10:00:00",
    ),
    Case("iso_z_ms_in_sqlite_ts_column", "logs", "created_at", "2024-01-01T10:00:00.123Z", T_MS),
    Case(
        "iso_micro_in_sqlite_ts_column",
        "users",
        "created_at",
        "2024-01-01T10:00:00.123456Z",
        T.replace(microsecond=123456),
    ),
    canonical(
        "iso_offset", "users", "created_at", "2024-01-01T13:00:00+03:00", T, "2024-01-01 10:00:00"
    ),
    Case(
        "date_only_in_timestamp_column",
        "market_prices",
        "created_at",
        "2024-01-01",
        T.replace(hour=0),
    ),
    Case("sqlite_ts_in_date_only_column", "market_prices", "created_at", "2024-01-01 10:00:00", T),
    Case("v2_date_only", "market_prices_v2", "created_at", "2024-01-01", T.replace(hour=0)),
    Case("v2_iso_z", "market_prices_v2", "created_at", "2024-01-01T10:00:00.123Z", T_MS),
    canonical(
        "v2_csv_turkish_date",
        "market_prices_v2",
        "created_at",
        "05.03.2024",
        dt.datetime(2024, 3, 5, tzinfo=UTC),
        "2024-03-05",
    ),
    Case("date_only_date", "accuracy_metrics", "date", "2024-02-29", dt.date(2024, 2, 29)),
    Case("epoch_ms_integer", "cache_entries", "expires_at", EPOCH_T_MS, T_MS),
    Case(
        "epoch_ms_before_1970",
        "cache_entries",
        "last_accessed",
        -86_400_000,
        dt.datetime(1969, 12, 31, tzinfo=UTC),
    ),
    Case("epoch_ms_timestamp", "accuracy_metrics", "created_at", EPOCH_T_MS, T_MS),
    Case(
        "epoch_ms_timestamp_subscription",
        "webhook_subscriptions",
        "last_delivery_at",
        EPOCH_T_MS,
        T_MS,
    ),
    canonical(
        "naive_sqlite_ts_in_epoch_column",
        "accuracy_metrics",
        "created_at",
        "2024-01-01 10:00:00",
        T,
        1704103200000,
    ),
    Case("timestamp_null", "logs", "created_at", None, None),
    # Turkish tender dates.
    Case("turkish_date", "tenders", "publish_date", "05.03.2024", dt.date(2024, 3, 5)),
    canonical(
        "turkish_date_slashes",
        "tenders",
        "tender_date",
        "5/3/2024",
        dt.date(2024, 3, 5),
        "05.03.2024",
    ),
    canonical(
        "turkish_date_single_digits",
        "tenders",
        "tender_date",
        "5.3.2024",
        dt.date(2024, 3, 5),
        "05.03.2024",
    ),
    Case("turkish_date_placeholder", "tenders", "publish_date", "-", None),
    canonical("turkish_date_null", "tenders", "publish_date", None, None, "-"),
    # Flags.
    Case("flag_integer_0", "tenders", "partial_bid_allowed", 0, False),
    Case("flag_integer_1", "tenders", "partial_bid_allowed", 1, True),
    Case("flag_boolean_0", "market_sources", "is_active", 0, False),
    Case("flag_boolean_1", "market_sources", "is_active", 1, True),
    Case("flag_null", "api_metrics", "success", None, None),
    # JSON kept in TEXT.
    Case(
        "json_non_ascii",
        "logs",
        "data",
        '{"error":"Bağlantı hatası: İstanbul şubesi"}',
        {"error": "Bağlantı hatası: İstanbul şubesi"},
    ),
    # jsonb keeps no key order: keys come back shortest first, then bytewise (documented).
    canonical(
        "json_nested",
        "analysis_history",
        "extracted_fields",
        '{"kurum":"Ankara Üniversitesi","kalemler":[{"ad":"Pilav","gram":150},{"ad":"Çorba","gram":250}],'
        '"butce":{"tutar":1250000.5,"para":"TRY"},"onay":true,"not":null}',
        {
            "kurum": "Ankara Üniversitesi",
            "kalemler": [{"ad": "Pilav", "gram": 150}, {"ad": "Çorba", "gram": 250}],
            "butce": {"tutar": 1250000.5, "para": "TRY"},
            "onay": True,
            "not": None,
        },
        '{"not":null,"onay":true,"butce":{"para":"TRY","tutar":1250000.5},"kurum":"Ankara Üniversitesi",'
        '"kalemler":[{"ad":"Pilav","gram":150},{"ad":"Çorba","gram":250}]}',
    ),
    Case("json_empty_object", "logs", "data", "{}", {}),
    Case("json_empty_list", "analysis_history", "input_files", "[]", []),
    Case("json_string", "analysis_history", "validation", '"tamam"', "tamam"),
    Case(
        "json_number", "analysis_history", "validation", "0.30000000000000004", 0.30000000000000004
    ),
    canonical("json_null_text", "analysis_history", "validation", "null", None, None),
    canonical(
        "json_spaces",
        "logs",
        "data",
        '{"a": 1, "b": [1, 2]}',
        {"a": 1, "b": [1, 2]},
        '{"a":1,"b":[1,2]}',
    ),
    canonical(
        "json_key_order",
        "logs",
        "data",
        '{"zeta":1,"a":2}',
        {"zeta": 1, "a": 2},
        '{"a":2,"zeta":1}',
    ),
    canonical(
        "json_escaped_unicode",
        "logs",
        "data",
        '{"s":"\\u015feker"}',
        {"s": "şeker"},
        '{"s":"şeker"}',
    ),
    # Integers beyond 64 bits keep every digit (a float would drop them).
    Case(
        "json_integer_beyond_64_bits",
        "logs",
        "data",
        '{"n":-9223372036854775809,"id":123456789012345678901234567890}',
        {"n": -9223372036854775809, "id": 123456789012345678901234567890},
    ),
    # REAL is double precision, bit for bit.
    Case("real_sum", "api_metrics", "cost_usd", 0.1 + 0.2, 0.30000000000000004),
    Case("real_tiny", "api_metrics", "cost_usd", 1e-300, 1e-300),
    Case("real_subnormal", "api_metrics", "cost_usd", 5e-324, 5e-324),
    Case("real_huge", "api_metrics", "cost_usd", 1.7976931348623157e308, 1.7976931348623157e308),
    Case("real_negative", "api_metrics", "cost_usd", -2.5e-7, -2.5e-7),
    # Integers beyond 32 and 53 bits.
    Case("bigint_over_2_31", "api_metrics", "total_tokens", 2**31 + 7, 2**31 + 7),
    Case("bigint_over_2_53", "api_metrics", "total_tokens", 2**53 + 1, 2**53 + 1),
    Case("bigint_max", "api_metrics", "total_tokens", 2**63 - 1, 2**63 - 1),
    Case("bigint_negative", "api_metrics", "duration_ms", -(2**63), -(2**63)),
    # Text.
    Case(
        "turkish_text",
        "logs",
        "message",
        "Çiğ köfte, ıspanaklı börek, İşkembe çorbası; ĞÜŞÖÇı",
        "Çiğ köfte, ıspanaklı börek, İşkembe çorbası; ĞÜŞÖÇı",
    ),
    Case(
        "literal_backslash_n",
        "recipes",
        "instructions",
        "Soğanı doğrayın.\\nYağda kavurun.",
        "Soğanı doğrayın.\\nYağda kavurun.",
    ),
    Case("emoji_text", "logs", "message", "Menü hazır 🍲", "Menü hazır 🍲"),
]


def insert_legacy_row(table: str, column: str, value: Any) -> Any:
    """Insert one row with raw SQL into the ``sqlite`` test database; return its primary key."""
    values = {**REQUIRED[table], column: value}
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("%s" for _ in values)
    with connections["sqlite"].cursor() as cursor:
        cursor.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(values.values()))
        pk_column = TABLE_MODELS[table]._meta.pk.column
        cursor.execute(f'SELECT "{pk_column}" FROM "{table}" WHERE rowid = last_insert_rowid()')
        (pk,) = cursor.fetchone()
    return pk


def raw_legacy_value(table: str, column: str, pk: Any) -> Any:
    model = TABLE_MODELS[table]
    with connections["sqlite"].cursor() as cursor:
        cursor.execute(
            f'SELECT "{column}" FROM "{table}" WHERE "{model._meta.pk.column}" = %s', [pk]
        )
        (value,) = cursor.fetchone()
    return value


def attname(table: str, column: str) -> str:
    model = TABLE_MODELS[table]
    return next(f.attname for f in model._meta.concrete_fields if f.column == column)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type (so 1 is not True); floats bit for bit."""
    if isinstance(a, float) and isinstance(b, float):
        return a.hex() == b.hex()
    return type(a) is type(b) and a == b


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fields_round_trip(case: Case) -> None:
    model = TABLE_MODELS[case.table]
    name = attname(case.table, case.column)
    pk = insert_legacy_row(case.table, case.column, case.legacy)

    from_sqlite = model.objects.using("sqlite").get(pk=pk)
    assert same(getattr(from_sqlite, name), case.python)
    from_sqlite.save(using="default", force_insert=True)

    from_postgres = model.objects.using("default").get(pk=pk)
    assert same(getattr(from_postgres, name), case.python)

    model.objects.using("sqlite").filter(pk=pk).delete()
    from_postgres.save(using="sqlite", force_insert=True)
    back = raw_legacy_value(case.table, case.column, pk)
    assert same(back, case.expected_back), f"{back!r} != {case.expected_back!r}"


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize(
    ("timestamp", "year_month", "date"),
    [
        ("2024-01-31 23:59:59", "2024-01", "2024-01-31"),
        ("2024-02-01T00:00:00.000Z", "2024-02", "2024-02-01"),
        ("2023-12-31", "2023-12", "2023-12-31"),
    ],
)
def test_fields_generated_columns_agree(timestamp: str, year_month: str, date: str) -> None:
    """The generated year_month and date hold on PostgreSQL what SQLite computes for the same row."""
    for table, column in (("market_prices_v2", "created_at"), ("price_history", "timestamp")):
        model = TABLE_MODELS[table]
        pk = insert_legacy_row(table, column, timestamp)
        model.objects.using("sqlite").get(pk=pk).save(using="default", force_insert=True)
    sqlite_v2 = TABLE_MODELS["market_prices_v2"].objects.using("sqlite").get()
    postgres_v2 = TABLE_MODELS["market_prices_v2"].objects.using("default").get()
    assert sqlite_v2.year_month == postgres_v2.year_month == year_month
    sqlite_history = TABLE_MODELS["price_history"].objects.using("sqlite").get()
    postgres_history = TABLE_MODELS["price_history"].objects.using("default").get()
    assert sqlite_history.date == postgres_history.date == dt.date.fromisoformat(date)


BAD_VALUES = [
    ("timestamp_word", "logs", "created_at", "yesterday"),
    ("timestamp_impossible_month", "logs", "created_at", "2024-13-01 10:00:00"),
    ("timestamp_real", "cache_entries", "last_accessed", 1.5),
    ("timestamp_empty", "users", "created_at", ""),
    ("date_turkish_in_iso_column", "accuracy_metrics", "date", "01.02.2024"),
    ("date_with_time", "accuracy_metrics", "date", "2024-02-01 10:00:00"),
    ("turkish_date_iso", "tenders", "publish_date", "2024-03-05"),
    ("turkish_date_day_32", "tenders", "tender_date", "32.01.2024"),
    ("turkish_date_word", "tenders", "tender_date", "belirtilmemiş"),
    ("flag_two", "tenders", "partial_bid_allowed", 2),
    ("flag_text", "market_sources", "is_active", "evet"),
    ("flag_negative", "api_metrics", "success", -1),
    ("json_empty_string", "logs", "data", ""),
    ("json_plain_text", "logs", "data", "Bağlantı hatası"),
    ("json_truncated", "analysis_history", "extracted_fields", '{"kurum":"Ankara'),
]


@pytest.mark.django_db(databases=["sqlite"])
@pytest.mark.parametrize(
    ("table", "column", "value"), [b[1:] for b in BAD_VALUES], ids=[b[0] for b in BAD_VALUES]
)
def test_fields_bad_legacy_value_raises_named_error(table: str, column: str, value: Any) -> None:
    pk = insert_legacy_row(table, column, value)
    with pytest.raises(LegacyValueError) as caught:
        TABLE_MODELS[table].objects.using("sqlite").get(pk=pk)
    error = caught.value
    assert (error.table, error.column, error.value) == (table, column, value)
    assert f"{table}.{column}" in str(error) and repr(value) in str(error)


def test_fields_legacy_value_error_is_a_value_error() -> None:
    assert issubclass(LegacyValueError, ValueError)


@pytest.mark.parametrize(
    ("table", "column", "unit"),
    [
        ("logs", "created_at", dt.timedelta(seconds=1)),  # sqlite_ts only
        ("accuracy_metrics", "created_at", dt.timedelta(milliseconds=1)),  # epoch_ms
        ("analysis_history", "created_at", dt.timedelta(milliseconds=1)),  # sqlite_ts or iso_z
    ],
)
def test_fields_default_now_is_cut_to_the_column_precision(
    table: str, column: str, unit: dt.timedelta
) -> None:
    field = next(f for f in TABLE_MODELS[table]._meta.concrete_fields if f.column == column)
    value = field.get_default()
    assert value.tzinfo is not None
    assert (value - dt.datetime(1970, 1, 1, tzinfo=UTC)) % unit == dt.timedelta(0)


def _reference_parse_timestamp(value: Any) -> dt.datetime:
    """The first, plain reading of the five shapes, kept to check the faster one against."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int):
        return dt.datetime(1970, 1, 1, tzinfo=UTC) + value * dt.timedelta(milliseconds=1)
    if isinstance(value, str):
        text = value.strip()
        match = re.match(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*$", text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return dt.datetime(year, month, day, tzinfo=UTC)
        if len(text) < 10 or text[4] != "-":
            raise ValueError("not a known timestamp shape")
        parsed = dt.datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise TypeError(f"{type(value).__name__} is not a timestamp")


TIMESTAMP_TEXTS = [
    "2024-01-01 10:00:00", "2024-01-01T10:00:00", "2024-01-01 10:00:00.5", "2024-01-01 10:00:00.123456",
    "2024-01-01T10:00:00.123Z", "2024-01-01T10:00:00Z", "2024-01-01T13:00:00+03:00",
    "2024-01-01T07:00:00-03:00", "2024-01-01 10:00:00+00:00", "2024-01-01T10:00:00.123+05:30",
    "2024-01-01", "  2024-01-01 10:00:00  ", "2024-01-01 10:00", "2024-01-01T10", "2024-01-01 10:00:00Z",
    "2024-01-01T10:00:00.123ZZ", "2024-01-01T10:00:00+03:00Z", "2024-01-01Z", "2024-02-30 10:00:00",
    "2024-01-01 25:00:00", "05.03.2024", "5/3/2024", " 5.3.2024 ", "2024-1-1", "20240101", "yesterday",
    "", "2024-01-01 10:00:00+0300", "2024-01-01T10:00:00.123z", "9999-12-31T23:59:59.999Z",
    "0001-01-01 00:00:00", 0, 1704103200000, -86_400_000, True, 1.5, None, b"2024-01-01",
]


def _outcome(parse: Any, value: Any) -> Any:
    try:
        parsed = parse(value)
    except (TypeError, ValueError, OverflowError) as exc:
        return type(exc).__name__
    return (parsed, parsed.tzinfo, parsed.utcoffset())


@pytest.mark.parametrize("value", TIMESTAMP_TEXTS, ids=[repr(v) for v in TIMESTAMP_TEXTS])
def test_parse_timestamp_reads_every_shape_as_the_plain_reading_does(value: Any) -> None:
    assert _outcome(parse_timestamp, value) == _outcome(_reference_parse_timestamp, value)


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize(
    ("table", "column", "values"),
    [
        ("logs", "created_at", TIMESTAMP_TEXTS),
        ("cache_entries", "expires_at", TIMESTAMP_TEXTS),
        ("logs", "data", [
            "{}", "null", "[]", '"tamam"', "0.30000000000000004", '{"a": 1, "b": [1, 2.5e-7, "ş"]}',
            '{"id":123456789012345678901234567890}', "[1e400]", "[NaN]", '"\\ud800"', "{bad", "",
            '{"a":1,"a":2}', "1E2", '{"s":"\\u015feker"}',
        ]),
    ],
)
def test_copy_converter_gives_what_the_two_field_calls_give(table: str, column: str, values: list[Any]) -> None:
    """The one-call converter a bulk copy uses equals get_db_prep_value(from_db_value(raw)), or refuses."""
    model = TABLE_MODELS[table]
    fld = next(f for f in model._meta.concrete_fields if f.column == column)
    source, target = connections["sqlite"], connections["default"]
    fast = fld.copy_converter(source, target)
    assert fast is not None
    assert fld.copy_converter(target, source) is None
    agreed = 0
    for value in values:
        try:
            read = fld.from_db_value(value, None, source)
            # NULL, and JSON text 'null', stay NULL: the copy never sends None through get_db_prep_value.
            slow = None if read is None else fld.get_db_prep_value(read, target, prepared=False)
        except (TypeError, ValueError):
            slow = "refused"
        try:
            quick = fast(value)
        except (TypeError, ValueError):
            continue  # refused: the copy then makes the two calls itself
        assert slow != "refused", value
        if isinstance(slow, Jsonb):
            assert isinstance(quick, Jsonb) and json.dumps(quick.obj) == json.dumps(slow.obj), value
        else:
            assert (quick, getattr(quick, "tzinfo", None)) == (slow, getattr(slow, "tzinfo", None)), value
        agreed += 1
    assert agreed >= 5
