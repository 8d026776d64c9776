"""Fixtures of the JSON API tests: the alias that serves a test, and a client with a key both databases know."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from core import api_keys
from tests.core.api_factories import key_on

BOTH = ("sqlite", "default")


class PinnedRouter:
    """Serve the core app from one alias, as the cutover router does in its first and last phases."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return self.alias if model._meta.app_label == "core" else None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return self.alias if model._meta.app_label == "core" else None


@pytest.fixture(params=["sqlite", "default"])
def served_by(request: pytest.FixtureRequest, settings: Any) -> str:
    """The alias that serves the API in this test."""
    settings.DATABASE_ROUTERS = [PinnedRouter(request.param)]
    return request.param


@pytest.fixture
def api_key() -> Iterator[str]:
    """A key with every scope, stored on both databases, so it is found wherever reads are routed."""
    api_keys.forget()
    yield key_on(BOTH)
    api_keys.forget()


@pytest.fixture
def api(api_key: str) -> Client:
    # CSRF checks on, as for a real client: the API must work without a token.
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {api_key}"})
