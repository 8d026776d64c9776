"""Online SQLite backups: the backup API, PRAGMA integrity_check, sha256, and the record of each."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from migration.backup import backup_sqlite
from migration.exceptions import BackupError
from migration.models import BackupRecord
from tests.support.backfill import SOURCE, insert, legacy_source

pytestmark = pytest.mark.django_db(databases=["default", SOURCE])


def test_backup_sqlite_copies_checks_and_fingerprints_a_live_file(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": f"m{i}"} for i in range(100)])
        record = backup_sqlite(SOURCE, tmp_path / "out")
    copy = Path(record.path)
    assert copy.parent == tmp_path / "out"
    assert record.integrity == "ok"
    assert record.sha256 == hashlib.sha256(copy.read_bytes()).hexdigest()
    assert record.size_bytes == copy.stat().st_size
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM logs").fetchone()[0] == 100
    assert BackupRecord.objects.get() == record


def test_backup_sqlite_accepts_a_path(tmp_path: Path) -> None:
    source = tmp_path / "plain.sqlite3"
    connection = sqlite3.connect(source)
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    connection.close()
    record = backup_sqlite(source, tmp_path / "out")
    assert record.source == str(source)
    assert sqlite3.connect(record.path).execute("SELECT x FROM t").fetchall() == [(1,)]


def test_backup_sqlite_refuses_a_missing_source(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="does not exist"):
        backup_sqlite(tmp_path / "nope.sqlite3", tmp_path / "out")
    assert not BackupRecord.objects.exists()


def test_backup_sqlite_refuses_a_corrupt_database(tmp_path: Path) -> None:
    source = tmp_path / "corrupt.sqlite3"
    connection = sqlite3.connect(source)
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.execute("CREATE INDEX t_x ON t (x)")
    connection.executemany("INSERT INTO t VALUES (?)", [(f"value {i:05d}" * 5,) for i in range(2000)])
    connection.commit()
    connection.close()
    data = bytearray(source.read_bytes())
    page = 4096
    for offset in range(3 * page + 100, 3 * page + 400):  # scribble over a b-tree page
        data[offset] = 0xA5
    source.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="integrity_check|malformed|failed"):
        backup_sqlite(source, tmp_path / "out")
    assert not BackupRecord.objects.exists()
