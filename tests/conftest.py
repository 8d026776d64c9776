"""Test setup: the `sqlite` alias gets the legacy schema from fixtures/legacy_schema.sql, not migrations."""
from __future__ import annotations

import pytest
from django.db import connections

from core import legacy


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After Django's own setup, lay the legacy DDL into the test copy of the legacy file."""
    with django_db_blocker.unblock():
        connection = connections["sqlite"]
        connection.ensure_connection()
        existing = {name for name in connection.introspection.table_names()}
        if "users" not in existing:
            connection.connection.executescript(legacy.schema_sql())
        # The file outlives a test run: a phase, triggers or a fence an interrupted run left behind
        # would decide the phase of this one.
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cutover\\_%' ESCAPE '\\'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}"')
            cursor.execute('DROP TABLE IF EXISTS "cutover_phase_copy"')
            cursor.execute('DROP TABLE IF EXISTS "cutover_fence_pass"')
        connection.close()
    yield
