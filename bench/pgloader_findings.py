"""What a loader changed on the same SQLite file: column types, lost rows, altered REAL values (pgloader or ours).

    .venv/bin/python bench/pgloader_findings.py /tmp/bench/l1m.db postgres://postgres@127.0.0.1:5432/procheff_copy_bench_pgloader
"""
from __future__ import annotations

import sqlite3
import sys

import psycopg


def main(sqlite_path: str, url: str) -> None:
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    target = psycopg.connect(url)
    types = {
        (t, c): dt for t, c, dt in target.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"
        )
    }
    tables = [r[0] for r in source.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    print("Row counts that differ (source -> target):")
    for table in tables:
        expected = source.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        try:
            got = target.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        except psycopg.Error:
            target.rollback()
            got = None
        if got != expected:
            print(f"  {table}: {expected} -> {got}")
    real_columns = []
    typed: dict[str, int] = {}
    for table in tables:
        for _, name, decl, *_ in source.execute(f'PRAGMA table_xinfo("{table}")'):
            pg_type = types.get((table, name), "missing")
            typed[f"{decl or '(none)'} -> {pg_type}"] = typed.get(f"{decl or '(none)'} -> {pg_type}", 0) + 1
            if decl.upper() == "REAL":
                real_columns.append((table, name, pg_type))
    print("Declared SQLite type -> PostgreSQL type in the target (columns):")
    for mapping, count in sorted(typed.items()):
        print(f"  {mapping}: {count}")
    print("REAL columns whose values changed (value read back != SQLite value):")
    for table, column, pg_type in real_columns:
        if pg_type == "missing":
            continue
        pk = next((r[1] for r in source.execute(f'PRAGMA table_info("{table}")') if r[5] == 1), None)
        if pk is None:
            continue
        src = dict(source.execute(f'SELECT "{pk}", "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'))
        if not src:
            continue
        try:
            got = dict(target.execute(f'SELECT "{pk}", "{column}"::float8 FROM "{table}" WHERE "{column}" IS NOT NULL'))
        except psycopg.Error:
            target.rollback()
            continue
        compared = sum(1 for key in src if key in got)
        changed = sum(1 for key, value in src.items() if key in got and got[key] != float(value))
        example = next(((src[k], got[k]) for k in src if k in got and got[k] != float(src[k])), None)
        print(f"  {table}.{column} ({pg_type}): {changed} of {compared} compared values changed"
              + (f", e.g. {example[0]!r} -> {example[1]!r}" if example else ""))


def flags_and_shapes(url: str) -> None:
    """A few columns the legacy README names, as pgloader typed them."""
    target = psycopg.connect(url)
    print("Selected columns as the target typed them:")
    for table, column in [("notifications", "is_read"), ("tenders", "partial_bid_allowed"), ("tenders", "publish_date"),
                          ("logs", "data"), ("logs", "created_at"), ("cache_entries", "created_at"),
                          ("price_validations", "timestamp"), ("market_prices_v2", "year_month")]:
        row = target.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [table, column],
        ).fetchone()
        print(f"  {table}.{column}: {row[0] if row else 'missing'}")


if __name__ == "__main__":
    flags_and_shapes(sys.argv[2])
    main(sys.argv[1], sys.argv[2])
