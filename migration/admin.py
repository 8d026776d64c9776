"""Read-only admin pages of the cutover: phase changes, outbox, latency samples, shadow mismatches."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from migration.models import LatencySample, OutboxRecord, PhaseChange, ShadowMismatch


class ReadOnlyAdmin(admin.ModelAdmin):
    """The engine writes these rows; operators only read them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PhaseChange)
class PhaseChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "via", "from_phase", "from_percent", "to_phase", "to_percent", "forced")
    list_filter = ("via", "forced")


@admin.register(OutboxRecord)
class OutboxRecordAdmin(ReadOnlyAdmin):
    """The outbox on the current primary (where new records are written); ``cutover status`` shows both."""

    list_display = ("id", "model_label", "pk_value", "operation", "created_at", "attempts", "last_error")
    list_filter = ("model_label", "operation")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxRecord]:
        from migration import phase

        return super().get_queryset(request).using(phase.primary_alias())


@admin.register(LatencySample)
class LatencySampleAdmin(ReadOnlyAdmin):
    list_display = ("at", "alias", "kind", "count", "total_ms", "process")
    list_filter = ("alias", "kind")


@admin.register(ShadowMismatch)
class ShadowMismatchAdmin(ReadOnlyAdmin):
    list_display = ("at", "model_label", "primary_alias", "shadow_alias", "primary_rows", "shadow_rows", "primary_ms", "shadow_ms")
    list_filter = ("model_label",)
