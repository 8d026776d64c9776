"""The migrate_data command: output, exit codes, confirmation, and resuming after a SIGKILL."""
from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from core.models import Log
from migration.models import BackupRecord, CopyCheckpoint
from tests.support.backfill import (
    SOURCE,
    chinook_source,
    insert,
    legacy_source,
    reltuples,
    rows_of,
)

pytestmark = pytest.mark.django_db(databases=["default", SOURCE], transaction=True)


def migrate_data(*args: str) -> str:
    out = io.StringIO()
    call_command("migrate_data", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_migrate_data_analyze_refreshes_the_statistics_of_every_table_it_wrote(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        report = json.loads(migrate_data("--analyze", "--no-backup", "--json"))
        out = migrate_data("--analyze", "--no-backup")  # nothing left to copy: nothing to analyze
    assert sorted(report["analyzed"]) == sorted(t["table"] for t in report["tables"] if t["copied"])
    assert len(report["analyzed"]) == 11
    assert reltuples('"PlaylistTrack"') == 8715
    assert "0 table(s) analyzed." in out


def test_migrate_data_dry_run_prints_the_plan(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        out = migrate_data("--dry-run", "--batch-size", "1000")
    assert "Plan (dry run, nothing written)" in out
    assert "PlaylistTrack" in out and "8715" in out
    assert "11 tables, 15607 rows to copy." in out
    assert not CopyCheckpoint.objects.exists()


def test_migrate_data_prints_summary_and_backup_checksum(tmp_path: Path) -> None:
    with chinook_source(tmp_path):
        out = migrate_data()
    record = BackupRecord.objects.get()
    assert f"sha256={record.sha256}" in out
    assert Path(record.path).parent == tmp_path / "backups"
    assert "11 tables, 15607 rows copied" in out
    assert "analyzed" not in out  # only with --analyze
    assert "Done: every source row is in the target." in out


def test_migrate_data_json_gives_per_table_counts(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}] * 3)
        result = json.loads(migrate_data("--json", "--no-backup", "--tables", "logs", "memberships"))
    tables = {t["table"]: t for t in result["tables"]}
    assert {k: tables["logs"][k] for k in ("source_rows", "copied", "skipped", "rejected")} == {
        "source_rows": 3, "copied": 3, "skipped": 0, "rejected": 0,
    }
    assert isinstance(tables["logs"]["seconds"], float)
    assert tables["memberships"]["absent"] is True and tables["memberships"]["source_rows"] is None


def test_migrate_data_exits_1_when_rows_are_rejected(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m", "data": "not json"}])
        rejects = tmp_path / "rejects.jsonl"
        with pytest.raises(CommandError, match="1 row\\(s\\) rejected") as info:
            migrate_data("--no-backup", "--tables", "logs", "--max-rejects", "10", "--rejects", str(rejects))
    assert info.value.returncode == 1
    assert json.loads(rejects.read_text())["column"] == "data"


def test_migrate_data_exits_1_at_the_rejects_limit_naming_the_cell(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"id": 4, "level": "info", "message": "m", "created_at": "someday"}])
        with pytest.raises(CommandError, match="logs pk=4 column created_at: value 'someday'") as info:
            migrate_data("--no-backup", "--tables", "logs")
        assert info.value.returncode == 1
        assert "someday" in (tmp_path / "backups" / "rejects.jsonl").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--tables", "no_such_table"], "unknown table"),
    (["--source", "nowhere"], "unknown database alias"),
    (["--target", SOURCE], "is not PostgreSQL"),
    (["--batch-size", "0"], "at least 1"),
])
def test_migrate_data_exits_2_on_bad_invocation(tmp_path: Path, args: list[str], message: str) -> None:
    with legacy_source(tmp_path):
        with pytest.raises(CommandError, match=message) as info:
            migrate_data("--no-backup", *args)
    assert info.value.returncode == 2


def test_migrate_data_fresh_asks_before_truncating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}])
        migrate_data("--no-backup", "--tables", "logs")
        Log.objects.using("default").update(message="kept")
        monkeypatch.setattr("builtins.input", lambda prompt: "no")
        with pytest.raises(CommandError, match="Cancelled") as info:
            migrate_data("--no-backup", "--tables", "logs", "--fresh")
        assert info.value.returncode == 2
        assert Log.objects.using("default").get().message == "kept"
        migrate_data("--no-backup", "--tables", "logs", "--fresh", "--no-input")
        assert Log.objects.using("default").get().message == "m"


def _subprocess_env(source: Path, directory: Path) -> dict[str, str]:
    """Settings for a child process that uses this test's databases (a server URL or the embedded socket)."""
    db = connections["default"].settings_dict
    default = {key: db[key] for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}
    (directory / "copy_child_settings.py").write_text(
        "import json, os\n"
        "from tests.settings import *  # noqa: F403\n"
        "DATABASES['default'] = json.loads(os.environ['COPY_CHILD_DEFAULT_DB'])  # noqa: F405\n"
    )
    return dict(
        os.environ, COPY_CHILD_DEFAULT_DB=json.dumps(default), SQLITE_PATH=str(source), PROCHEFF_QUIET="1",
        DJANGO_SETTINGS_MODULE="copy_child_settings", MIGRATION_APPS="core",
        PYTHONPATH=os.pathsep.join([str(settings.BASE_DIR), str(directory)]),
    )


def test_migrate_data_resumes_after_sigkill_with_exactly_the_source_rows(tmp_path: Path) -> None:
    source = tmp_path / "legacy.sqlite3"
    with legacy_source(tmp_path) as path:
        source = path
        connection = sqlite3.connect(path)
        connection.executemany(
            "INSERT INTO logs (id, level, message, data, created_at) VALUES (?, 'info', ?, ?, ?)",
            [(i, f"message {i}", json.dumps({"i": i}), "2025-05-06 07:08:09") for i in range(1, 30001)],
        )
        connection.commit()
        connection.close()
        process = subprocess.Popen(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate_data", "--no-backup",
             "--tables", "logs", "--batch-size", "100", "-v0"],
            env=_subprocess_env(source, tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        copied = 0
        while time.monotonic() < deadline and process.poll() is None:
            checkpoint = CopyCheckpoint.objects.filter(table="logs").first()
            copied = checkpoint.copied_rows if checkpoint else 0
            if copied >= 3000:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert process.returncode == -signal.SIGKILL, process.stderr.read().decode() if process.stderr else ""
        checkpoint = CopyCheckpoint.objects.get(table="logs")
        assert 0 < checkpoint.copied_rows < 30000 and not checkpoint.complete
        # the checkpoint and the rows were committed together: no gap, no extra row
        assert Log.objects.using("default").count() == checkpoint.copied_rows
        assert max(Log.objects.using("default").values_list("pk", flat=True)) == checkpoint.last_key

        migrate_data("--no-backup", "--tables", "logs", "--batch-size", "5000")
        assert Log.objects.using("default").count() == 30000
        assert rows_of(Log, "default") == rows_of(Log, SOURCE)
        assert CopyCheckpoint.objects.get(table="logs").copied_rows == 30000


@pytest.mark.parametrize(("verbosity", "expected"), [
    (0, []),
    (1, []),
    (2, ["logs: 3 row(s) to copy", "logs: 3 copied, 0 skipped, 0 rejected"]),
    (3, ["logs: 3 row(s) to copy", "logs: 3/3 rows (rowid <= 3; +3 copied", "logs: 3 copied"]),
])
def test_migrate_data_progress_lines_follow_verbosity(tmp_path: Path, verbosity: int, expected: list[str]) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}] * 3)
        out, err = io.StringIO(), io.StringIO()
        call_command("migrate_data", "--no-backup", "--tables", "logs", verbosity=verbosity, stdout=out, stderr=err)
    for fragment in expected:
        assert fragment in err.getvalue()
    assert ("Summary:" in out.getvalue()) == (verbosity >= 1)
    if verbosity < 2:
        assert err.getvalue() == ""
