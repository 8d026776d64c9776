"""``./manage.py embedded_postgres [status|stop]``: inspect or stop the embedded PostgreSQL server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.embedded import server as embedded


class Command(BaseCommand):
    help = (
        "Show whether the embedded PostgreSQL server (used when DATABASE_URL is unset) is running, "
        "or stop it. Exit code of status: 0 running, 1 not running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", choices=["status", "stop"], default="status")
        parser.add_argument(
            "--pgdata",
            type=Path,
            default=None,
            help="Data directory (default: EMBEDDED_POSTGRES_PGDATA, i.e. .pgdata/ in the project).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print a JSON object instead of text."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pgdata: Path = options["pgdata"] or embedded.pgdata_dir()
        if options["action"] == "stop":
            self._render_stop(pgdata, embedded.stop(pgdata), options)
            return
        state = embedded.status(pgdata)
        self._render_status(state, options)
        if not state.running:
            raise CommandError(f"no embedded PostgreSQL is running in {state.pgdata}", returncode=1)

    def _render_status(self, state: embedded.ServerStatus, options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(state.as_dict()))
        elif options["verbosity"] == 0:
            return
        elif state.running:
            where = f"socket in {state.socket_dir}" if state.socket_dir else f"port {state.port}"
            self.stdout.write(
                self.style.SUCCESS(
                    f"running: PostgreSQL {state.version} in {state.pgdata}, pid {state.pid}, {where}, "
                    f"started {state.started}"
                )
            )
        else:
            initialised = "initialised" if state.initialised else "not initialised"
            self.stdout.write(self.style.WARNING(f"stopped: {state.pgdata} ({initialised})"))

    def _render_stop(self, pgdata: Path, stopped: bool, options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps({"pgdata": str(pgdata.resolve()), "stopped": stopped}))
        elif options["verbosity"] == 0:
            return
        elif stopped:
            self.stdout.write(
                self.style.SUCCESS(f"stopped the embedded PostgreSQL in {pgdata.resolve()}")
            )
        else:
            self.stdout.write(f"no embedded PostgreSQL was running in {pgdata.resolve()}")
