"""The engine's first migration: nothing yet; each concern adds its tables in its own migration."""
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations: list[migrations.operations.base.Operation] = []
