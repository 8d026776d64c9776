"""Dual writes: every ORM write of a migrated model leaves an outbox record, and is mirrored after commit.

How a write travels (phases 1-3):

1. The write runs on the primary inside ``transaction.atomic(using=primary)``; an
   :class:`~migration.models.OutboxRecord` (model, pk, operation) is inserted in the same
   transaction, on the primary. Both commit or neither does.
2. ``transaction.on_commit`` applies the mirror: with the secondary's row locked, the current
   primary row is re-read by pk and upserted into the secondary (:func:`migration.db.upsert`), or
   deleted there when it no longer exists. With ``MIGRATION_MIRROR = "async"`` the apply runs on a
   background thread of the process instead (:mod:`~migration.dualwrite.worker`) and the ORM call returns after
   the primary commit; until the record is applied, reads of the model go to the primary.
   Re-reading makes the apply idempotent and independent of order and duplicates. Only the
   primary takes the application's writes: the other database is fenced (:mod:`migration.fence`),
   and a switch of primary drains the old primary before the new one takes writes.
3. A failed apply leaves the record pending with its error and attempt count, logged at ERROR. The
   user's write has already committed and never sees the failure. Pending records are retried
   opportunistically after later commits (with backoff) and by ``./manage.py replay_outbox``.

Write paths covered: ``Model.save()`` (so ``create``, ``get_or_create``, ``update_or_create`` and
related-manager ``create``), ``Model.delete()`` and ``QuerySet.delete()`` including cascades (a
``post_delete`` receiver, run inside the collector's transaction), ``QuerySet.update()`` (and so
``bulk_update`` and related-manager ``add``/``remove``/``clear``), and ``bulk_create``.
Raw SQL is not mirrored: call :func:`mark_dirty` for the rows it touched.

One module per job, each importing only those below it: :mod:`~.pairs` (which databases take
part), :mod:`~.pending` (what this process knows is pending), :mod:`~.worker` (the background
thread), :mod:`~.apply` (a record applied), :mod:`~.records` (the outbox), :mod:`~.routing`
(where reads go), :mod:`~.shadow` (shadow reads), :mod:`~.queryset` (the mirrored model and
queryset) and :mod:`~.replay`.
"""
from migration.dualwrite import capture
from migration.dualwrite.apply import ApplyResult, apply_jobs, flush_applied, flush_at_exit
from migration.dualwrite.pairs import active_pair, configured_aliases, other_alias, primary_moved
from migration.dualwrite.queryset import (
    MirroredManager,
    MirroredModel,
    MirroredQuerySet,
    MirroredQuerySetMixin,
    connect_signals,
    mirrored_manager,
)
from migration.dualwrite.records import (
    DriftFailure,
    OperationKind,
    drift_failures,
    enqueue,
    has_pending,
    mark_dirty,
    oldest_pending_age,
    outbox_depth,
    outbox_depth_by_alias,
    pending_pks,
)
from migration.dualwrite.replay import ReplayResult, is_outbox, replay
from migration.dualwrite.routing import read_alias, shadow_alias
from migration.dualwrite.worker import mirror_lags, stop_mirrors, wait_for_mirrors

__all__ = [
    "ApplyResult", "DriftFailure", "MirroredManager", "MirroredModel", "MirroredQuerySet", "MirroredQuerySetMixin",
    "OperationKind", "ReplayResult", "active_pair", "apply_jobs", "capture", "configured_aliases", "connect_signals",
    "drift_failures", "enqueue", "flush_applied", "flush_at_exit", "has_pending", "is_outbox", "mark_dirty", "mirror_lags",
    "mirrored_manager", "oldest_pending_age", "other_alias", "outbox_depth", "outbox_depth_by_alias",
    "pending_pks", "primary_moved", "read_alias", "replay", "shadow_alias", "stop_mirrors",
    "wait_for_mirrors",
]
