"""Schema documentation: rendered from the models, committed as docs/schema.md, never allowed to drift."""

from __future__ import annotations

import io
import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from migration import schema

SCHEMA_MD = Path(settings.BASE_DIR) / "docs" / "schema.md"


def table_doc(name: str) -> schema.TableDoc:
    (found,) = [t for t in schema.describe_schema().tables if t.table == name]
    return found


def column_doc(table: str, column: str) -> schema.ColumnDoc:
    (found,) = [c for c in table_doc(table).columns if c.name == column]
    return found


def test_schema_committed_doc_matches_a_fresh_render() -> None:
    """Regenerate with ./manage.py describe_schema --output docs/schema.md when this fails."""
    assert SCHEMA_MD.read_text(encoding="utf-8") == schema.describe_schema().to_markdown()


def test_schema_describes_every_migrated_table_in_name_order() -> None:
    tables = [t.table for t in schema.describe_schema().tables]
    assert len(tables) == 75
    assert tables == sorted(tables)


def test_schema_column_shows_legacy_type_shape_and_target_type() -> None:
    assert column_doc("market_prices_v2", "created_at") == schema.ColumnDoc(
        name="created_at",
        legacy_type="TEXT",
        stored_shape="DATE_ONLY or ISO_Z",
        target_type="timestamp with time zone",
        nullable=False,
        default="django.utils.timezone.now()",
    )
    epoch = column_doc("accuracy_metrics", "created_at")
    assert (epoch.legacy_type, epoch.stored_shape) == ("TIMESTAMP", "EPOCH_MS")
    flag = column_doc("markets", "api_available")
    assert (flag.legacy_type, flag.stored_shape, flag.target_type) == ("BOOLEAN", "0/1", "boolean")
    assert column_doc("logs", "data").target_type == "jsonb"
    assert column_doc("tenders", "publish_date").stored_shape == "DD.MM.YYYY or '-'"


def test_schema_plain_fields_fall_back_to_their_sqlite_type() -> None:
    price = column_doc("market_prices", "unit_price")
    assert (price.legacy_type, price.stored_shape, price.target_type) == (
        "REAL",
        "–",
        "double precision",
    )
    pk = column_doc("market_prices", "id")
    assert (pk.legacy_type, pk.target_type, pk.default) == ("INTEGER", "bigint", "auto-increment")


def test_schema_lists_keys_checks_indexes_and_generated_columns() -> None:
    constraints = table_doc("market_prices").constraints
    assert constraints[0] == "PRIMARY KEY (id)"
    assert 'CHECK `market_prices_unit_price_check`: `"unit_price" > 0.0`' in constraints
    assert "INDEX `idx_market_prices_product_date` (product_key, created_at DESC)" in constraints
    assert (
        "FOREIGN KEY raw_price_id → market_prices_v2(id) ON DELETE CASCADE"
        in table_doc("normalized_prices").constraints
    )
    assert "UNIQUE `recipes_menu_item_id_key` (menu_item_id)" in table_doc("recipes").constraints
    generated = [
        c for c in table_doc("price_history").constraints if c.startswith("GENERATED date")
    ]
    assert len(generated) == 1 and "AT TIME ZONE 'UTC'" in generated[0]


def test_schema_command_writes_the_file(tmp_path: Path) -> None:
    out = io.StringIO()
    target = tmp_path / "docs" / "schema.md"
    call_command("describe_schema", "--output", str(target), stdout=out)
    assert target.read_text(encoding="utf-8") == SCHEMA_MD.read_text(encoding="utf-8")
    assert "wrote 75 tables" in out.getvalue()


def test_schema_command_json_for_named_tables() -> None:
    out = io.StringIO()
    call_command("describe_schema", "market_sources", "logs", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert [t["table"] for t in data["tables"]] == ["logs", "market_sources"]
    assert data["target_alias"] == "default"
