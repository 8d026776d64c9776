"""The base of every legacy model, and the raw CHECK kept for a legacy quirk."""
from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.expressions import RawSQL

from migration.dualwrite import MirroredModel


class LegacyModel(MirroredModel):
    """A model whose table, columns and constraints are those of the legacy SQLite database.

    Its writes are mirrored by the cutover engine (``objects`` is the mirrored manager); a custom
    manager must wrap its QuerySet with ``migration.dualwrite.mirrored_manager``.
    """

    class Meta(MirroredModel.Meta):
        abstract = True


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
