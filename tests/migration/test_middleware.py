"""The read middleware: one decision per request, sticky cookie, read-your-writes inside the request."""
from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core.models.menu import MenuCategory
from migration import context, dualwrite, flags
from migration.middleware import CutoverReadMiddleware
from migration.phase import Phase
from tests.support.cutover import BOTH, cutover_state, set_phase  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH), pytest.mark.usefixtures("cutover_state")]


def _run(view: Any, cookie: str | None = None) -> HttpResponse:
    factory = RequestFactory()
    request = factory.get("/", HTTP_COOKIE=f"{flags.BUCKET_COOKIE}={cookie}") if cookie else factory.get("/")
    return CutoverReadMiddleware(view)(request)


def _token_with(inside: bool, percent: float) -> str:
    return next(t for t in (f"t{i}" for i in range(1000)) if (flags.bucket_of(t) < percent) == inside)


def test_middleware_routes_the_whole_request_by_one_decision() -> None:
    set_phase(Phase.READ_ROLLOUT, 50)
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(dualwrite.read_alias(MenuCategory))
        # Raising the percent mid-request does not change this request's choice.
        flags.write_state(dual_write=True, read_percent=100, background_reads_postgres=True,
                          postgres_primary=False, finalized=False)
        seen.append(dualwrite.read_alias(MenuCategory))
        return HttpResponse("ok")

    _run(view, cookie=_token_with(False, 50))
    assert seen == ["sqlite", "sqlite"]
    assert context.current() is None


def test_middleware_sets_a_sticky_bucket_cookie_once() -> None:
    set_phase(Phase.READ_ROLLOUT, 50)
    first = _run(lambda r: HttpResponse("ok"))
    token = first.cookies[flags.BUCKET_COOKIE].value
    choices = set()
    for _ in range(5):
        response = _run(lambda r: HttpResponse(dualwrite.read_alias(MenuCategory)), cookie=token)
        assert flags.BUCKET_COOKIE not in response.cookies
        choices.add(response.content)
    assert len(choices) == 1


def test_middleware_request_reads_its_own_writes() -> None:
    set_phase(Phase.READ_ROLLOUT, 100)
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(dualwrite.read_alias(MenuCategory))
        MenuCategory.objects.create(name="mine", name_tr="mine")
        seen.append(dualwrite.read_alias(MenuCategory))
        return HttpResponse("ok")

    _run(view, cookie="any")
    assert seen == ["default", "sqlite"]
