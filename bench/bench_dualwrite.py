"""Benchmark: latency of a typical core-model write in phase 0 (SQLite), 1 (dual write) and 3 (PostgreSQL first).

Usage: DATABASE_URL=postgres://... python bench/bench_dualwrite.py [--writes 300]

Uses a fresh legacy SQLite file in a temporary directory and the PostgreSQL database of
DATABASE_URL (its migrated tables must exist: `./manage.py migrate`). Each timed write is one
``MenuItem.objects.create(...)`` (15 columns, legacy timestamps, JSON and boolean fields), measured
from the call to its return, i.e. including the commit and, in phases 1 and 3, the outbox record
and the mirror applied after commit. Rows it writes are deleted at the end; the phase switches are
restored.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-dualwrite-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procheff.settings")
    os.environ["SQLITE_PATH"] = str(workdir / "legacy.sqlite3")
    os.environ["CACHE_URL"] = f"filecache://{workdir / 'cache'}"
    os.environ["PROCHEFF_QUIET"] = "1"
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from core import legacy
    from core.models.menu import MenuItem
    from migration import dualwrite, flags, phase
    from migration.phase import Phase, PhaseState

    legacy.create_legacy_database(workdir / "legacy.sqlite3")
    call_command("migrate", database="sqlite", verbosity=0)
    saved = flags.read_uncached()

    def write(i: int, tag: str) -> float:
        started = time.perf_counter()
        MenuItem.objects.create(
            name=f"bench-{tag}-{i}", meal_type="lunch", default_gramaj=250, unit_cost=12.5,
            calories=320, protein=11.0, tags=["çorba", "sıcak"], is_active=True,
        )
        return (time.perf_counter() - started) * 1000

    results: dict[str, list[float]] = {}
    try:
        for target, label in (
            (PhaseState(Phase.SQLITE), "0 sqlite"),
            (PhaseState(Phase.DUAL_WRITE), "1 dual-write (SQLite first)"),
            (PhaseState(Phase.POSTGRES_PRIMARY, 100), "3 postgres-primary (mirrored to SQLite)"),
        ):
            if target.phase == Phase.POSTGRES_PRIMARY:
                phase.reset_sequences()
            flags.write_state(**phase.flag_values(target))
            assert phase.current_state() == target, phase.current_state()
            for i in range(args.warmup):
                write(i, f"warm{int(target.phase)}")
            results[label] = [write(i, f"p{int(target.phase)}") for i in range(args.writes)]
            assert dualwrite.outbox_depth() == 0, "a mirror failed during the benchmark"
    finally:
        flags.write_state(
            dual_write=saved.dual_write, read_percent=saved.read_percent,
            background_reads_postgres=saved.background_reads_postgres,
            postgres_primary=saved.postgres_primary, finalized=saved.finalized,
        )
        MenuItem.objects.using("default").filter(name__startswith="bench-").delete()
        connections.close_all()

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    base_p95 = pct(results["0 sqlite"], 0.95)
    print(f"| phase | writes | p50 ms | p95 ms | max ms | p95 / phase 0 |")
    print(f"|---|---:|---:|---:|---:|---:|")
    for label, values in results.items():
        p95 = pct(values, 0.95)
        print(f"| {label} | {len(values)} | {statistics.median(values):.2f} | {p95:.2f} | {max(values):.2f} | {p95 / base_p95:.2f}x |")
    dual = pct(results["1 dual-write (SQLite first)"], 0.95)
    print(f"\ntargets: dual-write p95 < 50 ms: {'met' if dual < 50 else 'MISSED'} ({dual:.2f} ms); "
          f"at most 2x single-database p95: {'met' if dual <= 2 * base_p95 else 'MISSED'} ({dual / base_p95:.2f}x)")


if __name__ == "__main__":
    main()
