"""Every command against every unusable input, run as an operator runs it: a message and exit 2, nothing changed.

Each case is a real ``python manage.py`` process with ``DATABASE_URL`` and ``SQLITE_PATH`` set to a
legacy file that is not SQLite, damaged, a directory, missing or locked, or to a PostgreSQL that
is unreachable, lacks its database or refuses the login. The command must name the problem, exit
2, print no traceback, and leave PostgreSQL (every table's row count, the switches) and the legacy
file as they were.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote

import pytest
from django.conf import settings
from django.db import connections

from migration import flags
from migration.models import PhaseChange, ValidationRun
from migration.phase import Phase, PhaseState, flag_values
from tests.support.cutover import child_database_url, free_port, reset_process_state

ROOT = Path(settings.BASE_DIR)
PASSWORD = "Not-This-Password-42"
BUSY_TIMEOUT = 1  # seconds; SQLITE_BUSY_TIMEOUT of the child processes
# Every process records the latency of its own queries in cutover_latency_sample when it exits.
VOLATILE = {"cutover_latency_sample"}

COMMANDS: dict[str, list[str]] = {
    "migrate_data": ["migrate_data", "--no-input"],
    "validate_counts": ["validate_counts", "--recheck-delay", "0"],
    "cutover status": ["cutover", "status"],
    "cutover advance": ["cutover", "advance", "--no-input"],
    "cutover rollback": ["cutover", "rollback", "--no-input"],
    "replay_outbox": ["replay_outbox"],
}


@dataclass
class World:
    """The test's databases as a child process reaches them, and a good legacy file to start from."""

    directory: Path
    legacy: Path  # a legacy file with the schema, the outbox and two pending records
    database_url: str

    def env(self, *, sqlite_path: Path, database_url: str | None = None) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "procheff.settings",
            "DATABASE_URL": database_url or self.database_url,
            "SQLITE_PATH": str(sqlite_path),
            "SQLITE_BUSY_TIMEOUT": str(BUSY_TIMEOUT),
            "CACHE_URL": f"filecache://{self.directory / 'cache'}",
            "MIGRATION_BACKUP_DIR": str(self.directory / "backups"),
            "MIGRATION_MIRROR": "sync",
            "PROCHEFF_QUIET": "1",
            "PYTHONPATH": str(ROOT),
        }


def _url(base: str, *, user: str | None = None, password: str | None = None, name: str | None = None,
         port: int | None = None) -> str:
    """``base`` (a DATABASE_URL) with another user, password, database name or port."""
    db = dict(settings.DATABASES["default"])
    host = db.get("HOST") or "127.0.0.1"
    login = urlquote(user or db["USER"]) + (f":{urlquote(password)}" if password else "")
    if str(host).startswith("/"):  # the embedded server's socket directory
        suffix = f"?host={host}" + (f"&port={port}" if port else "")
        return f"postgres://{login}@/{name or db['NAME']}{suffix}"
    return f"postgres://{login}@{host}:{port or db.get('PORT') or 5432}/{name or db['NAME']}"


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Phase 1 on the test database, and a copy of the test legacy file holding two pending outbox records."""
    directory = tmp_path_factory.mktemp("bad-input")
    legacy = directory / "legacy.sqlite3"
    with django_db_blocker.unblock():
        source = sqlite3.connect(connections["sqlite"].settings_dict["NAME"])
        copy = sqlite3.connect(legacy)
        source.backup(copy)
        source.close()
        copy.execute("DELETE FROM cutover_outbox")
        copy.executemany(
            "INSERT INTO cutover_outbox (model_label, pk_value, operation, created_at, attempts, last_error) "
            "VALUES (?, ?, 'dirty', '2024-01-01 10:00:00', 0, '')", [("core.MenuCategory", "1"), ("core.MenuCategory", "2")],
        )
        copy.commit()
        copy.close()
        reset_process_state()
        last_change = PhaseChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
        flags.write_state(**flag_values(PhaseState(Phase.DUAL_WRITE)))
        try:
            yield World(directory, legacy, child_database_url(settings.DATABASES["default"]))
        finally:
            flags.write_state(**flag_values(PhaseState(Phase.SQLITE)))
            PhaseChange.objects.filter(id__gt=last_change).delete()
            reset_process_state()


def _random_bytes(path: Path, world: World) -> None:
    path.write_bytes(random.Random(20).randbytes(8192))


def _text_file(path: Path, world: World) -> None:
    path.write_text("id,name\n1,domates\n2,biber\n")


def _empty_file(path: Path, world: World) -> None:
    path.write_bytes(b"")


def _truncated(path: Path, world: World) -> None:
    path.write_bytes(world.legacy.read_bytes()[:20_000])


def _directory(path: Path, world: World) -> None:
    path.mkdir()


def _missing(path: Path, world: World) -> None:
    pass


def _good(path: Path, world: World) -> None:
    shutil.copyfile(world.legacy, path)


@dataclass(frozen=True)
class Case:
    """One unusable input: how to make the legacy file, which PostgreSQL, and what the message must say."""

    make_file: Callable[[Path, World], None]
    words: tuple[str, ...]
    database: str = ""  # "", "unreachable", "missing database" or "refused login"
    locked: bool = False


CASES: dict[str, Case] = {
    "not SQLite (random bytes)": Case(_random_bytes, ("is not a SQLite database",)),
    "not SQLite (a text file)": Case(_text_file, ("is not a SQLite database", "id,name")),
    "an empty file": Case(_empty_file, ("is empty (0 bytes)",)),
    "a truncated file": Case(_truncated, ("is damaged", "integrity_check", "malformed")),
    "a directory": Case(_directory, ("is a directory",)),
    "a missing file": Case(_missing, ("does not exist", "SQLITE_PATH")),
    "PostgreSQL unreachable": Case(_good, ("is unreachable", "DATABASE_URL"), database="unreachable"),
    "PostgreSQL database missing": Case(_good, ("the database does not exist", "createdb"), database="missing database"),
    "PostgreSQL authentication refused": Case(_good, ("authentication refused",), database="refused login"),
    "legacy file locked beyond the busy timeout": Case(_good, ("locked by another process", "busy timeout"), locked=True),
}


def _database_url(world: World, case: Case) -> str | None:
    if case.database == "unreachable":
        return _url(world.database_url, port=free_port())
    if case.database == "missing database":
        return _url(world.database_url, name="procheff_no_such_database")
    if case.database == "refused login":
        return _url(world.database_url, user="procheff_no_such_role", password=PASSWORD)
    return None


def _target_state() -> dict[str, Any]:
    """Row counts of every PostgreSQL table (but the latency samples), and the switches."""
    state: dict[str, Any] = {}
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        for (table,) in cursor.fetchall():
            if table not in VOLATILE:
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                state[table] = cursor.fetchone()[0]
        cursor.execute("SELECT name, active FROM waffle_switch ORDER BY name")
        state["switches"] = cursor.fetchall()
        cursor.execute("SELECT name, percent, everyone FROM waffle_flag ORDER BY name")
        state["flags"] = cursor.fetchall()
    return state


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@pytest.fixture
def locker(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Hold a legacy file under an exclusive lock (another process, as the legacy app would) until the test ends."""
    holders: list[subprocess.Popen[str]] = []

    def hold(path: Path) -> None:
        holder = subprocess.Popen(
            [sys.executable, "-c",
             "import sqlite3, sys, time\n"
             "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
             "c.execute('BEGIN EXCLUSIVE')\n"
             "print('locked', flush=True)\n"
             "time.sleep(600)\n", str(path)],
            stdout=subprocess.PIPE, text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait(30)


def _manage(env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case_name", list(CASES))
def test_bad_input_gets_a_message_and_exit_2_and_changes_nothing(
    world: World, django_db_blocker: Any, locker: Callable[[Path], None], tmp_path: Path, case_name: str,
    command: str,
) -> None:
    case = CASES[case_name]
    path = tmp_path / "procheff.db"
    case.make_file(path, world)
    if case.locked:
        locker(path)
    env = world.env(sqlite_path=path, database_url=_database_url(world, case))
    before_file = _digest(path)
    with django_db_blocker.unblock():
        before = _target_state()
        done = _manage(env, COMMANDS[command])
        after = _target_state()
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert "Traceback" not in said, said
    for word in case.words:
        assert word in said, f"{word!r} not in: {said}"
    assert PASSWORD not in said
    assert after == before
    assert _digest(path) == before_file
    if case.make_file is _missing:
        assert not path.exists(), "the missing legacy file was created"
    if case.locked:
        assert said.count("waiting up to") == 1, said


def test_cutover_status_during_a_postgres_outage_shows_the_reachable_side(world: World, tmp_path: Path) -> None:
    path = tmp_path / "procheff.db"
    _good(path, world)
    done = _manage(world.env(sqlite_path=path, database_url=_url(world.database_url, port=free_port())),
                   ["cutover", "status"])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "outbox: sqlite: 2, default: unreadable" in done.stdout
    assert "default cannot be used:" in done.stdout and "is unreachable" in done.stdout
    assert "legacy schema: every source table and column with data is mapped or excluded" in done.stdout
    assert "the status above is what the other database holds" in done.stderr


@pytest.mark.django_db(databases=["default", "sqlite"], transaction=True)
def test_migrate_data_names_the_first_integrity_finding_of_a_damaged_file(tmp_path: Path) -> None:
    """A page damaged in the middle of a table: the schema reads, the rows do not; the backup names the damage."""
    path = tmp_path / "damaged.sqlite3"
    shutil.copyfile(connections["sqlite"].settings_dict["NAME"], path)
    connection = sqlite3.connect(path)
    for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cutover_%'").fetchall():
        connection.execute(f'DROP TRIGGER "{name}"')  # so the pages near the end hold logs rows, not outbox records
    connection.executemany("INSERT INTO logs (level, message) VALUES ('info', ?)", [("x" * 300,)] * 3000)
    connection.commit()
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.close()
    with path.open("r+b") as handle:  # overwrite part of a page near the end, inside the logs rows
        handle.seek(page_size * (pages - 5) + 100)
        handle.write(b"\xff" * 2000)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "procheff.settings", "SQLITE_PATH": str(path),
           "DATABASE_URL": child_database_url(settings.DATABASES["default"]), "PROCHEFF_QUIET": "1",
           "MIGRATION_BACKUP_DIR": str(tmp_path / "backups"), "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
           "PYTHONPATH": str(ROOT)}
    for args in (["migrate_data", "--tables", "logs"], ["migrate_data", "--tables", "logs", "--no-backup"],
                 ["validate_counts", "--tables", "logs"]):
        done = _manage(env, args)
        said = done.stdout + done.stderr
        assert done.returncode == 2, said
        assert "Traceback" not in said
        assert "integrity_check" in said and ("On tree page" in said or "on page" in said.lower()), said
    assert not list((tmp_path / "backups").glob("*.sqlite3")), "a damaged copy was kept as a backup"
    assert not ValidationRun.objects.exists(), "an unfinished validation run was kept"
