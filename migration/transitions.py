"""Moving between phases: gates checked, backups taken, the outbox drained, switches flipped and audited.

``advance`` and ``rollback`` are what ``./manage.py cutover`` and the console call. Each change
backs up the SQLite file (and dumps PostgreSQL around phase 3), drains the outbox before and after,
moves id counters ahead of the new primary, and records a :class:`~migration.models.PhaseChange`
with the gates it passed.
"""
from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from migration import backup, conf, dualwrite, fence, flags, gates, inventory, phase, probe, sequences
from migration.dualwrite import capture
from migration.exceptions import BackupError, GateRefused, InvalidTransition, TargetUnusable
from migration.models import OutboxRecord, PhaseChange, Tombstone
from migration.phase import Phase, PhaseState, current_state_fresh, flag_values, source_configured

PERCENT_STEPS = (10.0, 50.0, 100.0)
# Added above max(id) when PostgreSQL sequences are reset for phase 3, so ids handed out by SQLite
# in processes that have not yet seen the switch (at most flags.MEMO_SECONDS) cannot collide.
SEQUENCE_HEADROOM = 1000


@dataclass
class Transition:
    """What a phase change did."""

    before: PhaseState
    after: PhaseState
    forced: bool = False
    force: bool = False  # the operator's --force: go ahead even when records cannot be applied
    gates: list[Any] = field(default_factory=list)
    backup_path: str = ""
    backup_sha256: str = ""
    dump_path: str = ""
    dump_sha256: str = ""
    archive_path: str = ""
    replayed: int = 0
    replay_failed: int = 0
    audit_id: int | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.before.as_dict(),
            "to": self.after.as_dict(),
            "forced": self.forced,
            "gates": [g.as_dict() for g in self.gates],
            "backup": {"path": self.backup_path, "sha256": self.backup_sha256},
            "pg_dump": {"path": self.dump_path, "sha256": self.dump_sha256},
            "archive": self.archive_path,
            "replayed": self.replayed,
            "replay_failed": self.replay_failed,
            "audit_id": self.audit_id,
            "warnings": self.warnings,
        }


Progress = Callable[[str], None]


def _noop(message: str) -> None:
    """Default progress callback."""


def default_actor() -> str:
    """Who runs this process: OS user at host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


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
        return _emergency_rollback(exc, to=to, force=force, actor=actor or default_actor(), progress=progress)
    if flags.emergency() is not None:
        return _record_emergency(actor or default_actor(), progress)
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


# --- An emergency rollback while PostgreSQL cannot be reached ------------------------------------


def _emergency_rollback(unusable: TargetUnusable, *, to: int | None, force: bool, actor: str,
                        progress: Progress) -> Transition:
    """Phase 3 with PostgreSQL unreachable: refuse, or with ``force`` promote SQLite on its own.

    PostgreSQL's outbox holds the changes SQLite has not received, and while PostgreSQL is
    unreachable nobody can count them. Without ``force`` nothing changes. With it, SQLite takes
    writes again (its fence down, its capture triggers up) and its copy of the phase records the
    rollback as an emergency, which every process follows (``flags.emergency``); when PostgreSQL
    answers again, the next ``cutover rollback`` records it there and lists the stranded changes.
    """
    recorded = flags.read_source_copy() if source_configured() else None
    before = phase.state_from(recorded) if recorded is not None else None
    if before is None or before.phase != Phase.POSTGRES_PRIMARY:
        raise unusable
    target_phase = Phase(to) if to is not None else Phase.READ_ROLLOUT
    if target_phase not in (Phase.SQLITE, Phase.DUAL_WRITE, Phase.READ_ROLLOUT):
        raise InvalidTransition(f"an emergency rollback goes to phase 0, 1 or 2, not {int(target_phase)}")
    after = PhaseState(target_phase, 100.0 if target_phase == Phase.READ_ROLLOUT else 0.0)
    if not force:
        raise GateRefused(before, after, [gates.GateResult(
            "emergency", False,
            f"{unusable}; the changes PostgreSQL holds that SQLite has not received yet would be stranded, "
            "and how many cannot be known while PostgreSQL is unreachable (its outbox is there). "
            "Run `cutover rollback --force` to promote SQLite anyway; once PostgreSQL answers, "
            "`cutover rollback` records the change there and lists the stranded changes",
        )])
    transition = Transition(before, after, forced=True, force=True)
    progress(f"backing up {conf.source_alias()}")
    transition.backup_path, transition.backup_sha256 = _backup(f"emergency-phase3-to-{int(after.phase)}")
    progress("promoting SQLite without PostgreSQL")
    epoch = flags.read_epoch() + 1
    with transaction.atomic(using=conf.source_alias()):
        source = conf.source_alias()
        fence.lower_fence(source)
        if captured(after) == source:
            capture.install(source, inventory.migrated_models())
        flags.write_source_copy(flags.FlagState(**flag_values(after)), epoch=epoch,
                                emergency={"actor": actor, "at": time.time(), "from": int(before.phase)})
    flags.forget()
    transition.warnings.append(
        f"PostgreSQL was unreachable ({unusable}): SQLite was promoted on its own (epoch {epoch}). Changes "
        "PostgreSQL took that were not yet mirrored are stranded there; when it answers, run `cutover rollback` "
        "to record the change on it and list them"
    )
    return transition


def _record_emergency(actor: str, progress: Progress) -> Transition:
    """PostgreSQL answers again after an emergency rollback: record the phase there, fence it, and
    list the changes stranded in its outbox (kept, not applied: SQLite has taken writes since)."""
    recorded = flags.read_source_copy()
    assert recorded is not None
    after = phase.state_from(recorded)
    note = flags.emergency() or {}
    before = PhaseState(Phase(int(note.get("from", Phase.POSTGRES_PRIMARY))), 100.0)
    transition = Transition(before, after, forced=True, force=True)
    target = conf.target_alias()
    stranded = list(OutboxRecord.objects.using(target).order_by("pk").values_list("pk", "model_label", "pk_value"))
    progress(f"recording the emergency rollback on {target}")
    listing = _write_stranded(stranded) if stranded else ""
    epoch = flags.read_epoch()
    with transaction.atomic(using=conf.source_alias()), transaction.atomic(using=DEFAULT_DB_ALIAS):
        token = phase.changing.set(True)
        try:
            flags.write_state(**flag_values(after))
            sync_capture(after)
            flags.write_source_copy(recorded, epoch=epoch)  # the emergency is recorded: drop its marker
            flags.write_source_copy(recorded, epoch=epoch, using=DEFAULT_DB_ALIAS)
            shown = ", ".join(f"{label} pk={pk}" for _, label, pk in stranded[:20])
            if stranded:
                # Out of the outbox: a replay would copy these rows over SQLite's newer writes.
                OutboxRecord.objects.using(target).filter(pk__in=[r[0] for r in stranded]).delete()
                transition.warnings.append(
                    f"{len(stranded)} changes were stranded on {target} by the emergency rollback and are not "
                    f"applied (SQLite has taken writes since); their rows as {target} holds them are in {listing}: "
                    f"{shown}" + (" ..." if len(stranded) > 20 else "")
                )
            record = PhaseChange.objects.using(DEFAULT_DB_ALIAS).create(
                actor=actor, via="cutover command (emergency, recorded later)",
                from_phase=int(before.phase), from_percent=before.percent,
                to_phase=int(after.phase), to_percent=after.percent, forced=True, gates=[],
                note="; ".join(transition.warnings) or "emergency rollback recorded",
            )
            transition.audit_id = record.pk
        finally:
            phase.changing.reset(token)
    flags.forget()
    return transition


def _write_stranded(stranded: list[tuple[int, str, str]]) -> str:
    """Write each stranded change (model, pk, the row PostgreSQL holds) to a JSON file; its path."""
    from django.apps import apps

    rows = []
    for _, label, pk_value in stranded:
        model = apps.get_model(label)
        row = model._base_manager.using(conf.target_alias()).filter(pk=model._meta.pk.to_python(pk_value)).values().first()
        rows.append({"model": label, "pk": pk_value, "row_on_postgresql": row})
    folder = conf.backup_dir() / "cutover"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"stranded-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
    return str(path)


def _move(transition: Transition, actor: str, progress: Progress, *, reverse_copy: bool = False) -> None:
    """Back up, drain, flip the switches with their audit record, drain again."""
    before, after = transition.before, transition.after
    if source_configured():
        progress(f"backing up {conf.source_alias()}")
        transition.backup_path, transition.backup_sha256 = _backup(f"phase{int(before.phase)}-to-{int(after.phase)}")
    if max(before.phase, after.phase) >= Phase.POSTGRES_PRIMARY:
        progress(f"dumping the migrated tables of {conf.target_alias()}")
        transition.dump_path, transition.dump_sha256 = _dump(f"phase{int(before.phase)}-to-{int(after.phase)}")
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
        archive, digest = _backup("final", archive=True)
        transition.archive_path = archive
        PhaseChange.objects.using(DEFAULT_DB_ALIAS).filter(pk=audit_id).update(
            note=f"final SQLite archive {archive} sha256={digest}"
        )


# --- The fenced switch of primary ---------------------------------------------------------------

# How long a switch of primary may take to drain the old primary once it refuses writes; writers
# wait (and the API answers 503) for at most about this long. MIGRATION_SWITCH_TIMEOUT overrides it.
SWITCH_TIMEOUT_SECONDS = 5.0


def moves_primary(before: PhaseState, after: PhaseState) -> bool:
    """Does the change from ``before`` to ``after`` move the primary between the databases?"""
    return source_configured() and (before.phase >= Phase.POSTGRES_PRIMARY) != (after.phase >= Phase.POSTGRES_PRIMARY)


def fenced_alias(state: PhaseState) -> str | None:
    """The database that refuses writes in ``state``: PostgreSQL while SQLite is primary and
    mirrored (phases 1-2), SQLite from phase 3 on; none in phase 0."""
    if not source_configured():
        return None
    if state.phase in (Phase.DUAL_WRITE, Phase.READ_ROLLOUT):
        return conf.target_alias()
    if state.phase >= Phase.POSTGRES_PRIMARY:
        return conf.source_alias()
    return None


def _refusal(alias: str) -> str:
    if alias == conf.source_alias():
        return fence.refusal("the SQLite file", "3 and later", "PostgreSQL")
    return fence.refusal("PostgreSQL", "1-2", "the SQLite file")


def sync_fences(state: PhaseState) -> None:
    """Fence the database that is not the primary in ``state`` and unfence the other (each in the
    caller's transaction on it, if any)."""
    wanted = fenced_alias(state)
    for alias in (conf.source_alias(), conf.target_alias()):
        if alias not in connections.databases:
            continue
        if alias == wanted:
            fence.raise_fence(alias, inventory.migrated_models(), _refusal(alias))
        else:
            fence.lower_fence(alias)


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
            fence.raise_fence(old, inventory.migrated_models(), _refusal(old))
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


def captured(state: PhaseState) -> str | None:
    """The database whose tables capture their own writes in ``state``: the primary while writes
    are mirrored (SQLite in phases 1-2, PostgreSQL in phase 3), else None."""
    if not source_configured():
        return None
    if state.phase in (Phase.DUAL_WRITE, Phase.READ_ROLLOUT):
        return conf.source_alias()
    if state.phase == Phase.POSTGRES_PRIMARY:
        return conf.target_alias()
    return None


def sync_capture(state: PhaseState, switches: flags.FlagState | None = None) -> None:
    """Install or remove both databases' capture triggers and fences to match ``state``; with
    ``switches`` (a change made outside `cutover`), also record them as the file's copy of the phase."""
    if not source_configured():
        return
    if switches is not None:
        flags.write_source_copy(switches)
    capturing = captured(state)
    for alias in (conf.source_alias(), conf.target_alias()):
        if alias == capturing:
            capture.install(alias, inventory.migrated_models())
        else:
            capture.remove(alias)
    sync_fences(state)


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


# --- Backups and sequences: the engine's one mechanism for each ------------------------------------


def _backup(label: str, *, archive: bool = False) -> tuple[str, str]:
    """The SQLite file copied online in steps, checked and recorded (backup.backup_sqlite); (path, sha256)."""
    folder = conf.backup_dir() / ("archive" if archive else "cutover")
    try:
        record = backup.backup_sqlite(conf.source_alias(), folder, label=label, archive=archive)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {conf.source_alias()} failed: {exc}") from exc
    return record.path, record.sha256


def _dump(label: str) -> tuple[str, str]:
    """pg_dump of the migrated tables, the outbox and the tombstones on the target; (path, sha256)."""
    tables = [m._meta.db_table for m in inventory.migrated_models()]
    tables += [OutboxRecord._meta.db_table, Tombstone._meta.db_table]
    return backup.dump_postgres(tables, label)


def reset_sequences() -> None:
    """Move every PostgreSQL id sequence past max(id) on both databases, plus SEQUENCE_HEADROOM."""
    if connections[conf.target_alias()].vendor != "postgresql":
        return
    sequences.advance_target_sequences(inventory.migrated_models(), headroom=SEQUENCE_HEADROOM)


def reserve_source_ids() -> None:
    """Move SQLite's AUTOINCREMENT counters past PostgreSQL's sequences (+ headroom) before SQLite
    becomes primary again, so an id PostgreSQL hands out in a process that has not yet seen the
    rollback cannot be handed out by SQLite too. Tables without AUTOINCREMENT take max(rowid) + 1;
    for them that window (at most flags.MEMO_SECONDS) is not covered.
    """
    if connections[conf.target_alias()].vendor != "postgresql":
        return
    sequences.advance_source_counters(inventory.migrated_models(), headroom=SEQUENCE_HEADROOM)


def queue_reverse_copy() -> int:
    """Queue every migrated row (on either side) from PostgreSQL to SQLite; returns records queued."""
    queued = 0
    aliases = (conf.target_alias(), conf.source_alias())
    existing = {alias: set(connections[alias].introspection.table_names()) for alias in aliases}
    for model in inventory.migrated_models():
        if model._meta.db_table not in existing[conf.source_alias()]:
            continue  # a legacy table the old app never created: nothing to give back
        pks: set[Any] = set()
        for alias in aliases:
            pks.update(model._base_manager.using(alias).values_list("pk", flat=True))
        with transaction.atomic(using=conf.target_alias()):
            dualwrite.enqueue(model, sorted(pks, key=str), conf.target_alias(), dualwrite.OperationKind.DIRTY)
        queued += len(pks)
    return queued
