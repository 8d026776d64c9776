"""The copy of the phase each database keeps in one row of its own table (``cutover_phase_copy``).

Every phase change writes it: ``cutover`` in the transaction that flips the switches, waffle's
admin right after its commit. So the phase can be read from either database, and from the SQLite
file while PostgreSQL is slow, hung or unreachable. The values are the switches (as
:class:`migration.flags.FlagState` fields), the epoch (switches of primary so far) and, after a
rollback made without PostgreSQL, an ``emergency`` marker.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger("migration.flags")

TABLE = "cutover_phase_copy"
_SELECT = f'SELECT state FROM "{TABLE}" WHERE id = 1'


def write(alias: str, values: dict[str, Any]) -> None:
    """Record ``values`` on ``alias`` (inside the caller's transaction on it, if any)."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f'CREATE TABLE IF NOT EXISTS "{TABLE}" '
            "(id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, changes INTEGER NOT NULL)"
        )
        cursor.execute(
            f'INSERT INTO "{TABLE}" (id, state, changes) VALUES (1, %s, 1) '
            f"ON CONFLICT (id) DO UPDATE SET state = excluded.state, changes = {TABLE}.changes + 1",
            [json.dumps(values, sort_keys=True)],
        )


def read(alias: str) -> dict[str, Any] | None:
    """The copy on ``alias`` through Django's connection (the caller's transaction), or None."""
    if alias not in connections.databases:
        return None
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(_SELECT)
            row = cursor.fetchone()
    except DatabaseError:
        return None
    recorded = json.loads(row[0]) if row else None
    return recorded if isinstance(recorded, dict) else None


def read_committed(alias: str) -> dict[str, Any] | None:
    """The SQLite file's copy as committed, or None (no file, no copy, unreadable).

    Read through a read-only connection of its own: it never creates a missing file, takes no part
    in the caller's transaction on the file, and waits at most a second for a writer's commit.
    """
    db = settings.DATABASES.get(alias)
    if db is None or "sqlite" not in str(db.get("ENGINE", "")):
        return None
    name = str(db.get("NAME") or "")
    if not name or not os.path.exists(name):
        return None
    try:
        connection = sqlite3.connect(f"file:{name}?mode=ro", uri=True, timeout=1.0)
        try:
            row = connection.execute(_SELECT).fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        if "no such table" not in str(exc):
            logger.warning("the SQLite file's copy of the phase is unreadable (%s); asking PostgreSQL", exc)
        return None
    recorded = json.loads(row[0]) if row else None
    return recorded if isinstance(recorded, dict) else None
