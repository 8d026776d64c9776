"""What the cutover console's buttons do: a phase change, a repair of spot-checked rows (shown before it runs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models

from migration import phase, spotcheck, transitions, verify
from migration.console import redact
from migration.exceptions import RepairRefused

# Fewer differing rows than this say nothing about a pattern; as many in one column only do.
SYSTEMATIC_AT_LEAST = 3


def change_phase(action: str, *, actor: str) -> str:
    """Advance (gated) or roll back one step through migration.phase; returns what changed.

    The engine writes its own audit record (PhaseChange) and takes its backups; errors it raises
    (GateRefused, InvalidTransition, BackupError) reach the caller unchanged.
    """
    if action == "advance":
        transition = transitions.advance(actor=actor)
        verb = "Advanced"
    elif action == "rollback":
        transition = transitions.rollback(actor=actor)
        verb = "Rolled back"
    else:
        raise ValueError(f"unknown phase action {action!r}")
    text = f"{verb} the cutover from {transition.before} to {transition.after}"
    if transition.backup_path:
        text += f"; backup sha256 {transition.backup_sha256[:12]}…"
    if transition.warnings:
        text += "; " + "; ".join(transition.warnings)
    return redact(text)


@dataclass(frozen=True)
class PlannedRow:
    """One row of a repair: what happens to it on the database the repair writes."""

    pk: Any
    action: str  # "insert", "update", "delete" or "none"
    differing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RepairPlan:
    """What the repair button will do, before it does it: which database it reads and writes, row by row."""

    table: str
    phase: str
    copy_from: str = ""
    copy_to: str = ""
    mirrored: bool = False
    rows: list[PlannedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: str = ""

    def of(self, action: str) -> list[Any]:
        return [row.pk for row in self.rows if row.action == action]

    @property
    def changes(self) -> int:
        """Rows the repair will write on ``copy_to``."""
        return sum(row.action != "none" for row in self.rows)

    @property
    def counts(self) -> str:
        """'2 inserted, 1 updated' — the changes by kind, as the confirmation states them."""
        parts = [f"{len(self.of(a))} {done}" for a, done in
                 (("insert", "inserted"), ("update", "updated"), ("delete", "deleted")) if self.of(a)]
        return ", ".join(parts) or "nothing"


def repair_plan(model: type[models.Model], pks: list[Any]) -> RepairPlan:
    """What :func:`repair` would change for ``pks`` now: the rows compared, the direction of the phase.

    The direction is verify.repair_route()'s: the primary to the secondary while writes are
    mirrored, the legacy file to PostgreSQL in phase 0; in phase 4 the plan is refused.
    """
    table = model._meta.db_table
    try:
        route = verify.repair_route()
    except RepairRefused as exc:
        return RepairPlan(table, str(phase.current_state()), refused=redact(str(exc)))
    rows = []
    for row in spotcheck.compare_rows(model, pks):
        truth, written = (row.source, row.target) if row.source.alias == route.copy_from else (row.target, row.source)
        if not row.differs:
            action = "none"
        elif not written.row_exists:
            action = "insert"
        elif not truth.row_exists:
            action = "delete"
        else:
            action = "update"
        rows.append(PlannedRow(row.pk, action, row.differing if action == "update" else []))
    return RepairPlan(table, str(phase.current_state()), route.copy_from, route.copy_to, route.mirrored, rows,
                      systematic(table, rows))


def systematic(table: str, rows: list[PlannedRow]) -> list[str]:
    """A warning when every row to update differs in one and the same column, and no other.

    That is the mark of a trigger or a value conversion, not of lost writes: a repair would spread
    one side's values of that column, so the operator should look first (as validate_counts warns).
    """
    updated = [row for row in rows if row.action == "update"]
    columns = {tuple(row.differing) for row in updated}
    if len(updated) < SYSTEMATIC_AT_LEAST or len(columns) != 1 or len(next(iter(columns))) != 1:
        return []
    column = next(iter(columns))[0]
    return [f"{table}: all {len(updated)} rows to update differ in {column} only. That looks systematic "
            "(a trigger or a value conversion), not like lost writes: check which side is right before repairing."]


def repair(model: type[models.Model], pks: list[Any]) -> str:
    """Make the rows ``pks`` equal on both databases via verify.repair_secondary; returns a summary.

    Only the secondary is written while writes are mirrored (through the applier, from the
    primary), PostgreSQL from the legacy file in phase 0; RepairRefused in phase 4.
    """
    result = verify.repair_secondary(model, pks)
    parts = [
        f"{label} {', '.join(map(str, found))}"
        for label, found in (
            ("inserted", result.inserted),
            ("updated", result.updated),
            ("deleted", result.deleted),
        )
        if found
    ]
    text = f"Repaired {result.table} on {result.written_on}: " + (
        "; ".join(parts) or "nothing to change"
    )
    if result.unverified:
        text += f"; still differing after repair: {', '.join(map(str, result.unverified))}"
    return text
