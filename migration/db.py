"""Connection helpers the engine shares: identifier quoting, key chunks, the file behind an alias, broken connections."""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connections


def quote(name: str) -> str:
    """A quoted SQL identifier, embedded quotes doubled (SQLite and PostgreSQL agree on this form)."""
    return '"' + name.replace('"', '""') + '"'


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter), from any iterable."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def sqlite_file(alias: str) -> Path | None:
    """The file behind a SQLite alias (the connection's settings: test runs point NAME elsewhere).

    None for an alias that is not SQLite or holds no file (``:memory:``).
    """
    connection = connections[alias]
    name = connection.settings_dict.get("NAME")
    if connection.vendor != "sqlite" or not name or str(name) == ":memory:" or str(name).startswith("file::memory:"):
        return None
    return Path(name)


def discard_broken_connection(alias: str) -> None:
    """Close ``alias``'s connection after an error so the next use reconnects (once the server is back)."""
    connection = connections[alias]
    if not connection.in_atomic_block:
        try:
            connection.close_if_unusable_or_obsolete()
        except DatabaseError:
            connection.connection = None
