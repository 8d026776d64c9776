"""The backfill: every source row copied into the target once, typed, resumable, beside live writes.

One module per step: :mod:`~migration.backfill.plan` (what will be copied), :mod:`~.table`
(one table, read and converted), :mod:`~.load` (written with COPY), :mod:`~.indexes` (deferred
and rebuilt), :mod:`~.tombstones` (deleted rows stay deleted), :mod:`~.rejects` (what the
target refused), :mod:`~.parallel` (worker processes) and :mod:`~.run` (the whole run).
Nothing here prints: progress goes to a callback the caller owns.
"""
from migration.backfill.plan import plan, progress
from migration.backfill.report import (
    CopyEvent,
    CopyOptions,
    CopyReport,
    TablePlan,
    TableProgress,
    TableResult,
)
from migration.backfill.run import analyze_tables, migrate_data, truncate
from migration.backfill.tombstones import pk_text, record_tombstone

__all__ = [
    "CopyEvent", "CopyOptions", "CopyReport", "TablePlan", "TableProgress", "TableResult", "analyze_tables",
    "migrate_data", "pk_text", "plan", "progress", "record_tombstone", "truncate",
]
