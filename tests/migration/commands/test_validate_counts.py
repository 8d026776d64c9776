"""The validate_counts command: aligned table, JSON, exit codes, repair with and without a question."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import override_settings

from core import legacy as legacy_schema
from tests.migration.verify.test_validate import (  # noqa: F401  (fixtures)
    LEGACY_ROWS,
    TABLES,
    copied,
    empty_legacy_tables,
    legacy,
    target_sql,
)

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"], transaction=True)


def command(*args: str, **kwargs: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("validate_counts", *args, "--recheck-delay", "0", stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def failing(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("validate_counts", *args, "--recheck-delay", "0", stdout=out, stderr=err)
    return caught.value.returncode, str(caught.value), out.getvalue()


def test_validate_counts_prints_an_aligned_table_and_exits_0_when_equal(copied: None) -> None:
    out, _ = command("--tables", *TABLES, "--no-color")
    lines = out.splitlines()
    assert lines[0].split() == ["table", "source", "target", "missing", "extra", "changed"]
    n = len(TABLES)
    assert {line.split()[0]: line.split()[1:] for line in lines[1:n + 1]} == {
        t: [str(len(LEGACY_ROWS[t]))] * 2 + ["0", "0", "0", "✓"] for t in TABLES
    }
    total = sum(len(rows) for rows in LEGACY_ROWS.values())
    assert lines[n + 1].split() == ["total", str(total), str(total), "0", "0", "0"]
    ends = [[m.end() for m in re.finditer(r"\S+", line)][1:6] for line in lines[:n + 2]]
    assert all(e == ends[0] for e in ends)  # numbers right-aligned under their headers
    assert lines[-1].startswith(f"{n} table(s), row level,") and lines[-1].endswith("equal")


def test_validate_counts_exits_1_and_names_the_difference(copied: None) -> None:
    target_sql('UPDATE "users" SET email = lower(email) WHERE id = %s', ["u1"])
    code, message, out = failing("--tables", "users", "--no-color")
    assert code == 1 and "1 row difference(s) in users; see above, or run with --repair" in message
    assert "users pk='u1': email: source 'Ayse.Yilmaz@Example.com' != target 'ayse.yilmaz@example.com'" in out
    assert "✗" in out


def test_validate_counts_counts_only(copied: None) -> None:
    target_sql('DELETE FROM "tenders" WHERE id = %s', ["t2"])
    code, _, out = failing("--counts-only", "--tables", "tenders,users", "--no-color")
    assert code == 1
    assert out.splitlines()[0].split() == ["table", "source", "target"]
    assert [line.split() for line in out.splitlines() if line.startswith("tenders")] == [["tenders", "2", "1", "✗"]]


def test_validate_counts_json(copied: None) -> None:
    target_sql('DELETE FROM "users" WHERE id = %s', ["u3"])
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("validate_counts", "--tables", "users", "--json", "--recheck-delay", "0", stdout=out)
    result = json.loads(out.getvalue())
    assert caught.value.returncode == 1
    assert (result["clean"], result["mode"], result["tables"][0]["missing_pks"]) == (False, "rows", ["u3"])


@pytest.mark.parametrize(("args", "message"), [
    (["--tables", "no_such_table"], "unknown table or model: no_such_table"),
    (["--target", "nowhere"], "no database alias 'nowhere'"),
    (["--target", "sqlite"], "must be PostgreSQL"),
    (["--repair", "--counts-only"], "--repair needs row-level validation"),
    (["--limit", "-1"], "must not be negative"),
])
def test_validate_counts_exits_2_on_bad_invocation(args: list[str], message: str) -> None:
    code, text, _ = failing(*args)
    assert code == 2 and message in text


def test_validate_counts_repair_without_input_fixes_and_records(copied: None) -> None:
    target_sql('DELETE FROM "users" WHERE id = %s', ["u1"])
    target_sql('UPDATE "queue_jobs" SET created_at = created_at + interval %s WHERE id = %s', ["3 hours", "j1"])
    out, _ = command("--tables", *TABLES, "--repair", "--no-input", "--no-color")
    assert "users: repaired 1 inserted, 0 updated, 0 deleted; verified" in out
    assert "queue_jobs: repaired 0 inserted, 1 updated, 0 deleted; verified" in out
    command("--tables", *TABLES)  # exits 0: equal now


def test_validate_counts_repair_asks_first(copied: None, monkeypatch: pytest.MonkeyPatch) -> None:
    target_sql('DELETE FROM "users" WHERE id = %s', ["u1"])
    questions: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: questions.append(prompt) or "n")
    code, _, _ = failing("--tables", "users", "--repair")
    assert code == 1 and questions == ["Repair 1 row(s) on 'default' from 'sqlite' (nothing is written on 'sqlite')? [y/N] "]
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    command("--tables", "users", "--repair")
    command("--tables", "users")


def test_validate_counts_repair_warns_when_every_difference_is_in_one_column(
    legacy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.migration.verify.test_validate import _market_rows

    _market_rows(12)
    target_sql('UPDATE "market_prices" SET unit = %s', ["g"])  # every row, one column: a trigger's mark
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("validate_counts", "--tables", "market_prices", "--repair", "--recheck-delay", "0",
                     stdout=io.StringIO(), stderr=err)
    assert "market_prices: every row differs in unit only. That looks systematic" in err.getvalue()


# --- End to end: the copy engine's output validates clean, planted differences are named ------

SOURCE = "copy_source"
_REPO = Path(__file__).resolve().parents[3]
CHINOOK = next((p for p in (Path(os.environ.get("CHINOOK_SQLITE", "")),
                            _REPO.parent / "shared" / "datasets" / "chinook.sqlite",
                            _REPO.parent.parent / "shared" / "datasets" / "chinook.sqlite") if p.is_file()),
               None)


@contextmanager
def source_file(path: Path, **settings: Any) -> Iterator[None]:
    """Point the spare SQLite alias at ``path`` and make it the migration source."""
    connection = connections[SOURCE]
    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = str(path)
    try:
        with override_settings(MIGRATION_SOURCE_ALIAS=SOURCE, MIGRATION_BACKUP_DIR=path.parent / "backups",
                               **settings):
            yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous


def sqlite_file(path: Path, statement: str, params: list[Any] | None = None) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute(statement, params or [])
        connection.commit()
    finally:
        connection.close()


def migrate_data(*args: str) -> None:
    call_command("migrate_data", "--no-backup", "--no-input", *args, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db(databases=["default", "sqlite", SOURCE], transaction=True)
def test_validate_counts_after_migrate_data_on_a_legacy_file(tmp_path: Path) -> None:
    path = tmp_path / "legacy.sqlite3"
    legacy_schema.create_legacy_database(path)
    for table, rows in LEGACY_ROWS.items():
        for row in rows:
            columns = ", ".join(f'"{c}"' for c in row)
            sqlite_file(path, f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(row))})',
                        list(row.values()))
    with source_file(path):
        migrate_data()
        out, _ = command("--no-color")  # every migrated table, awkward values included: exit 0
        assert out.splitlines()[-1].endswith("equal")
        target_sql("UPDATE \"tenders\" SET created_at = created_at - interval '3 hours' WHERE id = %s", ["t1"])
        sqlite_file(path, "UPDATE queue_jobs SET data = ? WHERE id = ?", ['{"a":1e2}', "j2"])
        code, _, out = failing("--tables", "tenders", "queue_jobs", "--no-color")
        assert code == 1
        assert "tenders pk='t1': created_at: source 2024-01-01T10:00:00+00:00 != target 2024-01-01T07:00:00+00:00" in out
        assert 'queue_jobs pk=\'j2\': data: source {"a": 100.0} != target {"tr": "Şeker ğ", "nested"' in out
        command("--repair", "--no-input")
        command()


@pytest.mark.skipif(CHINOOK is None, reason="the Chinook sample (shared/datasets/chinook.sqlite) is not available")
@pytest.mark.django_db(databases=["default", "sqlite", SOURCE], transaction=True)
def test_validate_counts_on_chinook(tmp_path: Path) -> None:
    path = tmp_path / "chinook.sqlite"
    shutil.copyfile(CHINOOK, path)
    with source_file(path, MIGRATION_APPS=["chinook"]):
        migrate_data()
        out, _ = command("--no-color", "--json")
        result = json.loads(out)
        counts = {t["table"]: t["source_count"] for t in result["tables"]}
        assert result["clean"] and len(counts) == 11
        assert (counts["Track"], counts["PlaylistTrack"], counts["InvoiceLine"]) == (3503, 8715, 2240)
        assert all(t["source_count"] == t["target_count"] for t in result["tables"])
        target_sql('UPDATE "Track" SET "UnitPrice" = 1.00 WHERE "TrackId" = 1', [])
        target_sql('UPDATE "Invoice" SET "InvoiceDate" = "InvoiceDate" + interval \'3 hours\' WHERE "InvoiceId" = 1', [])
        target_sql('DELETE FROM "PlaylistTrack" WHERE "PlaylistId" = 1 AND "TrackId" = 3402', [])
        target_sql('UPDATE "Customer" SET "Email" = upper("Email") WHERE "CustomerId" = 1', [])
        code, _, out = failing("--no-color")
        assert code == 1
        assert "Track pk=1: UnitPrice: source 0.99 != target 1.00" in out
        assert "Invoice pk=1: InvoiceDate: source 2009-01-01T00:00:00+00:00 != target 2009-01-01T03:00:00+00:00" in out
        assert "PlaylistTrack: 1 row(s) missing in the target: (1, 3402)" in out
        assert "Customer pk=1: Email: source 'luisg@embraer.com.br' != target 'LUISG@EMBRAER.COM.BR'" in out
        command("--repair", "--no-input")
        command()


@pytest.mark.django_db(databases=["default", "sqlite", SOURCE], transaction=True)
def test_validate_counts_exits_2_when_the_source_has_none_of_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite_file(path, "PRAGMA user_version = 1")  # a SQLite database without a table
    with source_file(path):
        code, text, _ = failing("--tables", "users")
    assert code == 2 and "has none of the 1 table(s) to validate; check SQLITE_PATH" in text


@pytest.mark.django_db(databases=["default", "sqlite", SOURCE], transaction=True)
def test_validate_counts_exits_2_on_a_missing_source_and_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.sqlite3"
    with source_file(path):
        code, text, _ = failing("--tables", "users")
    assert code == 2 and "does not exist; check SQLITE_PATH" in text
    assert not path.exists()


def test_validate_counts_exits_2_when_the_target_lacks_a_table() -> None:
    target_sql('ALTER TABLE "users" RENAME TO "users_elsewhere"', [])
    try:
        code, text, _ = failing("--tables", "users")
    finally:
        target_sql('ALTER TABLE "users_elsewhere" RENAME TO "users"', [])
    assert code == 2 and "has no table users; run ./manage.py migrate --database default" in text
