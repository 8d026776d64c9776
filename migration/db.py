"""Connection helpers the engine shares: identifier quoting, key chunks, the upsert, the file behind an alias, broken connections."""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connections, models
from django.db.models.constants import OnConflict

UPSERT_ROWS = 1_000  # rows per INSERT ... ON CONFLICT statement (fewer where the backend allows fewer parameters)


def quote(name: str) -> str:
    """A quoted SQL identifier, embedded quotes doubled (SQLite and PostgreSQL agree on this form)."""
    return '"' + name.replace('"', '""') + '"'


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter), from any iterable."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def upsert(model: type[models.Model], objs: Sequence[models.Model], using: str) -> None:
    """Make ``using``'s rows equal to ``objs``: insert each, or overwrite the row with its key.

    The one way the engine makes a row equal to another database's (the applier's mirror and the
    repair both write through it): ``INSERT ... ON CONFLICT (key) DO UPDATE`` on every column but
    the key, one statement per batch. The key is the primary key's columns, several for a
    ``CompositePrimaryKey``. ``raw=True``: values are taken as they are (no ``pre_save``, so
    ``auto_now`` keeps the stored value) and converted for that connection by the fields
    themselves (``get_db_prep_save``); generated columns are left to the database. The ``objs``
    must have distinct keys: one statement cannot write a row twice.
    """
    opts = model._meta
    fields = [f for f in opts.local_concrete_fields if not getattr(f, "generated", False)]
    keys = list(opts.pk_fields)
    others = [f for f in fields if f not in keys]
    size = max(min(connections[using].ops.bulk_batch_size(fields, objs), UPSERT_ROWS), 1)
    for batch in chunks(objs, size):
        # QuerySet._insert is Django's private insert API (what save() uses); the stubs omit it.
        model._base_manager._insert(  # type: ignore[attr-defined]
            batch, fields=fields, using=using, raw=True,
            on_conflict=OnConflict.UPDATE if others else OnConflict.IGNORE,
            update_fields=others or None, unique_fields=keys if others else None,
        )


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
