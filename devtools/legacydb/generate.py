"""Generate a realistic legacy database: plan row counts per table, then write each table's factory rows.

The file is laid out by :func:`core.legacy.create_legacy_database` and filled through the stdlib
``sqlite3`` module (never the ORM), so every value lands exactly as the Node.js app stored it.
Rows come from the factory-boy recipes of :mod:`devtools.legacydb.tables`, evaluated on their fast path
(:func:`devtools.legacydb.rows.row_recipe`) and inserted with ``executemany`` in one transaction per table.

How the ``rows`` total is spread, like the real database (logs 3640, market_prices 1268,
tenders 224, a handful of seed tables):

* seed tables get their seed counts (menu categories 10, menu items 29, markets 10, ...);
  ``proactive_triggers`` grows by 5 per simulated app start, ``performance_profiles`` by 3 and
  ``webhooks`` by 1 per re-run of their seed file, as duplicate seeds did in the real app;
* the rest goes to the tables the app wrote, by weight: ``logs`` the largest, then market prices,
  chat, API metrics, caches, queues, analyses, tenders;
* tables the app never wrote (README section 5.8) get a tiny share: empty in small databases,
  a few hundred rows in a million, so every model has rows to read;
* keys that must stay unique cap some tables (a data pool per analysis, a 2FA row per user,
  one coverage row per market and category); what a cap removes goes to ``logs``.

The counts always add up to ``rows`` exactly. The same ``seed`` gives the same rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import legacy
from devtools.legacydb import rows as recipes
from devtools.legacydb import vocabulary
from devtools.legacydb.shapes import Sampler, World
from devtools.legacydb.vocabulary import CATEGORIES, MARKETS

DEFAULT_ROWS = 2_000
BATCH_ROWS = 10_000

# Parents before children (declared FKs and the implicit links the factories follow).
TABLE_ORDER = (
    "users",
    "organizations",
    "user_2fa",
    "security_audit_logs",
    "migrations",
    "_migrations",
    "menu_categories",
    "menu_items",
    "recipes",
    "recipe_ingredients",
    "gramaj_standards",
    "user_menus",
    "markets",
    "market_sources",
    "brand_mappings",
    "api_provider_health",
    "notification_templates",
    "notification_channels",
    "notification_queue",
    "notifications",
    "logs",
    "ai_logs",
    "tenders",
    "analysis_history",
    "data_pools",
    "analysis_results_v2",
    "api_metrics",
    "semantic_cache",
    "menu_cache",
    "chat_analytics",
    "chat_feedback",
    "feedback_patterns",
    "improvement_actions",
    "proactive_triggers",
    "proactive_suggestions",
    "market_prices",
    "market_price_details",
    "market_price_history",
    "market_prices_v2",
    "normalized_prices",
    "price_history",
    "price_validations",
    "market_cache",
    "product_cards",
    "price_alerts",
    "product_catalog",
    "fuzzy_matches",
    "user_price_submissions",
    "user_trust_metrics",
    "scraper_proxies",
    "market_category_averages",
    "scraping_queue",
    "webhook_subscriptions",
    "accuracy_metrics",
    "coverage_metrics",
    "cache_entries",
    "queue_jobs",
    "report_templates",
    "report_history",
    "performance_settings",
    "performance_profiles",
    "webhooks",
    "webhook_logs",
    "integration_configs",
    "api_usage_logs",
    "api_keys",
)

# Tables the app wrote at run time, by share of the rows left after the seeds.
WRITTEN_WEIGHTS: dict[str, float] = {
    "logs": 36.0,
    "market_prices": 12.0,
    "market_prices_v2": 7.0,
    "chat_analytics": 6.0,
    "api_metrics": 6.0,
    "api_usage_logs": 4.0,
    "analysis_history": 4.0,
    "semantic_cache": 4.0,
    "cache_entries": 4.0,
    "queue_jobs": 4.0,
    "tenders": 2.5,
    "data_pools": 2.0,
    "analysis_results_v2": 1.5,
    "notifications": 1.0,
    "price_validations": 1.0,
    "security_audit_logs": 0.8,
    "chat_feedback": 0.6,
    "webhook_logs": 0.6,
    "users": 0.4,
    "notification_queue": 0.4,
    "notification_channels": 0.2,
    "improvement_actions": 0.2,
    "report_history": 0.2,
    "product_cards": 0.2,
    "accuracy_metrics": 0.2,
    "user_2fa": 0.1,
    "organizations": 0.1,
    "feedback_patterns": 0.1,
    "coverage_metrics": 0.1,
    "recipe_ingredients": 0.1,
    "report_templates": 0.05,
    "webhook_subscriptions": 0.05,
}
# Tables with no working writer (README 5.8): rows only from manual use, so a tiny share.
UNWRITTEN_WEIGHT = 0.01
UNWRITTEN = (
    "ai_logs",
    "api_keys",
    "market_cache",
    "menu_cache",
    "product_catalog",
    "proactive_suggestions",
    "user_menus",
    "price_alerts",
    "normalized_prices",
    "fuzzy_matches",
    "user_price_submissions",
    "user_trust_metrics",
    "scraper_proxies",
    "scraping_queue",
    "market_price_details",
    "market_price_history",
    "price_history",
    "market_category_averages",
)
NEVER_WRITTEN = ("_migrations",)  # created by every getDB(), nothing ever inserts into it

# Values of earlier tables that later factories refer to: (columns, keep only rows where ...).
REMEMBER: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], bool] | None]] = {
    "users": (("id", "email"), None),
    "tenders": (("id",), None),
    "analysis_history": (("id",), None),
    "chat_analytics": (("id", "conversation_id"), lambda row: row["message_type"] == "assistant"),
    "product_cards": (("id",), None),
}


class GenerationError(Exception):
    """The generator asked for something the plan or the schema cannot hold."""


@dataclass(frozen=True)
class Progress:
    """Where generation stands: the current table and the running totals."""

    table: str
    table_done: int
    table_rows: int
    done: int
    rows: int


@dataclass
class GenerationResult:
    """What was written: the file, the seed, the rows per table (in write order) and the time taken."""

    path: Path
    seed: int
    rows: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "seed": self.seed,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "tables": dict(self.counts),
        }


def seed_counts(rows: int) -> dict[str, int]:
    """Rows the seeds write; duplicate seeds grow with the size of the database (app restarts)."""
    boots = 1 + rows // 50_000
    reruns = 1 + rows // 500_000
    return {
        "migrations": len(vocabulary.MIGRATION_FILES),
        "menu_categories": len(vocabulary.MENU_CATEGORIES),
        "menu_items": len(vocabulary.MENU_ITEMS),
        "recipes": len(vocabulary.MENU_ITEMS),
        "gramaj_standards": len(vocabulary.GRAMAJ),
        "markets": len(vocabulary.MARKETS),
        "market_sources": len(vocabulary.MARKET_SOURCES),
        "brand_mappings": len(vocabulary.BRANDS),
        "api_provider_health": len(vocabulary.PROVIDERS),
        "notification_templates": len(vocabulary.NOTIFICATION_TEMPLATES),
        "performance_settings": len(vocabulary.PERFORMANCE_SETTINGS),
        "integration_configs": len(vocabulary.INTEGRATIONS),
        "performance_profiles": 3 * reruns,
        "webhooks": reruns,
        "proactive_triggers": 5 * boots,
        "users": 1,  # the first registered account; more come with the run-time share
    }


def minimum_rows(rows: int = DEFAULT_ROWS) -> int:
    """The smallest ``rows`` the plan accepts: the seed rows."""
    return sum(seed_counts(rows).values())


def plan_counts(rows: int) -> dict[str, int]:
    """Rows per table, in :data:`TABLE_ORDER`, adding up to ``rows`` exactly."""
    seeds = seed_counts(rows)
    seeded = sum(seeds.values())
    if rows < seeded:
        raise GenerationError(
            f"{rows:,} rows is below the {seeded} rows the legacy seeds write; "
            f"ask for at least {seeded}"
        )
    weights = dict(WRITTEN_WEIGHTS)
    weights.update({table: UNWRITTEN_WEIGHT for table in UNWRITTEN})
    shares = _largest_remainder(rows - seeded, weights)
    counts = {table: 0 for table in TABLE_ORDER}
    for table, n in [*seeds.items(), *shares.items()]:
        counts[table] += n
    _apply_caps(counts)
    assert sum(counts.values()) == rows
    return counts


def _largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` by ``weights`` into integers that add up to ``total`` (ties by name)."""
    weight_sum = sum(weights.values())
    exact = {table: total * weight / weight_sum for table, weight in weights.items()}
    counts = {table: int(value) for table, value in exact.items()}
    leftover = total - sum(counts.values())
    for table in sorted(exact, key=lambda t: (counts[t] - exact[t], t))[:leftover]:
        counts[table] += 1
    return counts


def _apply_caps(counts: dict[str, int]) -> None:
    """Keep unique keys satisfiable; rows a cap removes go to ``logs``."""
    grid = len(MARKETS) * len(CATEGORIES)
    caps = {
        "data_pools": counts["analysis_history"],
        "analysis_results_v2": counts["analysis_history"],
        "user_2fa": counts["users"],
        "user_trust_metrics": counts["users"],
        "chat_feedback": counts["chat_analytics"] // 2,
        "coverage_metrics": grid,
        "market_category_averages": grid,
        "price_alerts": counts["price_alerts"] if counts["product_cards"] else 0,
        "market_price_details": counts["market_price_details"] if counts["market_prices"] else 0,
    }
    for table, cap in caps.items():
        if counts[table] > cap:
            counts["logs"] += counts[table] - cap
            counts[table] = cap


def generate_legacy_database(
    path: Path,
    rows: int = DEFAULT_ROWS,
    seed: int = 0,
    overwrite: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> GenerationResult:
    """Create ``path`` with the legacy schema and ``rows`` realistic rows; the same seed, the same rows.

    Raises FileExistsError if ``path`` exists and ``overwrite`` is false, GenerationError if
    ``rows`` is below the seed rows or a row breaks the schema (the partial file is removed).
    An existing file is only removed once the plan is known to be valid.
    """
    counts = plan_counts(rows)
    if path.exists():
        if not overwrite:
            raise FileExistsError(f"{path} already exists")
        for leftover in (
            path,
            *(path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm")),
        ):
            leftover.unlink(missing_ok=True)
    legacy.create_legacy_database(path)
    started = time.perf_counter()
    world = World.build(seed, counts)
    result = GenerationResult(path=path, seed=seed, rows=rows)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # A new file nobody else reads: journal in memory (rollback still works), no fsync.
        # Foreign keys on, as better-sqlite3 had them.
        connection.execute("PRAGMA journal_mode = MEMORY")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA cache_size = -65536")
        done = 0
        for table in TABLE_ORDER:
            _write_table(connection, world, table, counts[table], done, rows, progress)
            done += counts[table]
            result.counts[table] = counts[table]
        if counts["product_catalog"]:
            # product_catalog_fts is an external-content index: keep it in step with its table.
            connection.execute(
                "INSERT INTO product_catalog_fts(product_catalog_fts) VALUES ('rebuild')"
            )
        connection.execute("PRAGMA journal_mode = DELETE")
    except BaseException as exc:
        # Never leave a half-written file that looks like a legacy database.
        connection.close()
        path.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            raise GenerationError(f"{path}: {exc}; the partial file was removed") from exc
        raise
    connection.close()
    result.seconds = time.perf_counter() - started
    return result


def _write_table(
    connection: sqlite3.Connection,
    world: World,
    table: str,
    total: int,
    done: int,
    rows: int,
    progress: Callable[[Progress], None] | None,
) -> None:
    recipe = recipes.row_recipe(table)
    if progress:
        progress(Progress(table, 0, total, done, rows))
    if total == 0:
        return
    sql = f'INSERT INTO "{table}" ({", ".join(recipe.columns)}) VALUES ({", ".join("?" * len(recipe.columns))})'
    remember = REMEMBER.get(table)
    kept: dict[str, list[Any]] = {column: [] for column in remember[0]} if remember else {}
    generated = recipe.rows(Sampler(world, table), total)
    connection.execute("BEGIN")
    try:
        for start in range(0, total, BATCH_ROWS):
            batch = [next(generated) for _ in range(min(BATCH_ROWS, total - start))]
            # A savepoint per batch, so a refused row can be found by replaying the batch alone.
            connection.execute("SAVEPOINT batch")
            try:
                connection.executemany(sql, batch)
            except sqlite3.IntegrityError as exc:
                connection.execute("ROLLBACK TO batch")
                raise GenerationError(
                    _explain(connection, sql, table, recipe.columns, batch, exc)
                ) from exc
            connection.execute("RELEASE batch")
            if remember:
                _keep(kept, recipe.columns, batch, remember[1])
            if progress:
                progress(
                    Progress(table, start + len(batch), total, done + start + len(batch), rows)
                )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    for column, values in kept.items():
        world.remembered[(table, column)] = values


def _keep(
    kept: dict[str, list[Any]],
    columns: tuple[str, ...],
    batch: list[tuple[Any, ...]],
    keep_row: Callable[[dict[str, Any]], bool] | None,
) -> None:
    positions = {column: columns.index(column) for column in kept}
    for row in batch:
        if keep_row is None or keep_row(dict(zip(columns, row))):
            for column, position in positions.items():
                kept[column].append(row[position])


def _explain(
    connection: sqlite3.Connection,
    sql: str,
    table: str,
    columns: tuple[str, ...],
    batch: list[tuple[Any, ...]],
    exc: sqlite3.IntegrityError,
) -> str:
    """Find the first row of a failed batch that the schema rejects, for an actionable message."""
    connection.execute("SAVEPOINT explain")
    try:
        for row in batch:
            try:
                connection.execute(sql, row)
            except sqlite3.IntegrityError as row_exc:
                return (
                    f"{table}: the factory wrote a row the legacy schema rejects ({row_exc}): "
                    f"{dict(zip(columns, row))!r}; fix the {table} factory in devtools/legacydb/tables/"
                )
    finally:
        connection.execute("ROLLBACK TO explain")
        connection.execute("RELEASE explain")
    return f"{table}: {exc}"
