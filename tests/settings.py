"""Test settings: the project's settings plus the test-only apps."""
from procheff.settings import *  # noqa: F403

# The Chinook sample database as a second, unrelated app: the copy engine must move it untouched.
# Its source file is registered per test as a database alias (tests/migration/copy_support.py).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.chinook"]  # noqa: F405

# Tests get their own cache directory: waffle caches switches there, and a development server
# sharing var/cache would otherwise see the test database's switches (and the reverse).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(BASE_DIR / "var" / "test-cache"),  # noqa: F405
    }
}
