"""Gates a forward phase change must pass: outbox empty, databases ready, no schema drift, copy done, validation clean.

The copy's checkpoints come from ``migration.backfill.progress()`` and the validation's result
from ``migration.verify.latest_run()``.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from migration import backfill, conf, drift, dualwrite, fence, inventory, phase, verify
from migration.exceptions import MigrationError
from migration.models import OutboxRecord
from migration.phase import Phase

DEFAULT_VALIDATION_MAX_AGE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict, with an actionable detail."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def validation_max_age() -> dt.timedelta:
    """How old the last clean validation may be (``MIGRATION_VALIDATION_MAX_AGE`` seconds, default 3600)."""
    seconds = getattr(settings, "MIGRATION_VALIDATION_MAX_AGE", None)
    return DEFAULT_VALIDATION_MAX_AGE if seconds is None else dt.timedelta(seconds=seconds)


def check(before: Any, after: Any) -> list[GateResult]:
    """Every gate that applies to moving from ``before`` to ``after`` (PhaseState values)."""
    results = [outbox_empty(), databases_ready(), schema_matches()]
    if before.phase in (Phase.DUAL_WRITE, Phase.READ_ROLLOUT):
        results.append(capture_complete())
    if before.phase == Phase.POSTGRES_PRIMARY:
        results.append(capture_complete(conf.target_alias()))
    if before.phase >= Phase.DUAL_WRITE:
        results.append(fence_complete(before))
    if after.phase >= Phase.READ_ROLLOUT:
        results += [copy_complete(), validation_clean_and_recent()]
    return results


# Records younger than this are writes in flight (committed, mirror under way, or applied and
# waiting for their batched delete); the change's own replay takes them. Older ones are a backlog.
OUTBOX_IN_FLIGHT_SECONDS = 5.0


def outbox_empty(now: dt.datetime | None = None) -> GateResult:
    """No backlog on either database: no pending record older than OUTBOX_IN_FLIGHT_SECONDS."""
    dualwrite.flush_applied()
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=OUTBOX_IN_FLIGHT_SECONDS)
    backlog: dict[str, int] = {}
    for alias in dualwrite.configured_aliases():
        try:
            backlog[alias] = OutboxRecord.objects.using(alias).filter(created_at__lt=cutoff).count()
        except DatabaseError as exc:
            return GateResult("outbox", False, _outbox_unreadable(alias, exc))
    total = sum(backlog.values())
    if total:
        where = ", ".join(f"{alias}: {n}" for alias, n in backlog.items() if n)
        return GateResult(
            "outbox", False,
            f"{total} pending records older than {OUTBOX_IN_FLIGHT_SECONDS:g}s ({where}); "
            "check the ERROR log and run ./manage.py replay_outbox",
        )
    return GateResult("outbox", True, "no backlog")


def _outbox_unreadable(alias: str, exc: DatabaseError) -> str:
    """Why the outbox on ``alias`` cannot be read, and what fixes it."""
    table = OutboxRecord._meta.db_table
    try:
        present = table in connections[alias].introspection.table_names()
    except DatabaseError:
        return f"outbox unreadable on {alias}: the database does not answer ({exc})"
    if not present:
        return (
            f"the outbox table {table} is missing on {alias}: create it with "
            f"`./manage.py migrate --database {alias}`"
        )
    return f"outbox unreadable on {alias}: {exc}"


def fence_complete(state: Any) -> GateResult:
    """The database that is not the primary in ``state`` refuses writes on every migrated table."""
    alias = conf.target_alias() if state.phase in (Phase.DUAL_WRITE, Phase.READ_ROLLOUT) else conf.source_alias()
    if alias not in settings.DATABASES:
        return GateResult("fence", True, f"no {alias} database configured")
    try:
        missing = fence.gaps(alias, inventory.migrated_models())
    except DatabaseError as exc:
        return GateResult("fence", False, f"fence unreadable on {alias}: {exc}")
    if missing:
        return GateResult(
            "fence", False,
            f"{len(missing)} tables on {alias} lack their fence ({', '.join(missing[:10])}), so writes to them "
            "would not be refused; a schema change rebuilt them? any phase change puts the fence back "
            "(`cutover rollback`, then `cutover advance`)",
        )
    return GateResult("fence", True, f"{alias} refuses writes to every migrated table")


def capture_complete(alias: str | None = None) -> GateResult:
    """Every migrated table on the capturing database (SQLite by default) carries its capture
    triggers (a rebuilt table loses them)."""
    source = alias or conf.source_alias()
    if source not in settings.DATABASES:
        return GateResult("capture", True, "no SQLite database configured")
    try:
        gaps = dualwrite.capture.missing(source, inventory.migrated_models())
    except DatabaseError as exc:
        return GateResult("capture", False, f"capture triggers unreadable on {source}: {exc}")
    if gaps:
        return GateResult(
            "capture", False,
            f"{len(gaps)} tables on {source} lack their capture triggers ({', '.join(gaps[:10])}), so writes "
            "there by other processes are not mirrored; a schema change rebuilt them? roll back to "
            "phase 0 and advance again to reinstall",
        )
    return GateResult("capture", True, "every migrated table captures its writes")


def databases_ready() -> GateResult:
    """Both databases answer, and PostgreSQL has every migrated table."""
    missing_tables: list[str] = []
    for alias in (conf.source_alias(), conf.target_alias()):
        if alias not in settings.DATABASES:
            continue
        try:
            connections[alias].ensure_connection()
        except DatabaseError as exc:
            return GateResult("databases", False, f"{alias} unreachable: {exc}")
    try:
        existing = set(connections[conf.target_alias()].introspection.table_names())
    except DatabaseError as exc:
        return GateResult("databases", False, f"{conf.target_alias()} introspection failed: {exc}")
    missing_tables = [m._meta.db_table for m in inventory.migrated_models() if m._meta.db_table not in existing]
    if missing_tables:
        return GateResult(
            "databases", False,
            f"{len(missing_tables)} migrated tables missing on {conf.target_alias()} "
            f"(e.g. {missing_tables[0]}); run ./manage.py migrate",
        )
    return GateResult("databases", True, "both reachable, schema present")


# The schema gate also runs on every console page: it waits this long at most for the legacy app's lock.
SCHEMA_LOCK_WAIT_SECONDS = 2.0


def schema_matches() -> GateResult:
    """The legacy file holds nothing the models would drop and lacks nothing they store (:mod:`migration.drift`)."""
    if not phase.source_configured():
        return GateResult("schema", True, f"{conf.source_alias()} is no longer configured")
    try:
        found = drift.detect(count=False, timeout=SCHEMA_LOCK_WAIT_SECONDS)
    except (MigrationError, sqlite3.Error) as exc:
        return GateResult("schema", False, f"the legacy schema cannot be read: {exc}")
    if found.blocking:
        return GateResult(
            "schema", False,
            f"schema drift in {conf.source_alias()}: {found.summary(3)}; map it (./manage.py describe_schema "
            "--drift) or list it in MIGRATION_EXCLUDE with a reason",
        )
    warned = f" ({len(found.warnings)} empty table(s) or column(s) no model covers)" if found.warnings else ""
    return GateResult("schema", True, f"every source table and column with data is mapped or excluded{warned}")


def copy_complete() -> GateResult:
    """The backfill has a complete checkpoint for every migrated table (``migration.backfill.progress()``).

    ``progress()`` returns one entry per table checkpoint, each with ``table`` and ``complete``.
    """
    try:
        checkpoints = list(backfill.progress())
    except DatabaseError as exc:
        return GateResult("copy", False, f"backfill checkpoints unreadable: {exc}")
    state = {_field(c, "table"): _field(c, "complete") for c in checkpoints}
    tables = [m._meta.db_table for m in inventory.migrated_models()]
    missing = [t for t in tables if t not in state]
    incomplete = [t for t in tables if t in state and not state[t]]
    if missing or incomplete:
        parts = []
        if missing:
            parts.append(f"{len(missing)} tables never copied (e.g. {missing[0]})")
        if incomplete:
            parts.append(f"{len(incomplete)} tables not complete (e.g. {incomplete[0]})")
        return GateResult("copy", False, "; ".join(parts) + "; run ./manage.py migrate_data")
    return GateResult("copy", True, f"complete ({len(tables)} tables)")


def validation_clean_and_recent(now: dt.datetime | None = None) -> GateResult:
    """The latest validation run finished clean within validation_max_age()."""
    try:
        run = verify.latest_run()
    except DatabaseError as exc:
        return GateResult("validation", False, f"validation runs unreadable on {conf.target_alias()}: {exc}")
    if run is None:
        return GateResult("validation", False, "no validation run recorded; run ./manage.py validate_counts")
    finished_at = _field(run, "finished_at")
    clean = _field(run, "clean")
    if finished_at is None:
        return GateResult("validation", False, "the latest validation run has not finished")
    if not clean:
        return GateResult("validation", False, f"the latest validation run (finished {finished_at:%Y-%m-%d %H:%M:%S}) found differences")
    if _field(run, "mode") not in (None, "rows"):
        # Equal counts prove nothing about the values; a move needs row-level proof.
        return GateResult(
            "validation", False,
            "the latest validation was counts only; run ./manage.py validate_counts (row level)",
        )
    age = (now or timezone.now()) - finished_at
    if age > validation_max_age():
        return GateResult(
            "validation", False,
            f"the latest clean validation is {age.total_seconds() / 60:.0f} min old "
            f"(limit {validation_max_age().total_seconds() / 60:.0f}); run ./manage.py validate_counts",
        )
    return GateResult("validation", True, f"clean, finished {finished_at:%Y-%m-%d %H:%M:%S}")


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)
