"""What a validation found: per-table counts and differences, sequence checks, repairs, and the whole report."""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.db import models

from migration.drift import DriftReport, Finding


@dataclass
class RowDiff:
    """Differing rows by kind, with both sides' hashes at first sight (None = absent)."""

    missing: dict[Any, tuple[int | None, int | None]] = dataclass_field(default_factory=dict)
    extra: dict[Any, tuple[int | None, int | None]] = dataclass_field(default_factory=dict)
    changed: dict[Any, tuple[int | None, int | None]] = dataclass_field(default_factory=dict)


@dataclass
class ColumnDifference:
    """One column of a changed row: its name and the value on each side, as the fields read them."""

    column: str
    source: Any
    target: Any

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "source": jsonable(self.source), "target": jsonable(self.target)}


@dataclass
class ChangedRow:
    """A row present on both sides whose values differ, with the differing columns."""

    pk: Any
    columns: list[ColumnDifference]

    def as_dict(self) -> dict[str, Any]:
        return {"pk": jsonable(self.pk), "columns": [c.as_dict() for c in self.columns]}


@dataclass
class SequenceCheck:
    """The target sequence behind a table's auto-increment key, and whether it is ahead of max(pk)."""

    sequence: str
    next_value: int
    max_pk: int | None
    # Phases 1-2: SQLite hands out the ids and mirrors copy them, so the sequence falls behind by
    # design; it is moved past max(id) when PostgreSQL becomes primary. Reported, not a difference.
    ids_from_source: bool = False

    @property
    def ok(self) -> bool:
        return self.max_pk is None or self.next_value > self.max_pk

    @property
    def blocking(self) -> bool:
        """Behind max(id) while the target hands out ids, or may soon without a reset."""
        return not self.ok and not self.ids_from_source

    def as_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "next_value": self.next_value, "max_pk": self.max_pk,
                "ok": self.ok, "ids_from_source": self.ids_from_source}


@dataclass
class RepairResult:
    """What a repair changed on the one database it wrote, and the rows that still differ afterwards."""

    table: str
    inserted: list[Any] = dataclass_field(default_factory=list)
    updated: list[Any] = dataclass_field(default_factory=list)
    deleted: list[Any] = dataclass_field(default_factory=list)
    unverified: list[Any] = dataclass_field(default_factory=list)
    sequence_reset: bool = False
    sequence_ok: bool = True  # after the repair
    written_on: str = ""  # the alias the repair wrote

    @property
    def changed(self) -> int:
        return len(self.inserted) + len(self.updated) + len(self.deleted)

    @property
    def verified(self) -> bool:
        return not self.unverified

    def as_dict(self) -> dict[str, Any]:
        return {"inserted": [jsonable(p) for p in self.inserted],
                "updated": [jsonable(p) for p in self.updated],
                "deleted": [jsonable(p) for p in self.deleted],
                "unverified": [jsonable(p) for p in self.unverified],
                "sequence_reset": self.sequence_reset}


@dataclass
class TableResult:
    """One table's comparison: both counts and, at row level, every difference by kind."""

    model: type[models.Model]
    source_present: bool
    source_count: int
    target_count: int
    row_level: bool
    missing: list[Any] = dataclass_field(default_factory=list)
    extra: list[Any] = dataclass_field(default_factory=list)
    changed: list[Any] = dataclass_field(default_factory=list)
    changed_rows: list[ChangedRow] = dataclass_field(default_factory=list)
    unreadable: list[dict[str, Any]] = dataclass_field(default_factory=list)
    in_flight: list[Any] = dataclass_field(default_factory=list)
    sequence: SequenceCheck | None = None
    repair: RepairResult | None = None
    elapsed: float = 0.0
    reused_hashes: int = 0  # source rows whose hashes came from an earlier run (raw bytes unchanged)
    drift: list[Finding] = dataclass_field(default_factory=list)  # this table's schema findings
    first_pass: RowDiff | None = dataclass_field(default=None, repr=False)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def differences(self) -> int:
        """Rows found different (before any repair); unreadable source rows count as different."""
        return len(self.missing) + len(self.extra) + len(self.changed) + len(self.unreadable)

    @property
    def drifted(self) -> bool:
        """The source's table has columns no field covers holding data, or lacks or retypes a column."""
        return any(f.blocking for f in self.drift)

    @property
    def found_clean(self) -> bool:
        """True when the comparison found nothing (before any repair)."""
        counts_match = self.source_count == self.target_count or self.row_level
        settled = not self.in_flight  # rows that never settled were not verified
        return (counts_match and settled and self.differences == 0 and not self.drifted
                and (self.sequence is None or not self.sequence.blocking))

    @property
    def clean(self) -> bool:
        """True when the target now matches: nothing was found, or the repair fixed all of it (a repair
        copies rows, not columns no model has: drift stays)."""
        if self.found_clean:
            return True
        if self.repair is None or not self.repair.verified or self.unreadable or self.drifted:
            return False
        return self.repair.sequence_ok

    def as_dict(self, limit: int) -> dict[str, Any]:
        return {
            "table": self.table, "model": self.label, "source_present": self.source_present,
            "source_count": self.source_count, "target_count": self.target_count,
            "clean": self.clean, "found_clean": self.found_clean,
            "missing": len(self.missing), "extra": len(self.extra), "changed": len(self.changed),
            "unreadable": len(self.unreadable), "in_flight": len(self.in_flight),
            "missing_pks": [jsonable(p) for p in self.missing[:limit]],
            "extra_pks": [jsonable(p) for p in self.extra[:limit]],
            "changed_rows": [r.as_dict() for r in self.changed_rows[:limit]],
            "unreadable_rows": self.unreadable[:limit],
            "in_flight_pks": [jsonable(p) for p in self.in_flight[:limit]],
            "sequence": None if self.sequence is None else self.sequence.as_dict(),
            "repair": None if self.repair is None else self.repair.as_dict(),
            "elapsed_seconds": round(self.elapsed, 3), "reused_hashes": self.reused_hashes,
            "drift": [f.as_dict() for f in self.drift],
        }


@dataclass
class ValidationReport:
    """The outcome of :func:`validate`: per-table results, totals, and the stored run's id."""

    row_level: bool
    source_alias: str
    target_alias: str
    tables: list[TableResult]
    elapsed: float
    limit: int
    run_id: int | None = None
    repaired: bool = False
    drift: DriftReport | None = None

    @property
    def untabled_drift(self) -> list[Finding]:
        """Blocking findings outside the validated tables: source tables no model covers."""
        tables = {t.table for t in self.tables}
        return [f for f in (self.drift.blocking if self.drift else []) if f.table not in tables]

    @property
    def clean(self) -> bool:
        return all(t.clean for t in self.tables) and not self.untabled_drift

    @property
    def found_clean(self) -> bool:
        return all(t.found_clean for t in self.tables) and not self.untabled_drift

    @property
    def source_rows(self) -> int:
        return sum(t.source_count for t in self.tables)

    @property
    def target_rows(self) -> int:
        return sum(t.target_count for t in self.tables)

    @property
    def differences(self) -> int:
        return sum(t.differences for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "mode": "rows" if self.row_level else "counts",
            "source": self.source_alias, "target": self.target_alias,
            "clean": self.clean, "found_clean": self.found_clean, "repaired": self.repaired,
            "source_rows": self.source_rows, "target_rows": self.target_rows,
            "differences": self.differences,
            "in_flight": sum(len(t.in_flight) for t in self.tables),
            "elapsed_seconds": round(self.elapsed, 3),
            "drift": None if self.drift is None else self.drift.as_dict(),
            "tables": [t.as_dict(self.limit) for t in self.tables],
        }


def jsonable(value: Any) -> Any:
    """A JSON-serializable rendering that keeps what tells two values apart (floats keep all bits)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return repr(value)
