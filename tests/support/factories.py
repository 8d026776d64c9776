"""Factories and fixtures for the console tests: operators, planted rows, phase changes kept local."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import factory
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connections
from django.test.testcases import DatabaseOperationForbidden

from migration import fence, flags
from migration.dualwrite import capture

UTC = dt.UTC
PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    """An active staff user without permissions; ``superuser=True`` or ``perms=[...]`` add some."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"operator{n}")
    is_staff = True
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def perms(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for codename in extracted or []:
            app_label, name = codename.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=name)
            )
        self.save()


def insert(alias: str, table: str, **values: Any) -> None:
    """Plant a row exactly as given, bypassing the ORM so no conversion or mirroring happens."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in values)
    placeholders = ", ".join(
        "%s::jsonb"
        if connection.vendor == "postgresql" and c == "metadata" and v is not None
        else "%s"
        for c, v in values.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table)} ({columns}) VALUES ({placeholders})", list(values.values())
        )


def audit_pair(pk: int, **target_overrides: Any) -> None:
    """The same security_audit_logs row, legacy-shaped on SQLite and native on PostgreSQL."""
    insert(
        "sqlite",
        "security_audit_logs",
        id=pk,
        user_id="Ayse@Example.com",
        action="login",
        metadata='{"ip":"10.0.0.1","tries":2}',
        success=1,
        created_at="2024-01-01 10:00:00",
    )
    native: dict[str, Any] = {
        "id": pk,
        "user_id": "Ayse@Example.com",
        "action": "login",
        "metadata": '{"ip": "10.0.0.1", "tries": 2}',
        "success": True,
        "created_at": dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
    }
    native.update(target_overrides)
    insert("default", "security_audit_logs", **native)


@pytest.fixture
def fresh_flags(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Phase changes in a test: backups go to a temporary directory, and no switch outlives the test.

    Waffle keeps switches in the cache and the engine memoises them in the process; the database
    rollback at the end of a test undoes neither.
    """
    settings.MIGRATION_BACKUP_DIR = tmp_path / "backups"
    cache.clear()
    flags.forget()
    yield
    cache.clear()
    flags.forget()
    # A phase change leaves fences (triggers) that outlive a test run outside a transaction, and
    # the test database's flush would meet them.
    for alias in ("default", "sqlite"):
        try:
            fence.lower_fence(alias)
            capture.remove(alias)
            with connections[alias].cursor() as cursor:  # and the copy of the phase the change wrote
                cursor.execute(f'DROP TABLE IF EXISTS "{flags.SOURCE_COPY_TABLE}"')
        except DatabaseOperationForbidden:
            pass  # a database this test does not use
