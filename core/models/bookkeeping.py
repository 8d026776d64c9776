"""The legacy app's own bookkeeping: applied schema migrations."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import LegacyDateTimeField
from core.models.base import LegacyModel


class AppliedMigration(LegacyModel):
    """The legacy `_migrations` table."""

    name = models.CharField(primary_key=True)
    applied_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "_migrations"

    def __str__(self) -> str:
        return str(self.name)

class MigrationRecord(LegacyModel):
    """The legacy `migrations` table."""

    id = models.BigAutoField(primary_key=True)
    filename = models.TextField()
    executed_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "migrations"
        constraints = [
            models.UniqueConstraint(fields=["filename"], name="migrations_filename_key"),
        ]

    def __str__(self) -> str:
        return str(self.filename)
