"""What a backfill will do, read from both databases before anything is written; and every table's progress."""
from __future__ import annotations

import math

from django.db import connections, models

from migration import conf, drift, inventory
from migration.backfill.report import CopyOptions, TablePlan, TableProgress
from migration.exceptions import CopyError
from migration.models import CopyCheckpoint
from migration.reader import LegacyReader, Notice


def plan(options: CopyOptions) -> list[TablePlan]:
    """Order, source row counts and batches for each model; reads both databases, writes nothing."""
    options = options.resolved() if options.source is None or options.target is None else options
    models_ = planned_models(options)
    target = options.target_alias
    checkpoints = {
        c.table: c for c in CopyCheckpoint.objects.using(target).filter(
            table__in=[m._meta.db_table for m in models_]
        )
    }
    existing = set(connections[target].introspection.table_names())
    missing = [m._meta.db_table for m in models_ if m._meta.db_table not in existing]
    if missing:
        raise CopyError(
            f"target tables {missing} do not exist; create the schema first with "
            f"`manage.py migrate --database {target}`"
        )
    reader = LegacyReader.open(options.source_alias)
    try:
        plans = []
        for model in models_:
            table = model._meta.db_table
            checkpoint = None if options.fresh else checkpoints.get(table)
            last_key = checkpoint.last_key if checkpoint else None
            if not reader.table_exists(table):
                plans.append(TablePlan(model._meta.label, table, True, None, 0, last_key, True, 0))
                continue
            source_rows = reader.count(table)
            pending = reader.count(table, last_key) if last_key is not None else source_rows
            plans.append(TablePlan(
                model._meta.label, table, False, source_rows, pending, last_key,
                bool(checkpoint and checkpoint.complete), math.ceil(pending / options.batch_size),
            ))
        return plans
    finally:
        reader.close()


def schema_drift(options: CopyOptions, on_wait: Notice | None = None) -> drift.DriftReport:
    """The source's schema against the planned models, read before anything is written.

    Source tables no model covers are reported only for a run over every table (no ``--tables``).
    Opening the file checks it first: SourceUnusable names what is wrong with it.
    """
    models_ = planned_models(options)
    alias = options.source or conf.source_alias()
    reader = LegacyReader.open(alias, on_wait=on_wait)
    try:
        return drift.detect(models_, alias=alias, reader=reader, new_tables=not options.labels)
    finally:
        reader.close()


def planned_models(options: CopyOptions) -> list[type[models.Model]]:
    """The migrated models ``options.labels`` names (all of them without labels); unknown names raise."""
    found = inventory.migrated_models(options.labels)
    if options.labels:
        known = {n for m in found for n in (m._meta.label_lower, m._meta.model_name, m._meta.db_table.lower())}
        unknown = [label for label in options.labels if label.lower() not in known]
        if unknown:
            raise CopyError(
                f"unknown table(s) {unknown}: name a model (app.Model), model name or table of "
                f"{conf.migrated_apps()}"
            )
    return found


def progress(using: str | None = None) -> list[TableProgress]:
    """Every table's backfill checkpoint (source_rows is None for a table absent from the source)."""
    return [
        TableProgress(
            table=c.table, source_rows=c.source_rows, copied_rows=c.copied_rows,
            rejected_rows=c.rejected_rows, complete=c.complete, updated_at=c.updated_at,
        )
        for c in CopyCheckpoint.objects.using(using or conf.target_alias()).order_by("table")
    ]
