"""Online backups of a SQLite database: the backup API, an integrity check and a sha256, recorded."""
from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from django.db import connections
from django.utils import timezone

from migration import conf
from migration.exceptions import BackupError
from migration.models import BackupRecord

_CHUNK = 1 << 20


def sqlite_path(alias_or_path: str | Path) -> Path:
    """The file behind a database alias, or ``alias_or_path`` itself when it is not an alias."""
    if isinstance(alias_or_path, str) and alias_or_path in connections.databases:
        # The connection's settings, not django.conf's: test runs point NAME at the test file.
        database = connections[alias_or_path].settings_dict
        if connections[alias_or_path].vendor != "sqlite":
            raise BackupError(f"database alias {alias_or_path!r} is not SQLite; only SQLite files are backed up")
        return Path(database["NAME"])
    return Path(alias_or_path)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so memory stays flat."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def backup_sqlite(
    alias_or_path: str | Path, directory: Path | None = None, *, record_using: str | None = None
) -> BackupRecord:
    """Copy a live SQLite database with the backup API, check it, fingerprint it and record it.

    The backup API copies a consistent snapshot page by page while the application keeps writing,
    so no downtime is needed. The copy must pass ``PRAGMA integrity_check``; its sha256 is stored
    with the path in ``cutover_backup`` on ``record_using`` (default: the target alias).
    """
    source = sqlite_path(alias_or_path)
    if not source.is_file():
        raise BackupError(f"source database {source} does not exist; check the alias or path")
    directory = Path(directory) if directory is not None else conf.backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    destination = directory / f"{source.stem}-{stamp}.sqlite3"
    started = time.monotonic()
    # Read-only URI: a backup must never be able to change the file it protects.
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    writer = sqlite3.connect(destination)
    try:
        # Small steps let the live application take its write locks between pages.
        reader.backup(writer, pages=1024, sleep=0.005)
        integrity = "\n".join(row[0] for row in writer.execute("PRAGMA integrity_check"))
    except sqlite3.Error as exc:
        raise BackupError(f"backing up {source} to {destination} failed: {exc}") from exc
    finally:
        writer.close()
        reader.close()
    if integrity != "ok":
        raise BackupError(
            f"backup {destination} of {source} failed PRAGMA integrity_check: {integrity[:500]}; "
            "do not migrate from this file before repairing it"
        )
    return BackupRecord.objects.using(record_using or conf.target_alias()).create(
        source=str(alias_or_path),
        path=str(destination),
        sha256=sha256_of(destination),
        size_bytes=destination.stat().st_size,
        integrity=integrity,
        seconds=round(time.monotonic() - started, 3),
    )
