"""Validation: counts and row checksums on both databases, bisected to single rows, repaired, stored.

One module per job: :mod:`~migration.verify.table` (a model on both sides), the dialects
:mod:`~.postgres` (the target hashes in SQL) and :mod:`~.sqlite` (the source hashes in Python),
:mod:`~.bisect` (segments down to rows), :mod:`~.hashcache` (source hashes reused while raw rows
are unchanged), :mod:`~.repair`, :mod:`~.runs` (stored results) and :mod:`~.run` (the whole run).
"""
from migration.verify.repair import RepairRoute, repair_route, repair_rows, repair_rows_from_primary, repair_secondary
from migration.verify.report import TableResult, ValidationReport
from migration.verify.run import resolve_models, validate
from migration.verify.runs import latest_run

__all__ = [
    "RepairRoute", "TableResult", "ValidationReport", "latest_run", "repair_route", "repair_rows",
    "repair_rows_from_primary", "repair_secondary", "resolve_models", "validate",
]
