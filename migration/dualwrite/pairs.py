"""Which databases take part in the dual writes, and the fence of a switch of primary."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, models

from migration import conf, fence, flags, phase

PK_CHUNK = 500
DRAIN_INTERVAL_SECONDS = 10.0  # how often, at most, a process retries old pending records
DRAIN_BATCH = 100
DRAIN_MIN_AGE_SECONDS = 5.0  # leave young records to the on_commit apply of their own transaction
MAX_BACKOFF_SECONDS = 300
PENDING_MEMO_SECONDS = 1.0

CONNECTION_ERRORS = (OperationalError, InterfaceError)


# --- Which databases take part -------------------------------------------------------------


def active_pair() -> tuple[str, str] | None:
    """(primary, secondary) while writes are mirrored, else None."""
    secondary = phase.secondary_alias()
    if secondary is None:
        return None
    return phase.primary_alias(), secondary


def other_alias(alias: str) -> str:
    """The other side of the move."""
    return conf.target_alias() if alias == conf.source_alias() else conf.source_alias()


def configured_aliases() -> list[str]:
    """The aliases holding an outbox: source (while configured) and target."""
    aliases = [conf.source_alias(), conf.target_alias()]
    return [a for a in aliases if a in settings.DATABASES]


def _mirroring_into(using: str, model: type[models.Model]) -> bool:
    """True when a write of ``model`` on ``using`` must leave an outbox record."""
    if not conf.is_migrated(model._meta.app_label):
        return False
    pair = active_pair()
    return pair is not None and using == pair[0]


class _PrimaryMoved(Exception):
    """Raised inside a write transaction whose database stopped being the primary meanwhile."""


def primary_moved(using: str) -> bool:
    """Inside a write transaction on ``using``: has the primary moved away since it was routed?

    This is the fence of a switch of primary. SQLite transactions begin IMMEDIATE, so a writer
    here holds SQLite's write lock, and phase changes that move the primary flip the switches while
    holding that same lock. A writer that routed to SQLite just before the switch therefore either
    commits before it, or sees the new phase here and retries on PostgreSQL; it never inserts into
    SQLite an id PostgreSQL is handing out at the same time.

    The phase is read from the file's own copy (written by every phase change inside that same
    lock), so no PostgreSQL round trip happens while SQLite's write lock is held: a slow
    PostgreSQL cannot stall SQLite's writers here. Without a copy (a file the engine has not yet
    recorded a phase in), the switches are read from PostgreSQL.
    """
    if using != conf.source_alias() or connections[using].vendor != "sqlite":
        return False
    recorded = flags.read_source_copy(using)
    if recorded is None:
        return phase.state_from(flags.fresh()).phase >= phase.Phase.POSTGRES_PRIMARY
    moved = phase.state_from(recorded).phase >= phase.Phase.POSTGRES_PRIMARY
    if moved:
        flags.adopt(recorded)  # the retry routes by the newer phase
    return moved


# --- Writes that meet a fence -----------------------------------------------------------------

# How long a write refused by a fence (a switch of primary under way) waits for the switch and
# retries on the new primary before the refusal reaches the caller.
SWITCH_WAIT_SECONDS = 10.0
_T = TypeVar("_T")


def through_switch(write: Callable[[], _T], alias: Callable[[], str]) -> _T:
    """Run ``write``; while a fence refuses it, wait, read the phase afresh and run it again.

    ``alias`` names the database the write is about to use. A write inside a transaction the caller
    holds on that database is not retried (its transaction cannot move to the other database): the
    refusal, which names the phase, reaches the caller, and the API answers 503.
    """
    deadline = time.monotonic() + SWITCH_WAIT_SECONDS
    delay = 0.01
    while True:
        outer = connections[alias()].in_atomic_block
        try:
            return write()
        except DatabaseError as exc:
            if outer or not fence.is_fence_error(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
        flags.fresh()
