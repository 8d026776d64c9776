"""The cutover's status in one report: phase, flags, outbox, last validation, latency, last change."""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError

from migration import conf, dualwrite, flags, gates, inventory, metrics, phase
from migration.models import PhaseChange

DEFAULT_MAX_PENDING_AGE_SECONDS = 300.0


@dataclass
class StatusReport:
    """Everything ``cutover status`` shows; ``findings`` is what ``--check`` fails on."""

    state: phase.PhaseState
    flags: dict[str, Any]
    outbox: dict[str, int | None]
    oldest_pending_seconds: float | None
    validation: dict[str, Any]
    latency: dict[str, dict[str, dict[str, Any]]]
    shadow_mismatches_24h: int | None
    last_change: dict[str, Any] | None
    capture: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["state"] = self.state.as_dict()
        return data


def status(max_pending_age: float = DEFAULT_MAX_PENDING_AGE_SECONDS) -> StatusReport:
    """Collect the report (reads both databases; never raises for an unreachable one)."""
    flags.forget()
    snapshot = flags.state()
    metrics.maybe_flush(force=True)
    outbox = dualwrite.outbox_depth_by_alias()
    oldest = dualwrite.oldest_pending_age()
    validation = gates.validation_clean_and_recent()
    report = StatusReport(
        state=phase.state_from(snapshot),
        flags={**dataclasses.asdict(snapshot), "names": list(flags.ALL_NAMES)},
        outbox=outbox,
        oldest_pending_seconds=oldest,
        validation=validation.as_dict(),
        latency=metrics.latency_summary(),
        shadow_mismatches_24h=metrics.shadow_mismatch_count(),
        last_change=_last_change(),
    )
    if oldest is not None and oldest > max_pending_age:
        report.findings.append(
            f"outbox holds records {oldest:.0f}s old (limit {max_pending_age:.0f}s); "
            "check the ERROR log and run ./manage.py replay_outbox"
        )
    unreadable = [alias for alias, n in outbox.items() if n is None]
    if unreadable:
        report.findings.append(f"outbox unreadable on {', '.join(unreadable)}")
    if snapshot.stale:
        report.findings.append("switches unreadable; the last known values are in force")
    report.capture = _capture(report)
    return report


def _capture(report: StatusReport) -> dict[str, Any]:
    """SQLite's capture triggers: how many, and the migrated tables that lack theirs."""
    source = conf.source_alias()
    if source not in settings.DATABASES:
        return {}
    try:
        triggers = dualwrite.capture.installed(source)
        gaps = dualwrite.capture.missing(source, inventory.migrated_models()) if triggers else []
    except DatabaseError as exc:
        report.findings.append(f"capture triggers unreadable on {source}: {exc}")
        return {"triggers": None, "missing": []}
    expected = report.state.phase in (phase.Phase.DUAL_WRITE, phase.Phase.READ_ROLLOUT)
    if expected and (not triggers or gaps):
        gate = gates.capture_complete()
        report.findings.append(gate.detail if not gate.ok else f"no capture triggers on {source}")
    if not expected and triggers:
        report.findings.append(f"{triggers} capture triggers on {source} outside phases 1-2; the next phase change removes them")
    return {"triggers": triggers, "missing": gaps}


def _last_change() -> dict[str, Any] | None:
    try:
        change = PhaseChange.objects.using(DEFAULT_DB_ALIAS).order_by("-at", "-id").first()
    except DatabaseError:
        return None
    if change is None:
        return None
    return {
        "at": change.at.isoformat(),
        "actor": change.actor,
        "via": change.via,
        "from": f"{change.from_phase} ({change.from_percent:g}%)",
        "to": f"{change.to_phase} ({change.to_percent:g}%)",
        "forced": change.forced,
        "backup": change.backup_path,
        "backup_sha256": change.backup_sha256,
        "dump": change.dump_path,
    }


def age_text(seconds: float | None) -> str:
    """Human text for an age in seconds."""
    if seconds is None:
        return "-"
    return str(dt.timedelta(seconds=round(seconds)))
