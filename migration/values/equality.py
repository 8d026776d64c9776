"""The one equality of the engine: two values are equal when the target column would store them the same.

Validation compares canonical row hashes, spot checks compare the values the fields read on both
sides, and shadow reads compare the rows a query returned on both sides. All three ask this
module, so a difference found by one is found by the others: ``True`` and ``1`` in a boolean
column are equal (PostgreSQL stores both as true), ``NULL`` and ``''`` are not, and two floats
differ when any of their 64 bits does.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from migration import conf, inventory
from migration.values import canonical


def part(field: models.Field, value: Any, target: BaseDatabaseWrapper | None = None) -> str | None:
    """The canonical part of ``value`` in ``field``'s target column, or None when it cannot have one."""
    target = target or connections[conf.target_alias()]
    canon = canonical.python_canonical(canonical.column_kind(field, target), field, target)
    try:
        return canonical.python_part(canon, value)
    except (ValueError, TypeError, ArithmeticError, OverflowError):
        return None


def same_value(field: models.Field, a: Any, b: Any, target: BaseDatabaseWrapper | None = None) -> bool:
    """True when the target column would hold ``a`` and ``b`` the same (the canonical text of both)."""
    left, right = part(field, a, target), part(field, b, target)
    if left is None or right is None:
        # A value the column cannot hold is only ever equal to itself, value and type.
        return type(a) is type(b) and a == b
    return left == right


def same_row(model: type[models.Model], a: Sequence[Any], b: Sequence[Any],
             target: BaseDatabaseWrapper | None = None) -> bool:
    """True when two rows of ``model`` (values in stored-field order) are equal column by column."""
    fields = inventory.stored_fields(model)
    return len(a) == len(b) == len(fields) and all(same_value(f, x, y, target) for f, x, y in zip(fields, a, b))


def row_values(obj: models.Model) -> list[Any]:
    """A model instance's values in stored-field order, as :func:`same_row` takes them."""
    return [getattr(obj, f.attname) for f in inventory.stored_fields(type(obj))]


def comparable(row: Any, target: BaseDatabaseWrapper | None = None) -> Any:
    """A value equal for two query results exactly when :func:`same_value` holds column by column.

    Model instances become the canonical parts of their stored fields (a value the column cannot
    hold keeps its repr and type, so it equals only itself); ``values()`` dicts become sorted
    items; anything else is returned as it is.
    """
    if isinstance(row, models.Model):
        target = target or connections[conf.target_alias()]
        return tuple(
            part(f, value, target) or f"!{type(value).__name__}:{value!r}"
            for f, value in zip(inventory.stored_fields(type(row)), row_values(row))
        )
    if isinstance(row, dict):
        return tuple(sorted(row.items()))
    return row
