"""What a backfill run is asked to do and what it did: options, plans, per-table results, events."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import connections

from migration import conf
from migration.drift import DriftReport
from migration.exceptions import CopyError
from migration.models import BackupRecord
from migration.sequences import SequenceReset

DEFAULT_BATCH_SIZE = 5000

ProgressCallback = Callable[["CopyEvent"], None]


@dataclass(frozen=True)
class TablePlan:
    """What the backfill will do for one model: where it is, how much is left, in how many batches."""

    label: str
    table: str
    absent: bool
    source_rows: int | None
    pending_rows: int
    last_key: int | None
    complete: bool
    batches: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TableResult:
    """What one table's backfill did in this run (and the checkpoint's totals over all runs)."""

    label: str
    table: str
    absent: bool = False
    source_rows: int | None = None
    copied: int = 0
    skipped: int = 0
    rejected: int = 0
    removed: int = 0
    seconds: float = 0.0
    complete: bool = False
    total_copied: int = 0
    total_rejected: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CopyReport:
    """The outcome of :func:`migrate_data`."""

    plan: list[TablePlan]
    tables: list[TableResult] = field(default_factory=list)
    dry_run: bool = False
    backup: BackupRecord | None = None
    rejects_path: Path | None = None
    sequences: list[SequenceReset] = field(default_factory=list)
    analyzed: list[str] = field(default_factory=list)
    stopped: str | None = None
    run_id: int | None = None
    seconds: float = 0.0
    drift: DriftReport | None = None

    @property
    def rejected(self) -> int:
        """Rejected rows on record for the planned tables (all runs): what the exit code reports."""
        return sum(t.total_rejected for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "backup": None if self.backup is None else {
                "path": self.backup.path, "sha256": self.backup.sha256, "integrity": self.backup.integrity,
            },
            "rejects_file": None if self.rejects_path is None else str(self.rejects_path),
            "plan": [p.as_dict() for p in self.plan],
            "tables": [
                {
                    "table": t.table,
                    "label": t.label,
                    "absent": t.absent,
                    "source_rows": t.source_rows,
                    "copied": t.copied,
                    "skipped": t.skipped,
                    "rejected": t.rejected,
                    "removed": t.removed,
                    "seconds": round(t.seconds, 3),
                    "complete": t.complete,
                    "total_copied": t.total_copied,
                    "total_rejected": t.total_rejected,
                }
                for t in self.tables
            ],
            "sequences": [asdict(s) for s in self.sequences],
            "analyzed": list(self.analyzed),
            "drift": None if self.drift is None else self.drift.as_dict(),
        }


@dataclass(frozen=True)
class CopyEvent:
    """A progress report: ``kind`` is waiting, drift, backup, table_start, batch, table_done, removed, sequences, analyze."""

    kind: str
    table: str = ""
    rows: int = 0
    total: int | None = None
    copied: int = 0
    skipped: int = 0
    rejected: int = 0
    detail: str = ""
    result: TableResult | None = None


@dataclass(frozen=True)
class TableProgress:
    """One table's checkpoint as the cutover gates and the console read it."""

    table: str
    source_rows: int | None
    copied_rows: int
    rejected_rows: int
    complete: bool
    updated_at: Any


@dataclass
class CopyOptions:
    """Everything one backfill run needs; the command fills it from its options."""

    labels: Sequence[str] | None = None
    source: str | None = None
    target: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    dry_run: bool = False
    fresh: bool = False
    jobs: int = 1
    backup: bool = True
    backup_dir: Path | None = None
    rejects_path: Path | None = None
    max_rejects: int = 0
    analyze: bool = False  # ANALYZE the tables this run wrote (planner statistics) at the end

    @property
    def source_alias(self) -> str:
        """The source alias of :meth:`resolved` options."""
        if self.source is None:
            raise CopyError("the copy options name no source alias: resolve them first (CopyOptions.resolved())")
        return self.source

    @property
    def target_alias(self) -> str:
        """The target alias of :meth:`resolved` options."""
        if self.target is None:
            raise CopyError("the copy options name no target alias: resolve them first (CopyOptions.resolved())")
        return self.target

    def resolved(self) -> CopyOptions:
        """A copy with the aliases and directories filled from settings."""
        source = self.source or conf.source_alias()
        target = self.target or conf.target_alias()
        for alias in (source, target):
            if alias not in connections.databases:
                raise CopyError(f"unknown database alias {alias!r}; choose one of {sorted(connections.databases)}")
        if connections[source].vendor != "sqlite":
            raise CopyError(f"source alias {source!r} is not SQLite ({connections[source].vendor})")
        if connections[target].vendor != "postgresql":
            raise CopyError(f"target alias {target!r} is not PostgreSQL ({connections[target].vendor})")
        if self.batch_size < 1:
            raise CopyError("--batch-size must be at least 1")
        if self.jobs < 1:
            raise CopyError("--jobs must be at least 1")
        if self.max_rejects < 0:
            raise CopyError("--max-rejects must be 0 or more")
        backup_dir = Path(self.backup_dir) if self.backup_dir else conf.backup_dir()
        return CopyOptions(
            labels=self.labels, source=source, target=target, batch_size=self.batch_size,
            dry_run=self.dry_run, fresh=self.fresh, jobs=self.jobs, backup=self.backup,
            backup_dir=backup_dir, rejects_path=Path(self.rejects_path) if self.rejects_path else
            backup_dir / "rejects.jsonl", max_rejects=self.max_rejects, analyze=self.analyze,
        )
