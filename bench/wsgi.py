"""The project's WSGI application for the load test, with server errors logged to stderr.

With DEBUG off Django sends a request's traceback only to ``mail_admins``; the load test needs
it in the gunicorn log to say why a request failed. With ``BENCH_GC_LOG=1`` every cyclic garbage
collection of generation 1 or 2 is logged there too, with its duration (all of the worker's
threads wait for it): ``grep 'gc generation=2' var/bench/gunicorn.log``.

With ``BENCH_SERVER_LOG=<directory>`` each worker also writes one line per request to
``server-<pid>.log`` there: when the application was called (Unix time), the milliseconds until
the response was written and closed, and ``read`` (GET) or ``write``. The load test sets it, to
tell the time spent inside the server from what the client measured around it (connecting,
waiting to be accepted and handed to a thread, its own scheduling).
"""
from __future__ import annotations

import gc
import logging
import os
import sys
import time
from typing import Any

from procheff.wsgi import application

_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
logging.getLogger("django.request").addHandler(_handler)

_gc_started = [0.0]


def _log_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    elif info["generation"] >= 1:
        ms = (time.perf_counter() - _gc_started[0]) * 1000
        sys.stderr.write(f"gc generation={info['generation']} ms={ms:.1f} collected={info['collected']} "
                         f"pid={os.getpid()} at={time.time():.1f}\n")


if os.environ.get("BENCH_GC_LOG"):
    gc.callbacks.append(_log_collection)


if os.environ.get("BENCH_SERVER_LOG"):
    from bench.server_times import ServerTimes

    application = ServerTimes(application, os.environ["BENCH_SERVER_LOG"])  # type: ignore[assignment]

__all__ = ["application"]
