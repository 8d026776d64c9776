"""What the cutover console shows, gathered from the engine's own functions (no HTML here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, router
from django.utils import timezone

from migration import backfill, conf, dualwrite, gates, metrics, phase, transitions, verify
from migration.exceptions import MigrationError
from migration.inventory import migrated_models
from migration.models import OutboxRecord, PhaseChange, ShadowMismatch


@dataclass(frozen=True)
class Unavailable:
    """A part of the console that cannot be shown, and why; never replaced by a made-up value."""

    reason: str


@dataclass(frozen=True)
class TableCount:
    """Row counts of one migrated table on both databases; None where the table does not exist."""

    model_label: str
    table: str
    source: int | None
    target: int | None
    error: str = ""
    validation: TableValidation | None = None

    @property
    def equal(self) -> bool:
        return self.source == self.target or (self.source is None and self.target == 0)


@dataclass(frozen=True)
class Database:
    """One side of the cutover as the console names it: alias and vendor, never its address."""

    alias: str
    vendor: str
    role: str
    primary: bool


@dataclass
class Snapshot:
    """Everything the console page shows, each part either data or :class:`Unavailable`."""

    databases: list[Database]
    tables: list[TableCount] | Unavailable
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def tables_need_attention(self) -> bool:
        """True when a table's counts differ or its last validation was not clean."""
        if isinstance(self.tables, Unavailable):
            return True
        return any(
            row.error or not row.equal or (row.validation is not None and not row.validation.clean)
            for row in self.tables
        )

    @property
    def tables_summary(self) -> str:
        if isinstance(self.tables, Unavailable):
            return ""
        differing = sum(1 for row in self.tables if row.error or not row.equal)
        rows = sum(row.source or 0 for row in self.tables)
        return f"{len(self.tables)} tables, {rows} source row{'' if rows == 1 else 's'}; " + (
            f"{differing} with different counts" if differing else "counts equal everywhere"
        )

    @property
    def copy_started(self) -> bool:
        rows = self.sections.get("copy")
        return isinstance(rows, list) and any(r.started for r in rows)

    @property
    def copy_summary(self) -> str:
        """One line: how many tables are complete, in progress and not started."""
        rows = self.sections.get("copy")
        if not isinstance(rows, list):
            return ""
        complete = sum(r.complete for r in rows)
        running = sum(r.started and not r.complete for r in rows)
        return (
            f"{complete} of {len(rows)} tables complete, {running} in progress, "
            f"{len(rows) - complete - running} not started"
        )


def databases() -> list[Database]:
    """The source and the target, labelled by role; the primary takes the writes in this phase."""
    primary = phase.primary_alias()
    return [
        Database(alias, connections[alias].vendor, role, alias == primary)
        for alias, role in ((conf.source_alias(), "source"), (conf.target_alias(), "target"))
        if alias in settings.DATABASES
    ]


def table_counts(models_: list[type[models.Model]] | None = None) -> list[TableCount]:
    """Live ``COUNT(*)`` of every migrated table on the source and the target."""
    source, target = conf.source_alias(), conf.target_alias()
    existing = {alias: _tables(alias) for alias in (source, target) if alias in settings.DATABASES}
    counts = []
    for model in models_ if models_ is not None else migrated_models():
        table = model._meta.db_table
        try:
            counts.append(
                TableCount(
                    model._meta.label,
                    table,
                    _count(model, source) if table in existing.get(source, set()) else None,
                    _count(model, target) if table in existing.get(target, set()) else None,
                )
            )
        except DatabaseError as exc:
            counts.append(TableCount(model._meta.label, table, None, None, redact(str(exc))))
    return counts


def primary_alias(model: type[models.Model]) -> str:
    """The alias that takes this model's writes now, as the router decides."""
    return router.db_for_write(model)


def redact(text: str) -> str:
    """``text`` without any configured database password or credentials embedded in a URL."""
    for config in settings.DATABASES.values():
        password = config.get("PASSWORD")
        if password:
            text = text.replace(str(password), "********")
    return _URL_CREDENTIALS.sub(r"\1********@", text)


_URL_CREDENTIALS = re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)


def _tables(alias: str) -> set[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def _count(model: type[models.Model], alias: str) -> int:
    # The base manager: a default manager that filters rows would hide them from the count.
    return model._base_manager.using(alias).count()


# --- The engine's state, section by section ---------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """One condition of the next forward move: green when passed."""

    name: str
    passed: bool
    detail: str
    required: bool = True


@dataclass(frozen=True)
class PhaseView:
    """Where the cutover stands and what the next step requires."""

    current: str
    next: str | None
    previous: str | None
    gates: list[Gate]
    history: list[str]

    @property
    def later_gates(self) -> list[Gate]:
        return [g for g in self.gates if not g.required]

    @property
    def gates_passed(self) -> bool:
        return all(g.passed for g in self.gates if g.required)

    @property
    def can_roll_back_here(self) -> bool:
        """Leaving the finalized phase needs a reverse copy, which only the command offers."""
        return self.previous is not None and not self.current.startswith("4 ")


@dataclass(frozen=True)
class OutboxView:
    """Pending mirror writes: how many on each database, and the oldest one."""

    depth_by_alias: dict[str, int | None]
    oldest: dict[str, Any] | None

    @property
    def depth(self) -> int:
        return sum(n or 0 for n in self.depth_by_alias.values())

    @property
    def unreadable(self) -> list[str]:
        return [alias for alias, n in self.depth_by_alias.items() if n is None]


@dataclass(frozen=True)
class CopyRow:
    """One table's backfill checkpoint; ``started`` is False for a table with no checkpoint yet."""

    table: str
    started: bool
    complete: bool
    copied: int
    rejected: int
    total: int | None
    updated: Any = None

    @property
    def status(self) -> str:
        if not self.started:
            return "not started"
        if self.complete:
            return "complete" if self.total is not None else "complete (absent in source)"
        return "in progress"

    @property
    def percent(self) -> float | None:
        """Share of the source rows handled; None while the source count is unknown."""
        if not self.started or self.total is None:
            return 100.0 if self.complete else None
        if self.total == 0:
            return 100.0 if self.complete else 0.0
        return min(100.0, 100.0 * (self.copied + self.rejected) / self.total)


@dataclass(frozen=True)
class LatencyRow:
    """p95 latency of one kind of query on one alias."""

    alias: str
    kind: str
    p95_ms: float | None
    count: int


@dataclass(frozen=True)
class ShadowView:
    """Shadow-read mismatches: how many, and the most recent ones."""

    total: int
    recent: list[dict[str, Any]]


@dataclass(frozen=True)
class TableValidation:
    """The last validation result of one table."""

    clean: bool
    summary: str


@dataclass(frozen=True)
class ValidationView:
    """The latest finished validation run and its per-table results."""

    at: Any
    clean: bool
    mode: str
    differences: int
    tables: dict[str, TableValidation]


def snapshot() -> Snapshot:
    """Everything the console shows; each section degrades to Unavailable on its own."""
    try:
        tables: list[TableCount] | Unavailable = sorted(table_counts(), key=lambda row: row.table)
    except DatabaseError as exc:
        tables = Unavailable(f"row counts could not be read: {redact(str(exc))}")
    validation = _guard(validation_view)
    if isinstance(validation, ValidationView) and not isinstance(tables, Unavailable):
        tables = [replace(row, validation=validation.tables.get(row.table)) for row in tables]
    sections = {
        "phase": _guard(phase_view),
        "validation": validation,
        "outbox": _guard(outbox_view),
        "copy": _guard(copy_view),
        "latency": _guard(latency_view),
        "shadow": _guard(shadow_view),
    }
    return Snapshot(databases=databases(), tables=tables, sections=sections)


def _guard(section: Any) -> Any:
    """Run one section; a database failure in it becomes Unavailable with a redacted reason."""
    try:
        return section()
    except DatabaseError as exc:
        return Unavailable(f"could not be read: {redact(str(exc))}")


GATE_DETAIL_LIMIT = 300


def _gate(result: gates.GateResult, *, required: bool) -> Gate:
    detail = redact(result.detail)
    if len(detail) > GATE_DETAIL_LIMIT:
        detail = detail[:GATE_DETAIL_LIMIT] + "…"
    return Gate(result.name, result.ok, detail, required)


def previous_state(state: phase.PhaseState) -> phase.PhaseState | None:
    """Where a plain ``rollback`` (one phase back) goes from ``state``; None in phase 0."""
    if state.phase == phase.Phase.SQLITE:
        return None
    target = phase.Phase(state.phase - 1)
    return phase.PhaseState(target, 100.0 if target >= phase.Phase.READ_ROLLOUT else 0.0)


def phase_view() -> PhaseView:
    """The current phase, the next and previous ones, and the gates of the forward move.

    The gates of the next step come from ``migration.gates.check``; the copy and validation gates
    are shown as well when the next step does not require them yet, marked as not required.
    """
    state = phase.current_state_fresh()
    try:
        upcoming: phase.PhaseState | None = transitions.next_state(state)
    except MigrationError:
        upcoming = None
    shown: list[Gate] = []
    if upcoming is not None:
        shown = [_gate(g, required=True) for g in gates.check(state, upcoming)]
        named = {g.name for g in shown}
        for extra in (gates.copy_complete, gates.validation_clean_and_recent, gates.outbox_empty):
            result = extra()
            if result.name not in named:
                shown.append(_gate(result, required=False))
    back = previous_state(state)
    history = [
        f"{change.at:%Y-%m-%d %H:%M:%S} {change.actor} ({change.via}): "
        f"{change.from_phase} ({change.from_percent:g}%) → {change.to_phase} ({change.to_percent:g}%)"
        f"{' forced' if change.forced else ''}"
        for change in PhaseChange.objects.using(DEFAULT_DB_ALIAS).order_by("-at", "-id")[:5]
    ]
    return PhaseView(
        current=str(state),
        next=str(upcoming) if upcoming is not None else None,
        previous=str(back) if back is not None else None,
        gates=shown,
        history=history,
    )


def validation_view() -> ValidationView | Unavailable:
    """The latest finished validation run, or Unavailable when validation has never run."""
    run = verify.latest_run()
    if run is None:
        return Unavailable("validation has never run: run ./manage.py validate_counts")
    tables = {}
    for result in run.tables.all():
        if result.clean:
            summary = "clean"
        else:
            parts = [
                f"{n} {label}"
                for n, label in (
                    (result.missing, "missing"),
                    (result.extra, "extra"),
                    (result.changed, "changed"),
                    (result.unreadable, "unreadable"),
                )
                if n
            ]
            if result.sequence_ok is False:
                parts.append("sequence behind")
            summary = ", ".join(parts) or "differences"
        tables[result.table] = TableValidation(bool(result.clean), summary)
    return ValidationView(
        at=run.finished_at,
        clean=bool(run.clean),
        mode=run.get_mode_display(),
        differences=run.differences,
        tables=tables,
    )


def outbox_view() -> OutboxView:
    """Outbox depth on each database and the oldest pending record of either."""
    depth = dualwrite.outbox_depth_by_alias()
    oldest: OutboxRecord | None = None
    oldest_alias = ""
    for alias, count in depth.items():
        if not count:
            continue
        record = OutboxRecord.objects.using(alias).order_by("created_at", "id").first()
        if record is not None and (oldest is None or record.created_at < oldest.created_at):
            oldest, oldest_alias = record, alias
    if oldest is None:
        return OutboxView(depth, None)
    age = timezone.now() - oldest.created_at
    return OutboxView(
        depth,
        {
            "on": oldest_alias,
            "model": oldest.model_label,
            "pk": oldest.pk_value,
            "operation": oldest.get_operation_display(),
            "queued": f"{oldest.created_at:%Y-%m-%d %H:%M:%S} UTC ({age.total_seconds():.0f} s ago)",
            "attempts": oldest.attempts,
            "last error": redact(oldest.last_error) or "none",
        },
    )


def copy_view() -> list[CopyRow]:
    """Per-table copy checkpoints and progress, every migrated table listed (not started ones too)."""
    checkpoints = {p.table: p for p in backfill.progress()}
    rows = []
    for model in migrated_models():
        found = checkpoints.get(model._meta.db_table)
        if found is None:
            rows.append(CopyRow(model._meta.db_table, False, False, 0, 0, None))
        else:
            rows.append(
                CopyRow(
                    found.table,
                    True,
                    found.complete,
                    found.copied_rows,
                    found.rejected_rows,
                    found.source_rows,
                    found.updated_at,
                )
            )
    return rows


def latency_view() -> list[LatencyRow]:
    """p95 read and write latency per alias over the engine's window (every process's samples)."""
    return [
        LatencyRow(alias, kind, figures.get("p95_ms"), figures.get("count", 0))
        for alias, kinds in metrics.latency_summary().items()
        for kind, figures in sorted(kinds.items())
    ]


SHADOW_RECENT = 10


def shadow_view() -> ShadowView | Unavailable:
    """Shadow-read mismatches of the last 24 hours, and the latest few."""
    total = metrics.shadow_mismatch_count()
    if total is None:
        return Unavailable("shadow-read mismatches could not be read")
    recent = [
        {
            "at": f"{m.at:%Y-%m-%d %H:%M:%S}",
            "model": m.model_label,
            "rows": f"{m.primary_alias}: {m.primary_rows} / {m.shadow_alias}: {m.shadow_rows}",
            "ms": f"{m.primary_ms:.1f} / {m.shadow_ms:.1f}",
            "detail": redact(m.detail)[:200],
        }
        for m in ShadowMismatch.objects.using(DEFAULT_DB_ALIAS).order_by("-at")[:SHADOW_RECENT]
    ]
    return ShadowView(total, recent)
