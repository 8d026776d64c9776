"""Named errors of the cutover engine; each message says what failed and what to do next."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class MigrationError(Exception):
    """Base class of the engine's errors."""


class ConversionError(MigrationError):
    """A source value the target field cannot take; names table, primary key, column and value."""

    def __init__(self, table: str, pk: Any, column: str, value: Any, reason: str) -> None:
        self.table = table
        self.pk = pk
        self.column = column
        self.value = value
        self.reason = reason
        super().__init__(f"{table} pk={pk!r} column {column}: value {value!r}: {reason}")

    def as_record(self) -> dict[str, Any]:
        """A rejects-file record: table, pk, column, value (its repr) and reason."""
        return {
            "table": self.table,
            "pk": self.pk if isinstance(self.pk, (int, str)) or self.pk is None else repr(self.pk),
            "column": self.column,
            "value": repr(self.value),
            "reason": self.reason,
        }


class SourceUnusable(MigrationError):
    """The legacy SQLite file cannot be read: missing, not a file, not SQLite, damaged, or locked too long."""


class TargetUnusable(MigrationError):
    """PostgreSQL cannot be used: unreachable, its database missing, or authentication refused."""


class SchemaDrift(MigrationError):
    """A mirrored table's columns on one database no longer match its model: the row is not mirrored.

    ``uncovered`` are columns no field covers (and MIGRATION_EXCLUDE does not list); ``missing``
    are columns the model stores that the table lacks.
    """

    def __init__(self, label: str, table: str, alias: str, uncovered: list[str], missing: list[str]) -> None:
        self.label = label
        self.table = table
        self.alias = alias
        self.uncovered = uncovered
        self.missing = missing
        parts = []
        if uncovered:
            parts.append(f"column(s) {', '.join(uncovered)} that no field of {label} covers")
        if missing:
            parts.append(f"no column(s) {', '.join(missing)} that {label} stores")
        super().__init__(
            f"table {table} on {alias} has {' and '.join(parts)}; the row was not mirrored (no partial rows). "
            "Map the columns (./manage.py describe_schema --drift prints the fields) and migrate, or list "
            "them in MIGRATION_EXCLUDE with a reason; then run ./manage.py replay_outbox"
        )


class BackupError(MigrationError):
    """The source could not be backed up, or the backup failed its integrity check; nothing was changed."""


class CopyError(MigrationError):
    """The backfill cannot start or continue; the message says why and what to do."""


class DriftRefused(CopyError):
    """The copy did not start: the source holds data no model covers, or lacks columns a model stores.

    ``findings`` are the blocking :class:`migration.drift.Finding` objects; nothing was written.
    """

    def __init__(self, findings: Sequence[Any]) -> None:
        self.findings = list(findings)
        lines = "\n".join(f"  {finding.describe()}" for finding in self.findings)
        super().__init__(
            f"the legacy file's schema has drifted from the models; nothing was copied:\n{lines}\n"
            "Map each one (./manage.py describe_schema --drift prints the model code to add), or list it "
            "in MIGRATION_EXCLUDE with the reason it is left behind, then run migrate_data again."
        )


class RejectLimitExceeded(CopyError):
    """More source rows were rejected than ``--max-rejects`` allows; names the first one beyond it."""

    def __init__(self, record: dict[str, Any], limit: int, batch: list[dict[str, Any]] | None = None) -> None:
        self.record = record
        self.limit = limit
        # Every reject of the batch that crossed the limit (that batch was rolled back).
        self.batch = batch if batch is not None else [record]
        self.message = (
            f"{record['table']} pk={record['pk']} column {record['column'] or '-'}: value {record['value']}: "
            f"{record['reason']}. More than {limit} rejected row(s); fix the source row or rerun with "
            f"a higher --max-rejects (rejected rows are listed in the rejects file)."
        )
        # args rebuild the error when it crosses a process boundary (pickling).
        super().__init__(record, limit, self.batch)

    def __str__(self) -> str:
        return self.message


class SpotCheckError(MigrationError):
    """A spot check that cannot run: an unknown model, a malformed key, an unreadable table."""


class InvalidTransition(MigrationError):
    """A phase change that does not exist (e.g. advancing past phase 4, lowering the percent forward)."""


class GateRefused(MigrationError):
    """A forward phase change refused by one or more gates; ``results`` lists every gate."""

    def __init__(self, before: Any, after: Any, results: list[Any]) -> None:
        self.before = before
        self.after = after
        self.results = results
        failed = "; ".join(f"{g.name}: {g.detail}" for g in results if not g.ok)
        super().__init__(f"cannot move from {before} to {after}: {failed}. Fix these, or use --force.")


class UnknownTablesError(MigrationError):
    """Names given to ``--tables`` that are neither a migrated table nor a model label."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        self.unknown = unknown
        self.known = known
        shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        super().__init__(
            f"unknown table or model: {', '.join(unknown)}; give a table name or app_label.Model "
            f"of the migrated apps (known tables: {shown})"
        )


class ValidationSetupError(MigrationError):
    """Validation cannot start: a database alias is missing or the target is not PostgreSQL."""


class RepairRefused(MigrationError):
    """A repair that would write the only database there is (phase 4); nothing was written."""


class PhaseUnknown(MigrationError):
    """Neither database can say which phase the cutover is in: writes are refused, not guessed."""
