"""Benchmark: write latency per phase, mirror lag, and the write pause at each switch of primary.

Usage: DATABASE_URL=postgres://... python bench/bench_switch.py [--rate 100] [--processes 3] [--steady 6]

A fresh legacy SQLite file in a temporary directory and the PostgreSQL database of DATABASE_URL
(its migrated tables must exist: ``./manage.py migrate``). ``--processes`` Django processes share
``--rate`` writes/s; each write is an ``F()`` increment of the process's own counter row
(``QuerySet.update``), timed from the call to its return. ``./manage.py replicate`` runs beside
them, as in production. The phases go 0 -> 1 -> 2 (100 %) -> 3 -> 1 (rollback) -> 3, ``--steady``
seconds in each, through ``cutover``'s own transitions (gates forced, which never strands a record: this measures the machinery,
not the gates). Reported:

- write p50/p95 per steady phase (2 s after a change are left out), and the ratio to phase 0's p95;
- mirror lag: from a write's return until the secondary shows its value (polled every 5 ms);
- per switch of primary, the write pause: the longest gap between two acknowledged writes (of
  any process) around it, and how long the switch took;
- at the end, each counter against its acknowledged increments on both databases.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

WRITER = """
import json, os, sys, time
import django
django.setup()
from django.db.models import F
from core.models.menu import MenuCategory

pk, interval, stopfile, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
log = open(out, "w")
acked = 0
next_at = time.monotonic()
while not os.path.exists(stopfile):
    started = time.monotonic()
    wall = time.time()
    try:
        rows = MenuCategory.objects.filter(pk=pk).update(display_order=F("display_order") + 1)
    except Exception as exc:
        log.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:200], "at": wall}) + "\\n")
        continue
    took = time.monotonic() - started
    if rows == 1:
        acked += 1
        log.write(json.dumps({"at": wall, "done": time.time(), "ms": took * 1000, "value": acked}) + "\\n")
    next_at += interval
    time.sleep(max(0.0, next_at - time.monotonic()))
log.close()
print(acked)
"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="writes per second, all processes together")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--steady", type=float, default=6.0, help="seconds in each phase")
    parser.add_argument("--mirror", choices=["sync", "async", "applier"], default="sync")
    parser.add_argument("--wal", action="store_true", help="put the legacy file in WAL mode (else rollback journal)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-switch-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procheff.settings")
    os.environ["SQLITE_PATH"] = str(workdir / "legacy.sqlite3")
    os.environ["CACHE_URL"] = f"filecache://{workdir / 'cache'}"
    os.environ["MIGRATION_BACKUP_DIR"] = str(workdir / "backups")
    os.environ["MIGRATION_MIRROR"] = args.mirror
    os.environ["PROCHEFF_QUIET"] = "1"
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from core import legacy
    from core.models.menu import MenuCategory
    from migration import dualwrite, flags, phase, transitions
    from migration.db import upsert
    from migration.phase import Phase, PhaseState

    legacy.create_legacy_database(workdir / "legacy.sqlite3")
    if args.wal:
        with connections["sqlite"].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode = WAL")
    call_command("migrate", database="sqlite", verbosity=0)
    saved = flags.read_uncached()
    flags.write_state(**phase.flag_values(PhaseState(Phase.SQLITE)))
    transitions.sync_capture(PhaseState(Phase.SQLITE))
    counters = [MenuCategory.objects.using("sqlite").create(name=f"bench-{i}", name_tr="x", display_order=0)
                for i in range(args.processes)]
    upsert(MenuCategory, counters, "default")  # the same rows on PostgreSQL, as a copy would leave them
    connections["sqlite"].close()

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = workdir / "writer.py"
    script.write_text(WRITER)
    stop = workdir / "stop"
    interval = args.processes / args.rate
    logs = [workdir / f"writer-{i}.jsonl" for i in range(args.processes)]
    writers = [subprocess.Popen([sys.executable, str(script), str(c.pk), str(interval), str(stop), str(log)],
                                env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
               for c, log in zip(counters, logs)]
    applier = subprocess.Popen([sys.executable, "manage.py", "replicate", "--interval", "0.02"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # The secondary's counter values over time: when each acknowledged value became visible there.
    seen: dict[int, list[tuple[float, int]]] = {c.pk: [] for c in counters}
    polling = threading.Event()

    def poll() -> None:
        while not polling.is_set():
            secondary = phase.secondary_alias()
            if secondary is not None:
                try:
                    for pk, value in MenuCategory.objects.using(secondary).filter(pk__in=list(seen)) \
                            .values_list("pk", "display_order"):
                        if not seen[pk] or seen[pk][-1][1] != value:
                            seen[pk].append((time.time(), value or 0))
                except Exception:  # noqa: BLE001 - a table locked by a switch: poll again
                    pass
                finally:
                    connections.close_all()
            time.sleep(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    marks: list[tuple[str, float, float]] = []  # (phase name, start, end of the change)
    plan: list[tuple[str, Any]] = [
        ("0 sqlite", None),
        ("1 dual-write", lambda: transitions.advance(force=True, actor="bench")),
        ("2 read rollout 100%", lambda: transitions.advance(percent=100, force=True, actor="bench")),
        ("3 postgres-primary", lambda: transitions.advance(force=True, actor="bench")),
        ("1 dual-write (rollback)", lambda: transitions.rollback(to=1, actor="bench")),
        ("3 postgres-primary (again)", lambda: (transitions.advance(percent=100, force=True, actor="bench"),
                                                transitions.advance(force=True, actor="bench"))),
    ]
    try:
        time.sleep(1.0)
        for name, change in plan:
            begun = time.time()
            if change is not None:
                change()
            marks.append((name, begun, time.time()))
            time.sleep(args.steady)
    finally:
        stop.touch()
        acked = [int((w.communicate(timeout=60)[0] or "0").strip() or 0) for w in writers]
        applier.terminate()
        applier.wait(timeout=30)
        polling.set()
        poller.join(timeout=5)

    dualwrite.replay()
    records = [[json.loads(line) for line in log.read_text().splitlines()] for log in logs]
    errors = [r for rs in records for r in rs if "error" in r]
    acks = sorted((r["done"], r["ms"]) for rs in records for r in rs if "ms" in r)

    def phase_of(moment: float) -> int:
        index = 0
        for i, (_, begun, _) in enumerate(marks):
            if moment >= begun:
                index = i
        return index

    print(f"rate {args.rate:g} writes/s from {args.processes} processes, mirror {args.mirror}, "
          f"journal {'WAL' if args.wal else 'rollback'}, {args.steady:g} s per phase")
    baseline = None
    print("phase                          writes   p50 ms   p95 ms   p95 / phase 0   lag p50 ms   lag p95 ms")
    for i, (name, _, ended) in enumerate(marks):
        window_end = marks[i + 1][1] if i + 1 < len(marks) else float("inf")
        steady = [ms for done, ms in acks if ended + 2.0 <= done < window_end]
        lags = []
        for counter, rs in zip(counters, records):
            for r in rs:
                if "ms" in r and ended + 2.0 <= r["done"] < window_end:
                    visible = next((t for t, v in seen[counter.pk] if v >= r["value"]), None)
                    if visible is not None:
                        lags.append(max(0.0, visible - r["done"]) * 1000)
        p95 = percentile(steady, 95)
        if baseline is None:
            baseline = p95
        lag = (f"{percentile(lags, 50):>12.1f} {percentile(lags, 95):>12.1f}" if i > 0 else f"{'-':>12} {'-':>12}")
        print(f"{name:<30} {len(steady):>6} {percentile(steady, 50):>8.2f} {p95:>8.2f} {p95 / baseline:>15.2f} {lag}")
    print("switch of primary               took s   longest gap between acknowledged writes, s")
    for i, (name, begun, ended) in enumerate(marks):
        if i == 0 or not ("3 postgres" in name or "rollback" in name):
            continue
        around = [done for done, _ in acks if begun - 1.0 <= done <= ended + 1.0]
        gap = max((b - a for a, b in zip(around, around[1:])), default=float("nan"))
        print(f"{name:<30} {ended - begun:>8.2f} {gap:>10.3f}")
    final = {alias: dict(MenuCategory.objects.using(alias).filter(pk__in=[c.pk for c in counters])
                         .values_list("pk", "display_order")) for alias in ("sqlite", "default")}
    for counter, count in zip(counters, acked):
        values = {alias: final[alias][counter.pk] for alias in final}
        verdict = "PASS" if all(v == count for v in values.values()) else "FAIL"
        print(f"counter {counter.pk}: acknowledged {count}, sqlite {values['sqlite']}, default {values['default']}: {verdict}")
    print(f"failed writes: {len(errors)}" + (f" (first: {errors[0]['error']})" if errors else ""))
    print(f"phase at the end: {phase.current_state_fresh()}")
    MenuCategory.objects.using("default").filter(pk__in=[c.pk for c in counters]).delete()
    flags.write_state(**{k: v for k, v in {
        "dual_write": saved.dual_write, "read_percent": saved.read_percent,
        "background_reads_postgres": saved.background_reads_postgres,
        "postgres_primary": saved.postgres_primary, "finalized": saved.finalized}.items()})
    transitions.sync_capture(phase.state_from(saved))


if __name__ == "__main__":
    main()
