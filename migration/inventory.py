"""What the engine moves: the migrated models, their stored columns, their order, their values."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from migration import conf
from migration.exceptions import MigrationError


def migrated_models(labels: Iterable[str] | None = None) -> list[type[models.Model]]:
    """Concrete, managed models of the migrated apps, parents before children (FK order).

    ``labels`` narrows the list to models named by ``app_label.ModelName``, model name or table.
    """
    found = [
        model
        for app_label in conf.migrated_apps()
        for model in apps.get_app_config(app_label).get_models()
        if model._meta.managed and not model._meta.proxy
    ]
    if labels is not None:
        wanted = {label.lower() for label in labels}
        found = [
            m for m in found
            if {m._meta.label_lower, m._meta.model_name, m._meta.db_table.lower()} & wanted
        ]
    return dependency_order(found)


def dependency_order(models_: list[type[models.Model]]) -> list[type[models.Model]]:
    """Sort models so that every FK target comes before the models pointing at it."""
    pending = sorted(models_, key=lambda m: m._meta.db_table)
    included = set(pending)
    ordered: list[type[models.Model]] = []
    placed: set[type[models.Model]] = set()
    while pending:
        progress = False
        for model in list(pending):
            targets = {
                f.related_model for f in model._meta.concrete_fields
                if f.is_relation and f.related_model in included and f.related_model is not model
            }
            if targets <= placed:
                ordered.append(model)
                placed.add(model)
                pending.remove(model)
                progress = True
        if not progress:  # a cycle: keep the remaining models in name order
            ordered.extend(pending)
            break
    return ordered


def stored_fields(model: type[models.Model]) -> list[models.Field]:
    """The concrete fields that hold stored, writable columns (generated columns excluded)."""
    return [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]


def column_of(field: models.Field) -> str:
    """The database column of a concrete field (Django leaves it None only on fields without one)."""
    if field.column is None:
        raise MigrationError(f"{field} has no database column; only concrete fields are migrated")
    return field.column


def column_named(model: type[models.Model], name: str) -> str:
    """The column of ``model``'s field ``name``, as a constraint or an index names it."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise MigrationError(f"{model._meta.label}.{name} is a reverse relation, not a column")
    return column_of(field)


@dataclass(frozen=True)
class ColumnReader:
    """Turns one raw column value read from a connection into the field's Python value."""

    field: models.Field
    converters: tuple[Callable[..., Any], ...]
    expression: Any

    @property
    def column(self) -> str:
        return column_of(self.field)

    def __call__(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        for converter in self.converters:
            value = converter(value, self.expression, connection)
        return value


def column_readers(model: type[models.Model], connection: BaseDatabaseWrapper) -> list[ColumnReader]:
    """Readers for :func:`stored_fields`, using the same converters the ORM applies on that connection."""
    readers = []
    for field in stored_fields(model):
        col = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        readers.append(ColumnReader(field, tuple(converters), col))
    return readers
