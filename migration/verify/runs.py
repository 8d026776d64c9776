"""Validation runs as stored for the gates and the console: the run, then every table's result."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from migration.models import ValidationRun, ValidationTable
from migration.verify.report import ValidationReport


def store(run: ValidationRun, report: ValidationReport) -> None:
    """Record the finished run and its per-table results together."""
    with transaction.atomic(using=run._state.db):
        run.finished_at = timezone.now()
        run.clean = report.clean
        run.source_rows, run.target_rows = report.source_rows, report.target_rows
        run.differences = report.differences
        run.repaired = sum(t.repair.changed for t in report.tables if t.repair)
        run.elapsed_seconds = report.elapsed
        run.save()
        ValidationTable.objects.using(run._state.db).bulk_create(
            ValidationTable(
                run=run, table=t.table, model_label=t.label, source_count=t.source_count,
                target_count=t.target_count, missing=len(t.missing), extra=len(t.extra),
                changed=len(t.changed), unreadable=len(t.unreadable), in_flight=len(t.in_flight),
                sequence_ok=None if t.sequence is None else t.sequence.ok, clean=t.clean,
                details=t.as_dict(report.limit),
            )
            for t in report.tables
        )


def latest_run(*, finished: bool = True) -> ValidationRun | None:
    """The latest stored run (finished ones only by default), with ``clean`` and ``tables``, or None."""
    runs = ValidationRun.objects.all()
    if finished:
        runs = runs.filter(finished_at__isnull=False)
    return runs.order_by("-started_at", "-pk").prefetch_related("tables").first()
