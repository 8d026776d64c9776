"""Shadow reads (the Scientist pattern): repeat a sampled read on the other database and compare.

The user's result is always the primary read's; the shadow read's outcome, its latency and any
mismatch are recorded, and any error in it is logged and swallowed.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError

from migration import metrics, phase
from migration.dualwrite.records import has_pending
from migration.dualwrite.routing import shadow_alias
from migration.models import ShadowMismatch
from migration.values.equality import comparable

logger = logging.getLogger("migration.shadow")


def compare(queryset: Any, read_alias: str, read_ms: float) -> bool | None:
    """Run ``queryset`` again on the other database; True when equal, False on mismatch, None if skipped."""
    other = shadow_alias(read_alias)
    if other is None or has_pending(queryset.model, phase.primary_alias()):
        # Rows still in the outbox differ by design; comparing them would only raise false alarms.
        return None
    clone = queryset._chain()
    clone._db = other
    started = time.perf_counter()
    try:
        shadow_rows = list(clone)
    except Exception as exc:  # noqa: BLE001 - the shadow never affects the response
        logger.warning("shadow read of %s on %s failed: %s", queryset.model._meta.label, other, exc)
        return None
    shadow_ms = (time.perf_counter() - started) * 1000
    metrics.observe(other, "shadow", shadow_ms)
    primary_values = [comparable(r) for r in queryset._result_cache or []]
    shadow_values = [comparable(r) for r in shadow_rows]
    if not queryset.ordered:
        primary_values.sort(key=repr)
        shadow_values.sort(key=repr)
    if primary_values == shadow_values:
        return True
    _record(queryset, read_alias, other, read_ms, shadow_ms, primary_values, shadow_values)
    return False


def _record(
    queryset: Any, read_alias: str, other: str, read_ms: float, shadow_ms: float,
    primary_values: list[Any], shadow_values: list[Any],
) -> None:
    only_primary = [v for v in primary_values if v not in shadow_values][:3]
    only_shadow = [v for v in shadow_values if v not in primary_values][:3]
    detail = f"only on {read_alias}: {only_primary!r}; only on {other}: {only_shadow!r}"[:4000]
    logger.warning("shadow read mismatch on %s: %s", queryset.model._meta.label, detail)
    try:
        query = str(queryset.query)
    except Exception:  # noqa: BLE001 - some queries cannot be rendered without a connection
        query = repr(queryset.query)
    token = metrics.quiet()
    try:
        ShadowMismatch.objects.using(DEFAULT_DB_ALIAS).create(
            model_label=queryset.model._meta.label,
            query=query[:4000],
            primary_alias=read_alias,
            shadow_alias=other,
            primary_ms=read_ms,
            shadow_ms=shadow_ms,
            primary_rows=len(primary_values),
            shadow_rows=len(shadow_values),
            detail=detail,
        )
    except DatabaseError as exc:
        logger.warning("shadow mismatch not stored: %s", exc)
    finally:
        metrics.reset_quiet(token)
