"""A rollback while PostgreSQL cannot be reached, and its recording on PostgreSQL once it answers."""
from __future__ import annotations

import json
import time

from django.db import DEFAULT_DB_ALIAS, transaction

from migration import conf, fence, flags, gates, inventory, phase, switches
from migration.dualwrite import capture
from migration.exceptions import GateRefused, InvalidTransition, TargetUnusable
from migration.models import OutboxRecord, PhaseChange
from migration.phase import Phase, PhaseState, flag_values, source_configured


def emergency_rollback(unusable: TargetUnusable, *, to: int | None, force: bool, actor: str,
                        progress: switches.Progress) -> switches.Transition:
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
    transition = switches.Transition(before, after, forced=True, force=True)
    progress(f"backing up {conf.source_alias()}")
    transition.backup_path, transition.backup_sha256 = switches.backup_source(f"emergency-phase3-to-{int(after.phase)}")
    progress("promoting SQLite without PostgreSQL")
    epoch = flags.read_epoch() + 1
    with transaction.atomic(using=conf.source_alias()):
        source = conf.source_alias()
        fence.lower_fence(source)
        if switches.captured(after) == source:
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


def record_emergency(actor: str, progress: switches.Progress) -> switches.Transition:
    """PostgreSQL answers again after an emergency rollback: record the phase there, fence it, and
    list the changes stranded in its outbox (kept, not applied: SQLite has taken writes since)."""
    recorded = flags.read_source_copy()
    assert recorded is not None
    after = phase.state_from(recorded)
    note = flags.emergency() or {}
    before = PhaseState(Phase(int(note.get("from", Phase.POSTGRES_PRIMARY))), 100.0)
    transition = switches.Transition(before, after, forced=True, force=True)
    target = conf.target_alias()
    stranded = list(OutboxRecord.objects.using(target).order_by("pk").values_list("pk", "model_label", "pk_value"))
    progress(f"recording the emergency rollback on {target}")
    listing = _write_stranded(stranded) if stranded else ""
    epoch = flags.read_epoch()
    with transaction.atomic(using=conf.source_alias()), transaction.atomic(using=DEFAULT_DB_ALIAS):
        token = phase.changing.set(True)
        try:
            flags.write_state(**flag_values(after))
            switches.sync_capture(after)
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
