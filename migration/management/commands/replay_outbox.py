"""Apply every pending outbox record on both databases (idempotent; safe to run at any time)."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migration import dualwrite, probe
from migration.management.errors import unusable_input


class Command(BaseCommand):
    help = ("Apply pending dual-write outbox records on both databases; exit 1 when some remain, 2 when a "
            "database cannot be used.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Records read per batch.")
        parser.add_argument("--json", action="store_true", help="Machine-readable result.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=2)
        verbosity = options["verbosity"]

        def progress(alias: str, step: dualwrite.ApplyResult) -> None:
            if verbosity >= 3 and not options["json"]:
                self.stdout.write(f"  {alias}: batch applied {step.applied}, failed {step.failed}")

        with unusable_input(then="nothing was replayed; the records stay pending"):
            probe.both(on_wait=lambda message: self.stderr.write(self.style.WARNING(message)))
            result = dualwrite.replay(batch_size=options["batch_size"], progress=progress)
        if options["json"]:
            self.stdout.write(json.dumps({
                "applied": result.applied,
                "failed": result.failed,
                "by_alias": {a: {"applied": r.applied, "failed": r.failed, "errors": r.errors[:20]}
                             for a, r in result.by_alias.items()},
                "remaining": result.remaining,
            }, indent=2))
        elif verbosity >= 1:
            for alias, outcome in result.by_alias.items():
                if verbosity >= 2 or outcome.failed:
                    self.stdout.write(f"{alias}: applied {outcome.applied}, failed {outcome.failed}")
                for error in outcome.errors[: 10 if verbosity < 3 else None]:
                    self.stderr.write(self.style.ERROR(f"  {error}"))
            remaining = ", ".join(f"{a}: {'unreadable' if n is None else n}" for a, n in result.remaining.items())
            style = self.style.SUCCESS if result.clean else self.style.WARNING
            self.stdout.write(style(f"Replayed {result.applied} records; pending now {remaining}"))
        if not result.clean:
            raise CommandError("some outbox records are still pending (see the ERROR log)", returncode=1)
