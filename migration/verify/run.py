"""A validation run: counts, then row checksums by key segments on both sides, re-checked, stored.

The row-level check follows data-diff: both sides hash rows into primary-key segments, equal
segments are skipped, differing segments are split and compared again until single rows are
left (:mod:`migration.verify.bisect`). The target computes hashes in SQL; the source (SQLite,
which has no MD5) computes the same canonical text in Python from the values the model fields
read. Differences are re-checked after a short delay, so rows written while validation runs are
reported as in flight rather than as differences. Nothing here prints; progress goes through a
callback.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.apps import apps
from django.db import DatabaseError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from migration import conf, drift, dualwrite, inventory, phase, probe
from migration.exceptions import UnknownTablesError, ValidationSetupError
from migration.models import ValidationRun
from migration.reader import LegacyReader
from migration.verify import postgres, runs
from migration.verify.bisect import Bisector, SourceScan, scan_source
from migration.verify.hashcache import HashCache
from migration.verify.postgres import TargetSide, close_side_connections
from migration.verify.repair import repair_from_primary, repair_report, repair_route
from migration.verify.report import (
    ChangedRow,
    ColumnDifference,
    RowDiff,
    TableResult,
    ValidationReport,
)
from migration.verify.sqlite import SourceSide
from migration.verify.table import Table

Progress = Callable[[str, dict[str, Any]], None]


def _silent(event: str, data: dict[str, Any]) -> None:
    """The default progress callback: report nothing."""


def ids_from_source(source: str, target: str) -> bool:
    """True while dual writes copy the source's ids into the target (phases 1 and 2 of the cutover)."""
    try:
        state = phase.current_state()
    except DatabaseError:
        return False
    return (state.phase in (phase.Phase.DUAL_WRITE, phase.Phase.READ_ROLLOUT)
            and source == conf.source_alias() and target == conf.target_alias())


def validate_table(
    model: type[models.Model],
    *,
    source: BaseDatabaseWrapper,
    target: BaseDatabaseWrapper,
    row_level: bool = True,
    limit: int = 10,
    progress: Progress | None = None,
    reuse_hashes: bool = True,
) -> TableResult:
    """Compare one model's table on both connections (first pass; see :func:`recheck_table`).

    With ``reuse_hashes``, runs of source rows whose raw bytes are unchanged since an earlier
    validation take their row hashes from it (:class:`HashCache`) instead of converting again.
    """
    progress = progress or _silent
    started = time.monotonic()
    table = Table.of(model, source, target)
    src, dst = SourceSide(table), TargetSide(table)
    present = src.present()
    progress("table_start", {"table": table.name})
    if not row_level:
        result = TableResult(model, present, src.count() if present else 0, dst.count(), row_level=False)
    else:
        target_segments = dst.segments_async(lambda: src.boundaries(postgres.SEGMENT_ROWS) if present else [])
        cache = HashCache(table, enabled=reuse_hashes and present)
        scan = scan_source(src, progress, cache) if present else SourceScan([], array("q"), [], set())
        bisector = Bisector(table, dst, scan, progress)
        diff = bisector.run(*target_segments())
        cache.save()
        result = TableResult(model, present, len(scan.keys) + len(scan.unreadable), bisector.target_count,
                             row_level=True, unreadable=scan.unreadable, first_pass=diff,
                             reused_hashes=cache.reused_rows)
    result.sequence = dst.sequence_check(ids_from_source(source.alias, target.alias))
    result.elapsed = time.monotonic() - started
    progress("table_done", {"table": table.name, "result": result})
    return result


def pending_pks(model: type[models.Model]) -> set[str]:
    """Primary keys (as text) of ``model`` rows waiting in the dual-write outbox."""
    return {str(pk) for pk in dualwrite.pending_pks(model)}


QUIET_LOOKS = 3  # the first pass and two re-checks, ~0.2 s apart, all seeing the same difference


def _recheck(table: Table, diff: RowDiff, pending: Callable[[], set[str]],
             settle_seconds: float) -> tuple[RowDiff, list[Any]]:
    """Re-hash the differing rows until each settles, for at most ``settle_seconds``.

    A row whose two sides now agree was a write on its way (not a difference). A row unchanged
    since the last look and not waiting in the outbox is a confirmed difference. A row still
    changing, or still pending, when the time is up is unverified: it is reported, and a run with
    unverified rows is not clean (it opens no gate).
    """
    kinds = (diff.missing, diff.extra, diff.changed)
    last: dict[Any, tuple[Any, Any]] = {pk: first for kind in kinds for pk, first in kind.items()}
    # Looks in a row that found the row unchanged: the first pass counts as one, and a difference
    # is confirmed at QUIET_LOOKS, so a writer that pauses between two looks does not pass as quiet.
    quiet: dict[Any, int] = dict.fromkeys(last, 1)
    confirmed = RowDiff()
    deadline = time.monotonic() + settle_seconds
    while True:
        pks = list(last)
        source_now = SourceSide(table).hashes_of(pks)
        target_now = TargetSide(table).hashes_of(pks)
        waiting = pending()
        moving: dict[Any, tuple[Any, Any]] = {}
        for pk, before in last.items():
            now = (source_now.get(pk), target_now.get(pk))
            if now[0] is not None and now[0] == now[1]:
                continue  # the two sides agree now
            quiet[pk] = quiet[pk] + 1 if now == before and str(pk) not in waiting else 0
            if quiet[pk] >= QUIET_LOOKS:
                if now[1] is None:
                    confirmed.missing[pk] = now
                elif now[0] is None:
                    confirmed.extra[pk] = now
                else:
                    confirmed.changed[pk] = now
            else:
                moving[pk] = now
        last = moving
        if not last or time.monotonic() >= deadline:
            return confirmed, list(last)
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def _column_differences(table: Table, pks: Sequence[Any]) -> list[ChangedRow]:
    """Name the differing columns of changed rows, with both values as the fields read them."""
    src = SourceSide(table)
    parts_of = src.hasher()
    readers = inventory.column_readers(table.model, table.source)
    source = {}
    for raw in src.raw_of(pks):
        values = table.read(raw, readers, table.source)
        source[table.key_of(values)] = (values, parts_of(raw)[1])
    target = TargetSide(table).rows_of(pks)
    rows = []
    for pk in pks:
        if pk not in source or pk not in target:
            continue
        (s_values, s_parts), (t_values, t_parts) = source[pk], target[pk]
        columns = [ColumnDifference(inventory.column_of(f), s_values[i], t_values[i])
                   for i, f in enumerate(table.fields) if s_parts[i] != t_parts[i]]
        rows.append(ChangedRow(pk, columns))
    return rows


def recheck_table(result: TableResult, *, source: BaseDatabaseWrapper, target: BaseDatabaseWrapper,
                  limit: int = 10, settle_seconds: float = 5.0) -> TableResult:
    """Second pass: confirm the first pass's differences, report rows that never settle, name changed columns."""
    diff = result.first_pass
    if diff is None:
        return result
    table = Table.of(result.model, source, target)
    if diff.missing or diff.extra or diff.changed:
        model = result.model
        diff, result.in_flight = _recheck(table, diff, lambda: pending_pks(model), settle_seconds)
    result.missing, result.extra, result.changed = list(diff.missing), list(diff.extra), list(diff.changed)
    result.changed_rows = _column_differences(table, result.changed[:limit]) if result.changed else []
    result.first_pass = None
    return result


def resolve_models(names: Iterable[str] | None) -> list[type[models.Model]]:
    """Migrated models named by table or label (all when ``names`` is None); unknown names raise."""
    if names is None:
        return inventory.migrated_models()
    wanted = [n for n in names if n]
    found = inventory.migrated_models(wanted)
    known = {name for m in found for name in (m._meta.label_lower, m._meta.model_name, m._meta.db_table.lower())}
    unknown = [n for n in wanted if n.lower() not in known]
    if unknown:
        raise UnknownTablesError(unknown, sorted(m._meta.db_table for m in inventory.migrated_models()))
    return found


def validate(
    tables: Iterable[str] | None = None,
    *,
    source: str | None = None,
    target: str | None = None,
    row_level: bool = True,
    limit: int = 10,
    recheck_delay: float = 1.0,
    settle_seconds: float = 5.0,
    repair: bool = False,
    confirm: Callable[[ValidationReport], bool] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    reuse_hashes: bool = True,
) -> ValidationReport:
    """Compare every migrated table (or ``tables``) on both databases, optionally repair, and store the run.

    Row level (the default): counts, missing, extra and changed rows with their columns, after a
    re-check ``recheck_delay`` seconds later that sets rows in flight aside. ``row_level=False``
    compares counts only. With ``repair``, differing rows are re-copied or deleted once
    ``confirm(report)`` agrees (no callback: no question), on the one database
    :func:`~migration.verify.repair.repair_route` names (RepairRefused in phase 4, before any
    work). Sequences are checked in both modes, and the source's schema against the models
    (:mod:`migration.drift`): blocking drift makes the run not clean. Raises TargetUnusable or
    SourceUnusable before anything is stored when a database cannot be used.
    """
    progress = progress or _silent
    source_alias, target_alias = source or conf.source_alias(), target or conf.target_alias()
    for alias in (source_alias, target_alias):
        if alias not in connections:
            raise ValidationSetupError(f"no database alias {alias!r}; check --source/--target and DATABASES")
    if connections[target_alias].vendor != "postgresql":
        raise ValidationSetupError(f"the target {target_alias!r} must be PostgreSQL, not "
                                   f"{connections[target_alias].vendor}")
    models_ = resolve_models(tables)
    probe.target(target_alias)
    probe.source(source_alias, on_wait=lambda message: progress("waiting", {"message": message}))
    if repair:
        repair_route(source_alias, target_alias)  # refused in phase 4: say so before the work, not after
    source_db, target_db = connections[source_alias], connections[target_alias]
    _check_tables(models_, source_db, target_db)
    drifted = drift.detect(models_, alias=source_alias, reader=LegacyReader.of(source_alias),
                           new_tables=tables is None)
    started_at, started = timezone.now(), time.monotonic()
    run = ValidationRun.objects.create(started_at=started_at, source_alias=source_alias,
                                       target_alias=target_alias,
                                       mode=ValidationRun.Mode.ROWS if row_level else ValidationRun.Mode.COUNTS)
    try:
        report = _run(run, models_, drifted, source_alias, target_alias, row_level=row_level, limit=limit,
                      recheck_delay=recheck_delay, settle_seconds=settle_seconds, repair=repair, confirm=confirm,
                      progress=progress, jobs=jobs,
                      reuse_hashes=reuse_hashes)
    except BaseException:
        # An unfinished run is no result: the gates and the console only ever see finished ones.
        with contextlib.suppress(DatabaseError):
            ValidationRun.objects.filter(pk=run.pk).delete()
        raise
    report.elapsed = time.monotonic() - started
    runs.store(run, report)
    return report


def _run(run: ValidationRun, models_: list[type[models.Model]], drifted: drift.DriftReport, source_alias: str,
         target_alias: str, *, row_level: bool, limit: int, recheck_delay: float, settle_seconds: float, repair: bool,
         confirm: Callable[[ValidationReport], bool] | None, progress: Progress, jobs: int,
         reuse_hashes: bool) -> ValidationReport:
    """Both passes, the schema findings, and the repair if asked: the report of one stored run."""
    source_db, target_db = connections[source_alias], connections[target_alias]
    progress("start", {"tables": len(models_), "row_level": row_level})
    # A source table that lacks a column its model stores cannot be read row by row: counted only.
    unreadable = {f.table for f in drifted.blocking if f.kind == drift.MISSING}
    counted = [m for m in models_ if m._meta.db_table in unreadable]
    try:
        results = _first_passes([m for m in models_ if m not in counted], source_alias, target_alias, row_level,
                                limit, progress, jobs, reuse_hashes)
        results += _first_passes(counted, source_alias, target_alias, False, limit, progress, 1, False)
    finally:
        close_side_connections()
    order = {m._meta.label: i for i, m in enumerate(models_)}
    results.sort(key=lambda r: order[r.label])
    progress("first_pass_done", {"tables": len(results)})
    if row_level:
        if any(r.first_pass and (r.first_pass.missing or r.first_pass.extra or r.first_pass.changed)
               for r in results):
            progress("recheck", {"delay": recheck_delay})
            time.sleep(recheck_delay)
        for result in results:
            recheck_table(result, source=source_db, target=target_db, limit=limit, settle_seconds=settle_seconds)
    for result in results:
        result.drift = drifted.of_table(result.table)
    report = ValidationReport(row_level, source_alias, target_alias, results, 0.0, limit, run.pk, drift=drifted)
    if repair and not report.found_clean and (confirm is None or confirm(report)):
        route = repair_route(source_alias, target_alias)
        if route.mirrored:
            repair_from_primary(report, run, route.copy_from, progress)  # the applier copies primary -> secondary
        else:
            repair_report(report, run, source_alias, target_alias, progress, ids_from_source(source_alias, target_alias))
    return report


def _check_tables(models_: list[type[models.Model]], source: BaseDatabaseWrapper,
                  target: BaseDatabaseWrapper) -> None:
    """Fail early, and say what to do, when the target lacks tables or the source has none of them."""
    target_tables = set(target.introspection.table_names())
    missing = [m._meta.db_table for m in models_ if m._meta.db_table not in target_tables]
    if missing:
        raise ValidationSetupError(
            f"the target {target.alias!r} has no table {', '.join(missing[:10])}"
            f"{' ...' if len(missing) > 10 else ''}; run ./manage.py migrate --database {target.alias}"
        )
    source_tables = LegacyReader.of(source.alias).tables()
    if models_ and not any(m._meta.db_table in source_tables for m in models_):
        raise ValidationSetupError(
            f"the source {source.alias!r} ({source.settings_dict['NAME']}) has none of the "
            f"{len(models_)} table(s) to validate; check SQLITE_PATH or --source"
        )


def _first_passes(models_: list[type[models.Model]], source: str, target: str, row_level: bool, limit: int,
                  progress: Progress, jobs: int, reuse_hashes: bool = True) -> list[TableResult]:
    """Every table's first pass: in this process, or spread over ``jobs`` forked processes.

    The source side hashes in Python, one core per process; tables are independent, so several
    processes finish sooner on a multi-core machine. Inside a transaction (tests without
    transaction=True) other processes could not see its rows, so the work stays here.
    """
    in_transaction = any(connections[alias].in_atomic_block for alias in connections)
    if jobs <= 1 or len(models_) < 2 or in_transaction:
        return [validate_table(m, source=connections[source], target=connections[target], row_level=row_level,
                               limit=limit, progress=progress, reuse_hashes=reuse_hashes) for m in models_]
    # Biggest tables first, so that no large table starts last.
    sizes = {m: _source_size(m, source) for m in models_}
    # Children must not share the parent's sockets or SQLite handles: open fresh ones after fork.
    connections.close_all()
    close_side_connections()
    results: dict[str, TableResult] = {}
    context = multiprocessing.get_context("fork")
    with context.Pool(min(jobs, len(models_))) as pool:
        work = [(m._meta.label, source, target, row_level, limit, reuse_hashes)
                for m in sorted(models_, key=lambda m: -sizes[m])]
        for result in pool.imap_unordered(_first_pass_in_worker, work):
            results[result.label] = result
            progress("table_done", {"table": result.table, "result": result})
    return [results[m._meta.label] for m in models_]


def _source_size(model: type[models.Model], source: str) -> int:
    reader = LegacyReader.of(source)
    return reader.count(model._meta.db_table) if reader.table_exists(model._meta.db_table) else 0


def _first_pass_in_worker(work: tuple[str, str, str, bool, int, bool]) -> TableResult:
    """One table's first pass in a worker process, on the worker's own connections."""
    label, source, target, row_level, limit, reuse_hashes = work
    try:
        return validate_table(apps.get_model(label), source=connections[source], target=connections[target],
                              row_level=row_level, limit=limit, reuse_hashes=reuse_hashes)
    finally:
        connections.close_all()
        close_side_connections()
