"""``./manage.py describe_schema [--output PATH]``: the migrated schema as Markdown (or JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from migration import schema


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

    def handle(self, *args: Any, **options: Any) -> None:
        doc = schema.describe_schema(options["labels"] or None)
        text = (
            json.dumps(doc.as_dict(), ensure_ascii=False, indent=2) + "\n"
            if options["json"]
            else doc.to_markdown()
        )
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"wrote {len(doc.tables)} tables to {output}"))
