"""Applying outbox records: the other database's row made equal to the source's current row."""
from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, models, transaction
from django.utils import timezone

from migration import breaker, conf, drift, flags, metrics
from migration.backfill.tombstones import record_tombstone
from migration.db import discard_broken_connection, upsert
from migration.dualwrite import capture
from migration.dualwrite.pairs import (
    CONNECTION_ERRORS,
    DRAIN_BATCH,
    DRAIN_INTERVAL_SECONDS,
    DRAIN_MIN_AGE_SECONDS,
    MAX_BACKOFF_SECONDS,
    PK_CHUNK,
    other_alias,
)
from migration.dualwrite.pending import _applied, _applied_lock, _pending
from migration.dualwrite.worker import EXIT_WAIT_SECONDS, mirror_thread
from migration.models import OutboxRecord

logger = logging.getLogger("migration.dualwrite")

# Set while a mirror is applied: the rows it deletes (and their cascade) are copies, not new writes.
applying: contextvars.ContextVar[bool] = contextvars.ContextVar("migration_dualwrite_applying", default=False)

# --- Applying records ---------------------------------------------------------------------------


@dataclass
class ApplyResult:
    """What one apply pass did, per source alias."""

    applied: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def after_commit(source: str, jobs: list[tuple[int, str, str]]) -> None:
    """Mirror the records one transaction just committed, then maybe retry older ones.

    Never inside a transaction the caller holds open on the target: a mirror there would be a
    savepoint of the caller's transaction and roll back with it, after its record was taken as
    applied. It waits for that transaction's commit instead; if the caller's transaction fails,
    the record simply stays pending for the applier.
    """
    target = other_alias(source)
    if target in settings.DATABASES and connections[target].in_atomic_block:
        transaction.on_commit(partial(after_commit, source, jobs), using=target, robust=True)
        return
    try:
        apply_jobs(source, jobs)
        maybe_drain(source)
        metrics.maybe_flush()
    except Exception:  # a mirror must never fail the user's write
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
    # One apply per row: it copies the row as it is now, which covers every record of that row in
    # the batch (a hot counter's hundred records cost one write).
    rows: dict[tuple[str, str], list[int]] = {}
    for record_id, label, pk_value in jobs:
        rows.setdefault((label, pk_value), []).append(record_id)
    todo = list(rows.items())
    refused: dict[tuple[str, str], tuple[list[int], str]] = {}  # by a unique value or a key
    for index, ((label, pk_value), ids) in enumerate(todo):
        try:
            _apply_row(source, target, label, pk_value)
        except Exception as exc:  # noqa: BLE001 - every failure is kept on the record
            result.failed += len(ids)
            error = f"{label} pk={pk_value}: {exc}"
            result.errors.append(error)
            for record_id in ids:
                _record_failure(source, target, record_id, label, pk_value, exc)
            if isinstance(exc, IntegrityError):
                refused[(label, pk_value)] = (ids, error)
            if isinstance(exc, CONNECTION_ERRORS):
                breaker.trip(target, exc)
                rest = [(i, lbl, pk) for (lbl, pk), group in todo[index + 1:] for i in group]
                # A replay stops here and says so; a write's own records are each logged.
                result.skipped += _not_tried(source, target, rest) if honour_breaker else len(rest)
                break
        else:
            done.extend(ids)
            result.applied += len(ids)
    if len(refused) > 1 and _apply_together(source, target, list(refused)):
        for ids, error in refused.values():
            done.extend(ids)
            result.applied += len(ids)
            result.failed -= len(ids)
            result.errors.remove(error)
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
_flush_lock = threading.Lock()
FLUSH_WAIT_SECONDS = 5.0


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
        mirror_thread.stop(EXIT_WAIT_SECONDS)
        flush_applied()
    except Exception:
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
    if wait and threading.current_thread() is not mirror_thread.thread:
        mirror_thread.wait(FLUSH_WAIT_SECONDS)
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
                deleted += OutboxRecord.objects.using(alias).filter(pk__in=ids[start:start + PK_CHUNK]).delete()[0]
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



class TargetUnreachable(Exception):
    """The mirror was not tried: its database failed a moment ago (the circuit breaker is open)."""


def _apply_row(source: str, target: str, label: str, pk_value: str) -> None:
    """Make ``target``'s row equal to ``source``'s current row (or absent, with a tombstone).

    One transaction on the target: the row is re-read on the source and written on the target.
    No clock decides anything: only one database takes the application's writes at a time (the
    other is fenced, :mod:`migration.fence`), and a switch of primary drains the old primary's
    outbox before the new one takes writes, so the source's current row is always the one to copy.
    """
    model = apps.get_model(label)
    pk = model._meta.pk.to_python(pk_value)
    try:
        _apply_in_transaction(model, pk, source, target, label, pk_value)
    except DatabaseError as exc:
        # A column dropped or renamed on either side fails the read or the write; say so by name.
        try:
            drift.mirror_check(model, (source, target))
        except DatabaseError:
            raise exc from None  # the database itself failed: keep its error
        raise


def _apply_in_transaction(model: type[models.Model], pk: object, source: str, target: str, label: str,
                          pk_value: str) -> None:
    """The apply's one transaction on ``target``.

    Before commit both tables' columns are compared with the model (:func:`drift.mirror_check`):
    a column added on either side that no field covers would leave the mirrored row partial, so
    the transaction is rolled back and the record keeps the SchemaDrift. The target's table is
    locked by the write at that point (PostgreSQL: the row lock's table lock; SQLite: the write
    lock), so its columns cannot change before the commit.
    """
    manager = model._base_manager
    connection = connections[target]
    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
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
        if _is_primary(target):
            raise TargetIsPrimary(
                f"{target} is the primary now: a mirror into it would overwrite newer writes (the switch "
                "drained this row before the promotion; a record stranded by --force is replayed by hand)"
            )
        with capture.app_triggers_quiet(target):  # a copy, not an application write
            current = manager.using(source).filter(pk=pk).first()
            if current is None:
                token = applying.set(True)
                try:
                    manager.using(target).filter(pk=pk).delete()
                finally:
                    applying.reset(token)
                if target == conf.target_alias():
                    record_tombstone(model, pk, target)
            else:
                upsert(model, [current], target)
        drift.mirror_check(model, (source, target))


def _apply_together(source: str, target: str, keys: list[tuple[str, str]]) -> bool:
    """Rows each refused on the target by a constraint, applied in one transaction; True if it took.

    Two rows that swapped a unique value in one source transaction cannot be copied one at a time:
    each copy meets the other row's old value. Together they can: every target row is removed
    first (no cascade: foreign keys are checked at commit) and written again as the source holds it
    now, in one target transaction. A row that still cannot be written keeps its record failed.
    """
    connection = connections[target]
    try:
        with transaction.atomic(using=target):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    for label, pk_value in sorted(keys):
                        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"{label}:{pk_value}"])
            if _is_primary(target):
                return False
            with capture.app_triggers_quiet(target):
                current = []
                for label, pk_value in keys:
                    model = apps.get_model(label)
                    pk = model._meta.pk.to_python(pk_value)
                    model._base_manager.using(target).filter(pk=pk)._raw_delete(target)
                    current.append((model, pk, model._base_manager.using(source).filter(pk=pk).first()))
                for model, pk, row in current:
                    if row is not None:
                        upsert(model, [row], target)
                    elif target == conf.target_alias():
                        record_tombstone(model, pk, target)
            for model in {model for model, _, _ in current}:
                drift.mirror_check(model, (source, target))
    except DatabaseError as exc:
        logger.info("applying %d refused rows together on %s failed too: %s", len(keys), target, exc)
        return False
    return True


class TargetIsPrimary(Exception):
    """The apply's target became the primary: a late mirror must not overwrite what it took since."""


def _is_primary(alias: str) -> bool:
    """Inside the apply's transaction on ``alias``: is ``alias`` the primary now, by its own record?

    A mirror that was on its way when the primary moved (a process applies its write's records
    right after its commit) would otherwise land on the new primary after its first writes and
    overwrite them. The question holds a lock the switch needs, so the answer stays true until the
    apply commits: on PostgreSQL a share lock on the ``postgres_primary`` switch's row, which the
    switch updates; on SQLite the write lock this transaction holds, which the switch needs to
    change the file's copy of the phase.
    """
    connection = connections[alias]
    if connection.vendor == "postgresql":
        from waffle import get_waffle_switch_model

        table = get_waffle_switch_model()._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT active FROM "{table}" WHERE name = %s FOR SHARE', [flags.SWITCH_POSTGRES_PRIMARY])
            row = cursor.fetchone()
        return bool(row and row[0])
    if connection.vendor == "sqlite":
        recorded = flags.read_source_copy(alias)
        return recorded is not None and not (recorded.postgres_primary or recorded.finalized)
    return False




def _record_failure(source: str, target: str, record_id: int, label: str, pk_value: str, exc: Exception) -> None:
    logger.error(
        "mirror failed: model=%s pk=%s from=%s to=%s error=%s: %s",
        label, pk_value, source, target, type(exc).__name__, exc,
    )
    discard_broken_connection(target)
    try:
        record_model = OutboxRecord
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
        OutboxRecord.objects.using(source)
        .filter(created_at__lte=wall - dt.timedelta(seconds=DRAIN_MIN_AGE_SECONDS))
        .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=wall))
        .order_by("pk")
        .values_list("pk", "model_label", "pk_value")[:DRAIN_BATCH]
    )
    jobs = list(due)
    if jobs:
        apply_jobs(source, jobs)
