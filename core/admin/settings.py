"""Admin of the application settings, API keys and queues."""
from __future__ import annotations

from django.contrib import admin

from core import models
from core.admin.api_keys import ApiKeyAdmin
from migration.admin import MigratedModelAdmin

# --- settings ------------------------------------------------------------------------------------


# Keys are credentials: no add page, no hash shown (core/api_keys_admin.py).
admin.site.register(models.ApiKey, ApiKeyAdmin)


@admin.register(models.ApiUsageLog)
class ApiUsageLogAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "method",
        "status_code",
        "response_time_ms",
        "user_id",
        "created_at",
    )
    search_fields = ("endpoint", "user_id")
    list_filter = ("method", "status_code", "created_at")


@admin.register(models.AppSetting)
class AppSettingAdmin(MigratedModelAdmin):
    list_display = ("key", "value", "category", "updated_at")
    search_fields = ("key",)
    list_filter = ("category", "created_at")


@admin.register(models.BackupHistory)
class BackupHistoryAdmin(MigratedModelAdmin):
    list_display = ("id", "file_name", "backup_type", "status", "file_size", "created_at")
    search_fields = ("file_name", "created_by")
    list_filter = ("backup_type", "status", "created_at")


@admin.register(models.IntegrationConfig)
class IntegrationConfigAdmin(MigratedModelAdmin):
    list_display = ("id", "service", "enabled", "sync_status", "last_sync", "updated_at")
    list_filter = ("enabled", "service", "sync_status", "last_sync")


@admin.register(models.PerformanceProfile)
class PerformanceProfileAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "description", "is_active", "created_by", "created_at")
    search_fields = ("name", "created_by")
    list_filter = ("is_active", "created_at")


@admin.register(models.PerformanceSetting)
class PerformanceSettingAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "value", "type", "category", "requires_restart", "updated_at")
    search_fields = ("name",)
    list_filter = ("requires_restart", "type", "category")


@admin.register(models.ReportHistory)
class ReportHistoryAdmin(MigratedModelAdmin):
    list_display = ("id", "template", "status", "file_path", "generated_by", "generated_at")
    search_fields = ("generated_by",)
    list_filter = ("status", "generated_at")


@admin.register(models.ReportTemplate)
class ReportTemplateAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "type", "format", "schedule", "created_by", "updated_at")
    search_fields = ("name", "created_by")
    list_filter = ("type", "format", "created_at")


@admin.register(models.Webhook)
class WebhookAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "url", "active", "last_status", "failure_count", "last_triggered")
    search_fields = ("name", "url")
    list_filter = ("active", "created_at")


@admin.register(models.WebhookLog)
class WebhookLogAdmin(MigratedModelAdmin):
    list_display = ("id", "webhook", "event_type", "status_code", "success", "created_at")
    search_fields = ("event_type",)
    list_filter = ("success", "event_type", "created_at")
