"""What the cutover console shows, gathered from the engine's own functions (no HTML here)."""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, models, router

from migration import conf, copy
from migration.exceptions import ConsoleUnavailable
from migration.inventory import migrated_models


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


@dataclass
class Snapshot:
    """Everything the console page shows, each part either data or :class:`Unavailable`."""

    databases: list[Database]
    tables: list[TableCount] | Unavailable
    sections: dict[str, Any] = field(default_factory=dict)

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


def engine_module(name: str) -> ModuleType | Unavailable:
    """``migration.<name>``, or Unavailable when this build of the engine does not have it."""
    try:
        return importlib.import_module(f"migration.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"migration.{name}":
            raise
        return Unavailable(f"migration.{name} is not part of this installation")


def databases() -> list[Database]:
    """The source and the target, labelled by role; the primary is the alias the router writes to."""
    found = []
    for alias, role in ((conf.source_alias(), "source"), (conf.target_alias(), "target")):
        if alias in settings.DATABASES:
            found.append(Database(alias, connections[alias].vendor, role))
    return found


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


@dataclass(frozen=True)
class PhaseView:
    """Where the cutover stands and what the next step requires."""

    current: str
    next: str | None
    previous: str | None
    gates: list[Gate]
    history: list[str]

    @property
    def gates_passed(self) -> bool:
        return all(g.passed for g in self.gates)


@dataclass(frozen=True)
class OutboxView:
    """Pending mirror writes: how many, and the oldest one."""

    depth: int
    oldest: dict[str, Any] | None


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
    """The latest validation run and its per-table results."""

    at: Any
    clean: bool
    tables: dict[str, TableValidation]


def snapshot() -> Snapshot:
    """Everything the console shows; each section degrades to Unavailable on its own."""
    try:
        tables: list[TableCount] | Unavailable = table_counts()
    except DatabaseError as exc:
        tables = Unavailable(f"row counts could not be read: {redact(str(exc))}")
    validation = _guard(validation_view)
    if not isinstance(tables, Unavailable):
        tables = sorted(tables, key=lambda row: row.table)
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


def phase_view() -> PhaseView | Unavailable:
    """The current phase, the next and previous ones, and the gates of the forward move."""
    phase = engine_module("phase")
    if isinstance(phase, Unavailable):
        return phase
    return Unavailable("migration.phase does not offer the status the console reads")


def validation_view() -> ValidationView | Unavailable:
    """The latest validation run, or Unavailable when validation has never run."""
    validate = engine_module("validate")
    if isinstance(validate, Unavailable):
        return Unavailable(f"validation results cannot be shown: {validate.reason}")
    return Unavailable("migration.validate does not offer latest_run()")


def outbox_view() -> OutboxView | Unavailable:
    """Outbox depth and the oldest pending record."""
    dualwrite = engine_module("dualwrite")
    if isinstance(dualwrite, Unavailable):
        return dualwrite
    return Unavailable("migration.dualwrite does not offer outbox_depth()")


def copy_view() -> list[CopyRow]:
    """Per-table copy checkpoints and progress, every migrated table listed (not started ones too)."""
    checkpoints = {p.table: p for p in copy.progress()}
    rows = []
    for model in migrated_models():
        found = checkpoints.get(model._meta.db_table)
        if found is None:
            rows.append(CopyRow(model._meta.db_table, False, False, 0, 0, None))
        else:
            rows.append(
                CopyRow(found.table, True, found.complete, found.copied_rows, found.rejected_rows,
                        found.source_rows, found.updated_at)
            )
    return rows


def latency_view() -> list[LatencyRow] | Unavailable:
    """p95 read and write latency per alias."""
    metrics = engine_module("metrics")
    if isinstance(metrics, Unavailable):
        return metrics
    return Unavailable("migration.metrics does not offer latency percentiles")


def shadow_view() -> ShadowView | Unavailable:
    """Shadow-read mismatches."""
    metrics = engine_module("metrics")
    if isinstance(metrics, Unavailable):
        return metrics
    return Unavailable("migration.metrics does not offer shadow mismatches")


def change_phase(action: str, *, actor: str) -> str:
    """Advance or roll back one step through migration.phase; returns what changed, for the audit."""
    phase = engine_module("phase")
    if isinstance(phase, Unavailable):
        raise ConsoleUnavailable(f"the phase cannot be changed: {phase.reason}")
    raise ConsoleUnavailable("migration.phase does not offer advance() and rollback()")


def repair_available() -> Unavailable | None:
    """None when rows can be sent to repair; otherwise why not."""
    validate = engine_module("validate")
    if isinstance(validate, Unavailable):
        return Unavailable(f"repair is not possible: {validate.reason}")
    if not hasattr(validate, "repair_rows"):
        return Unavailable("repair is not possible: migration.validate has no repair_rows()")
    return None


def repair(model: type[models.Model], pks: list[Any]) -> str:
    """Make the target equal to the source for ``pks`` via validate.repair_rows; returns a summary."""
    missing = repair_available()
    if missing is not None:
        raise ConsoleUnavailable(missing.reason)
    raise ConsoleUnavailable("repair is not wired")
