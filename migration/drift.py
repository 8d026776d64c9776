"""Schema drift: the legacy file's tables, columns and declared types against the models and MIGRATION_EXCLUDE.

A source table or column is *covered* when a migrated model maps it or ``MIGRATION_EXCLUDE``
lists it with a reason. Four kinds of finding:

- ``table``: a source table no model covers; ``column``: a source column no field covers. Both
  block the copy when they hold data (the copy would drop it) and are warnings when empty.
- ``missing``: a column a model stores that the source table lacks (the copy cannot read it).
- ``type``: a declared type other than the model's: blocking when SQLite's type affinity differs
  (the values are stored differently), a warning when only the spelling does.

Tables the engine or Django put in the file (the outbox, ``django_migrations``), SQLite's own, and
the shadow tables of virtual tables (an FTS5 index's storage) are not the legacy app's and are
never reported. :func:`mirror_check` is the applier's version for one table on both databases.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections, models

from migration import conf, fence, flags, inventory
from migration.db import quote
from migration.exceptions import SchemaDrift
from migration.reader import LegacyReader

TABLE, COLUMN, MISSING, TYPE = "table", "column", "missing", "type"

# What SQLite affinity each kind of plain Django field may sit on (fields that record their legacy
# declared type, ``legacy_type``, are compared with it instead).
_INTEGERS = {"INTEGER", "NUMERIC"}
PLAIN_AFFINITIES: dict[str, set[str]] = {
    **{name: _INTEGERS for name in (
        "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
        "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "BooleanField",
        "DurationField",
    )},
    **{name: {"TEXT"} for name in (
        "CharField", "TextField", "EmailField", "SlugField", "URLField", "UUIDField", "GenericIPAddressField",
        "FilePathField", "FileField", "ImageField", "JSONField",
    )},
    **{name: {"NUMERIC", "TEXT", "INTEGER", "REAL"} for name in ("DateField", "DateTimeField", "TimeField")},
    "FloatField": {"REAL"},
    "DecimalField": {"NUMERIC", "REAL", "INTEGER"},
    "BinaryField": {"BLOB"},
}


def affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (the rules of section 3.1 of its documentation)."""
    text = declared.upper()
    if "INT" in text:
        return "INTEGER"
    if "CHAR" in text or "CLOB" in text or "TEXT" in text:
        return "TEXT"
    if "BLOB" in text or not text.strip():
        return "BLOB"
    if "REAL" in text or "FLOA" in text or "DOUB" in text:
        return "REAL"
    return "NUMERIC"


def normalized(declared: str) -> str:
    return " ".join(declared.upper().split())


@dataclass(frozen=True)
class Finding:
    """One difference between the source's schema and the models."""

    kind: str
    table: str
    column: str = ""
    rows: int | None = None  # rows holding a value (None: not counted, only whether any does)
    has_data: bool = False
    model: str = ""  # label of the model of the table, when one maps it
    source_type: str = ""  # the declared type in the source
    model_type: str = ""  # the declared type the model expects
    blocking: bool = False

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table

    def _data(self) -> str:
        if self.rows is not None:
            return f"{self.rows} row(s) hold a value" if self.rows else "no row holds a value"
        return "rows hold values" if self.has_data else "no row holds a value"

    def describe(self) -> str:
        """One line for an operator: what differs, where, and how much data it concerns."""
        if self.kind == TABLE:
            held = (f"{self.rows} row(s)" if self.rows is not None else "holds rows") if self.has_data else "empty"
            return f"{self.name}: a table no model covers ({held})"
        if self.kind == COLUMN:
            return f"{self.name}: a column no field of {self.model} covers ({self._data()})"
        if self.kind == MISSING:
            return f"{self.name}: {self.model} stores this column, the source table has no such column"
        change = "the type affinity differs" if self.blocking else "same affinity"
        return (f"{self.name}: declared {self.source_type or '(no type)'} in the source, {self.model_type} in "
                f"{self.model} ({change})")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "name": self.name, "description": self.describe()}


@dataclass
class DriftReport:
    """Every finding for the source alias; ``blocking`` ones stop the copy, fail validation and the gate."""

    alias: str
    findings: list[Finding] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocking]

    @property
    def clean(self) -> bool:
        return not self.blocking

    def of_table(self, table: str) -> list[Finding]:
        return [f for f in self.findings if f.table == table]

    def summary(self, limit: int = 5) -> str:
        """The blocking findings in one line (the first ``limit``)."""
        shown = "; ".join(f.describe() for f in self.blocking[:limit])
        more = len(self.blocking) - limit
        return shown + (f"; and {more} more" if more > 0 else "")

    def as_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "clean": self.clean, "findings": [f.as_dict() for f in self.findings],
                "excluded": dict(self.excluded)}


def exclusions() -> tuple[set[str], set[tuple[str, str]]]:
    """MIGRATION_EXCLUDE as (tables, (table, column) pairs), lower-cased as SQLite compares names."""
    tables: set[str] = set()
    columns: set[tuple[str, str]] = set()
    for key in conf.excluded():
        table, _, column = str(key).partition(".")
        if column:
            columns.add((table.lower(), column.lower()))
        else:
            tables.add(table.lower())
    return tables, columns


def engine_tables() -> set[str]:
    """Tables Django and the engine may put in the legacy file: ``django_migrations``, the engine's copy
    of the phase and its fence's pass, and non-migrated models'."""
    found = {"django_migrations", flags.SOURCE_COPY_TABLE, fence.SQLITE_PASS}
    for model in apps.get_models(include_auto_created=True):
        if not conf.is_migrated(model._meta.app_label):
            found.add(model._meta.db_table.lower())
    return found


def detect(
    models_: Sequence[type[models.Model]] | None = None,
    *,
    alias: str | None = None,
    reader: LegacyReader | None = None,
    new_tables: bool = True,
    count: bool = True,
    timeout: float | None = None,
) -> DriftReport:
    """Compare the source's schema with ``models_`` (default: every migrated model).

    ``new_tables`` also reports source tables no model covers (a run over a few tables leaves
    them out). ``count=False`` only asks whether data exists (one row), which is cheaper on
    large tables. Raises SourceUnusable when the file cannot be read (``timeout``: how long to wait
    for a lock; default the alias's busy timeout).
    """
    alias = alias or conf.source_alias()
    own = reader is None
    reader = reader or LegacyReader.open(alias, timeout=timeout)
    try:
        return _detect(reader, alias, inventory.migrated_models() if models_ is None else list(models_),
                       new_tables, count)
    finally:
        if own:
            reader.close()


def _detect(reader: LegacyReader, alias: str, models_: list[type[models.Model]], new_tables: bool,
            count: bool) -> DriftReport:
    report = DriftReport(alias, excluded=conf.excluded())
    excluded_tables, excluded_columns = exclusions()
    kinds = reader.table_kinds()
    present = {name.lower(): name for name, kind in kinds.items() if kind != "shadow"}
    for model in models_:
        table = present.get(model._meta.db_table.lower())
        if table is not None:
            report.findings += _table_findings(reader, model, table, excluded_columns, count)
    if new_tables:
        mapped = {m._meta.db_table.lower() for m in inventory.migrated_models()}
        ignored = mapped | excluded_tables | engine_tables()
        for lowered, table in sorted(present.items()):
            if lowered in ignored:
                continue
            has_data = reader.any_rows(table)
            rows = reader.count(table) if count and has_data else (0 if count else None)
            report.findings.append(Finding(TABLE, table, rows=rows, has_data=has_data, blocking=has_data))
    return report


def _table_findings(reader: LegacyReader, model: type[models.Model], table: str,
                    excluded_columns: set[tuple[str, str]], count: bool) -> list[Finding]:
    label = model._meta.label
    found: list[Finding] = []
    declared = {c.name.lower(): c for c in reader.column_info(table) if c.hidden != 1}
    fields = [(f, f.column) for f in model._meta.concrete_fields if f.column]
    covered = {column.lower() for _, column in fields}
    for lowered, info in declared.items():
        if lowered in covered or (table.lower(), lowered) in excluded_columns:
            continue
        rows = reader.filled(table, info.name, count=count)
        found.append(Finding(COLUMN, table, info.name, rows=rows if count else None, has_data=rows > 0,
                             model=label, source_type=info.type, blocking=rows > 0))
    stored = {f.column.lower() for f in inventory.stored_fields(model) if f.column}
    for f, column in fields:
        present = declared.get(column.lower())
        if present is None:
            if column.lower() in stored:
                found.append(Finding(MISSING, table, column, model=label, model_type=expected_type(f), blocking=True))
            continue
        verdict = type_verdict(f, present.type)
        if verdict is not None:
            found.append(Finding(TYPE, table, present.name, model=label, source_type=present.type,
                                 model_type=expected_type(f), blocking=verdict))
    return found


def _typed(f: models.Field) -> models.Field:
    """The field that says the column's type: a generated column's output field, a key's target field."""
    typed = (f.output_field if isinstance(f, models.GeneratedField) else f) or f
    return getattr(typed, "target_field", typed) if typed.is_relation else typed


def expected_type(f: models.Field) -> str:
    """The declared type the model expects in the legacy file: the field's ``legacy_type``, or Django's."""
    typed = f.output_field if isinstance(f, models.GeneratedField) else f
    legacy = getattr(typed, "legacy_type", None)
    if legacy:
        return normalized(str(legacy))
    return normalized(_typed(f).db_type(connections[conf.source_alias()]) or "")


def type_verdict(f: models.Field, declared: str) -> bool | None:
    """None when ``declared`` is what the field expects; else whether the difference blocks (affinity)."""
    typed = f.output_field if isinstance(f, models.GeneratedField) else f
    legacy = getattr(typed, "legacy_type", None)
    if legacy:
        if normalized(str(legacy)) == normalized(declared):
            return None
        return affinity(str(legacy)) != affinity(declared)
    base = _typed(f)
    allowed = PLAIN_AFFINITIES.get(base.get_internal_type())
    if allowed is None:
        allowed = {affinity(base.db_type(connections[conf.source_alias()]) or "")}
    return None if affinity(declared) in allowed else True


# --- One table on both databases, for the applier --------------------------------------------------


def columns_on(alias: str, table: str) -> list[str]:
    """The columns ``table`` has on ``alias`` now, read through that alias's connection (its transaction)."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        return [c.name for c in LegacyReader.of(alias).column_info(table) if c.hidden != 1]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum", [quote(table)],
            )
            return [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def mirror_check(model: type[models.Model], aliases: Iterable[str]) -> None:
    """Raise SchemaDrift when ``model``'s table on one of ``aliases`` has a column the model does not
    cover (and MIGRATION_EXCLUDE does not list), or lacks one it stores; a mirrored row would be partial."""
    table = model._meta.db_table
    _, excluded_columns = exclusions()
    covered = {f.column for f in model._meta.concrete_fields if f.column}
    stored = {f.column for f in inventory.stored_fields(model) if f.column}
    for alias in aliases:
        present = columns_on(alias, table)
        if not present:
            continue  # no such table there: the write itself says so
        sqlite = connections[alias].vendor == "sqlite"
        fold = str.lower if sqlite else str
        known = {fold(c) for c in covered}
        uncovered = [c for c in present if fold(c) not in known and (table.lower(), c.lower()) not in excluded_columns]
        have = {fold(c) for c in present}
        missing = sorted(c for c in stored if fold(c) not in have)
        if uncovered or missing:
            raise SchemaDrift(model._meta.label, table, alias, uncovered, missing)
