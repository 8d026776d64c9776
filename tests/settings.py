"""Test settings: the project's settings plus the test-only apps."""
from procheff.settings import *  # noqa: F403

# The Chinook sample database as a second, unrelated app: the copy engine must move it untouched.
# Its source file is registered per test as a database alias (tests/migration/copy_support.py).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.chinook"]  # noqa: F405
