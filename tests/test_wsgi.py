"""The WSGI entry point freezes what the application allocated at startup out of the cyclic collector's sight."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.cutover import child_database_url

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import gc, procheff.wsgi; print(gc.get_freeze_count())"


@pytest.mark.parametrize(("setting", "frozen"), [(None, True), ("0", False)])
def test_wsgi_freezes_the_startup_heap_unless_told_not_to(setting: str | None, frozen: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "procheff.settings", "PROCHEFF_QUIET": "1",
           "DATABASE_URL": child_database_url(settings.DATABASES["default"])}
    env.pop("WSGI_GC_FREEZE", None)
    if setting is not None:
        env["WSGI_GC_FREEZE"] = setting
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.strip().splitlines()[-1])
    assert (count > 10_000) is frozen, count
