"""Benchmark: latency of a typical core-model write in phase 0 (SQLite), 1 (dual write) and 3 (PostgreSQL first).

Usage: DATABASE_URL=postgres://... python bench/bench_dualwrite.py [--writes 300] [--mirror both|sync|async]

Uses a fresh legacy SQLite file in a temporary directory and the PostgreSQL database of
DATABASE_URL (its migrated tables must exist: `./manage.py migrate`). Each timed write is one
``MenuItem.objects.create(...)`` (15 columns, legacy timestamps, JSON and boolean fields), measured
from the call to its return, i.e. including the commit and, in phases 1 and 3, the outbox record
and the mirror applied after commit (``sync``) or handed to the background mirror thread
(``async``, ``MIGRATION_MIRROR``; its commit-to-applied lag is reported beside). ``--mirror both``
measures phases 1 and 3 in both modes in the same run. Rows it writes are deleted at the end; the
phase switches are restored.
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
    parser.add_argument("--mirror", choices=["both", "sync", "async"], default="both")
    parser.add_argument("--pause-ms", type=float, default=0.0,
                        help="idle time after each timed write (a request rate rather than back-to-back writes)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-dualwrite-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procheff.settings")
    os.environ["SQLITE_PATH"] = str(workdir / "legacy.sqlite3")
    os.environ["CACHE_URL"] = f"filecache://{workdir / 'cache'}"
    os.environ["PROCHEFF_QUIET"] = "1"
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from core import legacy
    from core.models.menu import MenuItem
    from migration import dualwrite, flags, phase, transitions
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
    lags: dict[str, list[float]] = {}
    modes = ["sync", "async"] if args.mirror == "both" else [args.mirror]
    runs = [(PhaseState(Phase.SQLITE), "0 sqlite", "sync")]
    for mode in modes:
        runs += [
            (PhaseState(Phase.DUAL_WRITE), f"1 dual-write (SQLite first), {mode} mirror", mode),
            (PhaseState(Phase.POSTGRES_PRIMARY, 100), f"3 postgres-primary (mirrored to SQLite), {mode} mirror", mode),
        ]
    try:
        for target, label, mode in runs:
            settings.MIGRATION_MIRROR = mode
            if target.phase == Phase.POSTGRES_PRIMARY:
                transitions.reset_sequences()
            else:
                flags.write_state(**phase.flag_values(PhaseState(Phase.SQLITE)))  # 3 -> 1 is a rollback
            flags.write_state(**phase.flag_values(target))
            assert phase.current_state() == target, phase.current_state()
            for i in range(args.warmup):
                write(i, f"warm{int(target.phase)}{mode}")
            dualwrite.wait_for_mirrors()
            before = len(dualwrite.mirror_lags())
            results[label] = []
            for i in range(args.writes):
                results[label].append(write(i, f"p{int(target.phase)}{mode}"))
                time.sleep(args.pause_ms / 1000)
            dualwrite.wait_for_mirrors()
            lags[label] = [lag * 1000 for lag in dualwrite.mirror_lags()[before:]]
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
    print("| phase | writes | p50 ms | p95 ms | max ms | p95 / phase 0 | mirror lag p50 / p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, values in results.items():
        p95 = pct(values, 0.95)
        lag = f"{statistics.median(lags[label]):.2f} / {pct(lags[label], 0.95):.2f}" if lags.get(label) else "-"
        print(f"| {label} | {len(values)} | {statistics.median(values):.2f} | {p95:.2f} | {max(values):.2f} "
              f"| {p95 / base_p95:.2f}x | {lag} |")
    for mode in modes:
        dual = max(pct(v, 0.95) for k, v in results.items() if k.endswith(f"{mode} mirror"))
        print(f"\n{mode} mirror, worst of phases 1 and 3: dual-write p95 < 50 ms: {'met' if dual < 50 else 'MISSED'} "
              f"({dual:.2f} ms); at most 2x single-database p95: {'met' if dual <= 2 * base_p95 else 'MISSED'} "
              f"({dual / base_p95:.2f}x)")

if __name__ == "__main__":
    main()
