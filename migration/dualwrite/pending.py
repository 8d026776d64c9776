"""What this process knows of pending outbox records: its applied-but-not-deleted records, and
which models have pending records on the primary (read-your-writes across requests)."""
from __future__ import annotations

import threading
import time

from django.db import DatabaseError

from migration import conf
from migration.models import OutboxRecord

PENDING_MEMO_SECONDS = 1.0

# Records this process applied, per source alias, waiting for their batched delete.
_applied_lock = threading.Lock()
_applied: dict[str, list[int]] = {}

class _PendingModels:
    """Which models have pending records on the primary: read-your-writes across requests.

    Refreshed from the outbox at most every PENDING_MEMO_SECONDS per process, and updated at once
    by this process's own writes. With background mirrors (``MIGRATION_MIRROR = "async"``) it is
    read from the outbox on every question: another process's write may have returned before its
    mirror landed, and only its record says so.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = 0.0
        self._alias = ""
        self._labels: set[str] = set()

    def note(self, alias: str, label: str) -> None:
        with self._lock:
            if alias == self._alias:
                self._labels.add(label)

    def forget(self) -> None:
        with self._lock:
            self._at, self._alias, self._labels = 0.0, "", set()

    def stale(self) -> None:
        """Re-read on the next question (records were just applied)."""
        with self._lock:
            self._at = 0.0

    def has(self, alias: str, label: str) -> bool:
        now = time.monotonic()
        memo = PENDING_MEMO_SECONDS if conf.mirror_mode() == "sync" else 0.0
        if alias != self._alias or now - self._at >= memo:
            with _applied_lock:
                applied = list(_applied.get(alias, ()))
            try:
                records = OutboxRecord.objects.using(alias)
                if applied:  # applied by this process, only waiting for their batched delete
                    records = records.exclude(pk__in=applied)
                labels = set(records.values_list("model_label", flat=True).distinct())
            except DatabaseError:
                labels = set(self._labels) if alias == self._alias else set()
            with self._lock:
                self._at, self._alias, self._labels = now, alias, labels
        return label in self._labels


_pending = _PendingModels()
