"""The validate_counts command: aligned table, JSON, exit codes, repair with and without a question."""
from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.migration.test_validate import (  # noqa: F401  (fixtures)
    LEGACY_ROWS, TABLES, copied, empty_legacy_tables, legacy, target_sql,
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
    assert {line.split()[0]: line.split()[1:] for line in lines[1:5]} == {
        t: [str(len(LEGACY_ROWS[t]))] * 2 + ["0", "0", "0", "✓"] for t in TABLES
    }
    total = sum(len(rows) for rows in LEGACY_ROWS.values())
    assert lines[5].split() == ["total", str(total), str(total), "0", "0", "0"]
    ends = [[m.end() for m in re.finditer(r"\S+", line)][1:6] for line in lines[:6]]
    assert all(e == ends[0] for e in ends)  # numbers right-aligned under their headers
    assert lines[-1].startswith("4 table(s), row level,") and lines[-1].endswith("equal")


def test_validate_counts_exits_1_and_names_the_difference(copied: None) -> None:
    target_sql('UPDATE "users" SET email = lower(email) WHERE id = %s', ["u1"])
    code, message, out = failing("--tables", "users", "--no-color")
    assert code == 1 and "1 row difference(s) in 1 table(s)" in message
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
    assert code == 1 and questions == ["Repair 1 row(s) on 'default' from 'sqlite'? [y/N] "]
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    command("--tables", "users", "--repair")
    command("--tables", "users")
