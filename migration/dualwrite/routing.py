"""Where a read goes: the primary, or in the read rollout the secondary when that is safe."""
from __future__ import annotations

from django.db import models

from migration import breaker, conf, context, flags, phase
from migration.dualwrite.records import has_pending


def read_alias(model: type[models.Model]) -> str:
    """Where a read of ``model`` goes now.

    Only the read rollout reads from the secondary, and only when the request (or, outside
    requests, the background switch) is in the rollout, the request has not written, the model has
    no pending outbox records, and PostgreSQL is not known to be down.
    """
    primary = phase.primary_alias()
    if phase.current() != phase.Phase.READ_ROLLOUT or not phase.source_configured():
        return primary
    target = conf.target_alias()
    if not flags.reads_from_postgres() or breaker.is_open(target):
        return primary
    routing = context.current()
    if routing is not None and routing.wrote:
        return primary
    if has_pending(model, primary):
        return primary
    return target


def shadow_alias(read_from: str) -> str | None:
    """The database a shadow read compares ``read_from`` with, when both are in play."""
    if phase.secondary_alias() is None:
        return None
    other = conf.target_alias() if read_from == conf.source_alias() else conf.source_alias()
    return None if breaker.is_open(other) else other
