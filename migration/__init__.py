"""A SQLite to PostgreSQL cutover engine for Django projects: copy, validate, dual-write, switch, roll back.

The public API is named here. Each name is imported on first use, so importing this package (as
``INSTALLED_APPS`` does) loads no models. The packages are layered, each importing only those
below it (the contracts are in ``pyproject.toml``):

- commands, admin, console, checks, router, middleware, status, :mod:`~migration.modelcode` (code for drift)
- :mod:`~migration.transitions` (advance, rollback), :mod:`~migration.emergency` (a rollback without
  PostgreSQL), :mod:`~migration.switches` (what every change shares), then :mod:`~migration.gates`
- :mod:`~migration.verify` (validation) and :mod:`~migration.spotcheck`
- :mod:`~migration.dualwrite` (capture triggers, outbox, apply, worker, replay, routing, shadow reads)
- :mod:`~migration.backfill` (the copy)
- :mod:`~migration.sequences`, :mod:`~migration.backup`, :mod:`~migration.schema`
- :mod:`~migration.drift` (the legacy schema against the models), :mod:`~migration.probe` (can each database be used)
- :mod:`~migration.values` (conversion, canonical form, equality), :mod:`~migration.reader`
- :mod:`~migration.phase` (the phase as data), :mod:`~migration.flags`, :mod:`~migration.inventory`
- :mod:`~migration.models`, :mod:`~migration.metrics`, :mod:`~migration.breaker`, :mod:`~migration.context`,
  :mod:`~migration.fence` (the database that is not the primary refuses writes)
- :mod:`~migration.conf`, :mod:`~migration.exceptions`, :mod:`~migration.db`
"""
from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "MigrationError": "migration.exceptions",
    "MirroredModel": "migration.dualwrite",
    "Phase": "migration.phase",
    "PhaseState": "migration.phase",
    "advance": "migration.transitions",
    "backup_sqlite": "migration.backup",
    "current_state": "migration.phase",
    "latest_run": "migration.verify",
    "mark_dirty": "migration.dualwrite",
    "migrate_data": "migration.backfill",
    "repair_rows": "migration.verify",
    "replay": "migration.dualwrite",
    "rollback": "migration.transitions",
    "validate": "migration.verify",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'migration' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
