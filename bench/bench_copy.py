"""Benchmark migrate_data against pgloader and a naive per-row INSERT loop on the same SQLite files.

    .venv/bin/python bench/bench_copy.py --sqlite /tmp/bench/l1m.db --chinook ../shared/datasets/chinook.sqlite

Each tool loads into its own fresh PostgreSQL database (<prefix>_ours, _pgloader, _naive) on the
server of --pg. Schema creation (``manage.py migrate``) is not timed; pgloader creates its own
schema inside its timed run, as a user would run it. Memory is sampled over each tool's process
tree (PostgreSQL's own backends excluded for all three).
"""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import Measurement, measure

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def recreate(pg: str, name: str) -> str:
    subprocess.run(["psql", f"{pg}/postgres", "-q", "-c", f'DROP DATABASE IF EXISTS "{name}"',
                    "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    return f"{pg}/{name}"


def django_env(url: str, sqlite: Path, settings: str = "procheff.settings", apps: str = "core") -> dict[str, str]:
    return {"DATABASE_URL": url, "SQLITE_PATH": str(sqlite), "DJANGO_SETTINGS_MODULE": settings,
            "MIGRATION_APPS": apps, "PROCHEFF_QUIET": "1", "PYTHONPATH": str(ROOT)}


def source_rows(sqlite: Path, tables: list[str] | None = None) -> int:
    connection = sqlite3.connect(f"file:{sqlite}?mode=ro", uri=True)
    names = tables or [r[0] for r in connection.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return sum(connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names)


def run_ours(pg: str, prefix: str, sqlite: Path, jobs: int, settings: str, apps: str) -> tuple[Measurement, dict]:
    url = recreate(pg, f"{prefix}_ours")
    env = django_env(url, sqlite, settings, apps)
    subprocess.run([PYTHON, "manage.py", "migrate", "--run-syncdb", "--skip-checks", "-v0"], cwd=ROOT, env={**_os_env(), **env},
                   check=True, capture_output=True)
    result = measure([PYTHON, "manage.py", "migrate_data", "--skip-checks", "--no-backup", "--no-input", "--jobs", str(jobs),
                      "--json"], env=env, cwd=ROOT)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result, report


def run_pgloader(pg: str, prefix: str, sqlite: Path, name: str = "pgloader") -> tuple[Measurement, dict]:
    url = recreate(pg, f"{prefix}_{name}")
    result = measure(["pgloader", "--no-ssl-cert-verification", str(sqlite), url])
    summary: dict[str, Any] = {"url": url}
    for line in result.stdout.splitlines():
        match = re.match(r"\s*Total import time\s+(\S+)\s+(\d+)", line)
        if match:
            errors = match.group(1)
            summary["errors"] = int(errors) if errors.isdigit() else 0
            summary["rows"] = int(match.group(2))
    summary["error_lines"] = [line for line in (result.stdout + result.stderr).splitlines() if " ERROR " in line]
    return result, summary


def run_naive(pg: str, prefix: str, sqlite: Path) -> Measurement:
    url = recreate(pg, f"{prefix}_naive")
    env = django_env(url, sqlite)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**_os_env(), **env},
                   check=True, capture_output=True)
    return measure([PYTHON, "bench/naive_insert.py"], env=env, cwd=ROOT)


def _os_env() -> dict[str, str]:
    import os

    return dict(os.environ)


def row(tool: str, m: Measurement, rows: int, note: str = "") -> str:
    rate = rows / m.seconds if m.seconds else 0
    return (f"| {tool} | {rows:,} | {m.seconds:.1f} s | {rate:,.0f} | {m.peak_rss_kb / 1024:.0f} MB | "
            f"{m.peak_tree_pss_kb / 1024:.0f} MB | {m.load_before} -> {m.load_after} | {note} |")


HEADER = ("| tool | rows loaded | wall | rows/s | peak RSS (largest process) | peak PSS (all processes) | "
          "load avg before -> after | notes |\n|---|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", type=Path, required=True, help="a make_legacy_db file")
    parser.add_argument("--chinook", type=Path, help="chinook.sqlite, for the second comparison")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--prefix", default="procheff_copy_bench")
    parser.add_argument("--jobs", type=int, nargs="+", default=[2], help="one migrate_data run per value")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--only-naive", action="store_true", help="run just the naive loop (it takes minutes)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate migrate_data and pgloader this many times (the load drifts)")
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args()

    results: dict[str, Any] = {}
    total = source_rows(args.sqlite)
    lines = [f"Legacy database {args.sqlite} ({total:,} rows in the source)", HEADER]
    results["legacy"] = {}
    for round_ in range(1, args.rounds + 1):
        suffix = f" (round {round_})" if args.rounds > 1 else ""
        for jobs in [] if args.only_naive else args.jobs:
            ours, report = run_ours(args.pg, args.prefix, args.sqlite, jobs, "procheff.settings", "core")
            copied = sum(t["copied"] for t in report.get("tables", []))
            rejected = sum(t["rejected"] for t in report.get("tables", []))
            lines.append(row(f"migrate_data --jobs {jobs}{suffix}", ours, copied,
                             f"exit {ours.returncode}, {rejected} rejected"))
            results["legacy"][f"ours_jobs_{jobs}_round_{round_}"] = vars(ours) | {"stdout": "", "report": report}
        if not args.only_naive:
            pgl, summary = run_pgloader(args.pg, args.prefix, args.sqlite)
            lines.append(row(f"pgloader{suffix}", pgl, summary.get("rows", 0),
                             f"exit {pgl.returncode}, {summary.get('errors')} errors"))
            results["legacy"][f"pgloader_round_{round_}"] = vars(pgl) | {"stdout": pgl.stdout[-4000:],
                                                                         "summary": summary}
    if not args.no_naive:
        naive = run_naive(args.pg, args.prefix, args.sqlite)
        match = re.search(r"naive: (\d+) rows", naive.stdout)
        lines.append(row("naive per-row INSERT", naive, int(match.group(1)) if match else 0,
                         f"exit {naive.returncode}"))
        results["legacy"]["naive"] = vars(naive)
    if args.chinook and not args.only_naive:
        chinook_rows = source_rows(args.chinook)
        lines += ["", f"Chinook {args.chinook} ({chinook_rows:,} rows)", HEADER]
        results["chinook"] = {}
        for round_ in range(1, args.rounds + 1):
            suffix = f" (round {round_})" if args.rounds > 1 else ""
            ours_c, report_c = run_ours(args.pg, args.prefix + "_chinook", args.chinook, args.jobs[0],
                                        "tests.settings", "chinook")
            lines.append(row(f"migrate_data --jobs {args.jobs[0]}{suffix}", ours_c,
                             sum(t["copied"] for t in report_c.get("tables", [])), f"exit {ours_c.returncode}"))
            pgl_c, summary_c = run_pgloader(args.pg, args.prefix + "_chinook", args.chinook)
            lines.append(row(f"pgloader{suffix}", pgl_c, summary_c.get("rows", 0),
                             f"exit {pgl_c.returncode}, {summary_c.get('errors')} errors"))
            results["chinook"][f"round_{round_}"] = {"ours": vars(ours_c) | {"stdout": ""}, "pgloader": vars(pgl_c),
                                                     "summary": summary_c}
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
