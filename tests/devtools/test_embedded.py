"""The embedded PostgreSQL default: starts, serves queries, says which database is used, hides passwords."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from devtools.embedded import server as embedded

BASE_DIR = Path(settings.BASE_DIR)
QUERY = (
    "from django.db import connection; cursor = connection.cursor(); "
    "cursor.execute('SELECT 1'); print('vendor', connection.vendor, 'answer', cursor.fetchone()[0])"
)


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without DATABASE_URL and without the quiet switch."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PROCHEFF_QUIET"}}
    env["DJANGO_SETTINGS_MODULE"] = "procheff.settings"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def embedded_run() -> Iterator[subprocess.CompletedProcess[str]]:
    """A query run with DATABASE_URL unset; stops the server afterwards if this test started it."""
    pgdata = embedded.pgdata_dir()
    was_running = embedded.status(pgdata).running
    yield run_manage("shell", "-c", QUERY, env=clean_env())
    if not was_running:
        embedded.stop(pgdata)


def test_embedded_default_serves_queries(embedded_run: subprocess.CompletedProcess[str]) -> None:
    assert embedded_run.returncode == 0, embedded_run.stderr
    assert "vendor postgresql answer 1" in embedded_run.stdout


def test_embedded_default_names_the_server_on_stderr(
    embedded_run: subprocess.CompletedProcess[str],
) -> None:
    lines = [
        line for line in embedded_run.stderr.splitlines() if line.startswith("procheff: PostgreSQL")
    ]
    assert len(lines) == 1
    assert "embedded server" in lines[0]
    assert str(embedded.pgdata_dir().resolve()) in lines[0]


def test_embedded_status_reports_the_running_server(
    embedded_run: subprocess.CompletedProcess[str],
) -> None:
    out = io.StringIO()
    call_command("embedded_postgres", "status", "--json", stdout=out)
    state = json.loads(out.getvalue())
    assert state["running"] is True
    assert state["pgdata"] == str(embedded.pgdata_dir().resolve())
    assert isinstance(state["pid"], int)


def test_embedded_status_of_an_empty_directory_exits_1(tmp_path: Path) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError, match="no embedded PostgreSQL is running") as caught:
        call_command("embedded_postgres", "status", "--pgdata", str(tmp_path), stdout=out)
    assert caught.value.returncode == 1
    assert "stopped" in out.getvalue() and "not initialised" in out.getvalue()


def test_embedded_stop_with_nothing_running_is_a_no_op(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("embedded_postgres", "stop", "--pgdata", str(tmp_path), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"pgdata": str(tmp_path.resolve()), "stopped": False}


def test_embedded_rejects_unknown_action() -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("embedded_postgres", "restart")


def url_with_password(password: str) -> str:
    """This run's DATABASE_URL (or the local server's) with ``password`` put in."""
    parts = urlsplit(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    )
    user = parts.username or "postgres"
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, parts.query, ""))


def test_database_url_password_never_printed() -> None:
    """Whether the connection succeeds or fails, the password appears nowhere in the output."""
    result = run_manage(
        "shell", "-c", QUERY, env=clean_env(DATABASE_URL=url_with_password("s3cret"))
    )
    assert "s3cret" not in result.stdout and "s3cret" not in result.stderr
    (line,) = [
        line for line in result.stderr.splitlines() if line.startswith("procheff: PostgreSQL")
    ]
    assert "(DATABASE_URL)" in line


@pytest.mark.parametrize("command", [["cutover", "advance", "--help"], ["check"], ["help"]])
def test_embedded_server_is_not_started_by_commands_without_a_database(tmp_path: Path, command: list[str]) -> None:
    pgdata = tmp_path / "pgdata"
    completed = run_manage(*command, env=clean_env(EMBEDDED_POSTGRES_PGDATA=str(pgdata)))
    assert completed.returncode == 0, completed.stderr
    assert not pgdata.exists()
    assert "started the embedded PostgreSQL" not in completed.stderr
