"""Backfill bookkeeping: per-table checkpoints, rejected rows, source backups and run records."""
from __future__ import annotations

from django.db import models


class CopyCheckpoint(models.Model):
    """How far the backfill of one table got; updated in the same transaction as each batch."""

    table = models.CharField(max_length=255, primary_key=True)
    model_label = models.CharField(max_length=255)
    last_key = models.BigIntegerField(
        null=True, blank=True, help_text="The source rowid of the last row handled (keyset position)."
    )
    source_rows = models.BigIntegerField(
        null=True, blank=True, help_text="Source rows at the last planning; NULL when the table is absent."
    )
    copied_rows = models.BigIntegerField(default=0)
    skipped_rows = models.BigIntegerField(
        default=0, help_text="Rows already in the target (a dual write won) or deleted (tombstone)."
    )
    rejected_rows = models.BigIntegerField(default=0)
    removed_rows = models.BigIntegerField(
        default=0, help_text="Rows deleted again because a tombstone appeared while the table was copied."
    )
    seconds = models.FloatField(default=0.0, help_text="Time spent copying, summed over runs.")
    deferred_indexes = models.JSONField(
        default=list, blank=True,
        help_text="Secondary indexes dropped for a large copy and not yet rebuilt: [{name, sql}].",
    )
    complete = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "cutover_copy_checkpoint"

    def __str__(self) -> str:
        return f"{self.table} @ {self.last_key}"


class CopyReject(models.Model):
    """A source row the backfill did not load, with the cell and the reason."""

    table = models.CharField(max_length=255)
    pk_value = models.TextField(null=True, blank=True, help_text="The row's primary key as JSON.")
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True, help_text="repr() of the offending value.")
    reason = models.TextField()
    source_rowid = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cutover_copy_reject"
        constraints = [
            models.UniqueConstraint(fields=["table", "source_rowid", "column"], name="cutover_copy_reject_cell_key"),
        ]

    def __str__(self) -> str:
        return f"{self.table} {self.pk_value} {self.column}: {self.reason}"


class BackupRecord(models.Model):
    """An online backup of the source SQLite file, checked and fingerprinted."""

    source = models.TextField(help_text="Alias or path of the database that was backed up.")
    path = models.TextField()
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    integrity = models.TextField(help_text="PRAGMA integrity_check on the copy ('ok' when sound).")
    seconds = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cutover_backup"

    def __str__(self) -> str:
        return f"{self.path} sha256={self.sha256}"


class CopyRun(models.Model):
    """One invocation of the backfill: options, backup, outcome and per-table totals."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        REJECTED = "rejected", "succeeded with rejected rows"
        STOPPED = "stopped", "stopped at the rejects limit"
        FAILED = "failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    options = models.JSONField(default=dict)
    backup = models.ForeignKey(BackupRecord, models.SET_NULL, null=True, blank=True)
    totals = models.JSONField(default=dict)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cutover_copy_run"

    def __str__(self) -> str:
        return f"copy run {self.pk} {self.status}"
