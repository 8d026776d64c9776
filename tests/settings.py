"""Test settings: the project's settings plus the test-only apps."""
from procheff.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS]  # noqa: F405
