"""Admin of the chat analytics and feedback."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

# --- chat ----------------------------------------------------------------------------------------


@admin.register(models.ChatAnalyticsMessage)
class ChatAnalyticsMessageAdmin(MigratedModelAdmin):
    list_display = ("id", "conversation_id", "message_type", "command", "success", "timestamp")
    search_fields = ("id", "conversation_id", "user_id", "command", "content")
    list_filter = ("success", "message_type", "timestamp")


@admin.register(models.ChatFeedback)
class ChatFeedbackAdmin(MigratedModelAdmin):
    list_display = ("id", "message_id", "conversation_id", "rating", "created_at")
    search_fields = ("message_id", "conversation_id")
    list_filter = ("rating", "created_at")


@admin.register(models.FeedbackPattern)
class FeedbackPatternAdmin(MigratedModelAdmin):
    list_display = ("id", "pattern", "category", "frequency", "avg_rating", "updated_at")
    search_fields = ("pattern",)
    list_filter = ("category", "updated_at")


@admin.register(models.ImprovementAction)
class ImprovementActionAdmin(MigratedModelAdmin):
    list_display = ("id", "feedback", "action_type", "status", "applied_at", "created_at")
    search_fields = ("action_type",)
    list_filter = ("action_type", "status", "applied_at")


@admin.register(models.ProactiveSuggestion)
class ProactiveSuggestionAdmin(MigratedModelAdmin):
    list_display = ("id", "title", "type", "priority", "dismissed", "created_at")
    search_fields = ("id", "title", "message")
    list_filter = ("dismissed", "type", "priority", "created_at")


@admin.register(models.ProactiveTrigger)
class ProactiveTriggerAdmin(MigratedModelAdmin):
    list_display = ("id", "trigger_type", "condition", "active", "created_at")
    search_fields = ("trigger_type", "condition")
    list_filter = ("active", "trigger_type", "created_at")
