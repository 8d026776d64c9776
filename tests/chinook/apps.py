"""App config of the Chinook test app."""
from __future__ import annotations

from django.apps import AppConfig


class ChinookConfig(AppConfig):
    name = "tests.chinook"
    label = "chinook"
    default_auto_field = "django.db.models.AutoField"
