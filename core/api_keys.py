"""API keys of the JSON API: issue, hash, verify and revoke them, and the scopes they grant.

Key format: ``pck_`` followed by 43 URL-safe base64 characters (32 bytes from :mod:`secrets`).
The legacy ``api_keys`` table keeps, per key, never the key itself but:

* ``key_hash``: the SHA-256 hex digest of the whole key (its UTF-8 bytes, prefix included). A key
  is 256 random bits, so a fast unsalted hash leaves nothing to guess; a slow password hash would
  only slow every request down.
* ``key_preview``: ``pck_...`` and the key's last four characters, to tell keys apart in listings.
* ``service = 'internal'``: the legacy column also names provider services (claude, gemini,
  openai); only internal rows are keys to this API, so a provider's key never authenticates here.
* ``permissions``: the scopes, a JSON list of ``"<resource>:<action>"`` strings (:data:`SCOPES`).
  Anything else in the list (the bare ``"read"`` of rows the legacy app might have left) grants
  nothing.
* ``active`` (1 until revoked; a revoked key stays as a row, with ``active = 0``) and ``expires_at``
  (NULL: never).

A request's key is hashed and looked up by ``key_hash`` (UNIQUE, indexed) through the ORM, so the
router chooses the database as for any other read and the rows move through the cutover like any
other; the stored digest is then compared with :func:`hmac.compare_digest`. The lookup's timing can
only tell something about the digest, never about a key.

A verified key is remembered in this process for ``API_KEY_MEMO_SECONDS`` (default 5 s), so most
requests cost no query. Revoking a key or changing its scopes therefore reaches the other processes
within that time (this process forgets at once). Expiry is checked on every request, memo or not.
Failures are never remembered.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import router
from django.utils import timezone

from core.models import ApiKey

KEY_PREFIX = "pck_"
KEY_PATTERN = re.compile(r"pck_[A-Za-z0-9_-]{43}")
SERVICE = "internal"
REALM = "procheff-api"

# The API's resources (the first path segment of each route under /api/) and the actions each has.
RESOURCES: dict[str, tuple[str, ...]] = {
    "logs": ("read", "write"),
    "semantic-cache": ("read", "write"),
    "tenders": ("read",),
    "market-prices": ("read",),
    "analysis": ("read", "write"),
}
SCOPES: tuple[str, ...] = tuple(f"{resource}:{action}" for resource, actions in RESOURCES.items() for action in actions)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Bounds the memo when many different keys are in use; past it the memo starts over.
MEMO_MAX_KEYS = 1024


def memo_seconds() -> float:
    """How long a verified key is remembered in this process (``API_KEY_MEMO_SECONDS``, default 5.0)."""
    return float(getattr(settings, "API_KEY_MEMO_SECONDS", 5.0))


class KeyRejected(Exception):
    """A request the key does not let through: 401 (no usable key) or 403 (a scope is missing).

    ``challenge`` is the ``WWW-Authenticate`` value (RFC 6750). No message ever contains the key.
    """

    def __init__(self, status: int, message: str, error: str | None = None, scope: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        parts = [f'Bearer realm="{REALM}"']
        if error:
            parts.append(f'error="{error}"')
        if scope:
            parts.append(f'scope="{scope}"')
        self.challenge = ", ".join(parts)


class InvalidKeyRequest(ValueError):
    """A key that cannot be issued or revoked as asked (unknown scope, past expiry, no name)."""


class NoSuchKey(InvalidKeyRequest):
    """No active key matches what was named for revocation."""


@dataclass(frozen=True)
class Grant:
    """What a verified key may do, as read from its row."""

    key_id: int
    name: str
    scopes: frozenset[str]
    expires_at: dt.datetime | None
    read_at: float  # time.monotonic() when the row was read

    def require(self, scope: str) -> None:
        """Raise a 403 unless the key holds ``scope``."""
        if scope not in self.scopes:
            raise KeyRejected(403, f"This API key lacks the scope {scope}.", "insufficient_scope", scope)


# --- Keys and their hashes ------------------------------------------------------------------


def new_key() -> str:
    """A new random key; shown once, never stored."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The SHA-256 hex digest stored in ``key_hash``."""
    return hashlib.sha256(key.encode()).hexdigest()


def preview(key: str) -> str:
    """The ``key_preview`` of a key: the prefix and its last four characters."""
    return f"{KEY_PREFIX}...{key[-4:]}"


def scope(resource: str, method: str) -> str:
    """The scope a request of ``method`` on ``resource`` needs: reads need ``:read``, the rest ``:write``."""
    return f"{resource}:{'read' if method.upper() in READ_METHODS else 'write'}"


def scopes_of(permissions: Any) -> frozenset[str]:
    """The scopes in a row's ``permissions`` (a JSON list of strings); anything else grants nothing."""
    if not isinstance(permissions, list):
        return frozenset()
    return frozenset(item for item in permissions if isinstance(item, str))


def status_of(key: ApiKey, now: dt.datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired``, as the API would treat the row now."""
    if key.active is not True:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= (now or timezone.now()):
        return "expired"
    return "active"


# --- Verifying a request's key --------------------------------------------------------------

_memo: dict[str, Grant] = {}
_memo_lock = threading.Lock()


def forget() -> None:
    """Drop every remembered key (after a revocation in this process, and between tests)."""
    with _memo_lock:
        _memo.clear()


def bearer_key(authorization: str | None) -> str:
    """The key of an ``Authorization: Bearer <key>`` header, or a 401."""
    if not authorization:
        raise KeyRejected(401, "This API needs a key: send the header 'Authorization: Bearer <key>'.")
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise KeyRejected(401, "The Authorization header must be 'Bearer <key>'.", "invalid_request")
    return credentials.strip()


def verify(authorization: str | None) -> Grant:
    """The grant of the request's key; a 401 when it is missing, unknown, revoked or expired."""
    key = bearer_key(authorization)
    if not KEY_PATTERN.fullmatch(key):
        raise KeyRejected(401, "Unknown API key.", "invalid_token")
    digest = hash_key(key)
    grant = _memo.get(digest)
    if grant is None or time.monotonic() - grant.read_at >= memo_seconds():
        grant = _read_grant(digest)
    if grant.expires_at is not None and grant.expires_at <= timezone.now():
        raise KeyRejected(401, "This API key has expired.", "invalid_token")
    return grant


def _read_grant(digest: str) -> Grant:
    """Read the key's row through the router; remember it when it is active."""
    row = (
        ApiKey.objects.filter(key_hash=digest, service=SERVICE)
        .values_list("id", "name", "key_hash", "permissions", "active", "expires_at")[:1]
    )
    found = list(row)
    if not found or not hmac.compare_digest(str(found[0][2]), digest):
        _drop(digest)
        raise KeyRejected(401, "Unknown API key.", "invalid_token")
    key_id, name, _, permissions, active, expires_at = found[0]
    if active is not True:
        _drop(digest)
        raise KeyRejected(401, "This API key has been revoked.", "invalid_token")
    grant = Grant(key_id, name, scopes_of(permissions), expires_at, time.monotonic())
    with _memo_lock:
        if len(_memo) >= MEMO_MAX_KEYS:
            _memo.clear()
        _memo[digest] = grant
    return grant


def _drop(digest: str) -> None:
    with _memo_lock:
        _memo.pop(digest, None)


# --- Issuing, listing, revoking -------------------------------------------------------------


def checked_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, sorted and without repeats; InvalidKeyRequest naming any unknown one."""
    wanted = sorted(set(scopes))
    unknown = [name for name in wanted if name not in SCOPES]
    if unknown:
        raise InvalidKeyRequest(f"Unknown scope {', '.join(unknown)}; known scopes: {', '.join(SCOPES)}.")
    if not wanted:
        raise InvalidKeyRequest(f"Name at least one scope; known scopes: {', '.join(SCOPES)}.")
    return wanted


def issue(
    name: str, scopes: Iterable[str], expires_at: dt.datetime | None = None, created_by: str | None = None
) -> tuple[ApiKey, str]:
    """Store a new key's row (through the router, so it is mirrored); returns the row and the key."""
    if not name.strip():
        raise InvalidKeyRequest("A key needs a name.")
    permissions = checked_scopes(scopes)
    if expires_at is not None:
        expires_at = ApiKey._meta.get_field("expires_at").truncate(expires_at)
        if expires_at <= timezone.now():
            raise InvalidKeyRequest(f"The expiry {expires_at.isoformat()} is not in the future.")
    key = new_key()
    row = ApiKey.objects.create(
        name=name.strip(), key_hash=hash_key(key), key_preview=preview(key), service=SERVICE,
        permissions=permissions, active=True, expires_at=expires_at, created_by=created_by,
    )
    return row, key


def _writable() -> Any:
    """Internal keys on the database the router writes them to (read-your-own-writes)."""
    return ApiKey._default_manager.db_manager(router.db_for_write(ApiKey)).filter(service=SERVICE)


def keys() -> list[ApiKey]:
    """Every internal key, oldest first (revoked and expired ones included)."""
    return list(_writable().order_by("id"))


def revoke(key_id: int | None = None, name: str | None = None) -> list[ApiKey]:
    """Revoke the active key ``key_id``, or every active key named ``name``; returns them."""
    if (key_id is None) == (name is None):
        raise InvalidKeyRequest("Name the key to revoke by its id or by --name, not both.")
    wanted = _writable().filter(active=True)
    wanted = wanted.filter(pk=key_id) if key_id is not None else wanted.filter(name=name)
    revoked = list(wanted.order_by("id"))
    if not revoked:
        which = f"id {key_id}" if key_id is not None else f"name {name!r}"
        raise NoSuchKey(f"No active API key with {which}; `api_key list` shows them.")
    _writable().filter(pk__in=[key.pk for key in revoked]).update(active=False)
    for key in revoked:
        key.active = False
    forget()
    return revoked
