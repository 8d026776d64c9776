"""Test support for the backfill: real SQLite source files registered as database aliases."""
from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, models
from django.test import override_settings

from core import legacy

_REPO = Path(__file__).resolve().parents[2]
# The sample lives beside the repository (../shared), or beside the worktrees' parent.
CHINOOK = next(
    (p for p in (Path(os.environ.get("CHINOOK_SQLITE", "")), _REPO.parent / "shared" / "datasets" / "chinook.sqlite",
                 _REPO.parent.parent / "shared" / "datasets" / "chinook.sqlite") if p.is_file()),
    _REPO.parent / "shared" / "datasets" / "chinook.sqlite",
)


SOURCE = "copy_source"


@contextmanager
def sqlite_alias(path: Path, alias: str = SOURCE) -> Iterator[str]:
    """Point the test source alias at ``path`` for the duration of the block."""
    connection = connections[alias]
    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = str(path)
    try:
        yield alias
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous


@contextmanager
def legacy_source(directory: Path) -> Iterator[Path]:
    """A new, empty legacy SQLite file as the source alias of the migrated apps."""
    path = directory / "legacy.sqlite3"
    legacy.create_legacy_database(path)
    with sqlite_alias(path), override_settings(
        MIGRATION_SOURCE_ALIAS=SOURCE, MIGRATION_BACKUP_DIR=directory / "backups"
    ):
        yield path


@contextmanager
def chinook_source(directory: Path) -> Iterator[Path]:
    """A private copy of chinook.sqlite as the source, with the Chinook app as the migrated app."""
    if not CHINOOK.is_file():
        pytest.skip(f"the Chinook sample {CHINOOK} is not available")
    path = directory / "chinook.sqlite"
    shutil.copyfile(CHINOOK, path)
    with sqlite_alias(path), override_settings(
        MIGRATION_APPS=["chinook"], MIGRATION_SOURCE_ALIAS=SOURCE, MIGRATION_BACKUP_DIR=directory / "backups"
    ):
        yield path


def insert(path: Path, table: str, rows: list[dict[str, Any]], *, ignore_checks: bool = False) -> None:
    """Insert raw rows with sqlite3, as the legacy app would (no Django conversion)."""
    connection = sqlite3.connect(path)
    try:
        if ignore_checks:
            connection.execute("PRAGMA ignore_check_constraints = ON")
        for row in rows:
            columns = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            connection.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(row.values()))
        connection.commit()
    finally:
        connection.close()


def execute(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(sql, params or []).fetchall()
        connection.commit()
        return rows
    finally:
        connection.close()


def rows_of(model: type[models.Model], using: str) -> list[tuple[Any, ...]]:
    """Every stored value of every row, in primary-key order, read through the ORM."""
    names = [f.attname for f in model._meta.concrete_fields]
    order = [f.attname for f in model._meta.pk_fields]
    return list(model.objects.using(using).order_by(*order).values_list(*names))


def reltuples(table: str, using: str = "default") -> float:
    """``pg_class.reltuples`` of a target table: -1 or 0 until ANALYZE or VACUUM counts its rows."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]
