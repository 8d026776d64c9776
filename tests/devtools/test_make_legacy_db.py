"""./manage.py make_legacy_db: builds the file, reports every table's rows, refuses to overwrite."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from devtools.legacydb import generate


def run(*args: str, **options: object) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("make_legacy_db", *args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def table_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {
            t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in generate.TABLE_ORDER
        }
    finally:
        connection.close()


def test_make_legacy_db_summary_reports_every_tables_rows(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"

    out, err = run(str(path), rows=1_000, seed=2)

    counts = table_counts(path)
    assert sum(counts.values()) == 1_000
    assert (
        f"Wrote 1,000 rows in {sum(1 for n in counts.values() if n)} tables to {path} (seed 2,"
        in out
    )
    for table, n in counts.items():
        if n:
            assert re.search(rf"^  {table}\s+{n:,}$", out, re.MULTILINE), table
    empty = re.search(r"^  empty \((\d+)\): (.*)$", out, re.MULTILINE)
    assert empty and set(empty.group(2).split(", ")) == {t for t, n in counts.items() if not n}
    assert err == ""  # not a terminal: no progress bar


def test_make_legacy_db_json_gives_the_counts(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"

    out, _ = run(str(path), "--json", rows=600, seed=9)

    result = json.loads(out)
    assert result["rows"] == 600 and result["seed"] == 9 and result["path"] == str(path)
    assert result["tables"] == table_counts(path)


@pytest.mark.parametrize(
    "verbosity, expected",
    [
        (0, None),
        (2, r"^logs: [\d,]+ rows$"),
        (3, r"^logs: [\d,]+/[\d,]+ rows$"),
    ],
)
def test_make_legacy_db_verbosity_controls_progress_lines(
    tmp_path: Path, verbosity: int, expected: str | None
) -> None:
    out, err = run(str(tmp_path / "legacy.db"), rows=400, verbosity=verbosity)

    if expected is None:
        assert out == "" and err == ""
    else:
        assert re.search(expected, err, re.MULTILINE)


def test_make_legacy_db_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    path.write_bytes(b"the real legacy file")

    with pytest.raises(CommandError, match="already exists; pass --force") as excinfo:
        run(str(path), rows=300)

    assert excinfo.value.returncode == 2
    assert path.read_bytes() == b"the real legacy file"


def test_make_legacy_db_force_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    path.write_bytes(b"old")

    run(str(path), "--force", rows=300, verbosity=0)

    assert sum(table_counts(path).values()) == 300


def test_make_legacy_db_rejects_fewer_rows_than_the_seeds(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"below the \d+ rows the legacy seeds write") as excinfo:
        run(str(tmp_path / "legacy.db"), rows=5)

    assert excinfo.value.returncode == 2
    assert not (tmp_path / "legacy.db").exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_make_legacy_db_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    terminal = _Terminal()

    call_command(
        "make_legacy_db",
        str(tmp_path / "legacy.db"),
        rows=500,
        stdout=io.StringIO(),
        stderr=terminal,
    )

    bar = terminal.getvalue()
    assert "make_legacy_db: 100%" in bar and "500/500" in bar
