"""App configuration for the cutover engine."""
from django.apps import AppConfig


class MigrationConfig(AppConfig):
    name = "migration"
    verbose_name = "Cutover"
    default_auto_field = "django.db.models.BigAutoField"
