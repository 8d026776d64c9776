"""The base of every legacy model, the legacy ``updated_at`` trigger as ORM behaviour, and raw CHECKs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone

from migration.dualwrite import MirroredModel, MirroredQuerySetMixin

if TYPE_CHECKING:
    from django.db.models.query import _Model

TOUCH_FIELD = "updated_at"


class LegacyModel(MirroredModel):
    """A model whose table, columns and constraints are those of the legacy SQLite database.

    Its writes are mirrored by the cutover engine (``objects`` is the mirrored manager); a custom
    manager must wrap its QuerySet with ``migration.dualwrite.mirrored_manager``.
    """

    class Meta(MirroredModel.Meta):
        abstract = True


def touch_value(model: type[models.Model], field_name: str = TOUCH_FIELD) -> dt.datetime:
    """Now, at the precision the field's legacy shapes hold (whole seconds for SQLite timestamps)."""
    field = model._meta.get_field(field_name)
    now = timezone.now()
    truncate = getattr(field, "truncate", None)
    return truncate(now) if truncate is not None else now


class TouchUpdatedAtQuerySet(MirroredQuerySetMixin, models.QuerySet):
    """``update()`` and ``bulk_update()`` also set ``updated_at`` to now, as a legacy trigger did.

    The legacy ``AFTER UPDATE`` trigger refreshed ``updated_at`` on every UPDATE that left it alone;
    an UPDATE that sets it explicitly keeps its value (a loader copying legacy rows). It combines
    with other QuerySets by inheritance; the mirrored mixin comes first in its bases so the touched
    ``updated_at`` is part of the mirrored update (``as_manager()`` is then a mirrored manager).
    """

    def update(self, **kwargs: Any) -> int:
        kwargs.setdefault(TOUCH_FIELD, touch_value(self.model))
        return super().update(**kwargs)

    def bulk_update(
        self, objs: Iterable[_Model], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        objs = list(objs)
        fields = list(fields)
        if TOUCH_FIELD not in fields:
            now = touch_value(self.model)
            for obj in objs:
                setattr(obj, TOUCH_FIELD, now)
            fields = [*fields, TOUCH_FIELD]
        return super().bulk_update(objs, fields, batch_size=batch_size)


def touch_on_save(
    instance: models.Model, update_fields: Iterable[str] | None, force_insert: bool | Any = False
) -> Iterable[str] | None:
    """Set ``instance.updated_at`` to now when ``save()`` updates an existing row.

    Returns the ``update_fields`` to pass on, with ``updated_at`` added when the caller named fields.
    An insert (a new instance, or ``force_insert``, as when a row is copied to another database)
    keeps its value; the field default is now.
    """
    if instance._state.adding or force_insert:
        return update_fields
    setattr(instance, TOUCH_FIELD, touch_value(type(instance)))
    if update_fields is not None and TOUCH_FIELD not in update_fields:
        return [*update_fields, TOUCH_FIELD]
    return update_fields


class LegacyCheck(RawSQL):
    """A CHECK condition kept verbatim from the legacy DDL, for quirks a ``Q`` cannot express.

    ``market_risk_level IN ('low', 'medium', 'high', NULL)`` accepts any value, because the NULL
    makes the IN test unknown rather than false; Django's ``__in`` lookup drops the NULL and would
    turn it into a real constraint that legacy rows could violate.
    """

    def __init__(self, sql: str, **kwargs: Any) -> None:
        super().__init__(sql, [], output_field=models.BooleanField())

    def deconstruct(self) -> Any:
        return ("core.models.base.LegacyCheck", (self.sql,), {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LegacyCheck) and other.sql == self.sql

    def __hash__(self) -> int:
        return hash(self.sql)
