"""The load test, shortened: a few seconds per phase through the whole cutover and back, as a normal test.

Only the zero-loss and zero-failure checks are asserted; latency and throughput depend on the
machine and belong to the full run in bench/ (docs/benchmarks.md).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent
# A whole API key (core.api_keys.KEY_PATTERN); a preview (pck_...abcd) does not match.
WHOLE_KEY = re.compile(rb"pck_[A-Za-z0-9_-]{43}")


def load_database() -> tuple[str, dict[str, str]]:
    """A PostgreSQL database of its own for the run (the driver flushes it), on the test server.

    Returns its URL and the environment the run needs: a Unix-socket server (the embedded one) is
    named by PGHOST, which psycopg and pg_dump both read, because a URL cannot carry a socket path
    through django-environ.
    """
    db = settings.DATABASES["default"]
    name = f"test_{db['NAME'].removeprefix('test_')}_load"
    params = {
        "host": db.get("HOST") or None, "port": db.get("PORT") or None,
        "user": db.get("USER") or None, "password": db.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or ""
    if host.startswith("/"):
        env = {"PGHOST": host, **({"PGPORT": str(db["PORT"])} if db.get("PORT") else {})}
        return f"postgres://{credentials}@/{name}", env
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{quote(host, safe='')}{port}/{name}", {}


def has_cutover_command() -> bool:
    from django.core.management import get_commands

    return "cutover" in get_commands()


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not has_cutover_command():
        pytest.skip("manage.py cutover is not installed")
    workdir = tmp_path_factory.mktemp("bench")
    result_file = workdir / "result.json"
    database_url, database_env = load_database()
    completed = subprocess.run(
        [
            sys.executable, "bench/cutover_load.py", "--phase-seconds", "1", "--warmup", "1", "--rows", "2000",
            "--users", "8", "--rate", "4", "--workers", "2",
            "--workdir", str(workdir / "run"), "--json", str(result_file), "--database-url", database_url,
        ],
        cwd=ROOT, env={**os.environ, **database_env}, capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode in (0, 1), f"the run could not start:\n{completed.stdout}\n{completed.stderr}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    result["printed"] = completed.stdout
    result["printed_errors"] = completed.stderr
    result["workdir"] = str(workdir)
    return result


def test_cutover_load_walks_every_phase_and_back(short_run: dict[str, Any]) -> None:
    assert short_run["all_changes_ok"], short_run["changes"]
    commands = [change["command"] for change in short_run["changes"]]
    assert sum(command.startswith("cutover ") for command in commands) == 11
    assert commands.count("migrate_data") == 1
    assert all(phase["requests"] > 0 for phase in short_run["phases"] if not phase["label"].startswith("->"))


def test_cutover_load_loses_no_acknowledged_write(short_run: dict[str, Any]) -> None:
    acked = short_run["acknowledged_writes"]
    assert acked["acknowledged"] > 0
    assert acked["databases"] == ["sqlite", "default"]
    assert acked["missing_or_different"] == 0, acked["examples"]


def test_cutover_load_fails_no_request(short_run: dict[str, Any]) -> None:
    assert short_run["failed_requests"] == 0, short_run["failure_examples"]
    assert short_run["failed_near_phase_changes"] == 0


def test_cutover_load_times_every_request_inside_the_server_too(short_run: dict[str, Any]) -> None:
    # The server also saw the driver's readiness probes and requests the client gave up on at stop.
    assert short_run["server_requests"] >= short_run["requests"] > 0
    steady = [p for p in short_run["phases"] if not p["label"].startswith("->") and "backfill" not in p["label"]]
    assert all(p["server_reads"]["count"] > 0 and p["server_writes"]["count"] > 0 for p in steady)
    assert "in server p95 r/w" in short_run["printed"]


def test_cutover_load_reports_the_servers_api_key_check(short_run: dict[str, Any]) -> None:
    steady = [p for p in short_run["phases"] if not p["label"].startswith("->") and "backfill" not in p["label"]]
    assert all(p["server_auth"]["count"] > 0 for p in steady)
    # Every request was authenticated: the server timed a key check for each one it saw.
    assert short_run["auth_check"]["count"] == short_run["server_requests"]
    assert "API key check in the server:" in short_run["printed"] and "key check p95" in short_run["printed"]


def test_cutover_load_writes_the_key_nowhere(short_run: dict[str, Any]) -> None:
    # Results, locust's and gunicorn's logs, the server's request lines, the legacy file, backups.
    found = [str(path) for path in Path(short_run["workdir"]).rglob("*")
             if path.is_file() and WHOLE_KEY.search(path.read_bytes())]
    assert found == []
    assert not WHOLE_KEY.search((short_run["printed"] + short_run["printed_errors"]).encode())


def test_cutover_load_names_the_servers_autovacuum_setting(short_run: dict[str, Any], db: None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        expected = cursor.fetchone()[0]
    assert short_run["machine"]["postgres_autovacuum"] == expected
    assert f"PostgreSQL autovacuum {expected};" in short_run["printed"]


def test_cutover_load_ends_with_clean_counts(short_run: dict[str, Any]) -> None:
    from bench import cutover_load

    validated = short_run["validate_counts"]
    assert validated["clean"], "\n".join(cutover_load.unclean_tables(validated)) or validated


# --- The driver's arithmetic, without a server ------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.50, 50.0), (0.95, 95.0), (0.99, 99.0), (1.0, 100.0), (0.0, 1.0)]
)
def test_percentile_is_nearest_rank(fraction: float, expected: float) -> None:
    from bench import cutover_load

    assert cutover_load.percentile([float(n) for n in range(1, 101)], fraction) == expected


def test_phase_stats_splits_requests_by_window_and_kind() -> None:
    from bench import cutover_load

    windows = [
        cutover_load.Window("0", 100.0, 110.0),
        cutover_load.Window("-> 1", 110.0, 111.0, transition=True),
        cutover_load.Window("1", 111.0, 121.0),
    ]
    requests = [
        [100.5, 10.0, "read", "GET a", True],
        [101.0, 30.0, "write", "POST b", True],
        [110.5, 12.0, "read", "GET a", False],
        [115.0, 20.0, "read", "GET a", True],
        [130.0, 99.0, "read", "GET a", True],  # after the last window: not in any phase
    ]

    first, change, second = cutover_load.phase_stats(requests, windows)

    assert (first.requests, first.throughput, first.errors) == (2, 0.2, 0)
    assert first.reads["p95"] == 10.0 and first.writes["p50"] == 30.0
    assert (change.requests, change.errors) == (1, 1)
    assert second.requests == 1 and second.writes["count"] == 0
    assert cutover_load.failures_near_changes(requests, windows) == 1


def test_phase_stats_splits_the_servers_times_by_the_same_windows(tmp_path: Path) -> None:
    from bench import cutover_load

    (tmp_path / "server-11.log").write_text("100.5 4.0 read 0.021\n110.2 9.0 write -\n")
    (tmp_path / "server-12.log").write_text("101.0 7.5 write 0.480\n115.0 3.0 read\n130.0 50.0 read 0.1\n")
    (tmp_path / "gunicorn.log").write_text("not a server-*.log file\n")
    served = cutover_load.read_server_times(tmp_path)
    windows = [
        cutover_load.Window("0", 100.0, 110.0),
        cutover_load.Window("-> 1", 110.0, 111.0, transition=True),
        cutover_load.Window("1", 111.0, 121.0),
    ]

    first, change, second = cutover_load.phase_stats([], windows, served)

    assert len(served) == 5
    assert (first.server_reads["count"], first.server_reads["p95"], first.server_writes["p95"]) == (1, 4.0, 7.5)
    assert (change.server_writes["count"], change.server_reads["count"]) == (1, 0)
    assert (second.server_reads["count"], second.server_reads["p50"]) == (1, 3.0)
    assert (first.server_auth["count"], first.server_auth["p95"]) == (2, 0.48)
    assert change.server_auth["count"] == 0 and second.server_auth["count"] == 0


def test_server_timing_closes_the_applications_response_and_writes_one_line(tmp_path: Path) -> None:
    from bench.server_times import ServerTimes

    closed = []

    class Response(list):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Response:
        timing = [("Server-Timing", "db;dur=3, auth;dur=0.042;desc=key")] if environ["REQUEST_METHOD"] == "GET" else []
        start_response("200 OK", [("Content-Type", "application/json"), *timing])
        return Response([b"a", b"b"])

    timed = ServerTimes(app, str(tmp_path))
    for method in ("GET", "PATCH"):
        response = timed({"REQUEST_METHOD": method}, lambda status, headers: None)
        assert list(response) == [b"a", b"b"]
        response.close()

    assert closed == [True, True]
    (log,) = tmp_path.glob("server-*.log")
    kinds = [line.split()[2:] for line in log.read_text().splitlines()]
    assert kinds == [["read", "0.042"], ["write", "-"]]
