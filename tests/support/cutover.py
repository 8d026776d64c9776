"""Shared helpers of the cutover tests: phase setting, clean state, row comparison across databases."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connections, models

from migration import breaker, conf, dualwrite, fence, flags, metrics, phase
from migration.dualwrite import apply as dw_apply
from migration.dualwrite import capture
from migration.dualwrite import pending as dw_pending

# Legacy tables the cutover tests write; the sqlite test file keeps legacy rows between tests
# (Django only flushes tables it migrates there), so these are emptied around each test.
TOUCHED_TABLES = (
    "recipe_ingredients", "recipes", "menu_items", "menu_categories", "users", "gramaj_standards", "market_sources",
    "semantic_cache", "logs", "analysis_history",
)

BOTH = ["default", "sqlite"]


def reset_process_state() -> None:
    """Forget every in-process memo and the shared cache (waffle's switches live there)."""
    dualwrite.stop_mirrors()
    dualwrite.flush_applied()
    cache.clear()
    flags.forget()
    flags._last_known = None
    breaker.reset()
    dw_pending._pending.forget()
    dw_apply._last_drain.clear()
    metrics.discard()


def empty_legacy_tables() -> None:
    """Delete the rows tests wrote in the legacy tables of both databases (raw: no mirroring)."""
    # The test database's flush resets the switches without a signal: drop SQLite's capture
    # triggers, both fences and both copies of the phase with them, so the next test starts in a
    # true phase 0.
    for alias in BOTH:
        capture.remove(alias)
        fence.lower_fence(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{flags.SOURCE_COPY_TABLE}"')
    for alias in BOTH:
        with connections[alias].cursor() as cursor:
            for table in TOUCHED_TABLES:
                cursor.execute(f'DELETE FROM "{table}"')
            cursor.execute('DELETE FROM "cutover_outbox"')


@pytest.fixture
def cutover_state(settings: Any, tmp_path: Any) -> Iterator[None]:
    """A clean slate before and after the test; backups go to a temporary directory."""
    settings.MIGRATION_BACKUP_DIR = tmp_path / "backups"
    reset_process_state()
    empty_legacy_tables()
    yield
    empty_legacy_tables()
    reset_process_state()


@pytest.fixture(params=["sync", "async"])
def mirror(request: pytest.FixtureRequest, settings: Any) -> str:
    """Both mirror modes: right after commit, and on the process's background mirror thread."""
    settings.MIGRATION_MIRROR = request.param
    return request.param


def set_phase(target: phase.PhaseState | phase.Phase, percent: float | None = None) -> None:
    """Set the switches of a phase directly (no gates, no backup): the waffle admin's path."""
    if isinstance(target, phase.Phase):
        default = 100.0 if target >= phase.Phase.POSTGRES_PRIMARY else (10.0 if target == phase.Phase.READ_ROLLOUT else 0.0)
        target = phase.PhaseState(target, default if percent is None else percent)
    flags.write_state(**phase.flag_values(target))
    flags.forget()


def rows(model: type[models.Model], alias: str) -> dict[str, tuple[Any, ...]]:
    """Every row of ``model`` on ``alias`` as comparable tuples, keyed by pk text."""
    fields = [f.attname for f in model._meta.concrete_fields if not getattr(f, "generated", False)]
    return {str(r[0]): tuple(r) for r in model._base_manager.using(alias).order_by("pk").values_list(*fields)}


def assert_same_rows(*models_: type[models.Model]) -> None:
    """Both databases hold exactly the same rows of each model (once this process's mirrors landed)."""
    assert dualwrite.wait_for_mirrors(60), "background mirrors still running after 60 s"
    for model in models_:
        assert rows(model, conf.source_alias()) == rows(model, conf.target_alias()), model._meta.label


def free_port() -> int:
    """A TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def unreachable(alias: str) -> Iterator[None]:
    """Point ``alias`` at a closed port for the block: a real connection failure, then restore."""
    connection = connections[alias]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(free_port())})
    connection.settings_dict.setdefault("OPTIONS", {})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@contextmanager
def hung(alias: str) -> Iterator[list[socket.socket]]:
    """Point ``alias`` for the block at a server that accepts connections and never answers (as a
    PostgreSQL stuck on a lock or a dead disk): a real socket, then restore. Yields the accepted
    connections, so a test can tell whether anything tried it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    connection = connections[alias]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(listener.getsockname()[1])})
    try:
        yield accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        for sock in [*accepted, listener]:
            sock.close()
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a connection to the fake server may be half open
            pass
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def child_env() -> dict[str, str]:
    """Environment for a child process that must share this test's databases and cache."""
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "procheff.settings",
        "DATABASE_URL": child_database_url(settings.DATABASES["default"]),
        "SQLITE_PATH": settings.DATABASES["sqlite"]["NAME"],
        "CACHE_URL": f"filecache://{settings.CACHES['default']['LOCATION']}",
        "PROCHEFF_QUIET": "1",
        "PYTHONPATH": str(settings.BASE_DIR),
        "MIGRATION_MIRROR": conf.mirror_mode(),
    }


def child_database_url(db: dict[str, Any]) -> str:
    """DATABASE_URL for a child process that must use the same PostgreSQL as this test process.

    The embedded server listens on a Unix socket only; its directory travels as the ``host``
    query parameter, which psycopg reads.
    """
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    if str(host).startswith("/"):
        return f"postgres://{db['USER']}@/{db['NAME']}?host={host}"
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


WRITERS = Path(__file__).resolve().parent / "writers"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules" / "better-sqlite3"


def write_legacy_file(writer: str, statements: list[tuple[str, list[object]]]) -> subprocess.CompletedProcess[str]:
    """Run ``statements`` on the legacy file in another process, as the legacy app or a shell would:
    ``node`` (better-sqlite3) or ``python`` (sqlite3); each statement is its own transaction."""
    if writer == "node":
        if shutil.which("node") is None:
            pytest.skip("Node.js is not installed")
        assert NODE_MODULES.is_dir(), "better-sqlite3 is missing: run `npm install` in the repository"
        command = ["node", str(WRITERS / "write.js")]
    else:
        command = [sys.executable, str(WRITERS / "write.py")]
    connections["sqlite"].close()  # this process holds no lock while the other one writes
    return subprocess.run([*command, str(connections["sqlite"].settings_dict["NAME"]), json.dumps(statements)],
                          capture_output=True, text=True, timeout=60, check=False)
