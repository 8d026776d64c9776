"""The cutover phase as data: derived from the waffle switches and flag; which database is primary.

The phase is never stored on its own: it is read from the switches and the read flag (see
``migration.flags``), so toggling them in waffle's admin has the same effect as ``./manage.py cutover``. Moving between
phases (gates, backups, replays) is :mod:`migration.transitions`.

0 sqlite            reads and writes on SQLite
1 dual-write        SQLite primary, writes mirrored to PostgreSQL, reads from SQLite
2 read rollout      as 1, and a percentage of requests (sticky per browser) reads PostgreSQL
3 postgres-primary  PostgreSQL primary, writes mirrored back to SQLite, reads from PostgreSQL
4 finalized         PostgreSQL only; the SQLite file is archived read-only
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from django.conf import settings

from migration import conf, flags
from migration.models import PhaseChange


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


def current_state_fresh() -> PhaseState:
    """The phase as stored now (not this process's memo): used before a change."""
    flags.forget()
    return current_state()


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


# --- Changes made outside `cutover` -------------------------------------------------------------

# Set while `cutover` flips the switches itself: the audit of outside changes stays out of its way.
changing: contextvars.ContextVar[bool] = contextvars.ContextVar("migration_phase_changing", default=False)


def audit_external_change(before: flags.FlagState, after: flags.FlagState, using: str) -> None:
    """Record a phase change made outside the command (waffle's admin, the ORM): no gates, no backup."""
    if changing.get():
        return
    old, new = state_from(before), state_from(after)
    if old == new:
        return
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
