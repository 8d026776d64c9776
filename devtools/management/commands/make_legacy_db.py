"""Build a realistic legacy Procheff SQLite database: ./manage.py make_legacy_db PATH [--rows N] [--seed S]."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from devtools.legacydb import generate


class Command(BaseCommand):
    help = (
        "Create a new legacy Procheff SQLite file at PATH filled with realistic rows in the exact "
        "shapes the Node.js app wrote. --rows is the total across all tables; the same --seed "
        "gives the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the SQLite file to create")
        parser.add_argument(
            "--rows",
            type=int,
            default=generate.DEFAULT_ROWS,
            help=f"total rows across all tables (default {generate.DEFAULT_ROWS})",
        )
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        verbosity: int = options["verbosity"]
        reporter = _ProgressReporter(self, options["rows"], verbosity, quiet=options["json"])
        try:
            result = generate.generate_legacy_database(
                path,
                rows=options["rows"],
                seed=options["seed"],
                overwrite=options["force"],
                progress=reporter,
            )
        except FileExistsError as exc:
            raise CommandError(
                f"{path} already exists; pass --force to replace it", returncode=2
            ) from exc
        except generate.GenerationError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        finally:
            reporter.close()
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        elif verbosity >= 1:
            self._summary(result)

    def _summary(self, result: generate.GenerationResult) -> None:
        filled = {table: n for table, n in result.counts.items() if n}
        empty = [table for table, n in result.counts.items() if not n]
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {result.rows:,} rows in {len(filled)} tables to {result.path} "
                f"(seed {result.seed}, {result.seconds:.1f} s)"
            )
        )
        width = max(map(len, filled), default=0)
        for table, n in sorted(filled.items(), key=lambda item: (-item[1], item[0])):
            self.stdout.write(f"  {table:<{width}}  {n:>10,}")
        if empty:
            self.stdout.write(f"  empty ({len(empty)}): {', '.join(empty)}")


class _ProgressReporter:
    """Renders generation progress: a tqdm bar on a terminal, plain lines otherwise (by verbosity)."""

    def __init__(self, command: BaseCommand, rows: int, verbosity: int, quiet: bool) -> None:
        self.command = command
        self.verbosity = 0 if quiet else verbosity
        self.bar: tqdm | None = None
        if self.verbosity >= 1 and command.stderr.isatty():
            self.bar = tqdm(
                total=rows,
                unit="row",
                unit_scale=True,
                file=command.stderr._out,
                desc="make_legacy_db",
            )

    def __call__(self, progress: generate.Progress) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(progress.table, refresh=False)
            self.bar.update(progress.done - self.bar.n)
        elif self.verbosity >= 3 and progress.table_done:
            self.command.stderr.write(
                f"{progress.table}: {progress.table_done:,}/{progress.table_rows:,} rows"
            )
        elif (
            self.verbosity == 2
            and progress.table_done == progress.table_rows
            and progress.table_rows
        ):
            self.command.stderr.write(f"{progress.table}: {progress.table_rows:,} rows")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
