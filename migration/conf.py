"""Settings accessors for the cutover engine, each with a documented default, read at call time."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings


def migrated_apps() -> list[str]:
    """App labels whose models move from the source to the target (``MIGRATION_APPS``, default ``["core"]``)."""
    return list(getattr(settings, "MIGRATION_APPS", ["core"]))


def source_alias() -> str:
    """Database alias of the legacy SQLite file (``MIGRATION_SOURCE_ALIAS``, default ``"sqlite"``)."""
    return getattr(settings, "MIGRATION_SOURCE_ALIAS", "sqlite")


def target_alias() -> str:
    """Database alias of PostgreSQL (``MIGRATION_TARGET_ALIAS``, default ``"default"``)."""
    return getattr(settings, "MIGRATION_TARGET_ALIAS", "default")


def backup_dir() -> Path:
    """Where backups, checksums and rejects files go (``MIGRATION_BACKUP_DIR``, default ``./backups``)."""
    return Path(getattr(settings, "MIGRATION_BACKUP_DIR", Path(settings.BASE_DIR) / "backups"))


def is_migrated(app_label: str) -> bool:
    """True when models of ``app_label`` are moved by the engine."""
    return app_label in migrated_apps()


MIRROR_MODES = ("sync", "async", "applier")


def mirror_mode() -> str:
    """When the mirror write runs (``MIGRATION_MIRROR``, default ``"sync"``).

    ``"sync"``: right after the primary commit, before the ORM call returns. ``"async"``: on a
    background thread of the same process; the call returns after the primary commit and its
    outbox record, and reads fall back to the primary until the record is applied. ``"applier"``:
    not in the writing process at all; the write costs its primary transaction and nothing on the
    other database, and ``./manage.py replicate`` applies the record (reads fall back to the
    primary until it has, as with ``"async"``).
    """
    return str(getattr(settings, "MIGRATION_MIRROR", "sync"))


def source_busy_timeout(alias: str | None = None) -> float:
    """Seconds a reader of the legacy file waits while another process holds it locked.

    The source alias's ``OPTIONS["timeout"]`` (what Django passes to ``sqlite3.connect``), default 5.
    """
    database = settings.DATABASES.get(alias or source_alias(), {})
    return float(database.get("OPTIONS", {}).get("timeout", 5.0))


def excluded() -> dict[str, str]:
    """Source tables and columns deliberately left out of the move, each with its reason (``MIGRATION_EXCLUDE``).

    Keys are ``"table"`` or ``"table.column"``, values the reason, e.g.
    ``{"logs.debug_blob": "debug dumps, never read"}``. Default ``{}``: everything in the source
    must be covered by a model.
    """
    value = getattr(settings, "MIGRATION_EXCLUDE", None) or {}
    return dict(value) if isinstance(value, dict) else {}


def field_suggester() -> str:
    """Dotted path of the callable that proposes a model field for a legacy column
    (``MIGRATION_FIELD_SUGGESTER``, default ``""``: plain Django fields, as ``inspectdb`` writes them).

    It takes a :class:`migration.modelcode.ColumnFacts` and returns a
    :class:`migration.modelcode.FieldCode`, or None to leave the column to the default.
    """
    return str(getattr(settings, "MIGRATION_FIELD_SUGGESTER", "") or "")


def switch_timeout(default: float) -> float:
    """How long a switch of primary may drain the old primary (``MIGRATION_SWITCH_TIMEOUT``, seconds)."""
    return float(getattr(settings, "MIGRATION_SWITCH_TIMEOUT", default))
