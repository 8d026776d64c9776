"""Request-scoped routing state: the read decision taken once per request and whether it has written."""
from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field


@dataclass
class RequestRouting:
    """What the middleware decided for one request; ``wrote`` pins later reads to the primary."""

    reads_postgres: bool
    wrote: bool = False
    written_models: set[str] = field(default_factory=set)


_current: ContextVar[RequestRouting | None] = ContextVar("migration_request_routing", default=None)


def begin_request(reads_postgres: bool) -> Token[RequestRouting | None]:
    """Start a request scope; pass the token to :func:`end_request`."""
    return _current.set(RequestRouting(reads_postgres=reads_postgres))


def end_request(token: Token[RequestRouting | None]) -> None:
    """Leave the request scope opened by :func:`begin_request`."""
    _current.reset(token)


def current() -> RequestRouting | None:
    """The routing state of the running request, or None outside requests (commands, jobs)."""
    return _current.get()


def note_write(model_label: str) -> None:
    """Remember that this request wrote, so its own later reads go to the primary."""
    state = _current.get()
    if state is not None:
        state.wrote = True
        state.written_models.add(model_label)
