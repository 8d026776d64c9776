"""Test settings: the project's settings plus the test-only apps."""
from procheff.settings import *  # noqa: F403

# The Chinook sample database as a second, unrelated app: the copy engine must move it untouched.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.chinook"]  # noqa: F405

# Tests get their own cache directory: waffle caches switches there, and a development server
# sharing var/cache would otherwise see the test database's switches (and the reverse).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(BASE_DIR / "var" / "test-cache"),  # noqa: F405
    }
}

# A source alias the backfill tests point at a fresh SQLite file per test (tests/support/backfill.py).
# detect_types=0: sqlite3's declared-type converters would pre-parse DATETIME/TIMESTAMP text (and turn
# epoch-ms integers into None) before the fields' own converters see the raw value.
DATABASES["copy_source"] = {  # noqa: F405
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": str(BASE_DIR / "var" / "copy-source.sqlite3"),  # noqa: F405
    "OPTIONS": {"timeout": 30, "detect_types": 0},
    # A file, not memory: Django never closes in-memory test connections, so NAME could not move.
    "TEST": {"NAME": str(BASE_DIR / "var" / "test-copy-source.sqlite3")},  # noqa: F405
}
