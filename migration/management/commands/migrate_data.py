"""Copy the migrated apps' rows from the SQLite source into PostgreSQL: backed up, resumable, lossless."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migration import backfill
from migration.backfill.report import DEFAULT_BATCH_SIZE
from migration.exceptions import BackupError, CopyError, DriftRefused, RejectLimitExceeded
from migration.management.errors import unusable_input


class Command(BaseCommand):
    help = (
        "Back up the source, then copy every table of the migrated apps into the target with COPY, "
        "in foreign-key order, resuming from each table's checkpoint. Refuses, before writing anything, "
        "when the source holds data no model covers. Exit 0 clean, 1 rows rejected or schema drift, "
        "2 bad invocation or a database that cannot be used."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tables", nargs="+", metavar="TABLE",
                            help="Only these models (app.Model, model name or table name).")
        parser.add_argument("--source", help="Source (SQLite) database alias.")
        parser.add_argument("--target", help="Target (PostgreSQL) database alias.")
        parser.add_argument("--dry-run", action="store_true", help="Print the plan and write nothing.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                            help=f"Rows per batch (default {DEFAULT_BATCH_SIZE}; fewer for wide rows).")
        parser.add_argument("--jobs", type=int, default=1, help="Copy independent tables in N processes.")
        parser.add_argument("--fresh", action="store_true", help="Truncate the target tables first.")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="Do not ask for confirmation (--fresh).")
        parser.add_argument("--backup-dir", type=Path, help="Where the source backup goes.")
        parser.add_argument("--no-backup", action="store_false", dest="backup", help="Skip the backup.")
        parser.add_argument("--rejects", type=Path, help="JSON Lines file of rejected rows.")
        parser.add_argument("--max-rejects", type=int, default=0,
                            help="Stop at the first rejected row beyond N (default 0).")
        parser.add_argument("--analyze", action="store_true",
                            help="ANALYZE the tables written (planner statistics) after the copy.")
        parser.add_argument("--json", action="store_true", help="Print a machine-readable summary.")

    def handle(self, *args: Any, **options: Any) -> None:
        settings = backfill.CopyOptions(
            labels=options["tables"], source=options["source"], target=options["target"],
            batch_size=options["batch_size"], dry_run=options["dry_run"], fresh=options["fresh"],
            jobs=options["jobs"], backup=options["backup"], backup_dir=options["backup_dir"],
            rejects_path=options["rejects"], max_rejects=options["max_rejects"], analyze=options["analyze"],
        )
        if settings.fresh and not settings.dry_run and options["interactive"]:
            answer = input("--fresh empties the target tables before copying. Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Cancelled; nothing was changed.", returncode=2)
        verbosity = 0 if options["json"] else options["verbosity"]
        renderer = _Renderer(self, verbosity)
        try:
            with unusable_input(source=options["source"], target=options["target"]):
                report = backfill.migrate_data(settings, renderer)
        except DriftRefused as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"refused": [f.as_dict() for f in exc.findings]}, indent=2))
            raise CommandError(f"Refused: {exc}", returncode=1) from exc
        except RejectLimitExceeded as exc:
            raise CommandError(f"Stopped: {exc}", returncode=1) from exc
        except (CopyError, BackupError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        finally:
            renderer.close()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
        elif report.dry_run:
            self._render_plan(report, verbosity)
        else:
            self._render_summary(report, verbosity, analyze=settings.analyze)
        if report.drift is not None and report.drift.blocking:  # a dry run: what the copy would refuse
            raise CommandError(
                "the copy would refuse: " + report.drift.summary() + "; see ./manage.py describe_schema --drift",
                returncode=1,
            )
        if report.rejected:
            raise CommandError(
                f"{report.rejected} row(s) rejected; see {report.rejects_path}", returncode=1
            )

    def _render_plan(self, report: backfill.CopyReport, verbosity: int) -> None:
        if verbosity < 1:
            return
        self.stdout.write(self.style.MIGRATE_HEADING("Plan (dry run, nothing written):"))
        for finding in report.drift.blocking if report.drift is not None else []:
            self.stdout.write(self.style.ERROR(f"  schema drift: {finding.describe()}"))
        self.stdout.write(f"  {'#':>3}  {'table':<32} {'source rows':>12} {'to copy':>10} {'batches':>8}")
        for number, item in enumerate(report.plan, 1):
            if item.absent:
                self.stdout.write(f"  {number:>3}  {item.table:<32} absent in source, 0 rows")
                continue
            self.stdout.write(
                f"  {number:>3}  {item.table:<32} {item.source_rows:>12} {item.pending_rows:>10} {item.batches:>8}"
            )
        total = sum(p.pending_rows for p in report.plan)
        self.stdout.write(f"  {len(report.plan)} tables, {total} rows to copy.")

    def _render_summary(self, report: backfill.CopyReport, verbosity: int, analyze: bool = False) -> None:
        if verbosity < 1:
            return
        if report.backup is not None:
            self.stdout.write(
                f"Backup {report.backup.path} integrity={report.backup.integrity} sha256={report.backup.sha256}"
            )
        self.stdout.write(self.style.MIGRATE_HEADING("Summary:"))
        header = f"  {'table':<32} {'source':>10} {'copied':>10} {'skipped':>8} {'rejected':>8} {'seconds':>8}"
        self.stdout.write(header)
        for t in report.tables:
            if t.absent:
                self.stdout.write(f"  {t.table:<32} absent in source, 0 rows")
                continue
            line = (
                f"  {t.table:<32} {t.source_rows:>10} {t.copied:>10} {t.skipped:>8} {t.rejected:>8} "
                f"{t.seconds:>8.2f}"
            )
            if t.removed:
                line += f"  ({t.removed} deleted-while-copying row(s) removed)"
            self.stdout.write(self.style.WARNING(line) if t.rejected else line)
        copied = sum(t.copied for t in report.tables)
        rate = copied / report.seconds if report.seconds else 0.0
        self.stdout.write(
            f"  {len(report.tables)} tables, {copied} rows copied in {report.seconds:.1f}s ({rate:,.0f} rows/s); "
            f"{len(report.sequences)} sequence(s) moved forward"
            + (f"; {len(report.analyzed)} table(s) analyzed." if analyze else ".")
        )
        if report.rejected:
            self.stdout.write(self.style.WARNING(f"  {report.rejected} rejected row(s): {report.rejects_path}"))
        else:
            self.stdout.write(self.style.SUCCESS("  Done: every source row is in the target."))


class _Renderer:
    """Turns engine events into a tqdm bar per table on a terminal, or plain lines elsewhere."""

    def __init__(self, command: BaseCommand, verbosity: int) -> None:
        self.command = command
        self.verbosity = verbosity
        self.tty = command.stderr.isatty()
        self.bars: dict[str, Any] = {}
        self.started: dict[str, float] = {}
        self.done: dict[str, int] = {}
        self.totals: dict[str, int | None] = {}

    def __call__(self, event: backfill.CopyEvent) -> None:
        handler = getattr(self, f"_{event.kind}", None)
        # A wait for the file's lock is said even with --json (on stderr): the command is not stuck.
        if handler is not None and (self.verbosity >= 1 or event.kind == "waiting"):
            handler(event)

    def _waiting(self, event: backfill.CopyEvent) -> None:
        self.command.stderr.write(self.command.style.WARNING(event.detail))

    def _drift(self, event: backfill.CopyEvent) -> None:
        self.command.stderr.write(self.command.style.WARNING(f"schema drift (not copied, no data): {event.detail}"))

    def _backup(self, event: backfill.CopyEvent) -> None:
        if self.verbosity >= 2:
            self.command.stderr.write(f"backup: {event.detail}")

    def _table_start(self, event: backfill.CopyEvent) -> None:
        self.started[event.table] = time.monotonic()
        self.done[event.table] = 0
        self.totals[event.table] = event.total
        if self.tty and event.total:
            from tqdm import tqdm

            size = shutil.get_terminal_size((100, 24))
            self.bars[event.table] = tqdm(
                total=event.total, desc=event.table[:28], unit="rows", unit_scale=True,
                file=self.command.stderr._out, position=len(self.bars), leave=True,
                # A pty that reports a 0x0 size would make tqdm hide every bar.
                ncols=size.columns, nrows=size.lines,
            )
        elif self.verbosity >= 2:
            self.command.stderr.write(f"{event.table}: {event.total} row(s) to copy")

    def _batch(self, event: backfill.CopyEvent) -> None:
        self.done[event.table] = self.done.get(event.table, 0) + event.rows
        bar = self.bars.get(event.table)
        if bar is not None:
            bar.update(event.rows)
        if self.verbosity >= 3 or (bar is None and self.verbosity >= 2 and not self.tty):
            elapsed = time.monotonic() - self.started.get(event.table, time.monotonic())
            rate = self.done[event.table] / elapsed if elapsed else 0.0
            total = self.totals.get(event.table) or 0
            eta = (total - self.done[event.table]) / rate if rate else 0.0
            line = (
                f"{event.table}: {self.done[event.table]}/{total} rows ({event.detail}; +{event.copied} copied, "
                f"{event.skipped} skipped, {event.rejected} rejected) {rate:,.0f} rows/s, ETA {eta:.0f}s"
            )
            if bar is not None:
                bar.write(line, file=self.command.stderr._out)  # above the bars, not through them
            else:
                self.command.stderr.write(line)

    def _removed(self, event: backfill.CopyEvent) -> None:
        self.command.stderr.write(self.command.style.WARNING(f"{event.table}: {event.detail}; removed again"))

    def _table_done(self, event: backfill.CopyEvent) -> None:
        bar = self.bars.pop(event.table, None)
        if bar is not None:
            bar.close()
        result = event.result
        if self.verbosity >= 2 and result is not None:
            if result.absent:
                self.command.stderr.write(f"{event.table}: absent in source, 0 rows")
            else:
                self.command.stderr.write(
                    f"{event.table}: {result.copied} copied, {result.skipped} skipped, "
                    f"{result.rejected} rejected in {result.seconds:.2f}s"
                )

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
