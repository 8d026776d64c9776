"""Rows the target refused: one record per row naming table, key, column, value and reason; the budget; the file."""
from __future__ import annotations

import json
import multiprocessing
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration import conf
from migration.models import CopyReject


@dataclass
class Reject:
    """One refused source row: where it is, and the cell and reason that refused it."""

    rowid: int
    pk: Any
    column: str
    value: str
    reason: str

    def record(self, table: str) -> dict[str, Any]:
        return {"table": table, "pk": self.pk, "column": self.column, "value": self.value,
                "reason": self.reason, "rowid": self.rowid}


class RejectBudget:
    """Counts rows rejected in this run, across worker processes, against ``--max-rejects``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = multiprocessing.get_context("fork").Value("q", 0)

    def take(self, count: int) -> int | None:
        """Count ``count`` rejects; return the index among them of the first one over the limit."""
        with self.used.get_lock():
            before = self.used.value
            self.used.value += count
            return None if self.used.value <= self.limit else max(0, self.limit - before)


_KEY_DETAIL = re.compile(r'^Key \((?P<columns>[^)]*)\)=')


def key_column(detail: str | None) -> str | None:
    """The column of an FK or unique violation, from PostgreSQL's 'Key (col)=(value) ...' detail."""
    match = _KEY_DETAIL.match(detail or "")
    return match.group("columns").split(",")[0].strip().strip('"') if match else None


def write_file(path: Path | None, target: str, tables: Sequence[str],
               extra: list[dict[str, Any]] | None = None) -> Path:
    """Export every recorded reject of ``tables`` as JSON Lines (rewritten on each run)."""
    path = path or conf.backup_dir() / "rejects.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rejects = CopyReject.objects.using(target).filter(table__in=list(tables)).order_by("table", "source_rowid", "column")
    with path.open("w", encoding="utf-8") as handle:
        for reject in rejects.iterator():
            handle.write(json.dumps({
                "table": reject.table, "pk": json.loads(reject.pk_value) if reject.pk_value else None,
                "column": reject.column, "value": reject.value, "reason": reject.reason,
                "rowid": reject.source_rowid,
            }, ensure_ascii=False) + "\n")
        for record in extra or []:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
