"""Show, advance or roll back the cutover phase (status / advance / rollback)."""
from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migration import phase, probe, status, transitions
from migration.exceptions import BackupError, GateRefused, InvalidTransition, TargetUnusable
from migration.management.errors import unusable_input


class Command(BaseCommand):
    help = "Cutover phase: `status`, `advance [--percent N] [--force]`, `rollback [--to PHASE]`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("status", help="Phase, flags, outbox, last validation, latency.")
        show.add_argument("--json", action="store_true", help="Print the status as JSON.")
        show.add_argument("--check", action="store_true", help="Exit 1 when the outbox holds old records.")
        show.add_argument(
            "--max-age", type=float, default=status.DEFAULT_MAX_PENDING_AGE_SECONDS,
            help="Seconds a pending record may age before --check fails (default 300).",
        )
        forward = sub.add_parser("advance", help="Next phase, or --percent N within the read rollout.")
        forward.add_argument(
            "--percent", type=float,
            help="In the read rollout, the share of requests (0-100) to read from PostgreSQL, instead of the next step.",
        )
        forward.add_argument("--force", action="store_true", help="Move even when a gate fails (warned, audited).")
        back = sub.add_parser("rollback", help="Back one phase, or --to PHASE; takes effect at once.")
        back.add_argument(
            "--to", type=int, choices=[int(p) for p in phase.Phase],
            help="The phase to go back to (default: the one before the current phase).",
        )
        back.add_argument("--percent", type=float, help="Read percent when rolling back to phase 2.")
        back.add_argument("--reverse-copy", action="store_true", help="Required to leave phase 4.")
        back.add_argument(
            "--force", action="store_true",
            help="Roll back even when pending outbox records cannot be applied (they stay pending, listed).",
        )
        for changing in (forward, back):
            changing.add_argument("--json", action="store_true", help="Print what the change did as JSON.")
            changing.add_argument(
                "--noinput", "--no-input", action="store_false", dest="interactive",
                help="Change the phase without asking for confirmation.",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "status":
            self._status(options)
            return
        with unusable_input(then="the phase is unchanged"):
            try:
                probe.both(on_wait=self._notice)
            except TargetUnusable:
                if action != "rollback":
                    raise
                probe.source(on_wait=self._notice)  # an emergency rollback needs only the legacy file
            self._confirm(action, options)
            transition = self._change(action, options)
        self._render_transition(transition, options)

    def _change(self, action: str, options: dict[str, Any]) -> transitions.Transition:
        progress = self._progress(options)
        try:
            if action == "advance":
                return transitions.advance(percent=options["percent"], force=options["force"], progress=progress,
                                           on_wait=self._notice)
            return transitions.rollback(
                to=options["to"], percent=options["percent"], reverse_copy=options["reverse_copy"],
                force=options["force"], progress=progress, on_wait=self._notice,
            )
        except InvalidTransition as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except GateRefused as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"refused": [g.as_dict() for g in exc.results]}, indent=2))
            raise CommandError(str(exc), returncode=1) from exc
        except BackupError as exc:
            raise CommandError(f"phase not changed: {exc}", returncode=2) from exc

    def _notice(self, message: str) -> None:
        self.stderr.write(self.style.WARNING(message))

    def _confirm(self, action: str, options: dict[str, Any]) -> None:
        """Ask before changing production state, as ``flush`` does; ``--no-input`` skips the question."""
        if not options.get("interactive", True):
            return
        current = phase.current_state_fresh()
        if action == "advance":
            try:
                target = str(transitions.next_state(current, options["percent"]))
            except InvalidTransition as exc:
                raise CommandError(str(exc), returncode=2) from exc
            what = f"advance the cutover from {current} to {target}"
        else:
            to = "one phase back" if options["to"] is None else f"back to phase {options['to']}"
            what = f"roll the cutover back from {current}, {to}"
        if not sys.stdin.isatty():
            raise CommandError(
                f"this would {what}, and there is no terminal to confirm it on: pass --no-input to go ahead",
                returncode=2,
            )
        answer = input(
            f"This will {what}: it changes where every process reads and writes.\n"
            "Type 'yes' to continue, or anything else to cancel: "
        )
        if answer.strip().lower() != "yes":
            raise CommandError("cancelled; the phase is unchanged", returncode=1)

    def _progress(self, options: dict[str, Any]) -> transitions.Progress:
        def report(message: str) -> None:
            if options["verbosity"] >= 2 and not options["json"]:
                self.stdout.write(f"  {message}")

        return report

    def _render_transition(self, transition: transitions.Transition, options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(transition.as_dict(), indent=2))
            return
        for warning in transition.warnings:
            self.stderr.write(self.style.WARNING(f"WARNING: {warning}"))
        if options["verbosity"] < 1:
            return
        self.stdout.write(self.style.SUCCESS(f"Cutover: {transition.before} -> {transition.after}"))
        if transition.backup_path:
            self.stdout.write(f"  SQLite backup {transition.backup_path} sha256={transition.backup_sha256}")
        if transition.dump_path:
            self.stdout.write(f"  pg_dump {transition.dump_path} sha256={transition.dump_sha256}")
        if transition.archive_path:
            self.stdout.write(f"  final SQLite archive (read-only) {transition.archive_path}")
        self.stdout.write(f"  outbox replayed: {transition.replayed} applied, {transition.replay_failed} failed")

    def _status(self, options: dict[str, Any]) -> None:
        report = status.status(max_pending_age=options["max_age"], on_wait=self._notice)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
        elif options["verbosity"] >= 1:
            self._render_status(report)
        if report.unreachable:
            raise CommandError(
                "; ".join(f"{alias}: {why}" for alias, why in report.unreachable.items())
                + "; the status above is what the other database holds", returncode=2,
            )
        if options["check"] and report.findings:
            raise CommandError("; ".join(report.findings), returncode=1)

    def _render_status(self, report: status.StatusReport) -> None:
        out = self.stdout.write
        out(self.style.MIGRATE_HEADING("Phase unknown" if report.phase_unknown else f"Phase {report.state}"))
        names = ", ".join(
            f"{key}={value}" for key, value in report.flags.items() if key not in ("names", "stale")
        )
        out(f"  flags: {names}" + (self.style.WARNING("  (last known values)") if report.flags["stale"] else ""))
        outbox = ", ".join(f"{a}: {'unreadable' if n is None else n}" for a, n in report.outbox.items())
        out(f"  outbox: {outbox}; oldest pending {status.age_text(report.oldest_pending_seconds)}")
        for alias, why in report.unreachable.items():
            out(self.style.ERROR(f"  {alias} cannot be used: {why}"))
        if report.capture:
            missing = report.capture["missing"]
            out(f"  capture triggers on {report.capture['alias']}: {report.capture['triggers']}"
                + (f", missing on {', '.join(missing)}" if missing else ""))
        if report.fence:
            fenced = ", ".join(f"{alias} on {n} tables" for alias, n in report.fence["fenced"].items() if n) or "none"
            epochs = ", ".join(f"{alias} {n}" for alias, n in report.fence["epoch"].items())
            out(f"  refusing writes (fence): {fenced}; epoch (switches of primary): {epochs}")
        gate = report.validation
        style = self.style.SUCCESS if gate["ok"] else self.style.WARNING
        out("  last validation: " + style(gate["detail"]))
        schema = report.schema
        out("  legacy schema: " + (self.style.SUCCESS if schema["ok"] else self.style.WARNING)(schema["detail"]))
        out(f"  shadow mismatches (24 h): {'-' if report.shadow_mismatches_24h is None else report.shadow_mismatches_24h}")
        if report.latency:
            out("  latency (15 min)   alias      kind    count    p50 ms    p95 ms")
            for alias, kinds in report.latency.items():
                for kind, row in kinds.items():
                    out(f"                     {alias:<10} {kind:<7} {row['count']:>6} {row['p50_ms']:>9} {row['p95_ms']:>9}")
        if report.last_change:
            change = report.last_change
            out(f"  last change: {change['at']} {change['from']} -> {change['to']} by {change['actor']} via {change['via']}")
        for finding in report.findings:
            self.stderr.write(self.style.WARNING(f"  ! {finding}"))
