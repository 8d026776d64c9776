"""Request times as the server sees them, for the load test (``BENCH_SERVER_LOG``; see bench/wsgi.py).

Each line: the request's start (Unix time), its milliseconds in the worker, ``read`` or ``write``,
and the milliseconds of the API key check the application reported in ``Server-Timing: auth;dur=``
(``-`` when the response had none).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class ServerTimes:
    """WSGI middleware: one line per request with its start, its time in this worker, and its kind."""

    def __init__(self, app: Callable[..., Iterable[bytes]], directory: str) -> None:
        self.app = app
        self.directory = directory
        self.lock = threading.Lock()
        self.file: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> _Timed:
        started, clock = time.time(), time.perf_counter()
        kind = "read" if environ.get("REQUEST_METHOD") == "GET" else "write"
        auth = ["-"]

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            auth[0] = auth_ms(headers)
            return start_response(status, headers, *exc_info)

        return _Timed(self.app(environ, start), lambda: self.write(
            f"{started:.4f} {(time.perf_counter() - clock) * 1000:.2f} {kind} {auth[0]}\n"))

    def write(self, line: str) -> None:
        with self.lock:
            if self.file is None:  # opened in the worker, after gunicorn forked it
                self.file = open(os.path.join(self.directory, f"server-{os.getpid()}.log"), "a", buffering=1)
            self.file.write(line)


def auth_ms(headers: Iterable[tuple[str, str]]) -> str:
    """The ``auth`` duration of a ``Server-Timing`` header (RFC: ``name;dur=ms``, comma-separated), or ``-``."""
    for name, value in headers:
        if name.lower() != "server-timing":
            continue
        for metric in value.split(","):
            label, *params = (part.strip() for part in metric.split(";"))
            if label == "auth":
                for param in params:
                    key, _, number = param.partition("=")
                    if key == "dur" and number:
                        return number
    return "-"


class _Timed:
    """The application's response, timed until the server closes it (after writing it)."""

    def __init__(self, response: Iterable[bytes], done: Callable[[], None]) -> None:
        self.response = response
        self.done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.response)

    def close(self) -> None:
        try:
            close = getattr(self.response, "close", None)
            if close is not None:
                close()  # Django's request_finished: connections are given back here
        finally:
            self.done()
