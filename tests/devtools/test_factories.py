"""devtools.legacydb: one factory per legacy table, and a fast path that builds exactly what factory-boy builds."""

from __future__ import annotations

import random
import sqlite3

import pytest
from faker import Faker

from core import legacy
from devtools.legacydb import generate, shapes
from devtools.legacydb import rows as recipes
from devtools.legacydb.shapes import Sampler, World

TABLES = sorted(recipes.TABLE_FACTORIES)


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, int]]:
    """Each legacy table's columns and whether they are generated (table_xinfo ``hidden``)."""
    path = tmp_path_factory.mktemp("schema") / "empty.db"
    legacy.create_legacy_database(path)
    connection = sqlite3.connect(path)
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND name NOT LIKE '%_fts_%'"
        )
    ]
    columns = {
        t: {row[1]: row[6] for row in connection.execute(f'PRAGMA table_xinfo("{t}")')}
        for t in tables
    }
    connection.close()
    return columns


@pytest.fixture
def world() -> World:
    """A world in which every earlier table has 20 rows and keys to refer to."""
    world = World.build(seed=5, counts={table: 20 for table in generate.TABLE_ORDER})
    users = recipes.row_recipe("users")
    rows = list(users.rows(Sampler(world, "users"), 20))
    world.remembered[("users", "id")] = [row[users.columns.index("id")] for row in rows]
    world.remembered[("users", "email")] = [row[users.columns.index("email")] for row in rows]
    world.remembered[("analysis_history", "id")] = [
        f"analysis_17540{n:08d}_abcdefghi" for n in range(20)
    ]
    world.remembered[("chat_analytics", "id")] = [
        f"msg_17540{n:08d}_abcdefghi_response" for n in range(20)
    ]
    world.remembered[("chat_analytics", "conversation_id")] = [
        f"conv_17540{n:08d}_abcdefghi" for n in range(20)
    ]
    world.remembered[("product_cards", "id")] = [f"product_un_17540{n:08d}" for n in range(20)]
    world.remembered[("tenders", "id")] = [str(1_480_000 + n) for n in range(20)]
    return world


def test_table_factories_cover_every_legacy_table(schema: dict[str, dict[str, int]]) -> None:
    assert set(recipes.TABLE_FACTORIES) == set(schema)
    assert sorted(generate.TABLE_ORDER) == sorted(schema)


@pytest.mark.parametrize("table", TABLES)
def test_table_factory_declares_only_stored_legacy_columns(
    table: str, schema: dict[str, dict[str, int]]
) -> None:
    stored = {name for name, hidden in schema[table].items() if hidden == 0}

    assert set(recipes.row_recipe(table).columns) <= stored


@pytest.mark.parametrize("table", TABLES)
def test_row_recipe_builds_what_factory_boy_builds(table: str, world: World) -> None:
    total = min(
        12, generate.seed_counts(1_000).get(table, 12)
    )  # a seed table has as many rows as its seed
    fast = recipes.row_recipe(table)
    fast_rows = [dict(zip(fast.columns, row)) for row in fast.rows(Sampler(world, table), total)]

    sampler = Sampler(world, table)
    built = [recipes.build_row(table, sampler, i=i, total=total) for i in range(total)]

    assert fast_rows == built


def test_row_recipe_rejects_declarations_without_a_fast_path() -> None:
    import factory

    @recipes.legacy_table("_test_sequence")
    class SequenceFactory(recipes.LegacyRowFactory):
        id = factory.Sequence(lambda n: n)

    try:
        with pytest.raises(TypeError, match="Sequence has no fast path"):
            recipes.row_recipe("_test_sequence")
    finally:
        del recipes.TABLE_FACTORIES["_test_sequence"]


def test_sampler_ignores_global_random_state(world: World) -> None:
    recipe = recipes.row_recipe("logs")
    first = list(recipe.rows(Sampler(world, "logs"), 50))
    random.seed(999)
    Faker.seed(999)
    second = list(recipe.rows(Sampler(world, "logs"), 50))

    assert first == second


def test_world_pools_follow_the_seed() -> None:
    assert World.build(seed=1).pools == World.build(seed=1).pools
    assert World.build(seed=1).pools.people != World.build(seed=2).pools.people


@pytest.mark.parametrize(
    "ms, expected",
    [
        (
            0,
            (
                "1970-01-01 00:00:00",
                "1970-01-01T00:00:00.000Z",
                "1970-01-01",
                "01.01.1970",
                "1/1/1970",
            ),
        ),
        (
            1_763_127_480_123,
            (
                "2025-11-14 13:38:00",
                "2025-11-14T13:38:00.123Z",
                "2025-11-14",
                "14.11.2025",
                "14/11/2025",
            ),
        ),
    ],
)
def test_timestamp_shapes_match_the_legacy_writers(ms: int, expected: tuple[str, ...]) -> None:
    written = (
        shapes.sqlite_ts(ms),
        shapes.iso_z(ms),
        shapes.date_only(ms),
        shapes.turkish_date(ms),
        shapes.turkish_date(ms, slashed=True),
    )

    assert written == expected


def test_dumps_writes_like_json_stringify() -> None:
    assert (
        shapes.dumps({"şehir": "İzmir", "liste": [1, 2.5, None, True]})
        == '{"şehir":"İzmir","liste":[1,2.5,null,true]}'
    )


@pytest.mark.parametrize(
    "text, slug",
    [
        ("Tavuk Göğsü", "tavuk_gogsu"),
        ("Yumurta (30'lu)", "yumurta_30_lu"),
        ("Şükrü Çağlar İnce", "sukru_caglar_ince"),
    ],
)
def test_ascii_slug_folds_turkish_letters(text: str, slug: str) -> None:
    assert shapes.ascii_slug(text) == slug
