"""Dual writes: every ORM write of a migrated model leaves an outbox record, and is mirrored after commit.

How a write travels (phases 1-3):

1. The write runs on the primary inside ``transaction.atomic(using=primary)``; an
   :class:`~migration.models.OutboxRecord` (model, pk, operation) is inserted in the same
   transaction, on the primary. Both commit or neither does.
2. ``transaction.on_commit`` applies the mirror: with the secondary's row locked, the current
   primary row is re-read by pk and upserted into the secondary (``INSERT ... ON CONFLICT``), or
   deleted there when it no longer exists. With ``MIGRATION_MIRROR = "async"`` the apply runs on a
   background thread of the process instead (:class:`_MirrorThread`) and the ORM call returns after
   the primary commit; until the record is applied, reads of the model go to the primary.
   Re-reading makes the apply idempotent and independent of order and duplicates. Around a switch
   of primary both sides can take writes for a moment; the write whose outbox record is newer wins
   (see :func:`_apply_row`).
3. A failed apply leaves the record pending with its error and attempt count, logged at ERROR. The
   user's write has already committed and never sees the failure. Pending records are retried
   opportunistically after later commits (with backoff) and by ``./manage.py replay_outbox``.

Write paths covered: ``Model.save()`` (so ``create``, ``get_or_create``, ``update_or_create`` and
related-manager ``create``), ``Model.delete()`` and ``QuerySet.delete()`` including cascades (a
``post_delete`` receiver, run inside the collector's transaction), ``QuerySet.update()`` (and so
``bulk_update`` and related-manager ``add``/``remove``/``clear``), and ``bulk_create``.
Raw SQL is not mirrored: call :func:`mark_dirty` for the rows it touched.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    models,
    router,
    transaction,
)
from django.db.models.constants import OnConflict
from django.utils import timezone

from migration import breaker, conf, context, flags

logger = logging.getLogger("migration.dualwrite")

PK_CHUNK = 500
DRAIN_INTERVAL_SECONDS = 10.0  # how often, at most, a process retries old pending records
DRAIN_BATCH = 100
DRAIN_MIN_AGE_SECONDS = 5.0  # leave young records to the on_commit apply of their own transaction
MAX_BACKOFF_SECONDS = 300
PENDING_MEMO_SECONDS = 1.0

CONNECTION_ERRORS = (OperationalError, InterfaceError)


# --- Which databases take part -------------------------------------------------------------


def active_pair() -> tuple[str, str] | None:
    """(primary, secondary) while writes are mirrored, else None."""
    from migration import phase

    secondary = phase.secondary_alias()
    if secondary is None:
        return None
    return phase.primary_alias(), secondary


def other_alias(alias: str) -> str:
    """The other side of the move."""
    return conf.target_alias() if alias == conf.source_alias() else conf.source_alias()


def configured_aliases() -> list[str]:
    """The aliases holding an outbox: source (while configured) and target."""
    aliases = [conf.source_alias(), conf.target_alias()]
    return [a for a in aliases if a in settings.DATABASES]


def _mirroring_into(using: str, model: type[models.Model]) -> bool:
    """True when a write of ``model`` on ``using`` must leave an outbox record."""
    if not conf.is_migrated(model._meta.app_label):
        return False
    pair = active_pair()
    return pair is not None and using == pair[0]


class _PrimaryMoved(Exception):
    """Raised inside a write transaction whose database stopped being the primary meanwhile."""


def primary_moved(using: str) -> bool:
    """Inside a write transaction on ``using``: has the primary moved away since it was routed?

    This is the fence of a switch of primary. SQLite transactions begin IMMEDIATE, so a writer
    here holds SQLite's write lock, and phase changes that move the primary flip the switches while
    holding that same lock. A writer that routed to SQLite just before the switch therefore either
    commits before it, or sees the new phase here and retries on PostgreSQL; it never inserts into
    SQLite an id PostgreSQL is handing out at the same time.
    """
    if using != conf.source_alias() or connections[using].vendor != "sqlite":
        return False
    from migration import phase

    return phase.state_from(flags.fresh()).phase >= phase.Phase.POSTGRES_PRIMARY


# --- The mirrored model, queryset and manager -----------------------------------------------


class MirroredQuerySetMixin:
    """QuerySet behaviour of migrated models: mirrored writes, read fallback and shadow reads.

    Mix it in front of any QuerySet subclass: ``class Q(MirroredQuerySetMixin, MyQuerySet)``.
    """

    model: type[models.Model]
    _db: str | None
    _for_write: bool
    _result_cache: list[Any] | None

    def _write_alias(self) -> str:
        self._for_write = True
        return self.db  # type: ignore[attr-defined,no-any-return]

    def update(self, **kwargs: Any) -> int:
        with flags.pinned():
            return self._mirrored_update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def _mirrored_update(self, **kwargs: Any) -> int:
        using = self._write_alias()
        if not _mirroring_into(using, self.model):
            return super().update(**kwargs)  # type: ignore[misc,no-any-return]
        with transaction.atomic(using=using):
            # The pks are taken first, inside the same transaction, so the outbox names exactly the
            # rows this update changed; the update is narrowed to them.
            pks = list(self.values_list("pk", flat=True))  # type: ignore[attr-defined]
            rows = 0
            for start in range(0, len(pks), PK_CHUNK):
                chunk = self.filter(pk__in=pks[start:start + PK_CHUNK])  # type: ignore[attr-defined]
                rows += models.QuerySet.update(chunk, **kwargs)
            enqueue(self.model, pks, using)
        return rows

    def bulk_create(self, objs: Iterable[models.Model], *args: Any, **kwargs: Any) -> list[models.Model]:
        objs = list(objs)
        with flags.pinned():
            using = self._write_alias()
            if not _mirroring_into(using, self.model):
                return super().bulk_create(objs, *args, **kwargs)  # type: ignore[misc,no-any-return]
            try:
                return self._mirrored_bulk_create(using, objs, *args, **kwargs)
            except _PrimaryMoved:
                pass
        # The primary moved while this process was not looking (the fence read the new phase): follow it.
        return self.using(router.db_for_write(self.model)).bulk_create(objs, *args, **kwargs)  # type: ignore[attr-defined,no-any-return]

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        with flags.pinned():  # the post_delete receiver decides on the phase the delete was routed by
            return super().delete()  # type: ignore[misc,no-any-return]

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def create(self, **kwargs: Any) -> models.Model:
        with flags.pinned():  # QuerySet.create routes before Model.save decides on mirroring
            return super().create(**kwargs)  # type: ignore[misc,no-any-return]

    def bulk_update(self, objs: Iterable[models.Model], fields: Sequence[str], batch_size: int | None = None) -> int:
        with flags.pinned():
            return super().bulk_update(objs, fields, batch_size)  # type: ignore[misc,no-any-return]

    bulk_update.alters_data = True  # type: ignore[attr-defined]

    def get_or_create(self, defaults: Any = None, **kwargs: Any) -> tuple[models.Model, bool]:
        with flags.pinned():
            return super().get_or_create(defaults, **kwargs)  # type: ignore[misc,no-any-return]

    def update_or_create(self, defaults: Any = None, create_defaults: Any = None, **kwargs: Any) -> tuple[models.Model, bool]:
        with flags.pinned():
            return super().update_or_create(defaults, create_defaults, **kwargs)  # type: ignore[misc,no-any-return]

    def _mirrored_bulk_create(self, using: str, objs: list[models.Model], *args: Any, **kwargs: Any) -> list[models.Model]:
        with transaction.atomic(using=using):
            if primary_moved(using):
                raise _PrimaryMoved
            created = super().bulk_create(objs, *args, **kwargs)  # type: ignore[misc]
            pks = [obj.pk for obj in created if obj.pk is not None]
            unnamed = len(created) - len(pks)
            if unnamed:
                logger.error(
                    "bulk_create of %s on %s returned %d rows without a primary key; they are not "
                    "mirrored: call migration.dualwrite.mark_dirty(model, pks) for them",
                    self.model._meta.label, using, unnamed,
                )
            enqueue(self.model, pks, using)
        return created  # type: ignore[no-any-return]

    def _fetch_all(self) -> None:
        if self._result_cache is not None or self._db is not None or self._for_write:
            super()._fetch_all()  # type: ignore[misc]
            return
        alias = self.db  # type: ignore[attr-defined]
        started = time.perf_counter()
        self._read_with_fallback(alias, lambda qs: super(MirroredQuerySetMixin, qs)._fetch_all())
        if self._db is None and flags.shadow_read_sampled():
            from migration import shadow

            shadow.compare(self, alias, (time.perf_counter() - started) * 1000)

    def count(self) -> int:
        if self._result_cache is not None or self._db is not None:
            return super().count()  # type: ignore[misc,no-any-return]
        return self._read_with_fallback(  # type: ignore[no-any-return]
            self.db, lambda qs: super(MirroredQuerySetMixin, qs).count()  # type: ignore[attr-defined]
        )

    def exists(self) -> bool:
        if self._result_cache is not None or self._db is not None:
            return super().exists()  # type: ignore[misc,no-any-return]
        return self._read_with_fallback(  # type: ignore[no-any-return]
            self.db, lambda qs: super(MirroredQuerySetMixin, qs).exists()  # type: ignore[attr-defined]
        )

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self._db is not None:
            return super().aggregate(*args, **kwargs)  # type: ignore[misc,no-any-return]
        return self._read_with_fallback(  # type: ignore[no-any-return]
            self.db,  # type: ignore[attr-defined]
            lambda qs: super(MirroredQuerySetMixin, qs).aggregate(*args, **kwargs),  # type: ignore[misc]
        )

    def _read_with_fallback(self, alias: str, read: Callable[[Any], Any]) -> Any:
        """Run a read routed to ``alias``; if that is the secondary and it is down, read the primary."""
        from migration import phase

        try:
            return read(self)
        except CONNECTION_ERRORS as exc:
            primary = phase.primary_alias()
            if alias == primary or connections[alias].in_atomic_block:
                raise
            breaker.trip(alias, exc)
            discard_broken_connection(alias)
            logger.warning("read of %s on %s failed (%s); reading %s", self.model._meta.label, alias, exc, primary)
            self._db = primary
            return read(self)


class MirroredQuerySet(MirroredQuerySetMixin, models.QuerySet):  # type: ignore[misc]
    """The QuerySet of migrated models."""


class MirroredManager(models.Manager.from_queryset(MirroredQuerySet)):  # type: ignore[misc]
    """The default and base manager of migrated models."""


def mirrored_manager(queryset_class: type[models.QuerySet]) -> models.Manager:
    """A mirrored manager over ``queryset_class`` (a plain QuerySet subclass), for composition."""
    if issubclass(queryset_class, MirroredQuerySetMixin):
        return models.Manager.from_queryset(queryset_class)()
    combined = type(f"Mirrored{queryset_class.__name__}", (MirroredQuerySetMixin, queryset_class), {})
    return models.Manager.from_queryset(combined)()


class MirroredModel(models.Model):
    """Abstract base of migrated models: ``save()`` writes its outbox record in the same transaction."""

    objects = MirroredManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.pop("using", None)
        for _attempt in range(3):
            # One phase for the routing and the mirroring; after a move, the fence's fresh reading.
            with flags.pinned():
                using = using or router.db_for_write(type(self), instance=self)
                if not _mirroring_into(using, type(self)):
                    super().save(*args, using=using, **kwargs)
                    return
                try:
                    with transaction.atomic(using=using):
                        # A write on the primary (routed, or pinned to it as QuerySet.create does)
                        # follows the primary if it moved while this process was not looking.
                        if primary_moved(using):
                            raise _PrimaryMoved
                        super().save(*args, using=using, **kwargs)
                        enqueue(type(self), [self.pk], using)
                    return
                except _PrimaryMoved:
                    using = None
        raise RuntimeError(f"the primary database kept moving while saving {type(self)._meta.label}")

    save.alters_data = True  # type: ignore[attr-defined]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        with flags.pinned():  # the post_delete receiver decides on the phase the delete was routed by
            return super().delete(*args, **kwargs)  # type: ignore[no-any-return]

    delete.alters_data = True  # type: ignore[attr-defined]


# Set while a mirror is applied: the rows it deletes (and their cascade) are copies, not new writes.
_applying: contextvars.ContextVar[bool] = contextvars.ContextVar("migration_dualwrite_applying", default=False)


def on_post_delete(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    """Record a deleted row (direct or cascaded); runs inside the deleting transaction."""
    if not _applying.get() and _mirroring_into(using, sender):
        enqueue(sender, [instance.pk], using, OperationKind.DELETE)


def connect_signals() -> None:
    """Connect the delete receiver to every migrated model (not globally: that would slow all deletes)."""
    from django.db.models.signals import post_delete

    from migration import inventory

    for model in inventory.migrated_models():
        post_delete.connect(
            on_post_delete, sender=model, weak=False, dispatch_uid=f"migration.dualwrite:{model._meta.label}"
        )


# --- The outbox -------------------------------------------------------------------------------


class OperationKind:
    """Operation names of outbox records (mirrors OutboxRecord.Operation without importing models)."""

    SAVE = "save"
    DELETE = "delete"
    DIRTY = "dirty"


def _outbox() -> Any:
    from migration.models import OutboxRecord

    return OutboxRecord


def enqueue(model: type[models.Model], pks: Sequence[Any], using: str, operation: str = OperationKind.SAVE) -> None:
    """Insert outbox records on ``using`` (inside the caller's transaction) and mirror them after commit."""
    if not pks:
        return
    label = model._meta.label
    record_model = _outbox()
    records = [record_model(model_label=label, pk_value=str(pk), operation=operation) for pk in pks]
    record_model.objects.using(using).bulk_create(records)
    context.note_write(label)
    _pending.note(using, label)
    jobs = [(r.pk, label, r.pk_value) for r in records]
    apply = _mirror_thread.submit if conf.mirror_mode() == "async" else _after_commit
    transaction.on_commit(partial(apply, using, jobs), using=using, robust=True)


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
    flush_applied()
    found: set[str] = set()
    for alias in configured_aliases():
        try:
            found.update(
                _outbox().objects.using(alias).filter(model_label=model._meta.label)
                .values_list("pk_value", flat=True)
            )
        except DatabaseError as exc:
            logger.warning("outbox on %s unreadable: %s", alias, exc)
    return found


def outbox_depth_by_alias() -> dict[str, int | None]:
    """Pending records per database; None where the database cannot be read."""
    flush_applied()
    depth: dict[str, int | None] = {}
    for alias in configured_aliases():
        try:
            depth[alias] = _outbox().objects.using(alias).count()
        except DatabaseError:
            depth[alias] = None
    return depth


def outbox_depth() -> int:
    """Pending records on both databases (an unreadable side counts as 0; see outbox_depth_by_alias)."""
    return sum(n or 0 for n in outbox_depth_by_alias().values())


def oldest_pending_age(now: dt.datetime | None = None) -> float | None:
    """Age in seconds of the oldest pending record on either side, or None when the outbox is empty."""
    now = now or timezone.now()
    flush_applied()
    oldest: dt.datetime | None = None
    for alias in configured_aliases():
        try:
            first = _outbox().objects.using(alias).order_by("created_at").values_list("created_at", flat=True).first()
        except DatabaseError:
            continue
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return None if oldest is None else (now - oldest).total_seconds()


class _PendingModels:
    """Which models have pending records on the primary: read-your-writes across requests.

    Refreshed from the outbox at most every PENDING_MEMO_SECONDS per process, and updated at once
    by this process's own writes. With background mirrors (``MIGRATION_MIRROR = "async"``) it is
    read from the outbox on every question: another process's write may have returned before its
    mirror landed, and only its record says so.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = 0.0
        self._alias = ""
        self._labels: set[str] = set()

    def note(self, alias: str, label: str) -> None:
        with self._lock:
            if alias == self._alias:
                self._labels.add(label)

    def forget(self) -> None:
        with self._lock:
            self._at, self._alias, self._labels = 0.0, "", set()

    def stale(self) -> None:
        """Re-read on the next question (records were just applied)."""
        with self._lock:
            self._at = 0.0

    def has(self, alias: str, label: str) -> bool:
        now = time.monotonic()
        memo = PENDING_MEMO_SECONDS if conf.mirror_mode() == "sync" else 0.0
        if alias != self._alias or now - self._at >= memo:
            with _applied_lock:
                applied = list(_applied.get(alias, ()))
            try:
                records = _outbox().objects.using(alias)
                if applied:  # applied by this process, only waiting for their batched delete
                    records = records.exclude(pk__in=applied)
                labels = set(records.values_list("model_label", flat=True).distinct())
            except DatabaseError:
                labels = set(self._labels) if alias == self._alias else set()
            with self._lock:
                self._at, self._alias, self._labels = now, alias, labels
        return label in self._labels


_pending = _PendingModels()


def has_pending(model: type[models.Model], primary: str) -> bool:
    """True when ``model`` has pending outbox records on ``primary`` (memoised ≤ 1 s)."""
    return _pending.has(primary, model._meta.label)


# --- Applying records ---------------------------------------------------------------------------


@dataclass
class ApplyResult:
    """What one apply pass did, per source alias."""

    applied: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _after_commit(source: str, jobs: list[tuple[int, str, str]]) -> None:
    """Mirror the records one transaction just committed, then maybe retry older ones."""
    try:
        apply_jobs(source, jobs)
        maybe_drain(source)
        from migration import metrics

        metrics.maybe_flush()
    except Exception:  # a mirror must never fail the user's write  # noqa: BLE001
        logger.exception("mirroring after commit on %s failed", source)


def apply_jobs(source: str, jobs: Sequence[tuple[int, str, str]], *, honour_breaker: bool = True) -> ApplyResult:
    """Apply (record id, model label, pk) jobs from ``source`` to the other database."""
    result = ApplyResult()
    target = other_alias(source)
    if target not in settings.DATABASES:
        result.skipped = len(jobs)
        return result
    if honour_breaker and not breaker.allows(target):
        result.skipped = _not_tried(source, target, jobs)
        return result
    done: list[int] = []
    for index, (record_id, label, pk_value) in enumerate(jobs):
        try:
            _apply_row(source, target, label, pk_value, record_id)
        except Exception as exc:  # noqa: BLE001 - every failure is kept on the record
            result.failed += 1
            result.errors.append(f"{label} pk={pk_value}: {exc}")
            _record_failure(source, target, record_id, label, pk_value, exc)
            if isinstance(exc, CONNECTION_ERRORS):
                breaker.trip(target, exc)
                rest = jobs[index + 1:]
                # A replay stops here and says so; a write's own records are each logged.
                result.skipped += _not_tried(source, target, rest) if honour_breaker else len(rest)
                break
        else:
            done.append(record_id)
            result.applied += 1
    if done:
        breaker.reset(target)
        _note_applied(source, done)
    return result


def _not_tried(source: str, target: str, jobs: Sequence[tuple[int, str, str]]) -> int:
    """Records not applied because ``target`` just failed: each is a mirror failure, logged and kept."""
    error = breaker.last_error(target)
    unreachable = TargetUnreachable(
        f"{target} is not tried for {breaker.OPEN_SECONDS:g} s after a connection failure" + (f" ({error})" if error else "")
    )
    for record_id, label, pk_value in jobs:
        _record_failure(source, target, record_id, label, pk_value, unreachable)
    return len(jobs)


# Applied records are deleted in batches, at most APPLIED_FLUSH_SECONDS after they were applied (a
# timer thread per source), not one commit per write: on SQLite every commit waits for the disk.
# Until then they still count as pending; re-applying them is harmless (idempotent).
APPLIED_FLUSH_SECONDS = 1.0
_applied_lock = threading.Lock()
_flush_lock = threading.Lock()
FLUSH_WAIT_SECONDS = 5.0
_applied: dict[str, list[int]] = {}


def _note_applied(source: str, ids: list[int]) -> None:
    with _applied_lock:
        waiting = _applied.setdefault(source, [])
        start_timer = not waiting
        waiting.extend(ids)
    _pending.stale()
    if start_timer:
        timer = threading.Timer(APPLIED_FLUSH_SECONDS, _flush_in_thread, args=(source,))
        timer.daemon = True
        timer.start()


def flush_at_exit() -> None:
    """``atexit`` hook: apply this process's queued mirrors, delete what it applied, never raising."""
    try:
        stop_mirrors(EXIT_WAIT_SECONDS)
        flush_applied()
    except Exception:  # noqa: BLE001
        logger.debug("applied outbox records not deleted at exit", exc_info=True)


def _flush_in_thread(source: str) -> None:
    try:
        flush_applied(source, wait=False)
    finally:
        connections[source].close()  # this thread's own connection


def flush_applied(source: str | None = None, *, wait: bool = True) -> int:
    """Delete the outbox records this process has applied (now, instead of at the next tick).

    With ``wait``, this process's background mirrors are waited for first (bounded), so that a
    caller counting the outbox next sees what they left; the periodic flush does not wait.
    """
    if wait and threading.current_thread() is not _mirror_thread.thread:
        wait_for_mirrors(FLUSH_WAIT_SECONDS)
    # One flush at a time: a caller counting the outbox right after this returns must not see
    # records another thread (the timer) has taken but not yet deleted. The wait is bounded so a
    # flush stuck behind a database lock cannot stall the caller for long.
    locked = _flush_lock.acquire(timeout=FLUSH_WAIT_SECONDS)
    try:
        return _flush_taken(source)
    finally:
        if locked:
            _flush_lock.release()


def _flush_taken(source: str | None) -> int:
    deleted = 0
    with _applied_lock:
        aliases = [source] if source is not None else list(_applied)
        taken = {alias: _applied.pop(alias, []) for alias in aliases}
    for alias, ids in taken.items():
        if not ids:
            continue
        try:
            _durability_barrier(other_alias(alias))
            for start in range(0, len(ids), PK_CHUNK):
                deleted += _outbox().objects.using(alias).filter(pk__in=ids[start:start + PK_CHUNK]).delete()[0]
        except DatabaseError as exc:
            logger.warning("applied outbox records on %s not deleted yet (%s); they will be re-applied", alias, exc)
    return deleted


def _durability_barrier(alias: str) -> None:
    """Make every earlier commit on ``alias`` durable: a synchronous commit flushes the WAL up to it."""
    if alias not in settings.DATABASES or connections[alias].vendor != "postgresql":
        return
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO ON")
            cursor.execute("SELECT txid_current()")


# --- Mirrors on a background thread (MIGRATION_MIRROR = "async") -------------------------------

EXIT_WAIT_SECONDS = 10.0
LAG_SAMPLES = 10_000
_STOP = "\x00stop"


class _MirrorThread:
    """One daemon thread per process applying committed writes' records, in the order they committed.

    The records are already durable on the primary when they are handed over, so nothing depends
    on this thread: if the process dies first, they stay pending and are applied by a later drain
    or ``replay_outbox``. It keeps the seconds from hand-over to applied of recent writes
    (:func:`mirror_lags`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[tuple[str, list[tuple[int, str, str]], float]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._unfinished = 0
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)

    def submit(self, source: str, jobs: list[tuple[int, str, str]]) -> None:
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                # First use, or a forked child (threads do not survive fork): a queue of its own.
                self._queue, self._unfinished, self._pid = queue.SimpleQueue(), 0, os.getpid()
                self._thread = threading.Thread(target=self._run, args=(self._queue,), name="mirror", daemon=True)
                self._thread.start()
            self._unfinished += 1
            self._queue.put((source, jobs, time.monotonic()))

    def _run(self, work: queue.SimpleQueue[tuple[str, list[tuple[int, str, str]], float]]) -> None:
        while True:
            batch = [work.get()]
            while True:
                try:
                    batch.append(work.get_nowait())
                except queue.Empty:
                    break
            stopping = any(item[0] == _STOP for item in batch)
            batch = [item for item in batch if item[0] != _STOP]
            by_source: dict[str, list[tuple[int, str, str]]] = {}
            for source, jobs, _ in batch:
                by_source.setdefault(source, []).extend(jobs)
            for source, jobs in by_source.items():
                _after_commit(source, jobs)  # never raises; failures stay on their records
            done = time.monotonic()
            with self._lock:
                self._lags.extend(done - handed for _, _, handed in batch)
                if work is self._queue:
                    self._unfinished -= len(batch)
                    if self._unfinished <= 0:
                        self._idle.notify_all()
            if stopping:
                connections.close_all()  # this thread's own connections
                return

    def stop(self, timeout: float | None = None) -> None:
        """Apply what was handed over, close the thread's connections and end it (a later submit restarts it)."""
        self.wait(timeout)
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None or self._pid != os.getpid():
                return
            self._queue.put((_STOP, [], 0.0))
        thread.join(timeout)

    def recent_lags(self) -> list[float]:
        with self._lock:
            return list(self._lags)

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every mirror handed over so far was applied (or failed); False on timeout."""
        with self._idle:
            if self._pid != os.getpid():
                return True
            return self._idle.wait_for(lambda: self._unfinished <= 0, timeout)


_mirror_thread = _MirrorThread()


def wait_for_mirrors(timeout: float | None = None) -> bool:
    """Wait for this process's background mirrors (``MIGRATION_MIRROR = "async"``); True when none is left."""
    return _mirror_thread.wait(timeout)


def stop_mirrors(timeout: float | None = EXIT_WAIT_SECONDS) -> None:
    """Drain and end this process's background mirror thread, closing its database connections."""
    _mirror_thread.stop(timeout)


def mirror_lags() -> list[float]:
    """Seconds from commit to applied of this process's recent background mirrors (oldest first)."""
    return _mirror_thread.recent_lags()


class TargetUnreachable(Exception):
    """The mirror was not tried: its database failed a moment ago (the circuit breaker is open)."""


class _NewerWrite(Exception):
    """Rolls back an apply that found a newer write of the same row on its target."""


def _apply_row(source: str, target: str, label: str, pk_value: str, record_id: int) -> None:
    """Make ``target``'s row equal to ``source``'s current row (or absent, with a tombstone).

    One transaction on the target: the row is re-read on the source and written on the target,
    which locks it there; then, if the target holds an outbox record for the same row that is newer
    than the one being applied, the target's own write is the later one and wins: the transaction
    is rolled back and that record carries the target's row the other way. This decides the rows
    written on both sides around a switch of primary (a process that has not yet seen the switch
    writes on the old primary for at most ``flags.MEMO_SECONDS``): the last write wins, by the time
    its record was made, so a row deleted on one side is never brought back by an older mirror from
    the other. The check runs after the write because only then is the row locked: a concurrent
    write of it on the target has committed (and its record is visible) or waits for this one.
    """
    model = apps.get_model(label)
    pk = model._meta.pk.to_python(pk_value)
    manager = model._base_manager
    connection = connections[target]
    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
    try:
        with transaction.atomic(using=target):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Appliers of the same row take turns (an advisory lock held to commit), so each
                    # re-reads the source after the previous one committed. The outbox record
                    # outlives this write until flush_applied() has forced PostgreSQL's WAL to disk
                    # (a durability barrier), so the mirror need not wait for its own fsync: a crash
                    # in between leaves the record pending and the row is applied again.
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)), set_config('synchronous_commit', "
                        "CASE WHEN %s THEN 'off' ELSE current_setting('synchronous_commit') END, true)",
                        [f"{label}:{pk_value}", relaxed],
                    )
            # SQLite transactions begin IMMEDIATE: from here the whole file is locked.
            current = manager.using(source).filter(pk=pk).first()
            if current is None:
                token = _applying.set(True)
                try:
                    manager.using(target).filter(pk=pk).delete()
                finally:
                    _applying.reset(token)
                if target == conf.target_alias():
                    _record_tombstone(model, pk_value, target)
            else:
                upsert(current, target)
            if _newer_write_on(target, source, label, pk_value, record_id):
                raise _NewerWrite
    except _NewerWrite:
        logger.debug("%s pk=%s: %s has a newer write; not copied from %s", label, pk_value, target, source)


def _newer_write_on(target: str, source: str, label: str, pk_value: str, record_id: int) -> bool:
    """Does ``target`` hold an outbox record for this row made after ``source``'s record ``record_id``?"""
    records = _outbox().objects
    newest = (
        records.using(target).filter(model_label=label, pk_value=pk_value)
        .order_by("-created_at").values_list("created_at", flat=True).first()
    )
    if newest is None:
        return False
    ours = records.using(source).filter(pk=record_id).values_list("created_at", flat=True).first()
    return ours is None or newest > ours  # None: applied and deleted meanwhile by another process


def upsert(obj: models.Model, using: str) -> None:
    """Insert ``obj`` on ``using``, or overwrite the row with its pk: one INSERT ... ON CONFLICT (pk).

    ``raw=True``: values are taken as they are (no ``pre_save``, so ``auto_now`` keeps the stored
    value) and converted for that connection by the fields themselves; generated columns are left
    to the database.
    """
    model = type(obj)
    fields = [f for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]
    pk = model._meta.pk
    others = [f for f in fields if f is not pk]
    model._base_manager._insert(
        [obj], fields=fields, using=using, raw=True,
        on_conflict=OnConflict.UPDATE if others else OnConflict.IGNORE,
        update_fields=others or None, unique_fields=[pk] if others else None,
    )


def _record_tombstone(model: type[models.Model], pk_value: str, using: str) -> None:
    """Remember a deleted row so a backfill does not bring it back (the copy engine's call when present)."""
    try:
        from migration.copy import record_tombstone
    except ImportError:
        from migration.models import Tombstone

        Tombstone.objects.using(using).get_or_create(table=model._meta.db_table, pk_value=pk_value)
    else:
        record_tombstone(model, model._meta.pk.to_python(pk_value), using)


def discard_broken_connection(alias: str) -> None:
    """Close ``alias``'s connection after an error so the next use reconnects (once the server is back)."""
    connection = connections[alias]
    if not connection.in_atomic_block:
        try:
            connection.close_if_unusable_or_obsolete()
        except DatabaseError:
            connection.connection = None


def _record_failure(source: str, target: str, record_id: int, label: str, pk_value: str, exc: Exception) -> None:
    logger.error(
        "mirror failed: model=%s pk=%s from=%s to=%s error=%s: %s",
        label, pk_value, source, target, type(exc).__name__, exc,
    )
    discard_broken_connection(target)
    try:
        record_model = _outbox()
        record = record_model.objects.using(source).filter(pk=record_id).first()
        if record is None:
            return
        now = timezone.now()
        record.attempts += 1
        record.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        record.last_attempt_at = now
        record.next_attempt_at = now + dt.timedelta(seconds=min(2 ** record.attempts, MAX_BACKOFF_SECONDS))
        record.save(using=source, update_fields=["attempts", "last_error", "last_attempt_at", "next_attempt_at"])
    except DatabaseError:
        logger.exception("could not record the mirror failure of %s pk=%s on %s", label, pk_value, source)


_drain_lock = threading.Lock()
_last_drain: dict[str, float] = {}


def maybe_drain(source: str) -> None:
    """Retry a few due pending records of ``source``, at most every DRAIN_INTERVAL_SECONDS."""
    if breaker.is_open(other_alias(source)):
        return  # the records wait for the database to come back; each was logged when it failed
    now = time.monotonic()
    with _drain_lock:
        if now - _last_drain.get(source, 0.0) < DRAIN_INTERVAL_SECONDS:
            return
        _last_drain[source] = now
    wall = timezone.now()
    due = (
        _outbox().objects.using(source)
        .filter(created_at__lte=wall - dt.timedelta(seconds=DRAIN_MIN_AGE_SECONDS))
        .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=wall))
        .order_by("pk")
        .values_list("pk", "model_label", "pk_value")[:DRAIN_BATCH]
    )
    jobs = list(due)
    if jobs:
        apply_jobs(source, jobs)


@dataclass
class ReplayResult:
    """What ``replay`` did: per source alias, applied and failed records, and what is left."""

    by_alias: dict[str, ApplyResult] = field(default_factory=dict)
    remaining: dict[str, int | None] = field(default_factory=dict)

    @property
    def applied(self) -> int:
        return sum(r.applied for r in self.by_alias.values())

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.by_alias.values())

    @property
    def clean(self) -> bool:
        return self.failed == 0 and not any(self.remaining.values())


def replay(
    *,
    batch_size: int = 500,
    progress: Callable[[str, ApplyResult], None] | None = None,
) -> ReplayResult:
    """Apply every pending record on both databases, ignoring backoff and the breaker.

    The side that is not the current primary goes first: its records are older than the
    primary's (they predate the last phase change), so the primary's newer rows win.
    """
    from migration import phase

    primary = phase.primary_alias()
    aliases = sorted(configured_aliases(), key=lambda alias: alias == primary)
    flush_applied()
    result = ReplayResult()
    if len(aliases) < 2:
        result.remaining = outbox_depth_by_alias()
        return result
    for source in aliases:
        outcome = result.by_alias.setdefault(source, ApplyResult())
        last_pk = 0
        while True:
            batch = list(
                _outbox().objects.using(source).filter(pk__gt=last_pk).order_by("pk")
                .values_list("pk", "model_label", "pk_value")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1][0]
            step = apply_jobs(source, batch, honour_breaker=False)
            outcome.applied += step.applied
            outcome.failed += step.failed
            outcome.skipped += step.skipped
            outcome.errors.extend(step.errors)
            if progress is not None:
                progress(source, step)
            if step.skipped:  # the other side is down: stop hammering it
                break
        flush_applied(source)
    result.remaining = outbox_depth_by_alias()
    _pending.forget()
    return result


def is_outbox(app_label: str, model_name: str | None) -> bool:
    """True for the outbox table, the one engine table that also lives in the SQLite file."""
    return app_label == "migration" and model_name == "outboxrecord"
