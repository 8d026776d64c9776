"""Latency per database alias, shadow-read results: aggregated in process, flushed to the database.

Every statement on the source and target connections is timed by an execute wrapper installed when
the connection opens, and counted in a log-scale histogram per (alias, read/write). The process
writes its histograms to ``cutover_latency_sample`` on ``default`` at most every
FLUSH_SECONDS (at the end of a request, after a mirrored commit, or on demand), never inside a
transaction on ``default``; while PostgreSQL is down the data stays in the process (bounded by the
histogram size) and is written on the next successful flush.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import logging
import math
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

from migration import breaker, conf
from migration.models import LatencySample, ShadowMismatch

logger = logging.getLogger("migration.metrics")

FLUSH_SECONDS = 10.0
BUCKETS_PER_DOUBLING = 4
SMALLEST_MS = 0.01

_lock = threading.Lock()
# (alias, kind) -> [count, total_ms, Counter(bucket -> count)]
_pending: dict[tuple[str, str], list[Any]] = {}
_last_flush = time.monotonic()
_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("migration_metrics_quiet", default=False)


def bucket_of(ms: float) -> int:
    """Histogram bucket of a latency: bucket i holds (bound(i-1), bound(i)]."""
    if ms <= SMALLEST_MS:
        return 0
    return max(0, math.ceil(math.log2(ms / SMALLEST_MS) * BUCKETS_PER_DOUBLING))


def bucket_bound(index: int) -> float:
    """Upper bound in ms of bucket ``index`` (each bucket is 19% wider than the one before)."""
    return SMALLEST_MS * 2 ** (index / BUCKETS_PER_DOUBLING)


def observe(alias: str, kind: str, ms: float) -> None:
    """Count one latency."""
    with _lock:
        entry = _pending.setdefault((alias, kind), [0, 0.0, Counter()])
        entry[0] += 1
        entry[1] += ms
        entry[2][bucket_of(ms)] += 1


def statement_kind(sql: str) -> str | None:
    """read, write, or None for transaction control and DDL."""
    head = sql.lstrip()[:6].upper()
    if head.startswith("SELECT") or head.startswith("WITH"):
        return "read"
    if head.startswith(("INSERT", "UPDATE", "DELETE")):
        return "write"
    return None


def _timer(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        if not _quiet.get():
            kind = statement_kind(sql)
            if kind is not None:
                observe(context["connection"].alias, kind, (time.perf_counter() - started) * 1000)


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: time the statements of the source and target connections."""
    if connection.alias in (conf.source_alias(), conf.target_alias()) and _timer not in connection.execute_wrappers:
        connection.execute_wrappers.append(_timer)


def maybe_flush(force: bool = False) -> bool:
    """Write this process's histograms when FLUSH_SECONDS have passed (or ``force``); True if written."""
    global _last_flush
    now = time.monotonic()
    if not force and now - _last_flush < FLUSH_SECONDS:
        return False
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block or breaker.is_open(DEFAULT_DB_ALIAS):
        return False
    with _lock:
        taken = dict(_pending)
        _pending.clear()
        _last_flush = now
    if not taken:
        return True
    process = f"{socket.gethostname()}:{os.getpid()}"
    rows = [
        LatencySample(
            alias=alias, kind=kind, count=count, total_ms=total,
            histogram={str(k): v for k, v in histogram.items()}, process=process,
        )
        for (alias, kind), (count, total, histogram) in taken.items()
    ]
    token = _quiet.set(True)
    try:
        LatencySample.objects.using(DEFAULT_DB_ALIAS).bulk_create(rows)
    except DatabaseError as exc:
        if not _exiting:
            logger.warning("latency metrics not written (%s); kept for the next flush", exc)
        with _lock:
            for key, (count, total, histogram) in taken.items():
                entry = _pending.setdefault(key, [0, 0.0, Counter()])
                entry[0] += count
                entry[1] += total
                entry[2].update(histogram)
        return False
    finally:
        _quiet.reset(token)
    return True


_exiting = False


def flush_at_exit() -> None:
    """``atexit`` hook: write what is left, never raising while the interpreter shuts down."""
    global _exiting
    _exiting = True  # logging streams may already be closed: stay silent
    try:
        maybe_flush(force=True)
    except Exception:
        logger.debug("latency metrics not written at exit", exc_info=True)


def percentile(histogram: Counter[int], q: float) -> float | None:
    """The q-quantile (0..1) of a histogram, as its bucket's upper bound in ms."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return round(bucket_bound(index), 3)
    return round(bucket_bound(max(histogram)), 3)


def latency_summary(window: dt.timedelta = dt.timedelta(minutes=15)) -> dict[str, dict[str, dict[str, Any]]]:
    """p50/p95 and count per alias and kind over ``window`` (every process's flushed samples)."""
    merged: dict[tuple[str, str], Counter[int]] = {}
    token = _quiet.set(True)
    try:
        samples = LatencySample.objects.using(DEFAULT_DB_ALIAS).filter(at__gte=timezone.now() - window)
        for sample in samples.values_list("alias", "kind", "histogram"):
            alias, kind, histogram = sample
            merged.setdefault((alias, kind), Counter()).update({int(k): v for k, v in histogram.items()})
    except DatabaseError as exc:
        logger.warning("latency metrics unreadable: %s", exc)
    finally:
        _quiet.reset(token)
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for (alias, kind), histogram in sorted(merged.items()):
        summary.setdefault(alias, {})[kind] = {
            "count": sum(histogram.values()),
            "p50_ms": percentile(histogram, 0.50),
            "p95_ms": percentile(histogram, 0.95),
        }
    return summary


def shadow_mismatch_count(window: dt.timedelta = dt.timedelta(hours=24)) -> int | None:
    """Shadow-read mismatches recorded in ``window`` (None when unreadable)."""
    try:
        return ShadowMismatch.objects.using(DEFAULT_DB_ALIAS).filter(at__gte=timezone.now() - window).count()
    except DatabaseError:
        return None


def quiet() -> contextvars.Token[bool]:
    """Stop timing statements in this context (the engine's own bookkeeping); reset the token after."""
    return _quiet.set(True)


def reset_quiet(token: contextvars.Token[bool]) -> None:
    """Undo :func:`quiet`."""
    _quiet.reset(token)


def discard() -> None:
    """Forget unflushed data (tests)."""
    with _lock:
        _pending.clear()
