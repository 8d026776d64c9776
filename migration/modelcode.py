"""Model code that closes a schema drift, written as inspectdb writes it: new models, new and changed fields.

Which field class reads a column is the application's knowledge, not the engine's: the callable
named by ``MIGRATION_FIELD_SUGGESTER`` gets each column's declared type and a sample of its
stored values (:class:`ColumnFacts`) and returns a :class:`FieldCode`, or None for the engine's
default, a plain Django field chosen by the column's type affinity.
"""
from __future__ import annotations

import inspect
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.commands.inspectdb import Command as InspectDb
from django.db import models
from django.utils.module_loading import import_string

from migration import conf, drift, inventory
from migration.dualwrite import MirroredModel
from migration.reader import ColumnInfo, LegacyReader

SAMPLE_VALUES = 200  # distinct stored values a suggester sees per column
DJANGO_MODELS = "django.db.models"


@dataclass(frozen=True)
class ColumnFacts:
    """What the legacy file says about one column: its declaration and some of its values, raw."""

    table: str
    name: str
    declared_type: str
    not_null: bool
    primary_key: bool
    default: str | None
    samples: tuple[Any, ...]


@dataclass(frozen=True)
class FieldCode:
    """A model field as code: ``<name>(**kwargs)``, imported from ``module``; ``comment`` says what was guessed."""

    module: str
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    comment: str = ""

    def source(self, attname: str, extra: dict[str, Any]) -> str:
        prefix = "models." if self.module == DJANGO_MODELS else ""
        arguments = ", ".join(f"{key}={_literal(value)}" for key, value in {**self.kwargs, **extra}.items())
        line = f"{attname} = {prefix}{self.name}({arguments})"
        return line + (f"  # {self.comment}" if self.comment else "")


Suggester = Callable[[ColumnFacts], "FieldCode | None"]  # the application's: None leaves it to the default
Suggest = Callable[[ColumnFacts], FieldCode]


def plain_field(facts: ColumnFacts) -> FieldCode:
    """The engine's default, as inspectdb chooses on SQLite: by declared type, then by affinity."""
    declared = facts.declared_type.upper()
    kind = drift.affinity(declared)
    if facts.primary_key and kind == "INTEGER":
        return FieldCode(DJANGO_MODELS, "BigAutoField")
    if "BOOL" in declared:
        return FieldCode(DJANGO_MODELS, "BooleanField")
    if kind == "INTEGER":
        return FieldCode(DJANGO_MODELS, "BigIntegerField")
    if kind == "REAL":
        return FieldCode(DJANGO_MODELS, "FloatField")
    if kind == "TEXT":
        return FieldCode(DJANGO_MODELS, "TextField")
    if kind == "BLOB" and declared:
        return FieldCode(DJANGO_MODELS, "BinaryField")
    types = {type(v).__name__ for v in facts.samples}
    return FieldCode(DJANGO_MODELS, "TextField",
                     comment=f"declared {facts.declared_type or 'without a type'}; values seen: "
                             f"{', '.join(sorted(types)) or 'none'}: check the field type")


def suggester() -> Suggest:
    """The application's suggester (``MIGRATION_FIELD_SUGGESTER``), falling back to :func:`plain_field`."""
    path = conf.field_suggester()
    chosen: Suggester | None = import_string(path) if path else None

    def suggest(facts: ColumnFacts) -> FieldCode:
        proposal = chosen(facts) if chosen is not None else None
        return proposal if proposal is not None else plain_field(facts)

    return suggest


def column_facts(reader: LegacyReader, table: str, column: ColumnInfo) -> ColumnFacts:
    return ColumnFacts(table, column.name, column.type, column.not_null, column.primary_key > 0, column.default,
                       tuple(reader.samples(table, column.name, SAMPLE_VALUES)))


@dataclass
class _Imports:
    names: dict[str, set[str]] = field(default_factory=dict)

    def add(self, code: FieldCode) -> None:
        if code.module != DJANGO_MODELS:
            self.names.setdefault(code.module, set()).add(code.name)

    def lines(self) -> list[str]:
        out = ["from django.db import models"]
        out += [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(self.names.items())]
        return out


def field_line(code: FieldCode, column: ColumnInfo, used: list[str], *, primary_key: bool = False) -> str:
    """One field of a model, named from its column as inspectdb names them."""
    attname, params, _ = InspectDb().normalize_col_name(column.name, used, False)
    used.append(attname)
    extra: dict[str, Any] = dict(params)
    if primary_key:
        extra["primary_key"] = True
    elif not column.not_null:
        extra.update(null=True, blank=True)
    return code.source(attname, extra)


def for_source(labels: Sequence[str] | None = None, *,
               on_wait: Callable[[str], None] | None = None) -> tuple[drift.DriftReport, str]:
    """The source's drift against the migrated models (or those ``labels`` name), and its code."""
    reader = LegacyReader.open(conf.source_alias(), on_wait=on_wait)
    try:
        models_ = inventory.migrated_models(labels) if labels else None
        found = drift.detect(models_, reader=reader, new_tables=not labels)
        return found, drift_code(found, reader)
    finally:
        reader.close()


def drift_code(report: drift.DriftReport, reader: LegacyReader) -> str:
    """The model code (and settings) that cover every finding of ``report``, with a comment on each."""
    suggest = suggester()
    imports = _Imports()
    blocks: list[str] = []
    for finding in report.findings:
        state = "blocking: the copy refuses and validation fails until it is covered" if finding.blocking else "a warning"
        header = f"# {finding.describe()}; {state}."
        if finding.kind == drift.TABLE:
            blocks.append(header + "\n" + _new_model(finding.table, reader, suggest, imports))
        elif finding.kind in (drift.COLUMN, drift.TYPE):
            column = next(c for c in reader.column_info(finding.table) if c.name == finding.column)
            code = suggest(column_facts(reader, finding.table, column))
            imports.add(code)
            verb = "Add to" if finding.kind == drift.COLUMN else "Change in"
            blocks.append(f"{header}\n# {verb} {finding.model} ({_where(finding.model)}):\n"
                          f"    {field_line(code, column, [])}")
        else:
            blocks.append(f"{header}\n# Remove the field of column {finding.column} from {finding.model} "
                          f"({_where(finding.model)}), or restore the column in the legacy file.")
    if not blocks:
        return f"# No schema drift: every table and column of {report.alias} is mapped or excluded.\n"
    intro = [f"# Schema drift of the legacy file ({report.alias}) against the models of "
             f"{', '.join(conf.migrated_apps())}: {len(report.findings)} finding(s), {len(report.blocking)} blocking.",
             "# Add the code below, then ./manage.py makemigrations and ./manage.py migrate (PostgreSQL only;",
             "# the legacy file is never altered), and copy what PostgreSQL lacks (docs/runbook.md, 'When the",
             "# legacy app changes its schema mid-move'). Or leave a table or column behind, with the reason:",
             "#   MIGRATION_EXCLUDE = {" + ", ".join(f'"{f.name}": "..."' for f in report.findings
                                                  if f.kind in (drift.TABLE, drift.COLUMN)) + "}",
             ""]
    return "\n".join(intro + imports.lines() + [""] + ["\n\n".join(blocks)]) + "\n"


def _new_model(table: str, reader: LegacyReader, suggest: Suggest, imports: _Imports) -> str:
    base = model_base()
    imports.names.setdefault(base.__module__, set()).add(base.__name__)
    lines = [f"class {_class_name(table)}({base.__name__}):", f'    """The legacy `{table}` table."""', ""]
    used: list[str] = []
    columns = [c for c in reader.column_info(table) if c.hidden != 1]
    keyed = [c for c in columns if c.primary_key]
    for column in columns:
        code = suggest(column_facts(reader, table, column))
        imports.add(code)
        lines.append("    " + field_line(code, column, used, primary_key=len(keyed) == 1 and column.primary_key > 0))
    if len(keyed) > 1:
        names = ", ".join(_literal(InspectDb().normalize_col_name(c.name, [], False)[0]) for c in keyed)
        lines.append(f"    pk = models.CompositePrimaryKey({names})")
    elif not keyed:
        lines.append("    # The table has no declared key: give it one the rows are unique by (primary_key=True).")
    lines += ["", "    class Meta:", f'        db_table = "{table}"']
    return "\n".join(lines)


def model_base() -> type[models.Model]:
    """The abstract base most migrated models inherit (the application's legacy model base)."""
    bases: Counter[type[models.Model]] = Counter()
    for app_label in conf.migrated_apps():
        for model in apps.get_app_config(app_label).get_models():
            for base in model.__mro__[1:]:
                meta = getattr(base, "_meta", None)
                if meta is not None and meta.abstract:
                    bases[base] += 1
                    break
    return bases.most_common(1)[0][0] if bases else MirroredModel


def _class_name(table: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]", "", table.title()) or "LegacyTable"


def _where(label: str) -> str:
    try:
        path = Path(inspect.getsourcefile(apps.get_model(label)) or "")
        return str(path.relative_to(Path(settings.BASE_DIR)))
    except (LookupError, TypeError, ValueError):
        return label


def _literal(value: Any) -> str:
    """Python source for a keyword argument, strings in double quotes as the models are written."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Sequence):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)
