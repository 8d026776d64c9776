"""Whether the legacy file and PostgreSQL can be used, and what a database failure means, named for operators."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections

from migration import conf, reader
from migration.exceptions import MigrationError, SourceUnusable, TargetUnusable
from migration.reader import LegacyReader

Notice = Callable[[str], None]

# What PostgreSQL (or libpq) says, and what it means. Checked in this order.
_AUTHENTICATION = ("password authentication failed", "authentication failed", "no pg_hba.conf entry",
                   "is not permitted to log in", "password is required", "role \"")
_NO_DATABASE = ("does not exist",)
_UNREACHABLE = ("connection refused", "could not connect", "timeout expired", "could not translate host name",
                "no such file or directory", "server closed the connection", "connection timed out",
                "name or service not known", "network is unreachable", "no route to host",
                "terminating connection", "the database system is starting up",
                "the database system is shutting down", "connection is closed", "server conn crashed",
                "connection failed")


def target(alias: str | None = None) -> None:
    """Connect to PostgreSQL; raise TargetUnusable saying why it cannot be used."""
    alias = alias or conf.target_alias()
    try:
        connections[alias].ensure_connection()
    except DatabaseError as exc:
        raise target_failure(exc, alias) from exc


def source(alias: str | None = None, *, on_wait: Notice | None = None, timeout: float | None = None) -> None:
    """Open and check the legacy file; raise SourceUnusable saying why it cannot be read."""
    LegacyReader.open(alias or conf.source_alias(), on_wait=on_wait, timeout=timeout).close()


def both(*, source_alias: str | None = None, target_alias: str | None = None, on_wait: Notice | None = None) -> None:
    """Check PostgreSQL, then (while it is configured) the legacy file; raise for the first that fails."""
    target(target_alias)
    source_alias = source_alias or conf.source_alias()
    if source_alias in settings.DATABASES:
        source(source_alias, on_wait=on_wait)


def unusable(*, on_wait: Notice | None = None) -> dict[str, str]:
    """Each configured database that cannot be used, with why: {alias: message}; empty when both answer."""
    found: dict[str, str] = {}
    try:
        target()
    except TargetUnusable as exc:
        found[conf.target_alias()] = str(exc)
    if conf.source_alias() in settings.DATABASES:
        try:
            source(on_wait=on_wait)
        except SourceUnusable as exc:
            found[conf.source_alias()] = str(exc)
    return found


def describe(alias: str) -> str:
    """Which database ``alias`` is, for a message: name, host and port, never the password."""
    db = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite":
        return f"SQLite {db.get('NAME')} (alias {alias!r})"
    host = db.get("HOST") or "the local socket"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"PostgreSQL database {db.get('NAME')!r} at {host}{port} (alias {alias!r})"


def target_failure(exc: BaseException, alias: str) -> TargetUnusable:
    """What a PostgreSQL error says: unreachable, database missing, authentication refused, or other."""
    said = redact(" ".join(str(exc).split()), alias)
    name = connections[alias].settings_dict.get("NAME")
    where = describe(alias)
    kind = _kind(exc)
    if kind == "authentication":
        return TargetUnusable(f"{where}: authentication refused ({said}); check the user and password in "
                              "DATABASE_URL (or ~/.pgpass)")
    if kind == "database":
        return TargetUnusable(f"{where}: the database does not exist ({said}); create it (createdb {name}) "
                              "and run ./manage.py migrate, or fix DATABASE_URL")
    if kind == "unreachable":
        return TargetUnusable(f"{where} is unreachable ({said}); check that the server runs and that "
                              "DATABASE_URL names its host and port")
    return TargetUnusable(f"{where} cannot be used: {said}")


def _kind(exc: BaseException) -> str:
    """``authentication``, ``database`` (it does not exist), ``unreachable``, or '' for anything else."""
    text = " ".join(str(exc).split()).lower()
    if 'database "' in text and any(marker in text for marker in _NO_DATABASE):
        return "database"
    if any(marker in text for marker in _AUTHENTICATION):
        return "authentication"
    if any(marker in text for marker in _UNREACHABLE):
        return "unreachable"
    return ""


def _source_failure(exc: sqlite3.Error, alias: str) -> SourceUnusable | None:
    """A SQLite error about the file itself (not a database, damaged, locked, not openable), named."""
    name = reader.error_name(exc)
    if name not in reader.NOT_A_DATABASE | reader.DAMAGED | reader.BUSY and \
            not name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR")):
        return None
    path = connections[alias].settings_dict.get("NAME") if alias in connections.databases else None
    return reader.failure(exc, None if path is None else Path(path), alias, conf.source_busy_timeout(alias))


def named(exc: BaseException, *, source_alias: str | None = None,
          target_alias: str | None = None) -> MigrationError | None:
    """The engine's named error for a database failure (either side), or None when it is not one.

    Follows the chain of causes to the driver's own error: a SQLite error is about the legacy
    file, a psycopg error about PostgreSQL. Errors of the data (a constraint, a type) are not
    named here: they are bugs or findings, and keep their traceback.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (SourceUnusable, TargetUnusable)):
            return current
        if isinstance(current, sqlite3.Error):
            return _source_failure(current, source_alias or conf.source_alias())
        if isinstance(current, psycopg.OperationalError | psycopg.InterfaceError):
            alias = target_alias or conf.target_alias()
            return target_failure(current, alias) if _kind(current) else None
        current = current.__cause__ or current.__context__
    return None


def redact(text: str, alias: str) -> str:
    """``text`` without the alias's password, wherever a driver may have quoted it."""
    password = connections[alias].settings_dict.get("PASSWORD")
    return text.replace(str(password), "***") if password else text
