"""The cutover console's anchor: no table, only the permissions the admin console checks."""

from __future__ import annotations

from django.db import models


class CutoverConsole(models.Model):
    """Stands for the cutover console in the admin index, the permission tables and LogEntry.

    It has no table and no rows: the console shows the engine's state, which lives elsewhere.
    """

    class Meta:
        managed = False
        db_table = "cutover_console"
        default_permissions = ()
        permissions = [
            ("change_phase", "Can advance or roll back the cutover phase"),
            ("repair_rows", "Can send differing rows to repair from the spot check"),
        ]
        verbose_name = "cutover console"
        verbose_name_plural = "cutover console"

    def __str__(self) -> str:
        return "Cutover console"
