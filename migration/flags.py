"""The only module that names the cutover's waffle switches, flag and sample; typed predicates over them.

Every predicate reads one snapshot of all of them. The snapshot is read from waffle's tables in the
database, not through waffle's cache, and memoised in this process for at most :data:`MEMO_SECONDS`,
so a change reaches every process within that time whatever the cache backend. (Waffle's cache can
keep an old value for its whole timeout: a process that read the row just before a change committed
stores it after the change's flush.) On a database error the last known snapshot is used (kept in
this process and in the cache under a key naming the database, without expiry).
"""
from __future__ import annotations

import contextvars
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.http import HttpRequest

from migration import breaker, conf, context, phasecopy
from migration.db import discard_broken_connection
from migration.exceptions import PhaseUnknown

logger = logging.getLogger("migration.flags")

SWITCH_DUAL_WRITE = "cutover_dual_write"
FLAG_READ_POSTGRES = "cutover_read_postgres"
SWITCH_BACKGROUND_READS_POSTGRES = "cutover_background_reads_postgres"
SWITCH_POSTGRES_PRIMARY = "cutover_postgres_primary"
SWITCH_FINALIZED = "cutover_finalized"
SWITCH_SHADOW_READS = "cutover_shadow_reads"
SAMPLE_SHADOW_READS = "cutover_shadow_read_sample"

SWITCHES = (
    SWITCH_DUAL_WRITE,
    SWITCH_BACKGROUND_READS_POSTGRES,
    SWITCH_POSTGRES_PRIMARY,
    SWITCH_FINALIZED,
    SWITCH_SHADOW_READS,
)
ALL_NAMES = (*SWITCHES, FLAG_READ_POSTGRES, SAMPLE_SHADOW_READS)

# The read rollout's per-browser bucket cookie (one year); the bucket is derived from it, so raising
# the percent only ever adds browsers to PostgreSQL and lowering it only removes the newest ones.
BUCKET_COOKIE = "cutover_bucket"
BUCKET_COOKIE_MAX_AGE = 365 * 24 * 3600

MEMO_SECONDS = 1.0
LAST_KNOWN_KEY = "migration:flags:last-known"


def _last_known_key() -> str:
    """The cache key of the last known snapshot, naming the database it was read from."""
    from django.conf import settings

    return f"{LAST_KNOWN_KEY}:{settings.DATABASES.get(DEFAULT_DB_ALIAS, {}).get('NAME') or ''}"


@dataclass(frozen=True)
class FlagState:
    """One reading of every cutover switch and flag."""

    dual_write: bool = False
    read_percent: float = 0.0
    background_reads_postgres: bool = False
    postgres_primary: bool = False
    finalized: bool = False
    shadow_reads: bool = False
    shadow_percent: float = 0.0
    stale: bool = False  # True when read from the last known value because the database failed


_lock = threading.Lock()
_memo: tuple[float, FlagState] | None = None
_last_known: FlagState | None = None
_pinned: contextvars.ContextVar[FlagState | None] = contextvars.ContextVar("migration_flags_pinned", default=None)


def forget() -> None:
    """Drop the in-process memo so the next predicate reads waffle again (tests, flag changes)."""
    global _memo
    with _lock:
        _memo = None


def state() -> FlagState:
    """The current snapshot (memoised for at most MEMO_SECONDS), or the one :func:`pinned` holds."""
    held = _pinned.get()
    if held is not None:
        return held
    memo = _memo
    if memo is not None and time.monotonic() - memo[0] < MEMO_SECONDS:
        return memo[1]
    return fresh()


def adopt(snapshot: FlagState) -> None:
    """Take ``snapshot`` as this process's reading now (and the pinned one, inside :func:`pinned`).

    The switch fence found a newer phase in the SQLite file's copy: the retried write follows it
    without asking PostgreSQL while SQLite's write lock is held.
    """
    global _memo
    with _lock:
        _memo = (time.monotonic(), snapshot)
    if _pinned.get() is not None:
        _pinned.set(snapshot)


def fresh() -> FlagState:
    """Read the switches now (past the memo and any pinned snapshot) and memoise what was read.

    Inside :func:`pinned` the fresh snapshot replaces the held one until the block ends: a write
    that found the primary moved (``dualwrite.primary_moved``) is retried on the new phase.
    """
    global _memo
    now = time.monotonic()
    snapshot = _read()
    with _lock:
        _memo = (now, snapshot)
    if _pinned.get() is not None:
        _pinned.set(snapshot)
    return snapshot


@contextmanager
def pinned() -> Iterator[FlagState]:
    """Hold one snapshot for a whole write, so its routing and its mirroring decide on the same phase.

    Without it the memo can expire between the router's answer and the check whether that
    database is the primary: a write routed to the old primary would then be taken for a write on
    the secondary and not mirrored. Nested blocks keep the outer snapshot.
    """
    held = _pinned.get()
    if held is not None:
        yield held
        return
    snapshot = state()
    token = _pinned.set(snapshot)
    try:
        yield snapshot
    finally:
        _pinned.reset(token)


def _read() -> FlagState:
    """One reading of the switches: the SQLite file's copy while it says SQLite is the primary
    (phases 0-2) or records an emergency rollback, else PostgreSQL's (phases 3-4).

    Every phase change writes the file's copy: ``cutover`` in the transaction that flips the
    switches, waffle's admin right after its commit. So while SQLite is the primary no process asks
    PostgreSQL for the phase, and a slow, hung or unreachable PostgreSQL cannot hold up a write to
    SQLite by the phase read.
    """
    global _last_known
    recorded = phasecopy.read_committed(conf.source_alias())
    if recorded is not None and (recorded.get("emergency") or not (recorded.get("postgres_primary")
                                                                   or recorded.get("finalized"))):
        fresh = _state_of(recorded)
    else:
        if not breaker.allows(DEFAULT_DB_ALIAS):
            return _fallback()
        try:
            fresh = read_uncached()
        except DatabaseError as exc:
            breaker.trip(DEFAULT_DB_ALIAS, exc)
            discard_broken_connection(DEFAULT_DB_ALIAS)
            logger.warning("cutover flags unreadable (%s); using the last known values", exc)
            return _fallback()
    if fresh != _last_known:
        _last_known = fresh
        try:
            cache.set(_last_known_key(), asdict(fresh), timeout=None)
        except Exception:  # a broken cache must not break routing
            logger.warning("could not store the last known cutover flags in the cache", exc_info=True)
    return fresh


def _fallback() -> FlagState:
    """The phase when PostgreSQL cannot be read: an emergency rollback's, this process's last
    reading, the cache's, SQLite's copy.

    With none of them the phase is unknown, and :class:`~migration.exceptions.PhaseUnknown` is
    raised: a process never guesses phase 0 (its writes would then not be mirrored).
    """
    overridden = _emergency_state()
    if overridden is not None:
        return overridden
    if _last_known is not None:
        return FlagState(**{**asdict(_last_known), "stale": True})
    try:
        stored = cache.get(_last_known_key())
    except Exception:  # noqa: BLE001
        stored = None
    if stored:
        return FlagState(**{**stored, "stale": True})
    recorded = read_source_copy()
    if recorded is not None:
        return FlagState(**{**asdict(recorded), "stale": True})
    raise PhaseUnknown(
        "the cutover phase is unknown: PostgreSQL cannot be read and the SQLite file holds no copy of "
        f"the phase ({SOURCE_COPY_TABLE}); writes are refused until PostgreSQL answers"
    )


def _emergency_state() -> FlagState | None:
    """The SQLite file's copy of the phase, while it records an emergency rollback."""
    if emergency() is None:  # one small SQLite query per refresh (at most one a second)
        return None
    return read_source_copy()


# --- The copy of the switches each database keeps (migration.phasecopy) -------------------------

SOURCE_COPY_TABLE = phasecopy.TABLE
_FIELDS = set(FlagState.__dataclass_fields__)


def _state_of(recorded: dict[str, Any]) -> FlagState:
    return FlagState(**{k: v for k, v in recorded.items() if k in _FIELDS and k != "stale"})


def write_source_copy(state: FlagState, using: str | None = None, *, epoch: int | None = None,
                      emergency: dict[str, Any] | None = None) -> None:
    """Record ``state`` in the SQLite file, or the database ``using`` (inside the caller's transaction
    on it, if any); with ``epoch``, the number of switches of primary so far, else the one recorded.
    ``emergency`` marks a rollback made while PostgreSQL was unreachable (see :func:`emergency`)."""
    alias = using or conf.source_alias()
    values = {**{k: v for k, v in asdict(state).items() if k != "stale"},
              "epoch": read_epoch(alias) if epoch is None else epoch}
    if emergency is not None:
        values["emergency"] = emergency
    phasecopy.write(alias, values)


def read_source_copy(using: str | None = None) -> FlagState | None:
    """The switches as last recorded in the SQLite file (or ``using``), or None when it holds no copy."""
    recorded = phasecopy.read(using or conf.source_alias())
    return None if recorded is None else _state_of(recorded)


def emergency(using: str | None = None) -> dict[str, Any] | None:
    """The marker of an emergency rollback the SQLite file recorded while PostgreSQL was unreachable,
    not yet recorded on PostgreSQL; None when there is none. While it stands, the file's copy of the
    phase is the phase, whatever PostgreSQL's switches say."""
    recorded = phasecopy.read_committed(using or conf.source_alias())
    marker = recorded.get("emergency") if recorded else None
    return marker if isinstance(marker, dict) else None


def read_epoch(using: str | None = None) -> int:
    """How many switches of primary the copy in ``using`` (default: the SQLite file) has recorded; 0
    when it holds none. Each switch writes the new epoch in both databases."""
    recorded = phasecopy.read(using or conf.source_alias())
    return int(recorded.get("epoch", 0)) if recorded else 0


# --- Typed predicates -------------------------------------------------------------------------


def dual_write_enabled() -> bool:
    """Writes of migrated models are mirrored to the secondary database (phases 1-3)."""
    return state().dual_write


def read_rollout_percent() -> float:
    """Percent of requests (browsers) reading from PostgreSQL in the read rollout."""
    return state().read_percent


def background_reads_from_postgres() -> bool:
    """Outside requests (commands, jobs) the read rollout reads PostgreSQL."""
    return state().background_reads_postgres


def postgres_primary() -> bool:
    """PostgreSQL takes the writes first; SQLite is the mirror (phase 3)."""
    return state().postgres_primary


def finalized() -> bool:
    """Mirroring has stopped; SQLite is archived (phase 4)."""
    return state().finalized


def shadow_reads_enabled() -> bool:
    """Sampled reads are repeated on the other database and compared."""
    return state().shadow_reads


def shadow_read_sampled() -> bool:
    """Draw once: should this read be shadowed?"""
    snapshot = state()
    if not snapshot.shadow_reads or snapshot.shadow_percent <= 0:
        return False
    return secrets.randbelow(10000) < snapshot.shadow_percent * 100


def reads_from_postgres() -> bool:
    """The read-rollout decision for the running code: the request's, or the background switch."""
    routing = context.current()
    if routing is not None:
        return routing.reads_postgres
    return background_reads_from_postgres()


def bucket_of(token: str) -> float:
    """A stable position in [0, 100) for a bucket cookie value."""
    digest = hashlib.sha256(f"{FLAG_READ_POSTGRES}:{token}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 1000 / 10


def request_reads_from_postgres(request: HttpRequest) -> tuple[bool, str | None]:
    """Evaluate the read flag once for ``request``: (reads PostgreSQL, new bucket cookie or None).

    The choice is sticky per browser: the bucket comes from a cookie set on the first response.
    """
    percent = read_rollout_percent()
    token = request.COOKIES.get(BUCKET_COOKIE)
    new_token = None
    if not token:
        token = new_token = secrets.token_hex(16)
    if percent >= 100:
        return True, new_token
    if percent <= 0:
        return False, new_token
    return bucket_of(token) < percent, new_token


# --- Writers (used by migration.phase only) --------------------------------------------------


def write_state(
    *,
    dual_write: bool,
    read_percent: float,
    background_reads_postgres: bool,
    postgres_primary: bool,
    finalized: bool,
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Set every phase switch and the read flag; call inside a transaction on ``using``."""
    from waffle import get_waffle_flag_model, get_waffle_switch_model

    switch_model = get_waffle_switch_model()
    wanted = {
        SWITCH_DUAL_WRITE: dual_write,
        SWITCH_BACKGROUND_READS_POSTGRES: background_reads_postgres,
        SWITCH_POSTGRES_PRIMARY: postgres_primary,
        SWITCH_FINALIZED: finalized,
    }
    for name, active in wanted.items():
        switch, _ = switch_model.objects.using(using).get_or_create(name=name)
        if switch.active != active:
            switch.active = active
            switch.save(using=using)
        switch.flush()
    flag, _ = get_waffle_flag_model().objects.using(using).get_or_create(
        name=FLAG_READ_POSTGRES,
        defaults={"superusers": False, "note": "Read rollout of the cutover; see docs/runbook.md."},
    )
    if read_percent >= 100:
        everyone, percent = True, None
    elif read_percent <= 0:
        everyone, percent = None, None
    else:
        everyone, percent = None, Decimal(str(read_percent)).quantize(Decimal("0.1"))
    if (flag.everyone, flag.percent, flag.superusers) != (everyone, percent, False):
        flag.everyone, flag.percent, flag.superusers = everyone, percent, False
        flag.save(using=using)
    flag.flush()
    forget()


def set_shadow_reads(active: bool, percent: float, using: str = DEFAULT_DB_ALIAS) -> None:
    """Turn shadow reads on or off and set their sample percent."""
    from waffle import get_waffle_sample_model, get_waffle_switch_model

    switch, _ = get_waffle_switch_model().objects.using(using).get_or_create(name=SWITCH_SHADOW_READS)
    switch.active = active
    switch.save(using=using)
    switch.flush()
    sample, _ = get_waffle_sample_model().objects.using(using).get_or_create(
        name=SAMPLE_SHADOW_READS, defaults={"percent": Decimal("0")}
    )
    sample.percent = Decimal(str(percent)).quantize(Decimal("0.1"))
    sample.save(using=using)
    sample.flush()
    forget()


def is_cutover_name(name: str) -> bool:
    """True for a switch, flag or sample this module owns (waffle admin changes are audited)."""
    return name in ALL_NAMES


_read_sql_cache: dict[str, tuple[str, tuple[Any, ...]]] = {}


def _read_sql(using: str) -> tuple[str, tuple[Any, ...]]:
    """One statement reading the cutover's switches, flag and sample (compiled once per alias)."""
    sql = _read_sql_cache.get(using)
    if sql is None:
        from django.db.models import BooleanField, DecimalField, Value
        from waffle import get_waffle_flag_model, get_waffle_sample_model, get_waffle_switch_model

        no_percent = Value(None, output_field=DecimalField())
        switches = get_waffle_switch_model().objects.using(using).filter(name__in=SWITCHES).values_list("name", "active", no_percent)
        flag = get_waffle_flag_model().objects.filter(name=FLAG_READ_POSTGRES).values_list("name", "everyone", "percent")
        sample = get_waffle_sample_model().objects.filter(name=SAMPLE_SHADOW_READS).values_list(
            "name", Value(None, output_field=BooleanField(null=True)), "percent"
        )
        query = switches.union(flag, sample, all=True)
        compiled, params = query.query.get_compiler(using).as_sql()
        sql = _read_sql_cache[using] = (compiled, tuple(params))
    return sql


def read_uncached(using: str = DEFAULT_DB_ALIAS) -> FlagState:
    """Read every cutover switch and flag straight from the database, in one query (no waffle cache)."""
    from django.db import connections

    sql, params = _read_sql(using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = {name: (active, percent) for name, active, percent in cursor.fetchall()}
    everyone, flag_percent = rows.get(FLAG_READ_POSTGRES, (False, None))
    # Waffle's "Everyone": Yes is 100%, No is 0%, unknown leaves it to the percent.
    read_percent = float(flag_percent or 0) if everyone is None else (100.0 if everyone else 0.0)
    sample_percent = rows.get(SAMPLE_SHADOW_READS, (None, None))[1]

    def active(name: str) -> bool:
        return bool(rows.get(name, (False, None))[0])

    return FlagState(
        dual_write=active(SWITCH_DUAL_WRITE),
        read_percent=read_percent,
        background_reads_postgres=active(SWITCH_BACKGROUND_READS_POSTGRES),
        postgres_primary=active(SWITCH_POSTGRES_PRIMARY),
        finalized=active(SWITCH_FINALIZED),
        shadow_reads=active(SWITCH_SHADOW_READS),
        shadow_percent=float(sample_percent) if sample_percent is not None else 0.0,
    )
