"""Database router: for the migrated apps only, asks the phase where reads, writes and migrations go."""
from __future__ import annotations

from typing import Any

from django.db import models

from migration import conf, dualwrite, phase


class CutoverRouter:
    """Route the migrated apps; return None for every other app so Django's default applies."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        """Reads follow the phase and the read flag (see migration.dualwrite.read_alias)."""
        if not conf.is_migrated(model._meta.app_label):
            return None
        return dualwrite.read_alias(model)

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        """Writes go to the primary of the phase."""
        if not conf.is_migrated(model._meta.app_label):
            return None
        return phase.primary_alias()

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if conf.is_migrated(obj1._meta.app_label) and conf.is_migrated(obj2._meta.app_label):
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        """The legacy tables are never created on SQLite; the outbox table exists on both databases."""
        if conf.is_migrated(app_label):
            return db == conf.target_alias()
        if db == conf.source_alias():
            return dualwrite.is_outbox(app_label, model_name)
        return None
