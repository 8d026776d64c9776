"""Benchmark of validate_counts on a generated legacy database, next to migrate_data on the same data.

Usage (from the repository root, PostgreSQL from DATABASE_URL; the target tables are emptied):

    DATABASE_URL=postgres://.../procheff_x python bench/bench_validate.py --rows 1000000 --seed 1 \\
        --sqlite var/bench-1m.sqlite3

Steps, each in its own process so that peak RSS is that step's own:
  1. make_legacy_db (only when the SQLite file does not exist yet; not timed here);
  2. migrate_data --fresh, with --jobs 1 and --jobs 2 (the copy this validation is compared with);
  3. validate_counts --counts-only;
  4. validate_counts (row level, a million identical rows), with --jobs 1 and --jobs 2: first with
     --no-reuse (every source row converted and hashed), then with no stored source hashes (the
     run stores them), then twice more, reusing them (raw rows unchanged);
  5. plant 6 differences in the target, validate_counts (row level) must name exactly them;
  6. validate_counts --repair --no-input, then validate_counts again (must be clean).
Prints one Markdown table row per step.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def run_step(args: list[str]) -> dict[str, Any]:
    """(In a child process) run one management command; report wall time, peak RSS, exit code, output."""
    import io

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procheff.settings")
    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"args": args, "elapsed": elapsed, "exit": code,
            "cpu": usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime,
            "max_rss_mib": max(usage.ru_maxrss, children.ru_maxrss) / 1024,
            "stdout": out.getvalue(), "stderr": err.getvalue()}


def machine_busy_seconds() -> float:
    """CPU seconds every process of the machine has spent busy since boot (``/proc/stat``)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def step(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run :func:`run_step` in a fresh interpreter and return its report, with the machine's busy CPU.

    The machine's CPU counts PostgreSQL's work too (and starting the interpreter, and anything else
    running): run on an otherwise idle machine.
    """
    busy = machine_busy_seconds()
    completed = subprocess.run(
        [PYTHON, __file__, "--step", json.dumps(args)], cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if completed.returncode != 0:
        raise SystemExit(f"step {args} crashed:\n{completed.stderr}")
    return {**json.loads(completed.stdout.splitlines()[-1]), "machine_cpu": machine_busy_seconds() - busy}


def plant_differences(env: dict[str, str]) -> dict[str, Any]:
    """Six differences in the target, of the kinds validation must name; returns what was planted."""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM logs ORDER BY id LIMIT 3 OFFSET 200000")]
        conn.execute("DELETE FROM logs WHERE id = %s", [ids[0]])
        conn.execute("UPDATE logs SET level = upper(level) WHERE id = %s", [ids[1]])
        conn.execute("UPDATE logs SET created_at = created_at + interval '3 hours' WHERE id = %s", [ids[2]])
        extra = conn.execute("SELECT max(id) + 1000 FROM logs").fetchone()[0]
        conn.execute("INSERT INTO logs (id, level, message, created_at) VALUES (%s, 'info', 'x', now())", [extra])
        price_id, price = conn.execute(
            "SELECT id, unit_price FROM market_prices ORDER BY id LIMIT 1 OFFSET 60000").fetchone()
        conn.execute("UPDATE market_prices SET unit_price = %s WHERE id = %s", [math.nextafter(price, math.inf), price_id])
        json_id = conn.execute("SELECT id FROM logs WHERE data IS NOT NULL ORDER BY id LIMIT 1 OFFSET 1000").fetchone()[0]
        conn.execute("""UPDATE logs SET data = data || '{"planted": 1}' WHERE id = %s""", [json_id])
    return {"logs": {"missing": [ids[0]], "extra": [extra], "changed": sorted([ids[1], ids[2], json_id])},
            "market_prices": {"missing": [], "extra": [], "changed": [price_id]}}


def forget_hashes(env: dict[str, str]) -> None:
    """Empty the stored source hashes, so that the next validation starts without any."""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("DELETE FROM cutover_validation_hash_cache")


def found(report: dict[str, Any]) -> dict[str, Any]:
    return {t["table"]: {"missing": t["missing_pks"], "extra": t["extra_pks"],
                         "changed": sorted(r["pk"] for r in t["changed_rows"])}
            for t in report["tables"] if not t["found_clean"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite", type=Path, default=ROOT / "var" / "bench-1m.sqlite3")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.step:
        print(json.dumps(run_step(json.loads(options.step))))
        return
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL to the PostgreSQL database to benchmark against (its tables are emptied)")
    env = {**os.environ, "SQLITE_PATH": str(options.sqlite.resolve()), "PROCHEFF_QUIET": "1"}
    if not options.sqlite.exists():
        print(f"generating {options.sqlite} ({options.rows} rows, seed {options.seed}) ...", file=sys.stderr)
        generated = step(["make_legacy_db", str(options.sqlite), "--rows", str(options.rows),
                          "--seed", str(options.seed)], env)
        assert generated["exit"] == 0, generated["stderr"]
    step(["migrate", "-v", "0"], env)

    results = []
    copy2 = step(["migrate_data", "--fresh", "--no-input", "--no-backup", "--jobs", "2", "-v", "0"], env)
    assert copy2["exit"] == 0, copy2["stderr"]
    results.append(("migrate_data --fresh --jobs 2", copy2))
    copy = step(["migrate_data", "--fresh", "--no-input", "--no-backup", "-v", "0"], env)
    assert copy["exit"] == 0, copy["stderr"]
    results.append(("migrate_data --fresh", copy))
    counts = step(["validate_counts", "--counts-only", "-v", "0"], env)
    assert counts["exit"] == 0, counts["stderr"]
    results.append(("validate_counts --counts-only", counts))
    cold = step(["validate_counts", "--json", "--recheck-delay", "1", "--no-reuse"], env)
    assert cold["exit"] == 0, cold["stderr"]
    report = json.loads(cold["stdout"])
    results.append(("validate_counts --no-reuse (row level, identical)", cold))
    cold2 = step(["validate_counts", "--jobs", "2", "-v", "0", "--no-reuse"], env)
    assert cold2["exit"] == 0, cold2["stderr"]
    results.append(("validate_counts --no-reuse --jobs 2 (row level, identical)", cold2))
    forget_hashes(env)
    fill = step(["validate_counts", "-v", "0"], env)
    assert fill["exit"] == 0, fill["stderr"]
    results.append(("validate_counts (row level, identical, no stored hashes yet)", fill))
    rows = step(["validate_counts", "--json", "--recheck-delay", "1"], env)
    assert rows["exit"] == 0, rows["stderr"]
    reused = sum(t["reused_hashes"] for t in json.loads(rows["stdout"])["tables"])
    results.append(("validate_counts (row level, identical, stored hashes reused)", rows))
    rows2 = step(["validate_counts", "--jobs", "2", "-v", "0"], env)
    assert rows2["exit"] == 0, rows2["stderr"]
    results.append(("validate_counts --jobs 2 (row level, identical, stored hashes reused)", rows2))

    planted = plant_differences(env)
    diff = step(["validate_counts", "--json", "--recheck-delay", "1"], env)
    assert diff["exit"] == 1, diff["stderr"]
    assert found(json.loads(diff["stdout"])) == planted, (found(json.loads(diff["stdout"])), planted)
    results.append(("validate_counts (row level, 6 planted differences)", diff))
    repair = step(["validate_counts", "--repair", "--no-input", "--recheck-delay", "1", "-v", "0"], env)
    assert repair["exit"] == 0, repair["stderr"]
    results.append(("validate_counts --repair --no-input", repair))
    after = step(["validate_counts", "--recheck-delay", "1", "-v", "0"], env)
    assert after["exit"] == 0, after["stderr"]
    results.append(("validate_counts after the repair", after))

    print(f"source rows {report['source_rows']:,}, target rows {report['target_rows']:,}, "
          f"{len(report['tables'])} tables; planted differences found exactly: {planted}")
    print("| step | wall time | CPU (this process + workers) | machine CPU (all processes) | peak RSS | exit |")
    print("|---|---|---|---|---|---|")
    for name, result in results:
        print(f"| `{name}` | {result['elapsed']:.1f} s | {result['cpu']:.1f} s | {result['machine_cpu']:.1f} s "
              f"| {result['max_rss_mib']:.0f} MiB | {result['exit']} |")
    print(f"source rows whose stored hashes were reused: {reused:,}")
    print(f"row level / migrate_data, wall, every source row converted: --jobs 1 "
          f"{cold['elapsed'] / copy['elapsed']:.2f}, --jobs 2 {cold2['elapsed'] / copy2['elapsed']:.2f}; "
          f"stored hashes reused: --jobs 1 {rows['elapsed'] / copy['elapsed']:.2f}, "
          f"--jobs 2 {rows2['elapsed'] / copy2['elapsed']:.2f}")


if __name__ == "__main__":
    main()
