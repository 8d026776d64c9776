"""Describe the migrated models' schema (legacy and target types, shapes, constraints) as data and Markdown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql import Query

from migration import conf, inventory
from migration.exceptions import MigrationError

NO_VALUE = "–"


@dataclass(frozen=True)
class ColumnDoc:
    """One column: its legacy declared type and stored shape, and its type on the target."""

    name: str
    legacy_type: str
    stored_shape: str
    target_type: str
    nullable: bool
    default: str


@dataclass(frozen=True)
class TableDoc:
    """One table: its model, columns and constraints (already rendered as SQL-like text)."""

    table: str
    model: str
    summary: str
    columns: list[ColumnDoc]
    constraints: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SchemaDoc:
    """The whole description: which aliases it speaks about and every table."""

    source_alias: str
    target_alias: str
    target_vendor: str
    tables: list[TableDoc]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        """The Markdown of ``docs/schema.md``: one section per table; deterministic, no timestamps."""
        lines = [
            "# Database schema",
            "",
            "Generated from the models by `./manage.py describe_schema --output docs/schema.md`; "
            "do not edit by hand (a test compares this file with a fresh render).",
            "",
            f"For each table: the legacy declared type (source `{self.source_alias}`; for a field that "
            "does not record it, the type Django declares for it there) and the shape the legacy "
            f"application stored, the {self.target_vendor} type (target `{self.target_alias}`), "
            "nullability, the model's default, and the constraints, indexes and generated columns.",
            "",
            f"{len(self.tables)} tables: "
            + ", ".join(f"[`{t.table}`](#{_anchor(t.table)})" for t in self.tables)
            + ".",
        ]
        for table in self.tables:
            lines += [
                "",
                f"## `{table.table}`",
                "",
                f"Model `{table.model}`. {table.summary}".rstrip(),
                "",
            ]
            lines += [
                f"| column | legacy type | stored shape | {self.target_vendor} type | null | default |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| `{c.name}` | {_cell(c.legacy_type)} | {_cell(c.stored_shape)} | {_cell(c.target_type)} "
                f"| {'yes' if c.nullable else 'no'} | {_cell(c.default)} |"
                for c in table.columns
            ]
            if table.constraints:
                lines += ["", "Constraints:", ""]
                lines += [f"- {text}" for text in table.constraints]
        return "\n".join(lines) + "\n"


def describe_schema(labels: Iterable[str] | None = None) -> SchemaDoc:
    """Describe the migrated models (all, or those named by ``labels``), tables in name order."""
    source = connections[conf.source_alias()]
    target = connections[conf.target_alias()]
    found = sorted(inventory.migrated_models(labels), key=lambda m: m._meta.db_table)
    return SchemaDoc(
        source_alias=conf.source_alias(),
        target_alias=conf.target_alias(),
        target_vendor=target.display_name,
        tables=[_describe_table(model, source, target) for model in found],
    )


def _describe_table(
    model: type[models.Model], source: BaseDatabaseWrapper, target: BaseDatabaseWrapper
) -> TableDoc:
    doc = (model.__doc__ or "").strip().splitlines()
    return TableDoc(
        table=model._meta.db_table,
        model=model._meta.label,
        summary=doc[0] if doc else "",
        columns=[_describe_column(f, source, target) for f in model._meta.concrete_fields],
        constraints=_constraints(model, target),
    )


def _describe_column(
    f: models.Field, source: BaseDatabaseWrapper, target: BaseDatabaseWrapper
) -> ColumnDoc:
    typed = f.output_field if isinstance(f, models.GeneratedField) else f
    # Legacy-aware fields say what the legacy column declared and stored; plain fields fall back
    # to the type Django would give them on the source database.
    legacy_type = getattr(typed, "legacy_type", None) or _db_type(f, source).upper()
    return ColumnDoc(
        name=inventory.column_of(f),
        legacy_type=legacy_type,
        stored_shape=getattr(typed, "legacy_shape_label", "") or NO_VALUE,
        target_type=_db_type(f, target),
        nullable=f.null,
        default=_default(f),
    )


def _db_type(f: models.Field, connection: BaseDatabaseWrapper) -> str:
    # A ForeignKey's db_type is its target's "reference" type (bigint, not bigserial).
    return f.db_type(connection) or ""


def _default(f: models.Field) -> str:
    if isinstance(f, models.AutoField):
        return "auto-increment"
    if isinstance(f, models.GeneratedField):
        return "generated"
    if f.has_db_default():
        return f"database: {f.db_default!r}"
    if not f.has_default():
        return NO_VALUE
    default = f.default
    if callable(default):
        return f"{getattr(default, '__module__', '')}.{getattr(default, '__qualname__', repr(default))}()"
    return repr(default)


def _constraints(model: type[models.Model], target: BaseDatabaseWrapper) -> list[str]:
    meta = model._meta
    out = [f"PRIMARY KEY ({inventory.column_of(meta.pk)})"]

    def column(name: str) -> str:
        return inventory.column_named(model, name)

    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            out.append(
                f"UNIQUE `{constraint.name}` ({', '.join(column(n) for n in constraint.fields)})"
            )
    for f in meta.concrete_fields:
        if f.is_relation:
            fk = cast("models.ForeignKey[Any, Any]", f)  # a stored column that is a relation is a foreign key
            on_delete = fk.remote_field.on_delete
            if on_delete is None:  # ForeignKey requires it
                raise MigrationError(f"{fk} has no on_delete")
            out.append(
                f"FOREIGN KEY {inventory.column_of(fk)} → {fk.related_model._meta.db_table}"
                f"({inventory.column_of(fk.target_field)}) ON DELETE {on_delete.__name__}"
            )
    for constraint in meta.constraints:
        if isinstance(constraint, models.CheckConstraint):
            out.append(f"CHECK `{constraint.name}`: `{_condition_sql(model, constraint, target)}`")
    for index in meta.indexes:
        cols = [
            f"{column(n.lstrip('-'))} DESC" if n.startswith("-") else column(n)
            for n in index.fields
        ]
        out.append(f"INDEX `{index.name}` ({', '.join(cols)})")
    for f in meta.concrete_fields:
        if isinstance(f, models.GeneratedField):
            stored = "STORED" if f.db_persist else "VIRTUAL"  # type: ignore[attr-defined]  # missing from django-stubs
            out.append(
                f"GENERATED {inventory.column_of(f)} = `{_inline(*f.generated_sql(target), target)}` {stored}"
            )
    return out


def _condition_sql(
    model: type[models.Model], constraint: models.CheckConstraint, target: BaseDatabaseWrapper
) -> str:
    query = Query(model, alias_cols=False)
    # Any conditional expression builds a WHERE; the stubs take only Q and Expression here.
    where = query.build_where(constraint.condition)  # type: ignore[arg-type]
    return _inline(*where.as_sql(query.get_compiler(connection=target), target), target)


def _inline(sql: str, params: Iterable[Any], connection: BaseDatabaseWrapper) -> str:
    """SQL with its parameters written in, as the schema editor writes them into DDL."""
    editor = connection.SchemaEditorClass(connection)
    return sql % tuple(editor.quote_value(p) for p in params)


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else NO_VALUE


def _anchor(table: str) -> str:
    # GitHub's heading anchors drop backticks and keep underscores.
    return table.lower()
