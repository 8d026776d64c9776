"""Tombstones: rows deleted by a mirrored write, so a backfill never brings them back."""
from __future__ import annotations

from django.db import models


class Tombstone(models.Model):
    """A migrated row deleted while the move was under way; lives on the database it was deleted from."""

    table = models.CharField(max_length=255)
    pk_value = models.TextField(help_text="The deleted row's primary key, as text.")
    deleted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cutover_tombstone"
        constraints = [
            models.UniqueConstraint(fields=["table", "pk_value"], name="cutover_tombstone_table_pk_key"),
        ]

    def __str__(self) -> str:
        return f"{self.table} {self.pk_value}"
