"""The admin of the ``api_keys`` table (registered by core.admin.settings): names, previews and scopes, never a hash."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core import api_keys
from core.models import ApiKey
from migration.admin import MigratedModelAdmin


class ApiKeyForm(forms.ModelForm):
    """The change form: ``key_hash`` left out; the scopes of an API key must be known ones."""

    class Meta:
        model = ApiKey
        exclude = ("key_hash",)

    def clean_permissions(self) -> Any:
        value = self.cleaned_data.get("permissions")
        if self.instance.service != api_keys.SERVICE:
            return value  # a provider's row of the legacy app: its permissions mean something else
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise forms.ValidationError('A JSON list of scopes, such as ["logs:read", "logs:write"].')
        try:
            return api_keys.checked_scopes(value)
        except api_keys.InvalidKeyRequest as exc:
            raise forms.ValidationError(str(exc)) from exc


class ApiKeyAdmin(MigratedModelAdmin):
    """Lists and edits keys (name, scopes, active, expiry); keys are issued by ``api_key create``."""

    form = ApiKeyForm
    list_display = ("id", "name", "service", "key_preview", "permissions", "active", "expires_at")
    search_fields = ("name", "key_preview", "created_by")
    list_filter = ("active", "service", "created_at")
    readonly_fields = ("key_preview", "service", "last_used", "usage_count", "created_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A key is shown once, where it is made: the command prints it; a page would have to keep it.
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        api_keys.forget()  # this process at once; the others within API_KEY_MEMO_SECONDS

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        revoked = queryset.filter(active=True).update(active=False)
        api_keys.forget()
        self.message_user(
            request,
            f"Revoked {revoked} API key(s); other processes may accept them for up to "
            f"{api_keys.memo_seconds():g} s more (API_KEY_MEMO_SECONDS).",
        )
