"""The admin of api_keys: names, previews and scopes; never a key or a whole hash; no add page."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from core import api_keys
from core.models import ApiKey

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

CHANGELIST = "admin:core_apikey_changelist"


@pytest.fixture
def issued(served_by: str) -> tuple[ApiKey, str]:
    api_keys.forget()
    return api_keys.issue("panel", ["logs:read", "tenders:read"])


def test_admin_lists_keys_by_name_preview_and_scopes_without_the_hash(admin_client: Client, issued: tuple[ApiKey, str]) -> None:
    row, key = issued

    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    change = admin_client.get(reverse("admin:core_apikey_change", args=[row.pk])).content.decode()

    assert "panel" in page and row.key_preview in page and "tenders:read" in page
    for html in (page, change):
        assert key not in html and row.key_hash not in html and row.key_hash[:16] not in html
    assert 'name="key_hash"' not in change and 'name="permissions"' in change


def test_admin_has_no_page_to_add_a_key(admin_client: Client, served_by: str) -> None:
    assert admin_client.get(reverse("admin:core_apikey_add")).status_code == 403
    assert admin_client.get(reverse(CHANGELIST)).context["has_add_permission"] is False


def test_admin_revoke_action_deactivates_the_selected_keys(
    admin_client: Client, issued: tuple[ApiKey, str], served_by: str
) -> None:
    row, key = issued
    keep, _ = api_keys.issue("kept", ["logs:read"])

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "revoke", "_selected_action": [row.pk]}, follow=True
    )

    assert "Revoked 1 API key(s)" in response.content.decode()
    assert ApiKey.objects.using(served_by).get(pk=row.pk).active is False
    assert ApiKey.objects.using(served_by).get(pk=keep.pk).active is True
    assert Client().get("/api/logs", headers={"Authorization": f"Bearer {key}"}).status_code == 401


@pytest.mark.parametrize(
    ("permissions", "saved"),
    [('["tenders:read", "logs:read", "tenders:read"]', ["logs:read", "tenders:read"]), ('["logs:erase"]', None),
     ('{"logs": "read"}', None), ('"logs:read"', None)],
)
def test_admin_change_form_accepts_only_known_scopes(
    admin_client: Client, issued: tuple[ApiKey, str], served_by: str, permissions: str, saved: Any
) -> None:
    row, key = issued

    response = admin_client.post(
        reverse("admin:core_apikey_change", args=[row.pk]),
        {"name": "panel", "permissions": permissions, "active": "on", "rate_limit": "1000"},
    )

    stored = ApiKey.objects.using(served_by).get(pk=row.pk)
    if saved is None:
        assert response.status_code == 200 and "permissions" in response.context["adminform"].form.errors
        assert stored.permissions == ["logs:read", "tenders:read"]
    else:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert stored.permissions == saved and stored.key_hash == api_keys.hash_key(key)
