"""Expressions for the legacy generated columns, written so PostgreSQL accepts them as immutable."""
from __future__ import annotations

from typing import Any

from django.db import models


class UTCYearMonth(models.Func):
    """``strftime('%Y-%m', col)`` on SQLite; the same 'YYYY-MM' text from a timestamptz on PostgreSQL."""

    output_field = models.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="strftime('%%Y-%%m', %(expressions)s)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # to_char() is only STABLE, so a generated column cannot use it; extract() on a UTC
        # timestamp is IMMUTABLE.
        template = (
            "(lpad(extract(year FROM (%(expressions)s AT TIME ZONE 'UTC'))::int::text, 4, '0') || '-' || "
            "lpad(extract(month FROM (%(expressions)s AT TIME ZONE 'UTC'))::int::text, 2, '0'))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class UTCDate(models.Func):
    """``date(col)`` on SQLite; the UTC calendar date of a timestamptz on PostgreSQL."""

    output_field = models.DateField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="date(%(expressions)s)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="((%(expressions)s AT TIME ZONE 'UTC')::date)", **extra)
