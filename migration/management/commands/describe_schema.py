"""``./manage.py describe_schema [--output PATH] [--drift]``: the migrated schema, or the code that covers its drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from migration import modelcode, schema
from migration.management.errors import unusable_input


class Command(BaseCommand):
    help = (
        "Describe every migrated table: legacy declared type and stored shape, target type, "
        "nullability, default and constraints. Writes Markdown to stdout or --output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "labels", nargs="*", help="Limit to these models (app.Model, model or table)."
        )
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")
        parser.add_argument("--json", action="store_true", help="Emit JSON instead of Markdown.")
        parser.add_argument(
            "--drift", action="store_true",
            help="Compare the legacy file with the models and print the model code (as inspectdb writes it) "
                 "that covers its new tables and columns; with --json, the findings.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["drift"]:
            with unusable_input():
                text = self._drift(options)
            self._write(text, options, "the drift code")
            return
        doc = schema.describe_schema(options["labels"] or None)
        text = (
            json.dumps(doc.as_dict(), ensure_ascii=False, indent=2) + "\n"
            if options["json"]
            else doc.to_markdown()
        )
        self._write(text, options, f"{len(doc.tables)} tables")

    def _drift(self, options: dict[str, Any]) -> str:
        found, code = modelcode.for_source(options["labels"] or None,
                                           on_wait=lambda message: self.stderr.write(self.style.WARNING(message)))
        return json.dumps(found.as_dict(), ensure_ascii=False, indent=2) + "\n" if options["json"] else code

    def _write(self, text: str, options: dict[str, Any], what: str) -> None:
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"wrote {what} to {output}"))
