"""fixtures/legacy_schema.sql rebuilds the real legacy Procheff database the JSON facts describe."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The facts are kept in fixtures/ beside the SQL they describe.
SCHEMA_JSON = REPO_ROOT / "fixtures" / "procheff-legacy-schema.json"
LEGACY_SQL = REPO_ROOT / "fixtures" / "legacy_schema.sql"

FACTS: dict[str, dict] = json.loads(SCHEMA_JSON.read_text(encoding="utf-8"))

# in_real_db is True for the 65 proven tables and a "presumed ..." string for _migrations.
REAL_TABLES = {
    name: entry
    for name, entry in FACTS.items()
    if entry["kind"] == "table" and entry["in_real_db"] is not False
}
FTS_TABLES = {
    name: entry
    for name, entry in FACTS.items()
    if entry["kind"] == "fts5_virtual_table" and entry["in_real_db"] is True
}
NEVER_CREATED = sorted(name for name, entry in FACTS.items() if entry["in_real_db"] is False)
FTS_SHADOW_SUFFIXES = ("_config", "_content", "_data", "_docsize", "_idx")

# The counts of README section 1 for the real procheff.db.
EXPECTED_TABLES = 66
EXPECTED_COLUMNS = 669
EXPECTED_EXPLICIT_INDEXES = 95
EXPECTED_AUTOMATIC_INDEXES = 39
EXPECTED_FOREIGN_KEYS = 11
EXPECTED_AUTOINCREMENT_TABLES = 47

AUTO_ORIGIN = {"UNIQUE constraint": "u", "PRIMARY KEY": "pk"}
TABLES_WITH_FKS = sorted(name for name, entry in REAL_TABLES.items() if entry.get("foreign_keys"))
TEXT_PK_TABLES = sorted(
    name
    for name, entry in REAL_TABLES.items()
    if any(c["pk"] and c["declared_type"] == "TEXT" for c in entry["columns"])
)
GENERATED_COLUMNS = sorted(
    (name, c["name"])
    for name, entry in REAL_TABLES.items()
    for c in entry["columns"]
    if c.get("generated")
)


def _explicit_indexes(entry: dict) -> list[dict]:
    return [
        i
        for i in entry.get("indexes", [])
        if i["origin"] == "CREATE INDEX" and i["in_real_db"] is True
    ]


def _failed_indexes(entry: dict) -> list[dict]:
    return [
        i
        for i in entry.get("indexes", [])
        if i["origin"] == "CREATE INDEX" and i["in_real_db"] is not True
    ]


def _automatic_indexes(entry: dict) -> list[dict]:
    return [i for i in entry.get("indexes", []) if i["origin"] in AUTO_ORIGIN]


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _normalise_default(value: str | None) -> str | None:
    """Drop parentheses around the whole default: (datetime('now')) -> datetime('now')."""
    if value is None:
        return None
    text = value.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _expected_hidden(column: dict) -> int:
    if column.get("hidden"):
        return 1  # FTS5 hidden column
    generated = column.get("generated")
    if generated == "VIRTUAL":
        return 2
    if generated == "STORED":
        return 3
    return 0


def _index_key_columns(conn: sqlite3.Connection, index: str) -> list[tuple[str, bool]]:
    # index_xinfo: seqno, cid, name, desc, coll, key; key=0 rows are the rowid / PK tail.
    rows = conn.execute(f'PRAGMA index_xinfo("{index}")').fetchall()
    return [(row[2], bool(row[3])) for row in rows if row[5]]


def _parse_index_column(spec: str) -> tuple[str, bool]:
    parts = spec.split()
    assert len(parts) in (1, 2), spec
    if len(parts) == 2:
        assert parts[1].upper() in ("ASC", "DESC"), spec
    return parts[0], len(parts) == 2 and parts[1].upper() == "DESC"


def _index_list(conn: sqlite3.Connection, table: str) -> list[tuple]:
    # index_list: seq, name, unique, origin, partial
    return conn.execute(f'PRAGMA index_list("{table}")').fetchall()


def _build(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY_SQL.read_text(encoding="utf-8"))
    return conn


@pytest.fixture(scope="module")
def legacy_db(tmp_path_factory: pytest.TempPathFactory):
    """Read-only use: one database built from the SQL file for the whole module."""
    conn = _build(tmp_path_factory.mktemp("legacy_schema") / "procheff.db")
    yield conn
    conn.close()


@pytest.fixture
def fresh_db(tmp_path: Path):
    """A database of its own for tests that write rows."""
    conn = _build(tmp_path / "procheff.db")
    yield conn
    conn.close()


def test_schema_facts_counts_match_readme():
    assert len(REAL_TABLES) == EXPECTED_TABLES
    assert sum(len(e["columns"]) for e in REAL_TABLES.values()) == EXPECTED_COLUMNS
    assert sum(len(_explicit_indexes(e)) for e in REAL_TABLES.values()) == EXPECTED_EXPLICIT_INDEXES
    assert (
        sum(len(_automatic_indexes(e)) for e in REAL_TABLES.values()) == EXPECTED_AUTOMATIC_INDEXES
    )
    assert (
        sum(len(e.get("foreign_keys", [])) for e in REAL_TABLES.values()) == EXPECTED_FOREIGN_KEYS
    )
    assert sorted(FTS_TABLES) == ["analysis_fts", "product_catalog_fts"]


def test_sql_file_issues_no_pragma():
    statements = "\n".join(
        line.split("--", 1)[0] for line in LEGACY_SQL.read_text(encoding="utf-8").splitlines()
    )
    assert "PRAGMA" not in statements.upper()


def test_database_tables_are_exactly_the_real_tables(legacy_db):
    rows = legacy_db.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    ).fetchall()
    shadow = {f"{fts}{suffix}" for fts in FTS_TABLES for suffix in FTS_SHADOW_SUFFIXES}
    regular = {
        name
        for name, sql in rows
        if name not in shadow and not sql.upper().startswith("CREATE VIRTUAL")
    }
    virtual = {name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL")}
    assert regular == set(REAL_TABLES)
    assert len(regular) == EXPECTED_TABLES
    assert virtual == set(FTS_TABLES)
    assert not set(NEVER_CREATED) & {name for name, _ in rows}
    views = legacy_db.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall()
    assert views == []  # market_prices_current is not proven


@pytest.mark.parametrize(
    ("fts", "shadow_suffixes"),
    [
        ("analysis_fts", ("_config", "_content", "_data", "_docsize", "_idx")),
        ("product_catalog_fts", ("_config", "_data", "_docsize", "_idx")),
    ],
)
def test_fts_table_is_fts5_with_expected_columns_and_shadow_tables(legacy_db, fts, shadow_suffixes):
    (sql,) = legacy_db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (fts,)).fetchone()
    assert re.search(r"USING\s+fts5\s*\(", sql, re.IGNORECASE)
    shadows = {
        name
        for (name,) in legacy_db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\'",
            (fts.replace("_", "\\_") + "\\_%",),
        )
    }
    assert shadows == {f"{fts}{suffix}" for suffix in shadow_suffixes}
    actual = [(r[1], r[2], r[6]) for r in legacy_db.execute(f'PRAGMA table_xinfo("{fts}")')]
    expected = [
        (c["name"], c["declared_type"], _expected_hidden(c)) for c in FTS_TABLES[fts]["columns"]
    ]
    assert actual == expected


def test_analysis_fts_stores_and_matches_its_own_content(fresh_db):
    fresh_db.execute(
        "INSERT INTO analysis_fts (analysis_id, content) "
        "VALUES ('analysis_1_abc', 'yemek hizmeti ihalesi')"
    )
    rows = fresh_db.execute(
        "SELECT analysis_id FROM analysis_fts WHERE analysis_fts MATCH 'hizmeti'"
    ).fetchall()
    assert rows == [("analysis_1_abc",)]


def test_product_catalog_fts_indexes_external_content_after_rebuild(fresh_db):
    fresh_db.execute(
        "INSERT INTO product_catalog (id, product_key, canonical_name, category, aliases, tags) "
        "VALUES (7, 'domates', 'Domates', 'sebze', '[\"tomato\"]', '[\"taze\"]')"
    )
    fresh_db.execute("INSERT INTO product_catalog_fts(product_catalog_fts) VALUES ('rebuild')")
    rows = fresh_db.execute(
        "SELECT rowid, canonical_name FROM product_catalog_fts "
        "WHERE product_catalog_fts MATCH 'tomato'"
    ).fetchall()
    assert rows == [(7, "Domates")]


@pytest.mark.parametrize("table", sorted(REAL_TABLES))
def test_table_columns_match_facts(legacy_db, table):
    # table_xinfo: cid, name, type, notnull, dflt_value, pk, hidden
    actual = [
        (name, decl, bool(notnull), _normalise_default(dflt), pk, hidden)
        for _cid, name, decl, notnull, dflt, pk, hidden in legacy_db.execute(
            f'PRAGMA table_xinfo("{table}")'
        )
    ]
    expected = [
        (
            c["name"],
            c["declared_type"],
            c["notnull"],
            _normalise_default(c["default"]),
            c["pk"],
            _expected_hidden(c),
        )
        for c in REAL_TABLES[table]["columns"]
    ]
    assert actual == expected


def test_column_total_matches_facts(legacy_db):
    total = sum(
        len(legacy_db.execute(f'PRAGMA table_xinfo("{t}")').fetchall()) for t in REAL_TABLES
    )
    assert total == EXPECTED_COLUMNS


def test_generated_columns_are_virtual_and_computed(fresh_db):
    assert GENERATED_COLUMNS == [("market_prices_v2", "year_month"), ("price_history", "date")]
    for table, column in GENERATED_COLUMNS:
        (entry,) = [c for c in REAL_TABLES[table]["columns"] if c["name"] == column]
        assert entry["generated"] == "VIRTUAL"
        hidden = {r[1]: r[6] for r in fresh_db.execute(f'PRAGMA table_xinfo("{table}")')}
        assert hidden[column] == 2  # 2 = VIRTUAL generated, 3 would be STORED
        assert column not in {r[1] for r in fresh_db.execute(f'PRAGMA table_info("{table}")')}
    fresh_db.execute(
        "INSERT INTO market_prices_v2 (product_key, unit, unit_price, source, created_at) "
        "VALUES ('domates', 'kg', 24.5, 'TUIK', '2024-05-06')"
    )
    fresh_db.execute(
        "INSERT INTO price_history (product_key, price, source, timestamp) "
        "VALUES ('domates', 24.5, 'TUIK', '2024-05-06 07:08:09')"
    )
    assert fresh_db.execute("SELECT year_month FROM market_prices_v2").fetchone() == ("2024-05",)
    assert fresh_db.execute("SELECT date FROM price_history").fetchone() == ("2024-05-06",)
    with pytest.raises(sqlite3.OperationalError):
        fresh_db.execute(
            "INSERT INTO price_history (product_key, price, source, date) "
            "VALUES ('x', 1, 'y', '2024-01-01')"
        )


@pytest.mark.parametrize("table", sorted(REAL_TABLES))
def test_explicit_indexes_match_facts(legacy_db, table):
    actual = {}
    for _seq, name, unique, origin, partial in _index_list(legacy_db, table):
        if origin == "c":
            assert partial == 0, name
            actual[name] = (bool(unique), _index_key_columns(legacy_db, name))
    expected = {
        i["name"]: (i["unique"], [_parse_index_column(col) for col in i["columns"]])
        for i in _explicit_indexes(REAL_TABLES[table])
    }
    assert actual == expected


def test_explicit_index_total_matches_facts(legacy_db):
    names = {
        name
        for table in REAL_TABLES
        for _seq, name, _unique, origin, _partial in _index_list(legacy_db, table)
        if origin == "c"
    }
    assert len(names) == EXPECTED_EXPLICIT_INDEXES
    (with_sql,) = legacy_db.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchone()
    assert with_sql == EXPECTED_EXPLICIT_INDEXES


def test_failed_legacy_indexes_are_absent(legacy_db):
    failed = {i["name"] for e in REAL_TABLES.values() for i in _failed_indexes(e)}
    assert len(failed) == 6
    present = {
        name for (name,) in legacy_db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert not failed & present


@pytest.mark.parametrize("table", sorted(REAL_TABLES))
def test_automatic_indexes_match_facts(legacy_db, table):
    actual = {
        name: (origin, bool(unique), _index_key_columns(legacy_db, name))
        for _seq, name, unique, origin, _partial in _index_list(legacy_db, table)
        if origin in ("u", "pk")
    }
    expected = {
        i["name"]: (AUTO_ORIGIN[i["origin"]], i["unique"], [(col, False) for col in i["columns"]])
        for i in _automatic_indexes(REAL_TABLES[table])
    }
    assert actual == expected


def test_automatic_index_total_matches_facts(legacy_db):
    total = sum(
        1
        for table in REAL_TABLES
        for _seq, _name, _unique, origin, _partial in _index_list(legacy_db, table)
        if origin in ("u", "pk")
    )
    assert total == EXPECTED_AUTOMATIC_INDEXES


@pytest.mark.parametrize("table", TABLES_WITH_FKS)
def test_foreign_keys_match_facts(legacy_db, table):
    # foreign_key_list: id, seq, table, from, to, on_update, on_delete, match
    actual = sorted(
        (row[3], row[2], row[4], row[6], row[5])
        for row in legacy_db.execute(f'PRAGMA foreign_key_list("{table}")')
    )
    expected = sorted(
        (fk["column"], fk["ref_table"], fk["ref_column"], fk["on_delete"], fk["on_update"])
        for fk in REAL_TABLES[table]["foreign_keys"]
    )
    assert actual == expected


def test_foreign_key_total_matches_facts(legacy_db):
    total = sum(
        len(legacy_db.execute(f'PRAGMA foreign_key_list("{t}")').fetchall()) for t in REAL_TABLES
    )
    assert total == EXPECTED_FOREIGN_KEYS
    assert len(legacy_db.execute('PRAGMA foreign_key_list("notification_queue")').fetchall()) == 2


def test_foreign_key_targets_are_created_first():
    order = re.findall(r"^CREATE TABLE (\w+)", LEGACY_SQL.read_text(encoding="utf-8"), re.MULTILINE)
    position = {name: i for i, name in enumerate(order)}
    for table in TABLES_WITH_FKS:
        for fk in REAL_TABLES[table]["foreign_keys"]:
            assert position[fk["ref_table"]] < position[table], (table, fk["ref_table"])


@pytest.mark.parametrize("table", sorted(REAL_TABLES))
def test_check_constraints_are_verbatim(legacy_db, table):
    (sql,) = legacy_db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    checks = REAL_TABLES[table].get("checks", [])
    for check in checks:
        assert check in sql
    assert len(re.findall(r"\bCHECK\s*\(", sql, re.IGNORECASE)) == len(checks)


def test_market_risk_level_check_accepts_anything(fresh_db):
    fresh_db.execute(
        "INSERT INTO analysis_results_v2 (id, market_risk_level) VALUES ('a1', 'anything')"
    )
    assert fresh_db.execute("SELECT market_risk_level FROM analysis_results_v2").fetchone() == (
        "anything",
    )


def test_notifications_level_check_rejects_warn(fresh_db):
    fresh_db.execute("INSERT INTO notifications (level, message) VALUES ('warning', 'ok')")
    with pytest.raises(sqlite3.IntegrityError):
        fresh_db.execute("INSERT INTO notifications (level, message) VALUES ('warn', 'rejected')")


def test_text_primary_keys_accept_null(fresh_db):
    assert len(TEXT_PK_TABLES) == 19
    fresh_db.execute("INSERT INTO menu_cache (hash, menu_items_json) VALUES (NULL, '[]')")
    assert fresh_db.execute("SELECT count(*) FROM menu_cache WHERE hash IS NULL").fetchone() == (1,)


def test_autoincrement_tables_match_facts(legacy_db):
    rows = legacy_db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    actual = {
        name for name, sql in rows if sql and re.search(r"\bAUTOINCREMENT\b", sql, re.IGNORECASE)
    }
    expected = {name for name, entry in REAL_TABLES.items() if entry["autoincrement"]}
    assert actual == expected
    assert len(actual) == EXPECTED_AUTOINCREMENT_TABLES


def test_sqlite_sequence_tracks_autoincrement_insert(fresh_db):
    cursor = fresh_db.execute(
        "INSERT INTO logs (level, message, data) VALUES ('info', 'hello', '{}')"
    )
    assert fresh_db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone() == ("sqlite_sequence",)
    assert fresh_db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'logs'").fetchone() == (
        cursor.lastrowid,
    )


def test_triggers_are_only_the_real_one(legacy_db):
    expected = {
        (trigger["name"], table)
        for table, entry in REAL_TABLES.items()
        for trigger in entry.get("triggers", [])
        if trigger["in_real_db"] is True
    }
    actual = set(
        legacy_db.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
    )
    assert actual == expected == {("update_market_sources_timestamp", "market_sources")}


def _insert_market_source(conn: sqlite3.Connection, updated_at: str) -> int:
    cursor = conn.execute(
        "INSERT INTO market_sources (source_key, source_name, source_type, updated_at) "
        "VALUES ('migros', 'Migros', 'scraping', ?)",
        (updated_at,),
    )
    return cursor.lastrowid


def test_market_sources_trigger_refreshes_updated_at_after_other_update(fresh_db):
    source_id = _insert_market_source(fresh_db, "2000-01-01 00:00:00")
    (before,) = fresh_db.execute("SELECT datetime('now')").fetchone()
    fresh_db.execute(
        "UPDATE market_sources SET source_name = 'Migros Sanal Market' WHERE id = ?", (source_id,)
    )
    (after,) = fresh_db.execute("SELECT datetime('now')").fetchone()
    (updated_at,) = fresh_db.execute(
        "SELECT updated_at FROM market_sources WHERE id = ?", (source_id,)
    ).fetchone()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", updated_at)
    assert before <= updated_at <= after


def test_market_sources_trigger_keeps_explicit_updated_at(fresh_db):
    source_id = _insert_market_source(fresh_db, "2000-01-01 00:00:00")
    fresh_db.execute(
        "UPDATE market_sources SET source_name = 'Migros', updated_at = '2001-02-03 04:05:06' "
        "WHERE id = ?",
        (source_id,),
    )
    assert fresh_db.execute(
        "SELECT updated_at FROM market_sources WHERE id = ?", (source_id,)
    ).fetchone() == ("2001-02-03 04:05:06",)


def test_market_sources_trigger_does_not_recurse_with_recursive_triggers_on(fresh_db):
    fresh_db.execute("PRAGMA recursive_triggers = ON")
    source_id = _insert_market_source(fresh_db, "2000-01-01 00:00:00")
    for count in range(3):  # same second twice: the value is already current
        fresh_db.execute(
            "UPDATE market_sources SET error_count = ? WHERE id = ?", (count, source_id)
        )
    (updated_at,) = fresh_db.execute(
        "SELECT updated_at FROM market_sources WHERE id = ?", (source_id,)
    ).fetchone()
    assert updated_at != "2000-01-01 00:00:00"
