"""Parity: every model mirrors its legacy table (fixtures/legacy_schema.sql and the schema facts)."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connections, models
from django.db.models.sql import Query

from core import fields as legacy_fields
from core import legacy

FACTS_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "procheff-legacy-schema.json"
NEVER_CREATED = {
    "memberships",
    "orchestrations",
    "analysis_results",
    "activity_logs",
    "user_settings",
    "app_settings",
    "backup_history",
    "tender_analysis",
    "tender_full_content",
}
NOT_MODELLED = {"batch_jobs", "batch_files", "oauth_apps"}

# Which legacy declared types a plain Django field may stand for. Legacy-aware fields declare
# their type themselves (``legacy_type``) and must match it exactly.
PLAIN_FIELD_TYPES: dict[type[models.Field], set[str]] = {
    models.BigAutoField: {"INTEGER"},
    models.BigIntegerField: {"INTEGER"},
    models.FloatField: {"REAL"},
    models.TextField: {"TEXT"},
    models.CharField: {"TEXT"},
}
ON_DELETE = {"NO ACTION": models.DO_NOTHING, "CASCADE": models.CASCADE, "SET NULL": models.SET_NULL}
TIMESTAMP_SHAPES = {
    "SQLITE_TS": legacy_fields.SQLITE_TS,
    "ISO_Z": legacy_fields.ISO_Z,
    "EPOCH_MS": legacy_fields.EPOCH_MS,
    "DATE_ONLY": legacy_fields.DATE_ONLY,
}


@dataclass(frozen=True)
class Column:
    name: str
    declared_type: str
    notnull: bool
    pk: bool
    generated: bool


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]  # "col" or "col DESC"


@dataclass(frozen=True)
class LegacyTable:
    """What the legacy database says about one table, from the SQL file or the schema facts."""

    columns: tuple[Column, ...]
    indexes: tuple[Index, ...]
    uniques: frozenset[tuple[str, ...]]
    foreign_keys: frozenset[tuple[str, str, str, str]]  # column, ref table, ref column, on_delete


def _facts() -> dict[str, dict[str, Any]]:
    return json.loads(FACTS_PATH.read_text(encoding="utf-8"))


FACTS = _facts()


def _core_models() -> dict[str, type[models.Model]]:
    return {m._meta.db_table: m for m in apps.get_app_config("core").get_models()}


MODELS = _core_models()
TABLES = sorted(MODELS)
REAL_TABLES = sorted(t for t in TABLES if t not in NEVER_CREATED)


def _table_from_facts(name: str) -> LegacyTable:
    fact = FACTS[name]
    columns = tuple(
        Column(c["name"], c["declared_type"], bool(c["notnull"]), bool(c["pk"]), "generated" in c)
        for c in fact["columns"]
        if "hidden" not in c
    )
    real = fact["in_real_db"] is True
    indexes = tuple(
        sorted(
            (
                Index(i["name"], tuple(i["columns"]))
                for i in fact.get("indexes", [])
                if i["origin"] == "CREATE INDEX" and (i.get("in_real_db") or not real)
            ),
            key=lambda index: index.name,
        )
    )
    uniques = frozenset(
        tuple(i["columns"]) for i in fact.get("indexes", []) if i["origin"] == "UNIQUE constraint"
    )
    fks = frozenset(
        (fk["column"], fk["ref_table"], fk["ref_column"], fk["on_delete"])
        for fk in fact.get("foreign_keys", [])
    )
    return LegacyTable(columns, indexes, uniques, fks)


def _table_from_sqlite(db: sqlite3.Connection, name: str) -> LegacyTable:
    columns = tuple(
        # table_xinfo hidden: 2 = VIRTUAL generated, 3 = STORED generated.
        Column(row[1], row[2], bool(row[3]), bool(row[5]), row[6] in (2, 3))
        for row in db.execute(f'PRAGMA table_xinfo("{name}")')
    )
    indexes = []
    uniques = set()
    for _, index_name, _unique, origin, _partial in db.execute(f'PRAGMA index_list("{name}")'):
        keyed = [r for r in db.execute(f'PRAGMA index_xinfo("{index_name}")') if r[5]]
        cols = tuple(f"{r[2]} DESC" if r[3] else r[2] for r in keyed)
        if origin == "c":
            indexes.append(Index(index_name, cols))
        elif origin == "u":
            uniques.add(cols)
    fks = frozenset(
        (row[3], row[2], row[4], row[6]) for row in db.execute(f'PRAGMA foreign_key_list("{name}")')
    )
    return LegacyTable(
        columns, tuple(sorted(indexes, key=lambda i: i.name)), frozenset(uniques), fks
    )


@pytest.fixture(scope="module")
def legacy_db(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    """A fresh SQLite file laid from fixtures/legacy_schema.sql."""
    path = tmp_path_factory.mktemp("legacy") / "procheff.db"
    legacy.create_legacy_database(path)
    connection = sqlite3.connect(path)
    yield connection
    connection.close()


@pytest.fixture
def legacy_table(request: pytest.FixtureRequest, legacy_db: sqlite3.Connection) -> LegacyTable:
    """The legacy definition of the parametrized table: the SQL file, or the facts if never created."""
    name = request.node.callspec.params["table"]
    if name in NEVER_CREATED:
        return _table_from_facts(name)
    return _table_from_sqlite(legacy_db, name)


def _columns(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.column: f for f in model._meta.concrete_fields}


def _index_columns(model: type[models.Model], index: models.Index) -> tuple[str, ...]:
    result = []
    for name in index.fields:
        descending = name.startswith("-")
        column = model._meta.get_field(name.lstrip("-")).column
        result.append(f"{column} DESC" if descending else column)
    return tuple(result)


# --- Which tables -----------------------------------------------------------------------------


def test_models_cover_every_legacy_table() -> None:
    expected = {
        name
        for name, fact in FACTS.items()
        if fact["kind"] == "table" and fact["in_real_db"] is not False
    } | NEVER_CREATED
    assert expected.isdisjoint(NOT_MODELLED)
    assert set(MODELS) == expected
    assert len(MODELS) == 75


def test_models_real_tables_exist_in_legacy_schema(legacy_db: sqlite3.Connection) -> None:
    in_file = {
        row[0] for row in legacy_db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert set(REAL_TABLES) <= in_file
    assert not NEVER_CREATED & in_file
    assert len(REAL_TABLES) == 66


@pytest.mark.parametrize("table", REAL_TABLES)
def test_models_legacy_schema_agrees_with_facts(table: str, legacy_table: LegacyTable) -> None:
    """The SQL file and the schema facts describe the same table (so either can be trusted below)."""
    assert legacy_table == _table_from_facts(table)


# --- Columns ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_models_column_names_match(table: str, legacy_table: LegacyTable) -> None:
    assert [f.column for f in MODELS[table]._meta.concrete_fields] == [
        c.name for c in legacy_table.columns
    ]


@pytest.mark.parametrize("table", TABLES)
def test_models_column_types_are_compatible(table: str, legacy_table: LegacyTable) -> None:
    sqlite = connections["sqlite"]
    fields = _columns(MODELS[table])
    for column in legacy_table.columns:
        field = fields[column.name]
        typed = field.output_field if isinstance(field, models.GeneratedField) else field
        if isinstance(typed, legacy_fields.LegacyFieldMixin):
            assert typed.db_type(sqlite) == column.declared_type, column.name
        elif typed.is_relation:
            target = typed.target_field
            assert column.declared_type in PLAIN_FIELD_TYPES[type(target)], column.name
        else:
            assert column.declared_type in PLAIN_FIELD_TYPES[type(typed)], column.name


@pytest.mark.parametrize("table", TABLES)
def test_models_nullability_matches(table: str, legacy_table: LegacyTable) -> None:
    """Same NOT NULL as the legacy column; primary keys are never null in Django (legacy TEXT keys were)."""
    fields = _columns(MODELS[table])
    for column in legacy_table.columns:
        if column.pk:
            continue
        assert fields[column.name].null is not column.notnull, column.name


@pytest.mark.parametrize("table", TABLES)
def test_models_stored_shapes_pick_the_legacy_field(table: str) -> None:
    """Each documented stored shape is read by the field type made for it."""
    fields = _columns(MODELS[table])
    for column in FACTS[table]["columns"]:
        stored = column.get("stored_as", "")
        field = fields[column["name"]]
        shapes = [shape for token, shape in TIMESTAMP_SHAPES.items() if token in stored]
        if stored.startswith("0/1"):
            assert isinstance(field, legacy_fields.LegacyBooleanField), column["name"]
        elif "JSON" in stored or column["declared_type"] == "JSON":
            assert isinstance(field, legacy_fields.LegacyJSONField), column["name"]
        elif "DD.MM.YYYY" in stored:
            assert isinstance(field, legacy_fields.TurkishDateField), column["name"]
        elif stored == "user EMAIL":
            assert type(field) is models.TextField, column["name"]
        elif column["declared_type"] == "DATE":
            assert isinstance(field, legacy_fields.LegacyDateField), column["name"]
        elif shapes:
            assert isinstance(field, legacy_fields.LegacyDateTimeField), column["name"]
            if "writers may use other shapes" not in stored and "would be" not in stored:
                assert set(field.shapes) == set(shapes), column["name"]
        if column["declared_type"] in {"TIMESTAMP", "DATETIME"}:
            assert isinstance(field, legacy_fields.LegacyDateTimeField), column["name"]


# Shapes the facts give only in prose (value_notes) for tables that were never created.
PROSE_SHAPES = [
    ("tender_analysis", "raw_json", legacy_fields.LegacyJSONField),
    ("tender_analysis", "ai_analyzed", legacy_fields.LegacyBooleanField),
    ("tender_full_content", "documents", legacy_fields.LegacyJSONField),
    ("tender_full_content", "structured_data", legacy_fields.LegacyJSONField),
    ("orchestrations", "steps_json", legacy_fields.LegacyJSONField),
    ("orchestrations", "result", legacy_fields.LegacyJSONField),
]


@pytest.mark.parametrize(("table", "column", "field_class"), PROSE_SHAPES)
def test_models_prose_shapes_pick_the_legacy_field(
    table: str, column: str, field_class: type
) -> None:
    assert isinstance(_columns(MODELS[table])[column], field_class)


# --- Keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_models_primary_key_matches(table: str, legacy_table: LegacyTable) -> None:
    pk = MODELS[table]._meta.pk
    (column,) = [c for c in legacy_table.columns if c.pk]
    assert pk.column == column.name
    if FACTS[table]["autoincrement"]:
        assert type(pk) is models.BigAutoField
    else:
        assert column.declared_type == "TEXT"
        assert type(pk) is models.CharField


@pytest.mark.parametrize("table", TABLES)
def test_models_unique_constraints_match(table: str, legacy_table: LegacyTable) -> None:
    model = MODELS[table]
    on_model = {
        tuple(model._meta.get_field(name).column for name in constraint.fields)
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
    }
    assert on_model == set(legacy_table.uniques)
    assert not [f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key]


@pytest.mark.parametrize("table", TABLES)
def test_models_indexes_match(table: str, legacy_table: LegacyTable) -> None:
    model = MODELS[table]
    on_model = {Index(index.name, _index_columns(model, index)) for index in model._meta.indexes}
    assert on_model == set(legacy_table.indexes)
    # An FK column gets no index of its own unless the legacy table had one (declared above).
    assert not [f.name for f in model._meta.concrete_fields if f.is_relation and f.db_index]


def test_models_carry_every_real_index() -> None:
    real = [index for table in REAL_TABLES for index in MODELS[table]._meta.indexes]
    assert len(real) == 95


@pytest.mark.parametrize("table", TABLES)
def test_models_foreign_keys_match(table: str, legacy_table: LegacyTable) -> None:
    on_model = {
        (f.column, f.related_model._meta.db_table, f.target_field.column, f.remote_field.on_delete)
        for f in MODELS[table]._meta.concrete_fields
        if f.is_relation
    }
    assert on_model == {(c, t, r, ON_DELETE[d]) for c, t, r, d in legacy_table.foreign_keys}


def test_models_have_the_eleven_real_foreign_keys() -> None:
    count = sum(
        1 for table in REAL_TABLES for f in MODELS[table]._meta.concrete_fields if f.is_relation
    )
    assert count == 11


# --- CHECKs and generated columns -------------------------------------------------------------

PROBES: tuple[Any, ...] = (
    None,
    -1,
    0,
    0.5,
    1,
    3,
    5,
    6,
    "",
    "x",
    "warn",
    "info",
    "warning",
    "error",
    "success",
    "low",
    "medium",
    "high",
    "pending",
    "processing",
    "completed",
    "failed",
    "cancelled",
    "premium",
    "standard",
    "economy",
    "bulk",
    "retail",
    "wholesale",
    "up",
    "down",
    "stable",
    "kg",
    "g",
    "lt",
    "ml",
    "adet",
    "verified",
    "rejected",
    "api",
    "scraper",
    "crowd",
    "ai",
)


def _check_sql(model: type[models.Model], constraint: models.CheckConstraint) -> str:
    """The constraint's condition as SQLite SQL, with literals inlined as the schema editor does."""
    connection = connections["sqlite"]
    query = Query(model, alias_cols=False)
    where = query.build_where(constraint.condition)
    sql, params = where.as_sql(query.get_compiler(connection=connection), connection)
    editor = connection.SchemaEditorClass(connection)
    return sql % tuple(editor.quote_value(p) for p in params)


def _passes(
    db: sqlite3.Connection,
    condition: str,
    columns: list[str],
    values: tuple[Any, ...],
    other_columns: list[str] = (),
) -> bool:
    """A CHECK passes unless its condition is false (NULL passes, as in SQL); other columns are NULL."""
    select = ", ".join([f'? AS "{c}"' for c in columns] + [f'NULL AS "{c}"' for c in other_columns])
    (result,) = db.execute(f"SELECT ({condition}) FROM (SELECT {select})", values).fetchone()
    return result is None or bool(result)


@pytest.mark.parametrize("table", TABLES)
def test_models_checks_behave_like_legacy(table: str, legacy_db: sqlite3.Connection) -> None:
    """Each legacy CHECK has one CheckConstraint that accepts and rejects exactly the same values."""
    model = MODELS[table]
    checks = [c for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
    legacy_checks = [re.sub(r"^CHECK\s*", "", text) for text in FACTS[table].get("checks", [])]
    assert len(checks) == len(legacy_checks)
    all_columns = [f.column for f in model._meta.concrete_fields]
    # Probe every column any CHECK of the table reads, together, so that two CHECKs on different
    # columns can never pass for one another.
    columns = [
        c for c in all_columns if any(re.search(rf"\b{re.escape(c)}\b", t) for t in legacy_checks)
    ]
    others = [c for c in all_columns if c not in columns]
    cases = list(itertools.product(PROBES, repeat=len(columns)))
    for legacy_condition in legacy_checks:
        expected = [_passes(legacy_db, legacy_condition, columns, case, others) for case in cases]
        assert not all(expected) or "NULL)" in legacy_condition, legacy_condition
        matching = [
            c
            for c in checks
            if [_passes(legacy_db, _check_sql(model, c), columns, case, others) for case in cases]
            == expected
        ]
        assert len(matching) == 1, legacy_condition


def test_models_market_risk_level_check_accepts_anything(legacy_db: sqlite3.Connection) -> None:
    model = MODELS["analysis_results_v2"]
    (check,) = [c for c in model._meta.constraints if c.name.endswith("market_risk_level_check")]
    sql = _check_sql(model, check)
    assert all(_passes(legacy_db, sql, ["market_risk_level"], (v,)) for v in ("low", "bogus", None))


def test_models_notifications_level_rejects_warn(legacy_db: sqlite3.Connection) -> None:
    model = MODELS["notifications"]
    (check,) = [c for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
    assert not _passes(legacy_db, _check_sql(model, check), ["level"], ("warn",))


@pytest.mark.parametrize("table", TABLES)
def test_models_generated_columns_are_generated_fields(
    table: str, legacy_table: LegacyTable
) -> None:
    fields = _columns(MODELS[table])
    for column in legacy_table.columns:
        assert isinstance(fields[column.name], models.GeneratedField) is column.generated, (
            column.name
        )


def test_models_have_two_generated_columns() -> None:
    generated = [
        f"{t}.{f.column}"
        for t in TABLES
        for f in MODELS[t]._meta.concrete_fields
        if isinstance(f, models.GeneratedField)
    ]
    assert sorted(generated) == ["market_prices_v2.year_month", "price_history.date"]


# --- The migrated PostgreSQL schema -----------------------------------------------------------


def _expected_pg_type(table: str, column: dict[str, Any], field: models.Field) -> str:
    """The PostgreSQL type the legacy facts call for (the lossless type table of the requirements)."""
    stored = column.get("stored_as", "")
    declared = column["declared_type"]
    prose = {(t, c): k for t, c, k in PROSE_SHAPES}.get((table, column["name"]))
    if prose is legacy_fields.LegacyJSONField:
        return "jsonb"
    if prose is legacy_fields.LegacyBooleanField:
        return "boolean"
    if declared == "TEXT" and (column["pk"] or field.is_relation):
        return "character varying"  # a CharField key, or a reference to one
    if stored.startswith("0/1"):
        return "boolean"
    if "JSON" in stored or declared == "JSON":
        return "jsonb"
    if "DD.MM.YYYY" in stored or declared == "DATE":
        return "date"
    if declared in {"TIMESTAMP", "DATETIME"} or any(token in stored for token in TIMESTAMP_SHAPES):
        return "timestamp with time zone"
    if declared == "REAL":
        return "double precision"
    if declared == "INTEGER":
        return "bigint"
    # TEXT whose shape the facts do not spell out: an instant or a date is the model's call.
    typed = field.output_field if isinstance(field, models.GeneratedField) else field
    if isinstance(typed, legacy_fields.LegacyDateTimeField):
        return "timestamp with time zone"
    if isinstance(typed, models.DateField):
        return "date"
    return "text"


@pytest.mark.django_db(databases=["default"])
@pytest.mark.parametrize("table", TABLES)
def test_models_postgresql_types_are_lossless(table: str) -> None:
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
        found = {
            name: (data_type, nullable == "YES") for name, data_type, nullable in cursor.fetchall()
        }
    fields = _columns(MODELS[table])
    expected = {
        c["name"]: (
            _expected_pg_type(table, c, fields[c["name"]]),
            not c["notnull"] and not c["pk"],
        )
        for c in FACTS[table]["columns"]
        if "hidden" not in c
    }
    assert found == expected
    assert not {t for t, _ in found.values()} & {
        "real",
        "integer",
        "smallint",
        "time without time zone",
    }


@pytest.mark.django_db(databases=["default"])
@pytest.mark.parametrize("table", TABLES)
def test_models_postgresql_indexes_are_the_legacy_ones(table: str) -> None:
    """PostgreSQL has the legacy indexes (same name, columns, order) plus only PK and UNIQUE ones.

    Django also gives every varchar primary key a ``varchar_pattern_ops`` twin (``<table>_<pk>_..._like``)
    so that ``LIKE 'prefix%'`` on ids can use an index whatever the collation; it is the only
    index allowed beyond the legacy ones.
    """
    connection = connections["default"]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    pk = MODELS[table]._meta.pk
    pattern_ops = re.compile(rf"^{re.escape(table)}_{re.escape(pk.column)}_[0-9a-f]{{8}}_like$")
    explicit = {
        Index(
            name,
            tuple(
                f"{c} DESC" if o == "DESC" else c
                for c, o in zip(info["columns"], info["orders"], strict=True)
            ),
        )
        for name, info in constraints.items()
        if info["index"]
        and not info["primary_key"]
        and not info["unique"]
        and not (isinstance(pk, models.CharField) and pattern_ops.match(name))
    }
    assert explicit == set(_table_from_facts(table).indexes)
    uniques = {
        tuple(info["columns"])
        for info in constraints.values()
        if info["unique"] and not info["primary_key"]
    }
    assert uniques == set(_table_from_facts(table).uniques)
