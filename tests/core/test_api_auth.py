"""API keys on every route: 401 without a usable key, 403 without the scope, on both databases."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.urls import get_resolver
from django.views.debug import ExceptionReporter

from core import api_keys
from core.models import AnalysisHistory, ApiKey, Log, SemanticCacheEntry
from tests.core.api_factories import AnalysisHistoryFactory, ApiKeyFactory, key_on, prompt_hash
from tests.core.conftest import BOTH

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

UTC = dt.UTC
HASH = prompt_hash("auth")
CACHE_BODY = {"prompt_text": "p", "response_data": {"a": 1}, "model": "claude-sonnet", "temperature": 0.2, "tokens_used": 3}
SERVER_TIMING = re.compile(r"^auth;dur=\d+\.\d{3}$")

# Every route and method the API serves, the scope it needs, and a body it accepts.
ROUTES = [
    ("GET", "/api/logs", "logs:read", None),
    ("POST", "/api/logs", "logs:write", {"level": "info", "message": "x"}),
    ("GET", f"/api/semantic-cache/{HASH}", "semantic-cache:read", None),
    ("PUT", f"/api/semantic-cache/{HASH}", "semantic-cache:write", CACHE_BODY),
    ("GET", "/api/tenders", "tenders:read", None),
    ("GET", "/api/market-prices", "market-prices:read", None),
    ("POST", "/api/analysis", "analysis:write", {"file_name": "a.pdf"}),
    ("GET", "/api/analysis/<id>", "analysis:read", None),
    ("PATCH", "/api/analysis/<id>", "analysis:write", {"progress": 5}),
    ("HEAD", "/api/tenders", "tenders:read", None),
    ("OPTIONS", "/api/logs", "logs:read", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _, _ in ROUTES]


@pytest.fixture(autouse=True)
def no_memo() -> Any:
    api_keys.forget()
    yield
    api_keys.forget()


@pytest.fixture
def analysis(served_by: str) -> AnalysisHistory:
    return AnalysisHistoryFactory()


def call(method: str, path: str, body: Any = None, authorization: str | None = None) -> Any:
    """One request as a script sends it: JSON body, no cookies, CSRF checks on."""
    headers = {} if authorization is None else {"Authorization": authorization}
    data = "" if body is None else json.dumps(body)
    return Client(enforce_csrf_checks=True).generic(method, path, data, "application/json", headers=headers)


def route(path: str, analysis: AnalysisHistory) -> str:
    return path.replace("<id>", analysis.pk)


def assert_nothing_written(alias: str) -> None:
    assert not Log.objects.using(alias).exists()
    assert not SemanticCacheEntry.objects.using(alias).exists()
    assert AnalysisHistory.objects.using(alias).count() == 1  # the fixture's
    assert AnalysisHistory.objects.using(alias).get().progress in (None, 0)


def error_of(response: Any) -> str:
    # HEAD responses carry no body; the status and headers still say it all.
    return "" if response.request["REQUEST_METHOD"] == "HEAD" else response.json()["error"]


# --- 401: no usable key ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
def test_api_without_a_key_is_401_with_a_bearer_challenge(
    served_by: str, analysis: AnalysisHistory, method: str, path: str, scope: str, body: Any
) -> None:
    response = call(method, route(path, analysis), body)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="procheff-api"'
    assert response["Content-Type"] == "application/json"
    assert method == "HEAD" or "Authorization: Bearer" in error_of(response)
    assert SERVER_TIMING.match(response["Server-Timing"])
    assert_nothing_written(served_by)


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
def test_api_with_an_unknown_key_is_401(
    served_by: str, analysis: AnalysisHistory, method: str, path: str, scope: str, body: Any
) -> None:
    stranger = api_keys.new_key()

    response = call(method, route(path, analysis), body, f"Bearer {stranger}")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert method == "HEAD" or error_of(response) == "Unknown API key."
    assert stranger not in response.content.decode() and stranger not in str(response.headers)
    assert_nothing_written(served_by)


@pytest.mark.parametrize(
    "authorization",
    ["", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "{key}", "Token {key}", "Bearer {key}x", "Bearer {key} {key}",
     "Bearer pck_short", "Bearer " + "x" * 10_000],
    ids=["empty", "basic", "no-key", "blank-key", "no-scheme", "other-scheme", "one-char-more", "two-keys", "short", "huge"],
)
def test_api_with_a_malformed_authorization_header_is_401(served_by: str, api_key: str, authorization: str) -> None:
    response = call("GET", "/api/tenders", authorization=authorization.format(key=api_key))

    assert response.status_code == 401
    assert api_key not in response.content.decode()


def test_api_key_scheme_is_case_insensitive(served_by: str, api_key: str) -> None:
    assert call("GET", "/api/tenders", authorization=f"bearer {api_key}").status_code == 200


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
def test_api_with_an_expired_key_is_401(
    served_by: str, analysis: AnalysisHistory, method: str, path: str, scope: str, body: Any
) -> None:
    key = key_on(BOTH, expires_at=dt.datetime.now(UTC) - dt.timedelta(seconds=1))

    response = call(method, route(path, analysis), body, f"Bearer {key}")

    assert response.status_code == 401
    assert method == "HEAD" or error_of(response) == "This API key has expired."
    assert_nothing_written(served_by)


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("active", [False, None], ids=["revoked", "null-active"])
def test_api_with_a_revoked_key_is_401(
    served_by: str, analysis: AnalysisHistory, method: str, path: str, scope: str, body: Any, active: bool | None
) -> None:
    key = key_on(BOTH, active=active)

    response = call(method, route(path, analysis), body, f"Bearer {key}")

    assert response.status_code == 401
    assert method == "HEAD" or error_of(response) == "This API key has been revoked."
    assert_nothing_written(served_by)


@pytest.mark.parametrize("service", ["claude", "openai", "gemini"])
def test_api_refuses_a_providers_key_row_of_the_legacy_app(served_by: str, service: str) -> None:
    key = key_on(BOTH, service=service)

    response = call("GET", "/api/tenders", authorization=f"Bearer {key}")

    assert response.status_code == 401
    assert response.json()["error"] == "Unknown API key."


def test_api_key_expiring_later_works_until_then(served_by: str) -> None:
    key = key_on(BOTH, expires_at=dt.datetime.now(UTC) + dt.timedelta(hours=1))

    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 200


# --- 403: a key without the scope -----------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
def test_api_with_a_key_of_other_scopes_is_403(
    served_by: str, analysis: AnalysisHistory, method: str, path: str, scope: str, body: Any
) -> None:
    key = key_on(BOTH, permissions=[other for other in api_keys.SCOPES if other != scope])

    response = call(method, route(path, analysis), body, f"Bearer {key}")

    assert response.status_code == 403
    assert response["WWW-Authenticate"] == f'Bearer realm="procheff-api", error="insufficient_scope", scope="{scope}"'
    assert method == "HEAD" or error_of(response) == f"This API key lacks the scope {scope}."
    assert_nothing_written(served_by)


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=ROUTE_IDS)
def test_api_with_a_key_of_exactly_the_scope_is_served(
    served_by: str, analysis: AnalysisHistory, method: str, path: str, scope: str, body: Any
) -> None:
    key = key_on(BOTH, permissions=[scope])

    response = call(method, route(path, analysis), body, f"Bearer {key}")

    # The cache GET of a hash never stored is the route's own 404, past the key check.
    assert response.status_code in (200, 201, 404)
    assert response.status_code != 404 or path.startswith("/api/semantic-cache/")
    assert SERVER_TIMING.match(response["Server-Timing"])


@pytest.mark.parametrize("permissions", [["read", "write"], None, {"logs": "read"}, "logs:read", [], ["LOGS:READ"]])
def test_api_grants_nothing_for_permissions_that_are_not_a_list_of_scopes(served_by: str, permissions: Any) -> None:
    key = key_on(BOTH, permissions=permissions)

    for method, path, _, body in ROUTES:
        if "<id>" not in path:
            assert call(method, path, body, f"Bearer {key}").status_code == 403, (method, path)


def test_api_unknown_path_needs_a_key_but_no_scope(served_by: str) -> None:
    key = key_on(BOTH, permissions=[])

    assert call("GET", "/api/nothing").status_code == 401
    response = call("GET", "/api/nothing", authorization=f"Bearer {key}")
    assert response.status_code == 404 and "/api/nothing" in response.json()["error"]


def test_api_method_not_served_is_405_after_the_key_whatever_its_scopes(served_by: str) -> None:
    key = key_on(BOTH, permissions=["tenders:read"])

    assert call("DELETE", "/api/logs").status_code == 401
    response = call("DELETE", "/api/logs", authorization=f"Bearer {key}")
    assert response.status_code == 405 and "DELETE" in response.json()["error"]


def test_api_scopes_match_the_routes_and_methods_served() -> None:
    needed = set()
    for pattern in get_resolver().url_patterns:
        for inner in getattr(pattern, "url_patterns", []):
            view = getattr(inner.callback, "view_class", None)
            if view is None or getattr(view, "resource", None) is None:
                continue
            assert view.resource in api_keys.RESOURCES, view
            assert str(inner.pattern).split("/")[0] == view.resource, view
            for method in view.http_method_names:
                if hasattr(view, method) and method not in ("options", "head"):
                    needed.add(api_keys.scope(view.resource, method))
    assert needed == set(api_keys.SCOPES)


# --- Issued keys, the memo ------------------------------------------------------------------


def test_api_accepts_an_issued_key_and_stores_only_its_hash(served_by: str) -> None:
    row, key = api_keys.issue("worker", ["logs:write"])

    response = call("POST", "/api/logs", {"level": "info", "message": "x"}, f"Bearer {key}")

    assert response.status_code == 201
    stored = ApiKey.objects.using(served_by).get(pk=row.pk)
    assert stored.key_hash == api_keys.hash_key(key) and len(stored.key_hash) == 64
    assert stored.key_preview == f"pck_...{key[-4:]}" and stored.service == "internal"
    assert stored.permissions == ["logs:write"] and stored.active is True
    assert key not in repr(ApiKey.objects.using(served_by).values_list().get(pk=row.pk))


def test_api_refuses_a_key_revoked_in_this_process_at_once(served_by: str, settings: Any) -> None:
    settings.API_KEY_MEMO_SECONDS = 60
    row, key = api_keys.issue("worker", ["tenders:read"])
    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 200

    api_keys.revoke(key_id=row.pk)

    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 401


def test_api_remembers_a_verified_key_for_the_memo_seconds_only(served_by: str, settings: Any) -> None:
    settings.API_KEY_MEMO_SECONDS = 60
    row, key = api_keys.issue("worker", ["tenders:read"])
    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 200

    # Revoked by another process: this one's memo still holds the key ...
    ApiKey.objects.filter(pk=row.pk).update(active=False)
    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 200
    # ... until it is older than the memo's seconds.
    settings.API_KEY_MEMO_SECONDS = 0
    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 401


def test_api_checks_expiry_on_every_request_even_from_the_memo(served_by: str, settings: Any) -> None:
    settings.API_KEY_MEMO_SECONDS = 60
    expires_at = ApiKey._meta.get_field("expires_at").truncate(dt.datetime.now(UTC) + dt.timedelta(seconds=2))
    key = api_keys.new_key()
    ApiKeyFactory(key=key, expires_at=expires_at, permissions=["tenders:read"])
    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 200

    time.sleep(max(0.0, (expires_at - dt.datetime.now(UTC)).total_seconds()) + 0.05)

    response = call("GET", "/api/tenders", authorization=f"Bearer {key}")
    assert response.status_code == 401 and response.json()["error"] == "This API key has expired."


def test_api_memo_does_not_remember_failures(served_by: str, settings: Any) -> None:
    settings.API_KEY_MEMO_SECONDS = 60
    key = api_keys.new_key()
    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 401

    ApiKeyFactory(key=key, permissions=["tenders:read"])

    assert call("GET", "/api/tenders", authorization=f"Bearer {key}").status_code == 200


@pytest.mark.parametrize(
    ("scopes", "expires_in", "message"),
    [(["logs:erase"], None, "Unknown scope logs:erase"), ([], None, "at least one scope"),
     (["tenders:write"], None, "Unknown scope tenders:write"), (["logs:read"], -60, "not in the future")],
)
def test_api_key_issue_refuses_unknown_scopes_and_past_expiry(
    served_by: str, scopes: list[str], expires_in: int | None, message: str
) -> None:
    expires_at = None if expires_in is None else dt.datetime.now(UTC) + dt.timedelta(seconds=expires_in)

    with pytest.raises(api_keys.InvalidKeyRequest, match=message):
        api_keys.issue("bad", scopes, expires_at)

    assert not ApiKey.objects.using(served_by).exists()


def test_api_key_format_and_hash_are_as_documented() -> None:
    key = api_keys.new_key()

    assert re.fullmatch(r"pck_[A-Za-z0-9_-]{43}", key)
    assert api_keys.hash_key(key) == hashlib.sha256(key.encode("utf-8")).hexdigest()
    assert api_keys.preview(key) == "pck_..." + key[-4:]
    assert len({api_keys.new_key() for _ in range(100)}) == 100


# --- Logs -----------------------------------------------------------------------------------


def test_api_key_never_appears_in_a_log_line(
    served_by: str, analysis: AnalysisHistory, caplog: pytest.LogCaptureFixture
) -> None:
    key = key_on(BOTH, permissions=["logs:read", "logs:write", "tenders:read"])
    revoked = key_on(BOTH, active=False)
    expired = key_on(BOTH, expires_at=dt.datetime.now(UTC) - dt.timedelta(days=1))
    stranger = api_keys.new_key()
    secrets = [key, revoked, expired, stranger]
    if served_by == "sqlite":  # a row the API cannot read: a 500, logged by Django with the request
        with connections["sqlite"].cursor() as cursor:
            cursor.execute("INSERT INTO logs (level, message, data, created_at) VALUES ('info', 'x', '{}', 'soon')")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    for alias in BOTH:
        connections[alias].force_debug_cursor = True  # every statement and its parameters logged
    try:
        statuses = [
            call("GET", "/api/logs", authorization=f"Bearer {key}").status_code,
            call("POST", "/api/logs", {"level": "info", "message": "m"}, f"Bearer {key}").status_code,
            call("GET", f"/api/analysis/{analysis.pk}", authorization=f"Bearer {key}").status_code,
            call("GET", "/api/tenders", authorization=f"Bearer {revoked}").status_code,
            call("GET", "/api/tenders", authorization=f"Bearer {expired}").status_code,
            call("GET", "/api/tenders", authorization=f"Bearer {stranger}").status_code,
            call("GET", "/api/tenders", authorization=f"Token {stranger}").status_code,
            call("DELETE", "/api/tenders", authorization=f"Bearer {key}").status_code,
            call("GET", "/api/nothing", authorization=f"Bearer {key}").status_code,
        ]
    finally:
        for alias in BOTH:
            connections[alias].force_debug_cursor = False

    assert statuses == [500 if served_by == "sqlite" else 200, 201, 403, 401, 401, 401, 401, 405, 404]
    lines = [logging.Formatter("%(name)s %(levelname)s %(message)s").format(record) for record in caplog.records]
    # What AdminEmailHandler would mail for each logged request (its META filtered by Django).
    lines += [
        ExceptionReporter(record.request, None, None, None, is_email=True).get_traceback_text()
        for record in caplog.records if hasattr(record, "request")
    ]
    assert any(api_keys.hash_key(key) in line for line in lines), "the SQL log was not captured"
    assert any("Forbidden: /api/analysis/" in line for line in lines)
    assert any("HTTP_AUTHORIZATION = '********************'" in line for line in lines)
    assert not [line for line in lines for secret in secrets if secret in line]
