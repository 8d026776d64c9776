"""Moving between phases: gates checked, backups taken, the outbox drained, switches flipped and audited.

``advance`` and ``rollback`` are what ``./manage.py cutover`` and the console call. Each change
backs up the SQLite file (and dumps PostgreSQL around phase 3), drains the outbox before and after,
moves id counters ahead of the new primary, and records a :class:`~migration.models.PhaseChange`
with the gates it passed.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from migration import conf, dualwrite, emergency, fence, flags, gates, inventory, phase, probe
from migration.exceptions import GateRefused, InvalidTransition, TargetUnusable
from migration.models import PhaseChange
from migration.phase import Phase, PhaseState, current_state_fresh, flag_values, source_configured
from migration.switches import (
    SEQUENCE_HEADROOM,
    Progress,
    Transition,
    _noop,
    backup_source,
    captured,
    default_actor,
    dump_target,
    fenced_alias,
    moves_primary,
    queue_reverse_copy,
    refusal_for,
    reserve_source_ids,
    reset_sequences,
    sync_capture,
    sync_fences,
)

__all__ = [
    "PERCENT_STEPS", "SEQUENCE_HEADROOM", "Progress", "Transition", "advance", "captured", "current_state_fresh",
    "default_actor", "fenced_alias", "moves_primary", "next_state", "queue_reverse_copy", "reserve_source_ids",
    "reset_sequences", "rollback", "sync_capture", "sync_fences",
]

PERCENT_STEPS = (10.0, 50.0, 100.0)


def next_state(before: PhaseState, percent: float | None = None) -> PhaseState:
    """The state ``advance`` moves to from ``before`` (raise InvalidTransition when there is none)."""
    if percent is not None:
        if not 0 < percent <= 100:
            raise InvalidTransition(f"--percent must be in (0, 100], not {percent:g}")
        if before.phase not in (Phase.DUAL_WRITE, Phase.READ_ROLLOUT):
            raise InvalidTransition(
                f"--percent applies to the read rollout (phases 1-2); the phase is {before}"
            )
        if percent <= before.percent:
            raise InvalidTransition(
                f"advance only raises the read percent ({before.percent:g}% now); "
                f"use `cutover rollback --to 2 --percent {percent:g}` to lower it"
            )
        return PhaseState(Phase.READ_ROLLOUT, percent)
    if before.phase == Phase.SQLITE:
        return PhaseState(Phase.DUAL_WRITE)
    if before.phase == Phase.DUAL_WRITE:
        return PhaseState(Phase.READ_ROLLOUT, PERCENT_STEPS[0])
    if before.phase == Phase.READ_ROLLOUT:
        higher = [step for step in PERCENT_STEPS if step > before.percent]
        if higher:
            return PhaseState(Phase.READ_ROLLOUT, higher[0])
        return PhaseState(Phase.POSTGRES_PRIMARY, 100.0)
    if before.phase == Phase.POSTGRES_PRIMARY:
        return PhaseState(Phase.FINALIZED, 100.0)
    raise InvalidTransition("the cutover is finalized; there is no next phase")


def advance(
    *,
    percent: float | None = None,
    force: bool = False,
    actor: str | None = None,
    progress: Progress = _noop,
    on_wait: Progress = _noop,
) -> Transition:
    """Move forward one step (or to ``percent`` in the read rollout), if every gate passes.

    Raises TargetUnusable or SourceUnusable, before anything is changed, when a database cannot
    be used (``on_wait`` hears once of a wait for the legacy file's lock), and GateRefused (with
    the gate results) when a gate fails and ``force`` is False.
    """
    probe.both(on_wait=on_wait)
    before = current_state_fresh()
    after = next_state(before, percent)
    results = gates.check(before, after)
    failed = [g for g in results if not g.ok]
    if failed and not force:
        raise GateRefused(before, after, results)
    # --force passes failed gates only: a forward change never strands outbox records.
    transition = Transition(before, after, forced=bool(failed), gates=results)
    if failed:
        transition.warnings.append(
            "forced past failed gates: " + "; ".join(f"{g.name}: {g.detail}" for g in failed)
        )
    _move(transition, actor or default_actor(), progress)
    return transition


def rollback(
    *,
    to: int | None = None,
    percent: float | None = None,
    reverse_copy: bool = False,
    force: bool = False,
    actor: str | None = None,
    progress: Progress = _noop,
    on_wait: Progress = _noop,
) -> Transition:
    """Move back (default: one phase) at once; pending mirrors are replayed so no write is lost.

    When some pending records cannot be applied the rollback is refused (GateRefused), unless
    ``force``: they then stay pending, named in the warnings, to be replayed later.

    Leaving phase 4 needs ``reverse_copy``: every migrated row is then queued from PostgreSQL to
    SQLite (and rows only SQLite has are deleted there), and replayed. Like :func:`advance`, it
    changes nothing while a database cannot be used (the switches live on PostgreSQL, and the
    legacy file is backed up first).
    """
    try:
        probe.both(on_wait=on_wait)
    except TargetUnusable as exc:
        return emergency.emergency_rollback(exc, to=to, force=force, actor=actor or default_actor(), progress=progress)
    if flags.emergency() is not None:
        return emergency.record_emergency(actor or default_actor(), progress)
    before = current_state_fresh()
    if before.phase == Phase.SQLITE and to is None:
        raise InvalidTransition("phase 0 (sqlite) is the first phase; nothing to roll back")
    target_phase = Phase(before.phase - 1) if to is None else Phase(to)
    if target_phase > before.phase or (target_phase == before.phase and target_phase != Phase.READ_ROLLOUT):
        raise InvalidTransition(f"rollback goes to an earlier phase than {before}, not {int(target_phase)}")
    if target_phase == Phase.READ_ROLLOUT:
        wanted = percent if percent is not None else (100.0 if before.phase > Phase.READ_ROLLOUT else None)
        if wanted is None:
            lower = [s for s in PERCENT_STEPS if s < before.percent]
            if not lower:
                raise InvalidTransition(
                    f"the read rollout is at {before.percent:g}%; roll back to phase 1 with --to 1"
                )
            wanted = lower[-1]
        if not 0 < wanted <= 100 or (before.phase == Phase.READ_ROLLOUT and wanted >= before.percent):
            raise InvalidTransition(f"--percent must be below the current {before.percent:g}% and above 0")
        after = PhaseState(Phase.READ_ROLLOUT, wanted)
    else:
        after = PhaseState(target_phase, 100.0 if target_phase >= Phase.POSTGRES_PRIMARY else 0.0)
    if before.phase == Phase.FINALIZED and not reverse_copy:
        raise InvalidTransition(
            "leaving phase 4 (finalized) needs a reverse copy: SQLite no longer receives writes. "
            "Run `cutover rollback --reverse-copy` (see docs/runbook.md)"
        )
    if before.phase == Phase.FINALIZED and not source_configured():
        raise InvalidTransition(
            f"the {conf.source_alias()!r} database is not configured; restore it in settings "
            "(the archived file, copied back) before leaving phase 4"
        )
    transition = Transition(before, after, forced=force, force=force)
    _move(transition, actor or default_actor(), progress, reverse_copy=reverse_copy)
    return transition


def _move(transition: Transition, actor: str, progress: Progress, *, reverse_copy: bool = False) -> None:
    """Back up, drain, flip the switches with their audit record, drain again."""
    before, after = transition.before, transition.after
    if source_configured():
        progress(f"backing up {conf.source_alias()}")
        transition.backup_path, transition.backup_sha256 = backup_source(f"phase{int(before.phase)}-to-{int(after.phase)}")
    if max(before.phase, after.phase) >= Phase.POSTGRES_PRIMARY:
        progress(f"dumping the migrated tables of {conf.target_alias()}")
        transition.dump_path, transition.dump_sha256 = dump_target(f"phase{int(before.phase)}-to-{int(after.phase)}")
    if source_configured() and before.phase != Phase.SQLITE:
        progress("replaying the outbox before the change")
        replayed = dualwrite.replay()
        _replay_into(transition, replayed)
        # A switch of primary drains the old primary again once it is fenced, and decides there.
        if replayed.failed and not transition.force and not moves_primary(before, after):
            errors = [e for outcome in replayed.by_alias.values() for e in outcome.errors]
            raise GateRefused(before, after, [gates.GateResult(
                "outbox", False,
                f"{replayed.failed} outbox records could not be applied before the change (first: "
                f"{errors[0] if errors else 'see the ERROR log'}); changing now would strand them",
            )])
    old_primary = _demote(transition, progress) if moves_primary(before, after) else None
    try:
        if after.phase == Phase.POSTGRES_PRIMARY and before.phase < Phase.POSTGRES_PRIMARY:
            progress("moving PostgreSQL sequences past every id")
            reset_sequences()
        if before.phase >= Phase.POSTGRES_PRIMARY and after.phase < Phase.POSTGRES_PRIMARY:
            progress("moving SQLite AUTOINCREMENT counters past every id")
            reserve_source_ids()
        audit_id = _flip(transition, actor)
    except BaseException:
        if old_primary is not None:
            fence.lower_fence(old_primary)  # undo the demotion: the phase is unchanged
        raise
    if source_configured() and (after.phase != Phase.SQLITE or before.phase != Phase.SQLITE):
        # Processes that have not yet seen the change (at most flags.MEMO_SECONDS) may still write
        # on the old primary; their records are drained here and by later replays.
        time.sleep(flags.MEMO_SECONDS)
        if reverse_copy:
            progress("queueing every migrated row from PostgreSQL back to SQLite")
            queue_reverse_copy()
        progress("replaying the outbox after the change")
        _replay_into(transition, dualwrite.replay())
    if after.phase == Phase.FINALIZED and source_configured():
        progress("archiving the SQLite file read-only")
        archive, digest = backup_source("final", archive=True)
        transition.archive_path = archive
        PhaseChange.objects.using(DEFAULT_DB_ALIAS).filter(pk=audit_id).update(
            note=f"final SQLite archive {archive} sha256={digest}"
        )


# --- The fenced switch of primary ---------------------------------------------------------------

# How long a switch of primary may take to drain the old primary once it refuses writes; writers
# wait (and the API answers 503) for at most about this long. MIGRATION_SWITCH_TIMEOUT overrides it.
SWITCH_TIMEOUT_SECONDS = 5.0


def _demote(transition: Transition, progress: Progress) -> str:
    """Steps 1 and 2 of a switch of primary: the old primary refuses writes, then its outbox is
    drained to empty within the switch timeout. Returns the old primary; on a timeout, or records
    that cannot be applied (without ``--force``), the demotion is undone and GateRefused raised."""
    old = conf.target_alias() if transition.before.phase >= Phase.POSTGRES_PRIMARY else conf.source_alias()
    timeout = conf.switch_timeout(SWITCH_TIMEOUT_SECONDS)
    progress(f"demoting {old}: it refuses writes from now on")
    started = time.monotonic()
    try:
        with _lock_timeout(old, timeout):
            fence.raise_fence(old, inventory.migrated_models(), refusal_for(old))
    except DatabaseError as exc:  # a lock not granted in time, a deadlock with a writer
        raise GateRefused(transition.before, transition.after, [gates.GateResult(
            "switch", False, f"{old} could not be fenced within {timeout:g} s ({exc}); the phase is unchanged",
        )]) from exc
    try:
        progress(f"draining the outbox of {old}")
        while True:
            replayed = dualwrite.replay()
            transition.replayed += replayed.applied
            left = replayed.remaining.get(old)
            if left == 0:
                break
            if time.monotonic() - started > timeout:  # a failure may be passing (a lock): retried until then
                if replayed.failed and transition.force:
                    _replay_into(transition, replayed)
                    transition.warnings.append(f"{left} records of {old} stranded by --force; replay them later")
                    break
                errors = [e for outcome in replayed.by_alias.values() for e in outcome.errors]
                reason = (f"{replayed.failed} records cannot be applied (first: {errors[0] if errors else '?'})"
                          if replayed.failed else f"{left} records still pending after {timeout:g} s")
                raise GateRefused(transition.before, transition.after, [gates.GateResult(
                    "switch", False, f"the outbox of {old} did not drain: {reason}; the demotion was undone "
                    "and the phase is unchanged",
                )])
            time.sleep(0.02)
    except BaseException:
        fence.lower_fence(old)
        raise
    return old


@contextlib.contextmanager
def _lock_timeout(alias: str, seconds: float) -> Any:
    """On PostgreSQL, bound the wait for the table locks the fence needs."""
    if connections[alias].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(seconds * 1000)}ms"])
        yield


def _replay_into(transition: Transition, result: Any) -> None:
    transition.replayed += result.applied
    transition.replay_failed += result.failed
    if result.failed:
        transition.warnings.append(
            f"{result.failed} outbox records could not be applied; they stay pending "
            "(see `cutover status` and the ERROR log)"
        )


def _flip(transition: Transition, actor: str) -> int:
    """Set the switches and write the audit record in one transaction on the waffle database; its id."""
    after = transition.after
    token = phase.changing.set(True)
    sqlite_lock: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    moves = (transition.before.phase >= Phase.POSTGRES_PRIMARY) != (after.phase >= Phase.POSTGRES_PRIMARY)
    if source_configured():
        # Hold SQLite's write lock while the primary moves (see dualwrite.primary_moved()) and
        # while its capture triggers come or go, so no write falls between capture and no capture;
        # the file's copy of the phase changes in the same transaction.
        sqlite_lock = transaction.atomic(using=conf.source_alias())
    try:
        with sqlite_lock, transaction.atomic(using=DEFAULT_DB_ALIAS):
            if source_configured():
                sync_capture(after)  # with the fences: step 3 of a switch, the new primary takes writes
                epoch = flags.read_epoch() + (1 if moves else 0)
                flags.write_source_copy(flags.FlagState(**flag_values(after)), epoch=epoch)
                flags.write_source_copy(flags.FlagState(**flag_values(after)), epoch=epoch,
                                        using=DEFAULT_DB_ALIAS)
            flags.write_state(**flag_values(after))
            record = PhaseChange.objects.using(DEFAULT_DB_ALIAS).create(
                actor=actor,
                via="cutover command",
                from_phase=int(transition.before.phase),
                from_percent=transition.before.percent,
                to_phase=int(after.phase),
                to_percent=after.percent,
                forced=transition.forced,
                gates=[g.as_dict() for g in transition.gates],
                backup_path=transition.backup_path,
                backup_sha256=transition.backup_sha256,
                dump_path=transition.dump_path,
                dump_sha256=transition.dump_sha256,
                note="; ".join(transition.warnings),
            )
            transition.audit_id = record.pk
    finally:
        phase.changing.reset(token)
    flags.forget()
    return record.pk


