"""System checks: missing wiring fails at startup with migration.E00x ids; models need no base class."""
from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from migration import checks


def test_checks_pass_for_the_project() -> None:
    assert checks.check_wiring() == []


def test_checks_a_contrib_app_moved_with_its_models_unchanged_raises_no_error() -> None:
    from django.core.checks import run_checks

    with override_settings(MIGRATION_APPS=["core", "auth", "contenttypes", "admin"]):
        messages = [m for m in run_checks() if m.id and m.id.startswith("migration.") and m.is_serious()]
    assert messages == []


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"DATABASE_ROUTERS": []}, "migration.E002"),
        ({"MIGRATION_TARGET_ALIAS": "nowhere"}, "migration.E003"),
        ({"MIDDLEWARE": []}, "migration.E004"),
        ({"MIGRATION_MIRROR": "later"}, "migration.E007"),
    ],
)
def test_checks_missing_wiring(override: dict, expected: str) -> None:
    with override_settings(**override):
        assert expected in {e.id for e in checks.check_wiring()}


def test_checks_sqlite_without_immediate_transactions_warns() -> None:
    databases = {**settings.DATABASES, "sqlite": {**settings.DATABASES["sqlite"], "OPTIONS": {"timeout": 30}}}
    with override_settings(DATABASES=databases):
        assert "migration.W001" in {e.id for e in checks.check_wiring()}


def test_checks_project_starts_without_the_sqlite_alias() -> None:
    code = (
        "from tests.settings import *\n"
        "DATABASES = {k: v for k, v in DATABASES.items() if k != 'sqlite'}\n"
    )
    (settings.BASE_DIR / "var").mkdir(exist_ok=True)
    variant = settings.BASE_DIR / "var" / "settings_without_sqlite.py"
    variant.write_text(code)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--settings", "settings_without_sqlite"],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": f"{settings.BASE_DIR / 'var'}:{settings.BASE_DIR}", "PROCHEFF_QUIET": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
