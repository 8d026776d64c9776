"""Request times as the server sees them, for the load test (``BENCH_SERVER_LOG``; see bench/wsgi.py)."""
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
        return _Timed(self.app(environ, start_response), lambda: self.write(
            f"{started:.4f} {(time.perf_counter() - clock) * 1000:.2f} {kind}\n"))

    def write(self, line: str) -> None:
        with self.lock:
            if self.file is None:  # opened in the worker, after gunicorn forked it
                self.file = open(os.path.join(self.directory, f"server-{os.getpid()}.log"), "a", buffering=1)
            self.file.write(line)


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
