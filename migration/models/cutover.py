"""Cutover bookkeeping: the dual-write outbox, the phase-change audit, latency metrics, shadow mismatches."""
from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxRecord(models.Model):
    """A row to copy from the database holding this record to the other one; pending until applied.

    The table exists on both databases: the record commits with the write it describes, on the
    primary. Applied records are deleted, so every row in the table is pending.
    """

    class Operation(models.TextChoices):
        SAVE = "save", "save"
        DELETE = "delete", "delete"
        DIRTY = "dirty", "marked dirty"

    model_label = models.CharField(max_length=200, help_text="app_label.ModelName of the written row.")
    pk_value = models.TextField(help_text="The row's primary key, as text.")
    operation = models.CharField(max_length=10, choices=Operation.choices)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cutover_outbox"
        indexes = [
            models.Index(fields=["created_at"], name="cutover_outbox_created_idx"),
            models.Index(fields=["model_label", "pk_value"], name="cutover_outbox_row_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.model_label} {self.pk_value}"


class PhaseChange(models.Model):
    """One change of the cutover phase or read percent: who, when, from, to, and the backups taken."""

    actor = models.CharField(max_length=200)
    via = models.CharField(max_length=50, help_text="cutover command, or waffle admin/ORM.")
    at = models.DateTimeField(default=timezone.now)
    from_phase = models.IntegerField()
    from_percent = models.FloatField(default=0)
    to_phase = models.IntegerField()
    to_percent = models.FloatField(default=0)
    forced = models.BooleanField(default=False)
    gates = models.JSONField(default=list, blank=True)
    backup_path = models.TextField(blank=True, default="")
    backup_sha256 = models.CharField(max_length=64, blank=True, default="")
    dump_path = models.TextField(blank=True, default="")
    dump_sha256 = models.CharField(max_length=64, blank=True, default="")
    note = models.TextField(blank=True, default="")

    class Meta:
        db_table = "cutover_phase_change"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.from_phase}->{self.to_phase} by {self.actor}"


class LatencySample(models.Model):
    """Query latencies of one process over one flush interval, as a log-scale histogram."""

    class Kind(models.TextChoices):
        READ = "read", "read"
        WRITE = "write", "write"
        SHADOW = "shadow", "shadow read"

    at = models.DateTimeField(default=timezone.now)
    alias = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    count = models.IntegerField()
    total_ms = models.FloatField()
    histogram = models.JSONField(help_text="bucket index -> count; see migration.metrics.bucket_bounds.")
    process = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        db_table = "cutover_latency_sample"
        indexes = [models.Index(fields=["at"], name="cutover_latency_at_idx")]

    def __str__(self) -> str:
        return f"{self.alias} {self.kind} n={self.count}"


class ShadowMismatch(models.Model):
    """A shadow read whose rows differed from the primary read's."""

    at = models.DateTimeField(default=timezone.now)
    model_label = models.CharField(max_length=200)
    query = models.TextField()
    primary_alias = models.CharField(max_length=100)
    shadow_alias = models.CharField(max_length=100)
    primary_ms = models.FloatField()
    shadow_ms = models.FloatField()
    primary_rows = models.IntegerField()
    shadow_rows = models.IntegerField()
    detail = models.TextField(blank=True, default="")

    class Meta:
        db_table = "cutover_shadow_mismatch"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.model_label}: {self.primary_rows} vs {self.shadow_rows} rows"
