"""App configuration for the Procheff domain models."""
from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Procheff"
    default_auto_field = "django.db.models.BigAutoField"
