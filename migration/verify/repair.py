"""Repair: make the secondary's differing rows equal to the primary's, check them again, record every change."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, transaction
from psycopg import sql

from migration import conf, dualwrite, fence, inventory, phase
from migration.db import chunks, upsert
from migration.exceptions import RepairRefused
from migration.models import ValidationRepair, ValidationRun
from migration.sequences import advance_target_sequences
from migration.values import canonical
from migration.verify.postgres import FETCH_ROWS, IN_CHUNK, TargetSide
from migration.verify.report import RepairResult, ValidationReport, jsonable
from migration.verify.sqlite import SourceSide
from migration.verify.table import Table


@dataclass(frozen=True)
class RepairRoute:
    """Which way a repair copies in the current phase: from the truth to the one database it writes."""

    copy_from: str
    copy_to: str
    mirrored: bool  # writes are mirrored (phases 1-3): the applier carries the repair


def repair_route(source: str | None = None, target: str | None = None) -> RepairRoute:
    """The way a repair between ``source`` and ``target`` copies now (the phase read fresh).

    While writes are mirrored (phases 1-3) the primary is the truth and only the secondary is
    written, through the applier. In phase 0 the legacy file is the only database the
    application uses, so the copy's target is made equal to it. In phase 4 PostgreSQL is the only
    database and SQLite no longer receives writes, so their rows are expected to differ:
    RepairRefused. Aliases other than the cutover's own pair are copied ``source`` to ``target``.
    """
    source, target = source or conf.source_alias(), target or conf.target_alias()
    if {source, target} != {conf.source_alias(), conf.target_alias()}:
        return RepairRoute(source, target, mirrored=False)
    state = phase.current_state_fresh()  # a memo up to MEMO_SECONDS old could name the old primary
    mirrored = dualwrite.active_pair()
    if mirrored is not None:
        return RepairRoute(*mirrored, mirrored=True)
    if state.phase >= phase.Phase.POSTGRES_PRIMARY:
        raise RepairRefused(
            f"the cutover is in {state}: {conf.target_alias()} is the only database and "
            f"{conf.source_alias()} no longer receives writes, so their rows are expected to differ; "
            f"nothing was repaired. To give {conf.source_alias()} the rows of {conf.target_alias()} "
            "back, roll back with `./manage.py cutover rollback --reverse-copy`"
        )
    return RepairRoute(conf.source_alias(), conf.target_alias(), mirrored=False)


def repair_secondary(model: type[models.Model], pks: Iterable[Any], *,
                     run: ValidationRun | None = None) -> RepairResult:
    """Make the rows ``pks`` of ``model`` equal on both databases, written only where :func:`repair_route` says.

    Phases 1-3: :func:`repair_rows_from_primary`; phase 0: :func:`repair_rows` (the legacy file
    to PostgreSQL); phase 4: RepairRefused, before anything is written.
    """
    route = repair_route()
    if route.mirrored:
        return repair_rows_from_primary(model, pks, route.copy_from, run=run)
    return repair_rows(model, pks, run=run)


def repair_rows_from_primary(model: type[models.Model], pks: Iterable[Any], primary: str, *,
                             run: ValidationRun | None = None) -> RepairResult:
    """Make the secondary's rows ``pks`` of ``model`` equal to the primary's, through the applier.

    The rows that differ now are queued on ``primary`` and applied, as :func:`repair_from_primary`
    does for a whole validation; rows already equal are left alone. Every queued row is checked
    again afterwards and recorded; one that still differs is reported unverified.
    """
    table = Table.of(model, connections[conf.source_alias()], connections[conf.target_alias()])
    wanted = _wanted(table, pks)
    on_source, on_target = SourceSide(table).hashes_of(wanted), TargetSide(table).hashes_of(wanted)
    on_primary, on_secondary = (on_source, on_target) if primary == conf.source_alias() else (on_target, on_source)
    appeared = [pk for pk in wanted if pk in on_primary and pk not in on_secondary]
    vanished = [pk for pk in wanted if pk in on_secondary and pk not in on_primary]
    changed = [pk for pk in wanted if pk in on_primary and pk in on_secondary and on_primary[pk] != on_secondary[pk]]
    dualwrite.mark_dirty(model, [*appeared, *vanished, *changed], using=primary)
    dualwrite.replay()
    repair, records = _settled(table, run, dualwrite.other_alias(primary), appeared, vanished, changed)
    ValidationRepair.objects.using(conf.target_alias()).bulk_create(records)
    return repair


def repair_rows(
    model: type[models.Model],
    pks: Iterable[Any],
    *,
    source: str | None = None,
    target: str | None = None,
    run: ValidationRun | None = None,
    ids_from_source: bool = False,
) -> RepairResult:
    """Make the target's rows ``pks`` of ``model`` equal to the source's, then check them again.

    Rows present in the source are written to the target (inserted or updated, through the same
    field conversion as the copy); rows absent from the source are deleted from the target. The
    writes and their :class:`ValidationRepair` records commit together. Raises ConversionError
    when a source row cannot be read (nothing is written then).
    """
    source_db = connections[source or conf.source_alias()]
    target_db = connections[target or conf.target_alias()]
    table = Table.of(model, source_db, target_db)
    src, dst = SourceSide(table), TargetSide(table)
    wanted = _wanted(table, pks)
    readers = inventory.column_readers(model, source_db)
    source_rows = {}
    if src.present():
        for raw in src.raw_of(wanted):
            values = table.read(raw, readers, source_db)
            source_rows[table.key_of(values)] = values
    before = dst.rows_of(wanted)
    result = RepairResult(table.name, written_on=target_db.alias)
    records = []
    with transaction.atomic(using=target_db.alias):
        fence.engine_writes(target_db.alias)
        upsert(model, [_instance(table, values) for values in source_rows.values()], target_db.alias)
        gone = [pk for pk in wanted if pk not in source_rows and pk in before]
        _delete(dst, gone)
        source_hashes = src.hashes_of(wanted)
        target_hashes = dst.hashes_of(wanted)
        for pk in wanted:
            if pk in source_rows:
                action = ValidationRepair.Action.UPDATE if pk in before else ValidationRepair.Action.INSERT
                (result.updated if pk in before else result.inserted).append(pk)
                columns = _changed_columns(table, before.get(pk), source_rows[pk])
            elif pk in before:
                action = ValidationRepair.Action.DELETE
                result.deleted.append(pk)
                columns = []
            else:
                continue
            verified = source_hashes.get(pk) == target_hashes.get(pk)
            if not verified:
                result.unverified.append(pk)
            records.append(ValidationRepair(run=run, table=table.name, pk_value=str(pk), action=action,
                                            columns=columns, verified=verified))
        before_check = check = dst.sequence_check(ids_from_source)
        if before_check is not None and not before_check.ok:
            advance_target_sequences([model], source_db.alias, target_db.alias)
            result.sequence_reset = True
            check = dst.sequence_check(ids_from_source)
            records.append(ValidationRepair(
                run=run, table=table.name, pk_value=str(before_check.max_pk),
                action=ValidationRepair.Action.SEQUENCE,
                columns=[[before_check.sequence, before_check.next_value, None if check is None else check.next_value]],
                verified=check is None or check.ok,
            ))
        result.sequence_ok = check is None or check.ok
        ValidationRepair.objects.bulk_create(records)
    return result


def repair_report(report: ValidationReport, run: ValidationRun, source: str, target: str,
                  progress: Callable[[str, dict[str, Any]], None], ids_from_source: bool = False) -> None:
    """Repair every table's differences in one target transaction (deferred FKs hold at commit)."""
    with transaction.atomic(using=target):
        for result in report.tables:
            if result.found_clean:
                continue
            pks = [*result.missing, *result.changed, *result.extra]
            progress("repair", {"table": result.table, "rows": len(pks)})
            result.repair = repair_rows(result.model, pks, source=source, target=target, run=run,
                                        ids_from_source=ids_from_source)
            if result.repair.changed and not result.row_level:
                table = Table.of(result.model, connections[source], connections[target])
                result.target_count = TargetSide(table).count()
    report.repaired = True


def _wanted(table: Table, pks: Iterable[Any]) -> list[Any]:
    """The primary keys ``pks`` as the key fields read them, each once, in the given order."""
    key_fields = [table.fields[i] for i in table.key_indexes]
    if table.composite:
        return list(dict.fromkeys(tuple(f.to_python(v) for f, v in zip(key_fields, pk)) for pk in pks))
    return list(dict.fromkeys(key_fields[0].to_python(pk) for pk in pks))


def _changed_columns(table: Table, before: tuple[list[Any], list[str]] | None,
                     values: list[Any]) -> list[list[Any]]:
    """[column, target value before, source value] for each column the repair changes."""
    canons = [canonical.python_canonical(k, f, table.target) for k, f in zip(table.kinds, table.fields)]
    changed = []
    for i, f in enumerate(table.fields):
        new_part = canonical.python_part(canons[i], values[i])
        if before is None or before[1][i] != new_part:
            changed.append([f.column, None if before is None else jsonable(before[0][i]), jsonable(values[i])])
    return changed


def _instance(table: Table, values: list[Any]) -> models.Model:
    """The model instance holding one converted source row (fields by attname: foreign keys by their id)."""
    return table.model(**{f.attname: value for f, value in zip(table.fields, values)})


def _delete(dst: TargetSide, pks: list[Any]) -> None:
    if not pks:
        return
    with dst.connection.cursor() as cursor:
        for chunk in chunks(pks, IN_CHUNK if dst.table.composite else FETCH_ROWS):
            where, params = dst.keys_in(chunk)
            cursor.execute(dst.sql(sql.SQL("DELETE FROM {t} WHERE {w}").format(t=dst.ident, w=where)), params)


def repair_from_primary(report: ValidationReport, run: ValidationRun, primary: str,
                        progress: Callable[[str, dict[str, Any]], None]) -> None:
    """Repair while writes are mirrored: every differing row is queued on the primary and applied.

    The primary holds the truth in phases 1-3 (SQLite, then PostgreSQL), and the applier is the
    one writer of the secondary: it re-reads each row on the primary under the row's lock, so a
    repair can neither overwrite the primary nor race a mirror with an older value. The rows are
    checked again afterwards; one that still differs is reported unverified.
    """
    source, target = report.source_alias, report.target_alias
    todo = [r for r in report.tables if not r.found_clean]
    for result in todo:
        pks = [*result.missing, *result.changed, *result.extra]
        progress("repair", {"table": result.table, "rows": len(pks), "from": primary})
        dualwrite.mark_dirty(result.model, pks, using=primary)
    dualwrite.replay()
    primary_is_source = primary == source
    records: list[ValidationRepair] = []
    for result in todo:
        table = Table.of(result.model, connections[source], connections[target])
        # The secondary's rows followed the primary's: what that did, seen from the secondary.
        appeared, vanished = (result.missing, result.extra) if primary_is_source else (result.extra, result.missing)
        result.repair, settled = _settled(table, run, dualwrite.other_alias(primary), appeared, vanished,
                                          result.changed)
        records += settled
    ValidationRepair.objects.using(conf.target_alias()).bulk_create(records)
    report.repaired = True


def _settled(table: Table, run: ValidationRun | None, secondary: str, inserted: list[Any], deleted: list[Any],
             updated: list[Any]) -> tuple[RepairResult, list[ValidationRepair]]:
    """What the applier did to the secondary's rows, each checked again, and its records."""
    pks = [*inserted, *deleted, *updated]
    source_hashes, target_hashes = SourceSide(table).hashes_of(pks), TargetSide(table).hashes_of(pks)
    repair = RepairResult(table.name, written_on=secondary)
    records = []
    actions = [(inserted, repair.inserted, ValidationRepair.Action.INSERT),
               (deleted, repair.deleted, ValidationRepair.Action.DELETE),
               (updated, repair.updated, ValidationRepair.Action.UPDATE)]
    for kind, listed, action in actions:
        for pk in kind:
            listed.append(pk)
            verified = source_hashes.get(pk) == target_hashes.get(pk)
            if not verified:
                repair.unverified.append(pk)
            records.append(ValidationRepair(run=run, table=table.name, pk_value=str(pk), action=action,
                                            columns=[], verified=verified))
    return repair, records
