"""The legacy SQLite schema: where its DDL lives and how to lay it into an empty database."""
from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "legacy_schema.sql"


def schema_sql() -> str:
    """The DDL that reproduces the real legacy database (``fixtures/legacy_schema.sql``)."""
    return SCHEMA_PATH.read_text(encoding="utf-8")


def create_legacy_database(path: Path) -> None:
    """Create a new SQLite file at ``path`` with the legacy schema and no rows.

    Raises FileExistsError rather than touching an existing file.
    """
    if path.exists():
        raise FileExistsError(f"{path} already exists; refusing to overwrite a legacy database")
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(schema_sql())
        connection.commit()
    finally:
        connection.close()
