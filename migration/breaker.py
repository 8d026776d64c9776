"""Circuit breaker per database alias: a dead server costs at most one fast failure per interval."""
from __future__ import annotations

import threading
import time

# Seconds an alias stays "open" (skipped) after a connection failure; one probe is let through after.
OPEN_SECONDS = 5.0

_lock = threading.Lock()
_open_until: dict[str, float] = {}
_last_error: dict[str, str] = {}


def allows(alias: str) -> bool:
    """True when ``alias`` may be tried now (closed, or the open interval has passed: a probe)."""
    with _lock:
        until = _open_until.get(alias)
        if until is None:
            return True
        if time.monotonic() >= until:
            # Half-open: let this caller probe, keep the others out for another interval.
            _open_until[alias] = time.monotonic() + OPEN_SECONDS
            return True
        return False


def is_open(alias: str) -> bool:
    """True while ``alias`` is known to be down (no probe is consumed)."""
    with _lock:
        until = _open_until.get(alias)
        return until is not None and time.monotonic() < until


def trip(alias: str, error: BaseException | None = None) -> None:
    """Record a connection failure on ``alias`` (and what it was)."""
    with _lock:
        _open_until[alias] = time.monotonic() + OPEN_SECONDS
        if error is not None:
            _last_error[alias] = f"{type(error).__name__}: {error}".strip()


def last_error(alias: str) -> str:
    """The connection failure that last tripped ``alias`` (empty when none was given)."""
    with _lock:
        return _last_error.get(alias, "")


def reset(alias: str | None = None) -> None:
    """Record a success on ``alias`` (or forget every alias)."""
    with _lock:
        if alias is None:
            _open_until.clear()
            _last_error.clear()
        else:
            _open_until.pop(alias, None)
            _last_error.pop(alias, None)
