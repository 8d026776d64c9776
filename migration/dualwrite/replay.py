"""Replay: every pending record on both databases applied, the old primary's first."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models

from migration import phase
from migration.dualwrite.apply import ApplyResult, apply_jobs, flush_applied
from migration.dualwrite.pairs import configured_aliases
from migration.dualwrite.pending import _pending
from migration.dualwrite.records import outbox_depth_by_alias
from migration.models import OutboxRecord


@dataclass
class ReplayResult:
    """What ``replay`` did: per source alias, applied and failed records, and what is left."""

    by_alias: dict[str, ApplyResult] = field(default_factory=dict)
    remaining: dict[str, int | None] = field(default_factory=dict)

    @property
    def applied(self) -> int:
        return sum(r.applied for r in self.by_alias.values())

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.by_alias.values())

    @property
    def clean(self) -> bool:
        return self.failed == 0 and not any(self.remaining.values())


def replay(
    *,
    batch_size: int = 500,
    progress: Callable[[str, ApplyResult], None] | None = None,
) -> ReplayResult:
    """Apply every pending record on both databases, ignoring backoff and the breaker.

    The side that is not the current primary goes first: its records are older than the
    primary's (they predate the last phase change), so the primary's newer rows win.
    """
    primary = phase.primary_alias()
    aliases = sorted(configured_aliases(), key=lambda alias: alias == primary)
    flush_applied()
    result = ReplayResult()
    if len(aliases) < 2:
        result.remaining = outbox_depth_by_alias()
        return result
    for source in aliases:
        outcome = result.by_alias.setdefault(source, ApplyResult())
        last_pk = 0
        # The records there when the replay began: a busy primary keeps adding records, and a
        # replay that chased them would never end (the applier and the next replay take them).
        ceiling = OutboxRecord.objects.using(source).aggregate(top=models.Max("pk"))["top"] or 0
        while True:
            batch = list(
                OutboxRecord.objects.using(source).filter(pk__gt=last_pk, pk__lte=ceiling).order_by("pk")
                .values_list("pk", "model_label", "pk_value")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1][0]
            step = apply_jobs(source, batch, honour_breaker=False)
            outcome.applied += step.applied
            outcome.failed += step.failed
            outcome.skipped += step.skipped
            outcome.errors.extend(step.errors)
            if progress is not None:
                progress(source, step)
            if step.skipped:  # the other side is down: stop hammering it
                break
        flush_applied(source)
    result.remaining = outbox_depth_by_alias()
    _pending.forget()
    return result


def is_outbox(app_label: str, model_name: str | None) -> bool:
    """True for the outbox table, the one engine table that also lives in the SQLite file."""
    return app_label == "migration" and model_name == "outboxrecord"
