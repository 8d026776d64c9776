"""What the cutover console's buttons do: a phase change, a repair of spot-checked rows."""

from __future__ import annotations

from typing import Any

from django.db import models

from migration import conf, transitions, verify
from migration.console import redact


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


def repair(model: type[models.Model], pks: list[Any]) -> str:
    """Make the target equal to the source for ``pks`` via verify.repair_rows; returns a summary."""
    result = verify.repair_rows(model, pks)
    parts = [
        f"{label} {', '.join(map(str, found))}"
        for label, found in (
            ("inserted", result.inserted),
            ("updated", result.updated),
            ("deleted", result.deleted),
        )
        if found
    ]
    text = f"Repaired {result.table} on {conf.target_alias()}: " + (
        "; ".join(parts) or "nothing to change"
    )
    if result.unverified:
        text += f"; still differing after repair: {', '.join(map(str, result.unverified))}"
    return text
