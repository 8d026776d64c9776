"""The cutover's status in one report: phase, flags, outbox, last validation, latency, last change."""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError

from migration import conf, dualwrite, fence, flags, gates, inventory, metrics, phase, probe
from migration.exceptions import PhaseUnknown
from migration.models import PhaseChange

DEFAULT_MAX_PENDING_AGE_SECONDS = 300.0


@dataclass
class StatusReport:
    """Everything ``cutover status`` shows; ``findings`` is what ``--check`` fails on.

    ``unreachable`` names each database that could not be used, and why (the command exits 2 on
    it, before ``findings``); everything else was read from the databases that answered (the
    switches then come from the last known values when PostgreSQL is the one missing).
    """

    state: phase.PhaseState
    flags: dict[str, Any]
    outbox: dict[str, int | None]
    oldest_pending_seconds: float | None
    validation: dict[str, Any]
    latency: dict[str, dict[str, dict[str, Any]]]
    shadow_mismatches_24h: int | None
    last_change: dict[str, Any] | None
    capture: dict[str, Any] = field(default_factory=dict)
    fence: dict[str, Any] = field(default_factory=dict)
    phase_unknown: str = ""  # why the phase cannot be known (no database could tell it)
    unreachable: dict[str, str] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["state"] = self.state.as_dict()
        return data


def status(max_pending_age: float = DEFAULT_MAX_PENDING_AGE_SECONDS, on_wait: probe.Notice | None = None) -> StatusReport:
    """Collect the report (reads both databases; never raises for one that cannot be used).

    Each database is probed first; one that cannot be used is named in ``unreachable`` and not
    read again (a missing legacy file is never created by reading it).
    """
    unreachable = probe.unusable(on_wait=on_wait)
    readable = [alias for alias in dualwrite.configured_aliases() if alias not in unreachable]
    target_ok = conf.target_alias() not in unreachable
    flags.forget()
    try:
        snapshot = flags.state()
        unknown = ""
    except PhaseUnknown as exc:  # nothing can say which phase this is: show what can be read, and say so
        snapshot, unknown = flags.FlagState(stale=True), str(exc)
    if target_ok:
        metrics.maybe_flush(force=True)
    outbox = dualwrite.outbox_depth_by_alias(readable)
    oldest = dualwrite.oldest_pending_age(readable=readable)
    report = StatusReport(
        state=phase.state_from(snapshot),
        flags={**dataclasses.asdict(snapshot), "names": list(flags.ALL_NAMES)},
        outbox=outbox,
        oldest_pending_seconds=oldest,
        validation=(gates.validation_clean_and_recent() if target_ok else _not_read("validation", conf.target_alias())).as_dict(),
        latency=metrics.latency_summary() if target_ok else {},
        shadow_mismatches_24h=metrics.shadow_mismatch_count() if target_ok else None,
        last_change=_last_change() if target_ok else None,
        unreachable=unreachable,
        schema=(gates.schema_matches() if conf.source_alias() not in unreachable
                else _not_read("schema", conf.source_alias())).as_dict(),
    )
    if oldest is not None and oldest > max_pending_age:
        report.findings.append(
            f"outbox holds records {oldest:.0f}s old (limit {max_pending_age:.0f}s); "
            "check the ERROR log and run ./manage.py replay_outbox"
        )
    unreadable = [alias for alias, n in outbox.items() if n is None and alias not in unreachable]
    if unreadable:
        report.findings.append(f"outbox unreadable on {', '.join(unreadable)}")
    report.phase_unknown = unknown
    if unknown:
        report.findings.append(unknown)
    elif snapshot.stale:
        report.findings.append("switches unreadable; the last known values are in force")
    if not report.schema["ok"] and conf.source_alias() not in unreachable:
        report.findings.append(report.schema["detail"])
    report.findings += [
        f"mirroring of {failure.label} stopped by schema drift ({failure.records} record(s) pending on "
        f"{failure.alias}): {failure.error}"
        for failure in dualwrite.drift_failures(readable)
    ]
    if conf.source_alias() not in unreachable:
        report.capture = _capture(report)
    report.fence = _fence(report, readable)
    if not unreachable and conf.source_alias() in settings.DATABASES:
        try:
            copy, switches = flags.read_source_copy(), flags.read_uncached()
        except DatabaseError:
            copy = switches = None
        if copy is not None and switches is not None and copy != switches and flags.emergency() is None:
            report.findings.append(
                f"the SQLite file's copy of the phase ({phase.state_from(copy)}) differs from PostgreSQL's switches "
                f"({phase.state_from(switches)}); while SQLite is the primary the copy decides: repeat the last "
                "change with `cutover` to write both"
            )
    marker = flags.emergency() if conf.source_alias() not in unreachable else None
    if marker is not None:
        report.findings.append(
            f"an emergency rollback by {marker.get('actor', '?')} promoted SQLite while PostgreSQL was unreachable; "
            "PostgreSQL has not recorded it yet: run `cutover rollback` once it answers"
        )
    return report


def _fence(report: StatusReport, readable: list[str]) -> dict[str, Any]:
    """Which database refuses writes, on how many tables; the epoch each database recorded."""
    info: dict[str, Any] = {"fenced": {}, "epoch": {}}
    for alias in readable:
        try:
            info["fenced"][alias] = len(fence.fenced_tables(alias))
        except DatabaseError as exc:
            report.findings.append(f"fence unreadable on {alias}: {exc}")
        info["epoch"][alias] = flags.read_epoch(alias)
    if report.state.phase >= phase.Phase.DUAL_WRITE and not report.phase_unknown:
        wanted = conf.target_alias() if report.state.phase < phase.Phase.POSTGRES_PRIMARY else conf.source_alias()
        if wanted in readable:
            gate = gates.fence_complete(report.state)
            if not gate.ok:
                report.findings.append(gate.detail)
        info["expected"] = wanted
    for alias, tables in info["fenced"].items():
        if tables and alias != info.get("expected"):
            report.findings.append(f"{tables} tables on {alias} refuse writes, but {alias} is the primary; "
                                   "the next phase change lowers the fence")
    return info


def _not_read(name: str, alias: str) -> gates.GateResult:
    return gates.GateResult(name, False, f"not read: {alias} cannot be used")


def _capture(report: StatusReport) -> dict[str, Any]:
    """The capture triggers of the database that captures in this phase (SQLite in phases 1-2,
    PostgreSQL in 3): how many, and the migrated tables that lack theirs."""
    source = conf.source_alias()
    if source not in settings.DATABASES:
        return {}
    state = report.state.phase
    alias = conf.target_alias() if state == phase.Phase.POSTGRES_PRIMARY else source
    if alias in report.unreachable:
        return {}
    try:
        triggers = dualwrite.capture.installed(alias)
        gaps = dualwrite.capture.missing(alias, inventory.migrated_models()) if triggers else []
    except DatabaseError as exc:
        report.findings.append(f"capture triggers unreadable on {alias}: {exc}")
        return {"alias": alias, "triggers": None, "missing": []}
    expected = state in (phase.Phase.DUAL_WRITE, phase.Phase.READ_ROLLOUT, phase.Phase.POSTGRES_PRIMARY)
    if expected and (not triggers or gaps):
        gate = gates.capture_complete(alias)
        report.findings.append(gate.detail if not gate.ok else f"no capture triggers on {alias}")
    if not expected and triggers:
        report.findings.append(f"{triggers} capture triggers on {alias} outside phases 1-3; the next phase change removes them")
    return {"alias": alias, "triggers": triggers, "missing": gaps}


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
