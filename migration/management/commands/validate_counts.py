"""validate_counts: prove the target holds exactly what the source holds, per table, row and column."""
from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migration import verify
from migration.exceptions import MigrationError
from migration.management.errors import unusable_input


def _names(values: list[str] | None) -> list[str] | None:
    """``--tables a b`` and ``--tables a,b`` alike."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _short(value: Any, width: int = 80) -> str:
    """A value as the reader needs it: NULL apart from '', all digits of a float, ISO instants."""
    if value is None:
        text = "NULL"
    elif isinstance(value, (dt.datetime, dt.date)):
        text = value.isoformat()
    elif isinstance(value, decimal.Decimal):
        text = str(value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _failure(report: Any) -> str:
    """Why a validation is not clean: schema drift first, then the rows (or what a repair left)."""
    tables = ", ".join(t.table for t in report.tables if not t.clean)
    drifted = report.drift.summary() if report.drift is not None and report.drift.blocking else ""
    parts = [f"schema drift: {drifted} (see ./manage.py describe_schema --drift)"] if drifted else []
    if report.repaired:
        parts.append(f"the repair left differences in {tables}; see the repair lines above")
    elif report.differences or not drifted:
        parts.append(f"{report.differences} row difference(s) in {tables}; see above, or run with --repair")
    return "; ".join(parts)


class Command(BaseCommand):
    help = (
        "Compare every migrated table on the source (SQLite) and the target (PostgreSQL): counts, and by "
        "default every row and column, and the source's schema against the models. Exit 0 when equal, "
        "1 on differences or schema drift, 2 on bad invocation or a database that cannot be used."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tables", nargs="+", metavar="NAME",
                            help="Only these tables or model labels (space- or comma-separated).")
        parser.add_argument("--source", help="Source database alias (default: MIGRATION_SOURCE_ALIAS).")
        parser.add_argument("--target", help="Target database alias (default: MIGRATION_TARGET_ALIAS).")
        parser.add_argument("--counts-only", action="store_true", help="Compare row counts only (quick).")
        parser.add_argument("--limit", type=int, default=10, metavar="N",
                            help="Show the first N differences of each kind per table (default 10).")
        parser.add_argument("--recheck-delay", type=float, default=1.0, metavar="SECONDS",
                            help="Wait this long before re-checking differences (default 1).")
        parser.add_argument("--settle", type=float, default=5.0, metavar="SECONDS",
                            help="Re-check a differing row until its sides agree or it stops changing, for at "
                                 "most this long; rows still changing are unverified and the run is not clean "
                                 "(default 5).")
        parser.add_argument("--repair", action="store_true",
                            help="Re-copy missing and changed rows from the source, delete extra rows, "
                                 "reset sequences, then check those rows again.")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="Do not ask before repairing.")
        parser.add_argument("--jobs", type=int, default=1, metavar="N",
                            help="Hash tables in N processes (default 1).")
        parser.add_argument("--no-reuse", action="store_false", dest="reuse_hashes",
                            help="Convert and hash every source row again, even runs of rows whose raw bytes "
                                 "are unchanged since an earlier validation.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 0 or options["recheck_delay"] < 0 or options["settle"] < 0:
            raise CommandError("--limit, --recheck-delay and --settle must not be negative", returncode=2)
        if options["jobs"] < 1:
            raise CommandError("--jobs must be at least 1", returncode=2)
        if options["repair"] and options["counts_only"]:
            raise CommandError("--repair needs row-level validation: drop --counts-only", returncode=2)
        self.verbosity = options["verbosity"]
        self.as_json = options["json"]
        self.bar: Any = None
        try:
            with unusable_input(source=options["source"], target=options["target"]):
                report = self._validate(options)
        except MigrationError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if self.as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        elif self.verbosity >= 1:
            self.render(report)
        if not report.clean:
            raise CommandError(_failure(report), returncode=1)

    def _validate(self, options: dict[str, Any]) -> verify.ValidationReport:
        return verify.validate(
            _names(options["tables"]),
            source=options["source"],
            target=options["target"],
            row_level=not options["counts_only"],
            limit=options["limit"],
            recheck_delay=options["recheck_delay"],
            settle_seconds=options["settle"],
            repair=options["repair"],
            confirm=self.confirm if options["interactive"] else None,
            progress=self.progress,
            jobs=options["jobs"],
            reuse_hashes=options["reuse_hashes"],
        )

    # --- rendering ------------------------------------------------------------------------

    def progress(self, event: str, data: dict[str, Any]) -> None:
        if event == "waiting":  # said even with --json (on stderr): the command is not stuck
            self.stderr.write(self.style.WARNING(data["message"]))
            return
        if self.as_json:
            return
        if event == "start" and self.verbosity >= 1 and self.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=data["tables"], desc="validating", unit="table", file=self.stderr._out,
                            leave=False, dynamic_ncols=True)
        elif event == "table_done" and self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(data["table"])
        elif event == "first_pass_done" and self.bar is not None:
            self.bar.close()
            self.bar = None
        if event == "table_done" and self.verbosity >= 2:
            result = data["result"]
            self.stderr.write(f"  {result.table}: {result.source_count} rows in {result.elapsed:.2f} s")
        elif event == "segment" and self.verbosity >= 3:
            self.stderr.write(f"    {data['table']}: segment [{data['lower']!r}, {data['upper']!r}) differs "
                              f"at depth {data['depth']} ({data['source_rows']} source rows, "
                              f"{data['target_rows']} target rows)")
        elif event == "recheck" and self.verbosity >= 2:
            self.stderr.write(f"  re-checking differences in {data['delay']:g} s")
        elif event == "repair" and self.verbosity >= 2:
            self.stderr.write(f"  repairing {data['rows']} row(s) of {data['table']}")

    def confirm(self, report: verify.ValidationReport) -> bool:
        if self.as_json:  # the question must not break the JSON on stdout
            self.stderr.write(f"{report.differences} row difference(s) found")
        else:
            self.render(report)
        rows = sum(len(t.missing) + len(t.extra) + len(t.changed) for t in report.tables)
        route = verify.repair_route(report.source_alias, report.target_alias)
        copy_from, copy_to = route.copy_from, route.copy_to  # the truth, and the one database written
        for warning in systematic_differences(report):
            self.stderr.write(self.style.WARNING(warning))
        question = f"Repair {rows} row(s) on '{copy_to}' from '{copy_from}' (nothing is written on '{copy_from}')? [y/N] "
        if self.as_json:
            self.stderr.write(question, ending="")
            answer = input()
        else:
            answer = input(question)
        return answer.strip().lower() in ("y", "yes")

    def render(self, report: verify.ValidationReport) -> None:
        rows_mode = report.row_level
        headers = ["table", "source", "target"] + (["missing", "extra", "changed"] if rows_mode else [])
        lines = []
        for t in report.tables:
            cells = [t.table, str(t.source_count), str(t.target_count)]
            if rows_mode:
                cells += [str(len(t.missing)), str(len(t.extra)), str(len(t.changed))]
            lines.append((cells, t.clean))
        total = ["total", str(report.source_rows), str(report.target_rows)]
        if rows_mode:
            total += [str(sum(len(t.missing) for t in report.tables)), str(sum(len(t.extra) for t in report.tables)),
                      str(sum(len(t.changed) for t in report.tables))]
        widths = [max(len(row[i]) for row in [headers, total, *(c for c, _ in lines)]) for i in range(len(headers))]

        def fmt(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        self.stdout.write(self.style.MIGRATE_HEADING(fmt(headers)))
        for cells, clean in lines:
            mark = self.style.SUCCESS("✓") if clean else self.style.ERROR("✗")
            self.stdout.write(f"{fmt(cells)}  {mark}")
        self.stdout.write(fmt(total))
        for t in report.tables:
            self.render_details(t, report.limit)
        self.render_drift(report)
        state = self.style.SUCCESS("equal") if report.clean else self.style.ERROR("DIFFERENT")
        flight = sum(len(t.in_flight) for t in report.tables)
        self.stdout.write(
            f"{len(report.tables)} table(s), {'row level' if rows_mode else 'counts only'}, "
            f"{report.elapsed:.2f} s: {state}"
            + (f"; {flight} row(s) unverified (still changing, or waiting in the outbox, when the "
               "settle time ran out): the run is not clean; validate again" if flight else "")
        )

    def render_drift(self, report: verify.ValidationReport) -> None:
        """The source's schema against the models: blocking findings are differences, the rest warnings."""
        if report.drift is None:
            return
        for finding in report.drift.findings:
            if finding.blocking:
                self.stdout.write(self.style.ERROR(f"schema drift: {finding.describe()}"))
            elif self.verbosity >= 1:
                self.stdout.write(self.style.WARNING(f"schema drift (no data, not a difference): {finding.describe()}"))

    def render_details(self, t: verify.TableResult, limit: int) -> None:
        out = self.stdout.write
        if not t.source_present and self.verbosity >= 2:
            out(f"{t.table}: not in the source database (counted as empty)")
        for kind, pks in (("missing in the target", t.missing), ("extra in the target", t.extra),
                          ("unverified (never settled)", t.in_flight)):
            if pks:
                shown = ", ".join(repr(p) for p in pks[:limit]) + (", …" if len(pks) > limit else "")
                out(f"{t.table}: {len(pks)} row(s) {kind}: {shown}")
        for row in t.changed_rows[:limit]:
            for c in row.columns:
                out(f"{t.table} pk={row.pk!r}: {c.column}: source {_short(c.source)} != target {_short(c.target)}")
        if len(t.changed) > limit:
            out(f"{t.table}: … {len(t.changed) - limit} more changed row(s) (raise --limit)")
        for record in t.unreadable[:limit]:
            out(f"{t.table} pk={record['pk']!r}: {record['column']}: source value {record['value']} cannot be "
                f"read ({record['reason']}); fix it in the source, then copy the row again")
        if t.sequence is not None and t.sequence.blocking:
            out(f"{t.table}: sequence {t.sequence.sequence} would hand out {t.sequence.next_value}, "
                f"not above max(id) {t.sequence.max_pk}; run with --repair to reset it")
        elif t.sequence is not None and not t.sequence.ok:
            out(f"{t.table}: sequence {t.sequence.sequence} is at {t.sequence.next_value}, behind max(id) "
                f"{t.sequence.max_pk}: expected while SQLite hands out the ids (phases 1-2); it is moved past "
                "max(id) when PostgreSQL becomes primary")
        if t.repair is not None:
            r = t.repair
            verdict = "verified" if r.verified else f"STILL DIFFERENT: {r.unverified[:limit]!r}"
            out(f"{t.table}: repaired {len(r.inserted)} inserted, {len(r.updated)} updated, {len(r.deleted)} deleted"
                + (", sequence reset" if r.sequence_reset else "") + f"; {verdict}")


def systematic_differences(report: verify.ValidationReport, at_least: int = 10) -> list[str]:
    """Warnings for tables whose changed rows all differ in one and the same column.

    Many rows differing in exactly one column is the mark of a trigger or a value conversion, not
    of lost writes: a repair would spread that column's values, so look before repairing.
    """
    warnings = []
    for t in report.tables:
        columns = {tuple(sorted(c.column for c in row.columns)) for row in t.changed_rows}
        if len(t.changed) >= at_least and len(columns) == 1 and len(next(iter(columns))) == 1:
            column = next(iter(columns))[0]
            share = "every row differs" if len(t.changed) == t.source_count else f"{len(t.changed)} of {t.source_count} rows differ"
            warnings.append(
                f"{t.table}: {share} in {column} only. That looks systematic (a trigger or a "
                "value conversion), not like lost writes: check which side is right before repairing."
            )
    return warnings
