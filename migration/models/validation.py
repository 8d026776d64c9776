"""Validation runs: when they ran, per-table counts, the differences found and the repairs made."""
from __future__ import annotations

from django.db import models


class ValidationRun(models.Model):
    """One run of ``validate_counts``; ``clean`` is set when it finishes (after any repair)."""

    class Mode(models.TextChoices):
        COUNTS = "counts", "counts only"
        ROWS = "rows", "row level"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    source_alias = models.CharField(max_length=100)
    target_alias = models.CharField(max_length=100)
    # The column is named clean, so the field hides Model.clean(); full_clean() is never run on these rows.
    clean = models.BooleanField(null=True, help_text="True when every table matched; NULL while running.")  # type: ignore[assignment]
    source_rows = models.BigIntegerField(default=0)
    target_rows = models.BigIntegerField(default=0)
    differences = models.BigIntegerField(default=0, help_text="Rows found different (before any repair).")
    repaired = models.BigIntegerField(default=0, help_text="Rows the repair inserted, updated or deleted.")
    elapsed_seconds = models.FloatField(default=0.0)

    class Meta:
        db_table = "cutover_validation_run"
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        state = "running" if self.clean is None else ("clean" if self.clean else "differences")
        return f"validation {self.started_at:%Y-%m-%d %H:%M:%S} ({self.mode}, {state})"


class ValidationTable(models.Model):
    """One table's result within a run: both counts, differences by kind, and their first details."""

    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="tables")
    table = models.CharField(max_length=255)
    model_label = models.CharField(max_length=255)
    source_count = models.BigIntegerField()
    target_count = models.BigIntegerField()
    missing = models.BigIntegerField(default=0, help_text="Rows in the source, not in the target.")
    extra = models.BigIntegerField(default=0, help_text="Rows in the target, not in the source.")
    changed = models.BigIntegerField(default=0, help_text="Rows present on both sides with different values.")
    unreadable = models.BigIntegerField(default=0, help_text="Source rows no field can read.")
    in_flight = models.BigIntegerField(default=0, help_text="Rows changing while validated (not differences).")
    sequence_ok = models.BooleanField(null=True, help_text="NULL when the table has no sequence.")
    clean = models.BooleanField()  # type: ignore[assignment]  # hides Model.clean(), as on ValidationRun
    details = models.JSONField(default=dict, help_text="First differences: pks, changed columns, both values.")

    class Meta:
        db_table = "cutover_validation_table"
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.table}: {'clean' if self.clean else 'differences'}"


class ValidationRepair(models.Model):
    """One row the repair wrote or deleted on the target, with the columns it changed."""

    class Action(models.TextChoices):
        INSERT = "insert"
        UPDATE = "update"
        DELETE = "delete"
        SEQUENCE = "sequence"

    run = models.ForeignKey(ValidationRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="repairs")
    repaired_at = models.DateTimeField(auto_now_add=True)
    table = models.CharField(max_length=255)
    pk_value = models.TextField(help_text="The row's primary key, as text.")
    action = models.CharField(max_length=10, choices=Action.choices)
    columns = models.JSONField(default=list, help_text="[column, target value before, source value] per column.")
    verified = models.BooleanField(help_text="True when the row matched the source after the repair.")

    class Meta:
        db_table = "cutover_validation_repair"
        ordering = ["-repaired_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.table} {self.pk_value}"


class ValidationHashCache(models.Model):
    """Source row hashes of one run of raw rows, reused while those raw rows stay byte-identical.

    ``digest`` is the MD5 of a run of consecutive raw source rows; ``hashes`` holds their row
    hashes (8 bytes each, in key order). ``fingerprint`` names everything that turns raw values
    into hashes (the columns, their fields' classes and code, the canonical form), so a change to
    any of it starts afresh.
    """

    table = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=32)
    digest = models.CharField(max_length=32)
    rows = models.IntegerField()
    hashes = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cutover_validation_hash_cache"
        constraints = [
            models.UniqueConstraint(fields=["table", "fingerprint", "digest"], name="validation_hash_cache_key"),
        ]

    def __str__(self) -> str:
        return f"{self.table} {self.digest} ({self.rows} rows)"
