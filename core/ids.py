"""New primary keys in the formats the legacy Node.js application generates."""
from __future__ import annotations

import re
import secrets
import time

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

# 'analysis_<Date.now()>_<Math.random().toString(36).substr(2, 9)>' (api/analysis/upload).
ANALYSIS_ID = re.compile(r"^analysis_\d{13}_[0-9a-z]{9}$")
# crypto.randomBytes(16).toString('hex') (lib/ai/semantic-cache.ts).
SEMANTIC_CACHE_ID = re.compile(r"^[0-9a-f]{32}$")
# sha256 hex of the normalised 'prompt:model:temperature'.
PROMPT_HASH = re.compile(r"^[0-9a-f]{64}$")


def new_analysis_id(now_ms: int | None = None) -> str:
    """An ``analysis_history.id``: ``analysis_<epoch ms>_<9 base36 characters>``."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    suffix = "".join(secrets.choice(_BASE36) for _ in range(9))
    return f"analysis_{ms}_{suffix}"


def new_semantic_cache_id() -> str:
    """A ``semantic_cache.id``: 16 random bytes as 32 lowercase hex characters."""
    return secrets.token_hex(16)
