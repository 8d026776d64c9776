"""Mirrors on a background thread (``MIGRATION_MIRROR = "async"``): one per process, in commit order."""
from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

from django.db import connections

Jobs = list[tuple[int, str, str]]
Handler = Callable[[str, Jobs], None]

# --- Mirrors on a background thread (MIGRATION_MIRROR = "async") -------------------------------

EXIT_WAIT_SECONDS = 10.0
LAG_SAMPLES = 10_000
_STOP = "\x00stop"


class _MirrorThread:
    """One daemon thread per process applying committed writes' records, in the order they committed.

    The records are already durable on the primary when they are handed over, so nothing depends
    on this thread: if the process dies first, they stay pending and are applied by a later drain
    or ``replay_outbox``. It keeps the seconds from hand-over to applied of recent writes
    (:func:`mirror_lags`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[tuple[str, Jobs, float, Handler | None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._unfinished = 0
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)

    def submit(self, handler: Handler, source: str, jobs: Jobs) -> None:
        """Hand ``jobs`` over; the thread calls ``handler(source, jobs)``, which must never raise."""
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                # First use, or a forked child (threads do not survive fork): a queue of its own.
                self._queue, self._unfinished, self._pid = queue.SimpleQueue(), 0, os.getpid()
                self._thread = threading.Thread(target=self._run, args=(self._queue,), name="mirror", daemon=True)
                self._thread.start()
            self._unfinished += 1
            self._queue.put((source, jobs, time.monotonic(), handler))

    def _run(self, work: queue.SimpleQueue[tuple[str, Jobs, float, Handler | None]]) -> None:
        while True:
            batch = [work.get()]
            while True:
                try:
                    batch.append(work.get_nowait())
                except queue.Empty:
                    break
            stopping = any(item[0] == _STOP for item in batch)
            batch = [item for item in batch if item[0] != _STOP]
            by_source: dict[tuple[str, Handler], Jobs] = {}
            for source, jobs, _, handler in batch:
                if handler is not None:
                    by_source.setdefault((source, handler), []).extend(jobs)
            for (source, handler), jobs in by_source.items():
                handler(source, jobs)  # never raises; failures stay on their records
            done = time.monotonic()
            with self._lock:
                self._lags.extend(done - handed for _, _, handed, _ in batch)
                if work is self._queue:
                    self._unfinished -= len(batch)
                    if self._unfinished <= 0:
                        self._idle.notify_all()
            if stopping:
                connections.close_all()  # this thread's own connections
                return

    def stop(self, timeout: float | None = None) -> None:
        """Apply what was handed over, close the thread's connections and end it (a later submit restarts it)."""
        self.wait(timeout)
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None or self._pid != os.getpid():
                return
            self._queue.put((_STOP, [], 0.0, None))
        thread.join(timeout)

    def recent_lags(self) -> list[float]:
        with self._lock:
            return list(self._lags)

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every mirror handed over so far was applied (or failed); False on timeout."""
        with self._idle:
            if self._pid != os.getpid():
                return True
            return self._idle.wait_for(lambda: self._unfinished <= 0, timeout)


mirror_thread = _MirrorThread()


def wait_for_mirrors(timeout: float | None = None) -> bool:
    """Wait for this process's background mirrors (``MIGRATION_MIRROR = "async"``); True when none is left."""
    return mirror_thread.wait(timeout)


def stop_mirrors(timeout: float | None = EXIT_WAIT_SECONDS) -> None:
    """Drain and end this process's background mirror thread, closing its database connections."""
    mirror_thread.stop(timeout)


def mirror_lags() -> list[float]:
    """Seconds from commit to applied of this process's recent background mirrors (oldest first)."""
    return mirror_thread.recent_lags()
