"""Admin of the application logs."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

# --- logs ----------------------------------------------------------------------------------------


@admin.register(models.AiLog)
class AiLogAdmin(MigratedModelAdmin):
    list_display = ("id", "level", "endpoint", "message", "user_id", "created_at")
    search_fields = ("message", "endpoint", "user_id")
    list_filter = ("level", "created_at")


@admin.register(models.Log)
class LogAdmin(MigratedModelAdmin):
    list_display = ("id", "level", "message", "created_at")
    search_fields = ("message",)
    list_filter = ("level", "created_at")


@admin.register(models.Notification)
class NotificationAdmin(MigratedModelAdmin):
    list_display = ("id", "level", "message", "is_read", "created_at", "expires_at")
    search_fields = ("message",)
    list_filter = ("is_read", "level", "created_at")


@admin.register(models.NotificationChannel)
class NotificationChannelAdmin(MigratedModelAdmin):
    list_display = ("id", "user_id", "type", "destination", "verified", "created_at")
    search_fields = ("user_id", "destination")
    list_filter = ("verified", "type", "created_at")


@admin.register(models.NotificationQueueItem)
class NotificationQueueItemAdmin(MigratedModelAdmin):
    list_display = ("id", "user_id", "channel", "template", "status", "retry_count", "created_at")
    search_fields = ("user_id",)
    list_filter = ("status", "created_at")


@admin.register(models.NotificationTemplate)
class NotificationTemplateAdmin(MigratedModelAdmin):
    list_display = ("id", "code", "name", "active", "created_at")
    search_fields = ("code", "name")
    list_filter = ("active", "created_at")
