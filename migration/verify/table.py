"""One model as the validation sees it on both connections: stored fields, canonical kinds, keys.

The SQL of each side lives in its dialect's module: :mod:`migration.verify.postgres` (the target,
which hashes rows in SQL) and :mod:`migration.verify.sqlite` (the source, hashed in Python).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from migration import inventory
from migration.values import canonical
from migration.values.convert import read_row


@dataclass
class Table:
    """What the comparison needs to know about one model on both connections."""

    model: type[models.Model]
    source: BaseDatabaseWrapper
    target: BaseDatabaseWrapper
    fields: list[models.Field]
    kinds: list[str]
    key_indexes: list[int]  # the primary-key columns among ``fields`` (several for a composite key)
    key_kind: str  # "int", "text" or "composite": how keys are ordered and passed as parameters

    @classmethod
    def of(cls, model: type[models.Model], source: BaseDatabaseWrapper, target: BaseDatabaseWrapper) -> Table:
        fields = inventory.stored_fields(model)
        kinds = [canonical.column_kind(f, target) for f in fields]
        key_indexes = [next(i for i, f in enumerate(fields) if f is pk) for pk in model._meta.pk_fields]
        if len(key_indexes) > 1:
            key_kind = "composite"
        else:
            key_kind = "int" if kinds[key_indexes[0]] == canonical.INT else "text"
        return cls(model, source, target, fields, kinds, key_indexes, key_kind)

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @property
    def pk_index(self) -> int:
        """The single key column's index (the first key column's, for a composite key)."""
        return self.key_indexes[0]

    @property
    def pk_column(self) -> str:
        return inventory.column_of(self.fields[self.pk_index])

    @property
    def key_columns(self) -> list[str]:
        return [inventory.column_of(self.fields[i]) for i in self.key_indexes]

    @property
    def columns(self) -> list[str]:
        return [inventory.column_of(f) for f in self.fields]

    @property
    def composite(self) -> bool:
        return self.key_kind == "composite"

    def key_of(self, values: Sequence[Any]) -> Any:
        """The primary key of a row of values: a value, or a tuple for a composite key."""
        if self.composite:
            return tuple(values[i] for i in self.key_indexes)
        return values[self.key_indexes[0]]

    def read(self, raw: Sequence[Any], readers: list[inventory.ColumnReader], connection: BaseDatabaseWrapper) -> list[Any]:
        """Convert one raw row with the fields' converters; a value that cannot be read raises ConversionError."""
        return read_row(self.name, self.key_of(raw), raw, readers, connection)
