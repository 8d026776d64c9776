"""Apply pending outbox records in both directions, continuously: the long-running applier."""
from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from migration import dualwrite


class Command(BaseCommand):
    help = (
        "Apply every pending outbox record on both databases, again and again (`--once`: one pass). "
        "Safe to kill at any moment: a record is deleted only after its row was applied, and "
        "applying a row again re-reads it, so nothing is lost or changed twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=0.2,
                            help="Seconds to wait between passes that found nothing to do (default 0.2).")
        parser.add_argument("--once", action="store_true", help="One pass, then exit (1 when records remain).")
        parser.add_argument("--batch-size", type=int, default=500, help="Records read per batch (default 500).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0 or options["batch_size"] < 1:
            raise CommandError("--interval must be positive and --batch-size at least 1", returncode=2)
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        if options["once"]:
            self._pass(options, lambda: False)
            return
        # SIGTERM (systemd's stop) and ^C end the loop between passes; the handlers are put back
        # on the way out, so a process that calls this command keeps its own.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stopping:
                self._pass(options, lambda: stopping)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _pass(self, options: dict[str, Any], stopping: Callable[[], bool]) -> None:
        """One replay of both databases; with ``--once`` a failure is the exit code, else a wait when idle."""
        try:
            result = dualwrite.replay(batch_size=options["batch_size"])
        except DatabaseError as exc:
            connections.close_all()  # reconnect on the next pass
            self.stderr.write(f"replicate: a database is unreachable ({exc}); retrying")
            result = None
        if result is not None and (result.applied or result.failed) and options["verbosity"] >= 2:
            self.stdout.write(f"applied {result.applied}, failed {result.failed}, pending {result.remaining}")
        if options["once"]:
            if result is None or not result.clean:
                raise CommandError("some outbox records are still pending (see the ERROR log)", returncode=1)
        elif (result is None or not result.applied) and not stopping():
            time.sleep(options["interval"])
