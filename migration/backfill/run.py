"""A whole backfill run: back up the source, copy every planned table, move the sequences, report."""
from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg
from django.apps import apps
from django.db import DatabaseError, DataError, IntegrityError, connections, models, transaction
from django.utils import timezone

from migration import conf, fence, probe
from migration.backfill import indexes, rejects
from migration.backfill.parallel import run_parallel
from migration.backfill.plan import plan, schema_drift
from migration.backfill.rejects import RejectBudget
from migration.backfill.report import (
    CopyEvent,
    CopyOptions,
    CopyReport,
    ProgressCallback,
    TableResult,
)
from migration.backfill.table import TableCopier
from migration.backup import backup_sqlite
from migration.db import quote
from migration.exceptions import CopyError, DriftRefused, RejectLimitExceeded, SourceUnusable, TargetUnusable
from migration.models import CopyCheckpoint, CopyReject, CopyRun
from migration.reader import LegacyReader
from migration.sequences import advance_target_sequences


def _noop(event: CopyEvent) -> None:
    return None


def migrate_data(options: CopyOptions, callback: ProgressCallback | None = None) -> CopyReport:
    """Back up the source, then copy every planned table into the target and move the sequences.

    Before anything is written: PostgreSQL must answer (TargetUnusable), the legacy file must be a
    readable SQLite database (SourceUnusable), and its schema must hold nothing the models would
    drop (DriftRefused, except in a dry run, whose report carries the findings). Its writes are the
    engine's: they pass PostgreSQL's fence in phases 1 and 2 (:func:`fence.engine_session`).
    """
    with fence.engine_session():
        return _migrate_data(options, callback)


def _migrate_data(options: CopyOptions, callback: ProgressCallback | None) -> CopyReport:
    callback = callback or _noop
    options = options.resolved()
    started = time.monotonic()
    try:
        probe.target(options.target)
        drifted = schema_drift(options, on_wait=lambda message: callback(CopyEvent("waiting", detail=message)))
    except (SourceUnusable, TargetUnusable) as exc:
        raise type(exc)(f"{exc}; nothing was copied") from exc
    for finding in drifted.warnings:
        callback(CopyEvent("drift", table=finding.table, detail=finding.describe()))
    if drifted.blocking and not options.dry_run:
        raise DriftRefused(drifted.blocking)
    planned = plan(options)
    report = CopyReport(plan=planned, dry_run=options.dry_run, drift=drifted)
    if options.dry_run:
        report.seconds = time.monotonic() - started
        return report
    models_ = [apps.get_model(p.label) for p in planned]
    target = options.target_alias
    run = CopyRun.objects.using(target).create(options=_options_record(options))
    report.run_id = run.pk
    try:
        has_work = options.fresh or any(p.pending_rows or not p.complete for p in planned)
        if options.backup and has_work:
            callback(CopyEvent("backup", detail="backing up the source"))
            report.backup = backup_sqlite(options.source or conf.source_alias(), options.backup_dir,
                                          record_using=target)
            run.backup = report.backup
            callback(CopyEvent("backup", detail=report.backup.path, result=None))
        if options.fresh:
            truncate(models_, target)
        budget = RejectBudget(options.max_rejects)
        try:
            with bulk_gc():
                if options.jobs > 1:
                    report.tables = run_parallel(planned, options, budget, callback)
                else:
                    report.tables = _run_serial(models_, options, budget, callback)
        except RejectLimitExceeded as exc:
            report.stopped = str(exc)
            report.rejects_path = rejects.write_file(options.rejects_path, target, [p.table for p in planned],
                                                     extra=exc.batch)
            _finish(run, report, CopyRun.Status.STOPPED)
            raise
        report.sequences = advance_target_sequences(models_, options.source, target)
        callback(CopyEvent("sequences", rows=len(report.sequences)))
        if options.analyze:
            report.analyzed = analyze_tables(
                [t.table for t in report.tables if not t.absent and (options.fresh or t.copied or t.removed)], target)
            callback(CopyEvent("analyze", rows=len(report.analyzed)))
        if report.rejected:
            report.rejects_path = rejects.write_file(options.rejects_path, target, [p.table for p in planned])
        report.seconds = time.monotonic() - started
        _finish(run, report, CopyRun.Status.REJECTED if report.rejected else CopyRun.Status.SUCCEEDED)
        return report
    except RejectLimitExceeded:
        raise
    except BaseException as exc:
        connections[target].close()
        named = probe.named(exc, source_alias=options.source, target_alias=target)
        with contextlib.suppress(DatabaseError):
            CopyRun.objects.using(target).filter(pk=run.pk).update(
                status=CopyRun.Status.FAILED, finished_at=timezone.now()
            )
        if named is not None:
            raise type(named)(
                f"{named}; the copy stopped: the batches committed before it keep their checkpoints, and "
                "migrate_data resumes after them once this is fixed"
            ) from exc
        raise


def truncate(models_: Sequence[type[models.Model]], target: str) -> None:
    """Empty the target tables and forget their checkpoints and rejects (``--fresh``)."""
    tables = [m._meta.db_table for m in models_]
    if not tables:
        return
    try:
        with transaction.atomic(using=target), connections[target].cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(quote(t) for t in tables))
            for table in tables:  # cheap on empty tables, and their definitions go with the checkpoints
                indexes.restore(table, target)
            CopyCheckpoint.objects.using(target).filter(table__in=tables).delete()
            CopyReject.objects.using(target).filter(table__in=tables).delete()
    except (DataError, IntegrityError, psycopg.Error) as exc:
        raise CopyError(
            f"cannot truncate {tables}: {exc}; include the tables that reference them in --tables"
        ) from exc
    except Exception as exc:  # NotSupportedError for FK references is a DatabaseError subclass
        if "foreign key" in str(exc):
            raise CopyError(
                f"cannot truncate {tables}: {exc}; include the tables that reference them in --tables"
            ) from exc
        raise


def analyze_tables(tables: Sequence[str], target: str | None = None) -> list[str]:
    """``ANALYZE`` each table on the target: planner statistics for what a bulk load just wrote.

    A table filled by COPY has none until autovacuum gets to it (never, where autovacuum is off),
    and the queries the rollout sends to PostgreSQL are planned blind until then.
    """
    connection = connections[target or conf.target_alias()]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")
    return list(tables)


@contextlib.contextmanager
def bulk_gc() -> Iterator[None]:
    """Fewer and cheaper garbage collections while rows stream through.

    Every converted row allocates containers, so the collector would run every few hundred rows
    and walk every object the process holds (Django's included). Freezing what exists now takes
    those out of its walks (and keeps forked workers from copying them), and a higher first
    threshold makes collections rarer; cycles are still collected.
    """
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 20_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _options_record(options: CopyOptions) -> dict[str, Any]:
    record = asdict(options)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in record.items()}


def _finish(run: CopyRun, report: CopyReport, status: str) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.totals = {t.table: {"copied": t.copied, "skipped": t.skipped, "rejected": t.rejected,
                            "removed": t.removed} for t in report.tables}
    run.save()


def _run_serial(
    models_: Sequence[type[models.Model]], options: CopyOptions, budget: RejectBudget, callback: ProgressCallback
) -> list[TableResult]:
    reader = LegacyReader.open(options.source_alias)
    try:
        return [TableCopier(model, reader, options, budget, callback).run() for model in models_]
    finally:
        reader.close()
