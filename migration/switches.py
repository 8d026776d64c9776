"""What every phase change shares: its record, the capture triggers and fences of each phase, backups,
sequences and the reverse copy.

:mod:`migration.transitions` (advance, rollback) and :mod:`migration.emergency` (a rollback while
PostgreSQL cannot be reached) are built from these.
"""
from __future__ import annotations

import getpass
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, transaction

from migration import backup, conf, dualwrite, fence, flags, inventory, sequences
from migration.dualwrite import capture
from migration.exceptions import BackupError
from migration.models import OutboxRecord, Tombstone
from migration.phase import Phase, PhaseState, source_configured

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


# --- The capture triggers and fences of each phase ----------------------------------------------


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


def refusal_for(alias: str) -> str:
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
            fence.raise_fence(alias, inventory.migrated_models(), refusal_for(alias))
        else:
            fence.lower_fence(alias)


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


# --- Backups and sequences: the engine's one mechanism for each ------------------------------------


def backup_source(label: str, *, archive: bool = False) -> tuple[str, str]:
    """The SQLite file copied online in steps, checked and recorded (backup.backup_sqlite); (path, sha256)."""
    folder = conf.backup_dir() / ("archive" if archive else "cutover")
    try:
        record = backup.backup_sqlite(conf.source_alias(), folder, label=label, archive=archive)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {conf.source_alias()} failed: {exc}") from exc
    return record.path, record.sha256


def dump_target(label: str) -> tuple[str, str]:
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
