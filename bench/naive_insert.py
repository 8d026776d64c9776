"""The naive baseline: the same conversion as migrate_data, but one INSERT per row (the legacy plan's way).

Run from the project root with DATABASE_URL and SQLITE_PATH set; commits once per table, which is
kinder to it than the legacy scripts' autocommit per row.
"""
from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procheff.settings")

import django

django.setup()

from django.db import connections, transaction  # noqa: E402

from migration import conf, inventory  # noqa: E402


def main() -> None:
    source, target = connections[conf.source_alias()], connections[conf.target_alias()]
    reader = sqlite3.connect(f"file:{source.settings_dict['NAME']}?mode=ro", uri=True)
    rows = failed = 0
    started = time.monotonic()
    for model in inventory.migrated_models():
        table = model._meta.db_table
        if not reader.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", [table]).fetchone():
            continue
        readers = inventory.column_readers(model, source)
        columns = [r.field.column for r in readers]
        quoted = ", ".join(f'"{c}"' for c in columns)
        insert = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join(["%s"] * len(columns))})'
        with transaction.atomic(using=target.alias), target.cursor() as cursor:
            for raw in reader.execute(f'SELECT {quoted} FROM "{table}"'):
                try:
                    values = inventory.read_row(model, raw, readers, source)
                except Exception:  # noqa: BLE001 - the baseline only counts what it could not load
                    failed += 1
                    continue
                prepared = [
                    None if v is None else r.field.get_db_prep_value(v, target, prepared=False)
                    for r, v in zip(readers, values)
                ]
                cursor.execute(insert, prepared)
                rows += 1
    seconds = time.monotonic() - started
    print(f"naive: {rows} rows inserted, {failed} not convertible, {seconds:.1f}s")


if __name__ == "__main__":
    main()
