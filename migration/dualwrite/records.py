"""The outbox: a record per written row, inserted in the writer's transaction on the primary."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import DatabaseError, models, transaction
from django.db.models import Count, Max
from django.utils import timezone

from migration import conf, context
from migration.dualwrite import apply, capture
from migration.dualwrite.pairs import active_pair, configured_aliases
from migration.dualwrite.pending import _pending
from migration.dualwrite.worker import mirror_thread
from migration.exceptions import SchemaDrift
from migration.models import OutboxRecord

logger = logging.getLogger("migration.dualwrite")

# --- The outbox -------------------------------------------------------------------------------


class OperationKind:
    """Operation names of outbox records (mirrors OutboxRecord.Operation without importing models)."""

    SAVE = "save"
    DELETE = "delete"
    DIRTY = "dirty"


def enqueue(model: type[models.Model], pks: Sequence[Any], using: str, operation: str = OperationKind.SAVE) -> None:
    """Insert outbox records on ``using`` (inside the caller's transaction) and mirror them after commit.

    On a table whose capture triggers are live the triggers wrote the records already: those are
    handed to the mirror instead.
    """
    if not pks:
        return
    label = model._meta.label
    # Where the table's triggers captured the write (SQLite in phases 1-2), their records are the
    # ones to mirror; a second record per row would only be applied twice. A row they did not
    # capture (mark_dirty of a row nothing wrote, as a repair queues) gets a record of its own.
    jobs = capture.records_for(using, model, pks) if capture.live(using, model) else []
    captured = {pk_value for _, _, pk_value in jobs}
    records = [OutboxRecord(model_label=label, pk_value=str(pk), operation=operation)
               for pk in pks if str(pk) not in captured]
    if records:
        OutboxRecord.objects.using(using).bulk_create(records)
        jobs += [(r.pk, label, r.pk_value) for r in records]
    context.note_write(label)
    _pending.note(using, label)
    mode = conf.mirror_mode()
    if mode == "applier":
        return  # the applier (`replicate`) takes the records
    if mode == "async":
        mirror = partial(mirror_thread.submit, apply.after_commit, using, jobs)
    else:
        mirror = partial(apply.after_commit, using, jobs)
    transaction.on_commit(mirror, using=using, robust=True)


def mark_dirty(model: type[models.Model], pks: Iterable[Any], using: str | None = None) -> int:
    """Queue rows changed behind the ORM's back (raw SQL) for mirroring; returns the records written.

    ``using`` is the database the rows were changed on (default: the current primary). Nothing is
    recorded while writes are not mirrored (phases 0 and 4): the backfill copies, or nothing needs to.
    """
    pair = active_pair()
    if pair is None:
        return 0
    using = using or pair[0]
    pk_list = list(pks)
    with transaction.atomic(using=using):
        enqueue(model, pk_list, using, OperationKind.DIRTY)
    return len(pk_list)


def pending_pks(model: type[models.Model]) -> set[str]:
    """Primary keys (as text) of ``model`` with a pending outbox record on either database."""
    apply.flush_applied()
    found: set[str] = set()
    for alias in configured_aliases():
        try:
            found.update(
                OutboxRecord.objects.using(alias).filter(model_label=model._meta.label)
                .values_list("pk_value", flat=True)
            )
        except DatabaseError as exc:
            logger.warning("outbox on %s unreadable: %s", alias, exc)
    return found


def outbox_depth_by_alias(readable: Collection[str] | None = None) -> dict[str, int | None]:
    """Pending records per database; None where the database cannot be read (or is not in ``readable``)."""
    apply.flush_applied()
    depth: dict[str, int | None] = {}
    for alias in configured_aliases():
        if readable is not None and alias not in readable:
            depth[alias] = None
            continue
        try:
            depth[alias] = OutboxRecord.objects.using(alias).count()
        except DatabaseError:
            depth[alias] = None
    return depth


def outbox_depth() -> int:
    """Pending records on both databases (an unreadable side counts as 0; see outbox_depth_by_alias)."""
    return sum(n or 0 for n in outbox_depth_by_alias().values())


def oldest_pending_age(now: dt.datetime | None = None, readable: Collection[str] | None = None) -> float | None:
    """Age in seconds of the oldest pending record on either side (of those in ``readable``), or None."""
    now = now or timezone.now()
    apply.flush_applied()
    oldest: dt.datetime | None = None
    for alias in configured_aliases():
        if readable is not None and alias not in readable:
            continue
        try:
            first = OutboxRecord.objects.using(alias).order_by("created_at").values_list("created_at", flat=True).first()
        except DatabaseError:
            continue
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return None if oldest is None else (now - oldest).total_seconds()



@dataclass(frozen=True)
class DriftFailure:
    """Records of one model on one database that schema drift keeps from being mirrored."""

    alias: str
    label: str
    records: int
    error: str


DRIFT_ERROR = f"{SchemaDrift.__name__}: "  # how _record_failure keeps a SchemaDrift on its record


def drift_failures(readable: Collection[str] | None = None) -> list[DriftFailure]:
    """Per database and model: records whose mirror stopped on schema drift, and the error they keep."""
    found: list[DriftFailure] = []
    for alias in configured_aliases():
        if readable is not None and alias not in readable:
            continue
        try:
            rows = (OutboxRecord.objects.using(alias).filter(last_error__startswith=DRIFT_ERROR)
                    .values("model_label").annotate(records=Count("id"), error=Max("last_error"))
                    .order_by("model_label"))
            found += [DriftFailure(alias, row["model_label"], row["records"], row["error"][len(DRIFT_ERROR):])
                      for row in rows]
        except DatabaseError as exc:
            logger.warning("outbox on %s unreadable: %s", alias, exc)
    return found


def has_pending(model: type[models.Model], primary: str) -> bool:
    """True when ``model`` has pending outbox records on ``primary`` (memoised ≤ 1 s)."""
    return _pending.has(primary, model._meta.label)
