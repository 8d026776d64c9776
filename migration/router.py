"""Database router: decides, for the migrated apps only, which alias reads, writes and migrates."""
from __future__ import annotations

from typing import Any

from migration import conf


class CutoverRouter:
    """Route the migrated apps; return None for every other app so Django's default applies."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if conf.is_migrated(obj1._meta.app_label) and conf.is_migrated(obj2._meta.app_label):
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        """The legacy file is never created or altered by Django; PostgreSQL gets the typed schema."""
        if conf.is_migrated(app_label):
            return db == conf.target_alias()
        if db == conf.source_alias():
            return False
        return None
