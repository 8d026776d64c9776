"""The chat assistant: message analytics, feedback, improvement actions and proactive hints."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import ISO_Z, LegacyBooleanField, LegacyDateTimeField, LegacyJSONField
from core.models.base import LegacyModel


class ChatAnalyticsMessage(LegacyModel):
    """The legacy `chat_analytics` table."""

    id = models.CharField(primary_key=True)
    conversation_id = models.TextField()
    user_id = models.TextField(null=True, blank=True)
    timestamp = LegacyDateTimeField(shapes=[ISO_Z])
    message_type = models.TextField()
    content = models.TextField()
    response_time = models.BigIntegerField(null=True, blank=True)
    tokens_used = models.BigIntegerField(null=True, blank=True)
    command = models.TextField(null=True, blank=True)
    success = LegacyBooleanField(legacy_type="INTEGER", default=True, null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "chat_analytics"
        indexes = [
            models.Index(fields=["command"], name="idx_chat_analytics_command"),
            models.Index(fields=["conversation_id"], name="idx_chat_analytics_conversation"),
            models.Index(fields=["timestamp"], name="idx_chat_analytics_timestamp"),
        ]

    def __str__(self) -> str:
        return f"chat_analytics {self.pk}"

class ChatFeedback(LegacyModel):
    """The legacy `chat_feedback` table."""

    id = models.BigAutoField(primary_key=True)
    message_id = models.TextField()
    conversation_id = models.TextField()
    rating = models.BigIntegerField()
    feedback = models.TextField(null=True, blank=True)
    improvements = LegacyJSONField(null=True, blank=True)
    tags = LegacyJSONField(null=True, blank=True)
    context = LegacyJSONField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "chat_feedback"
        indexes = [
            models.Index(fields=["conversation_id"], name="idx_feedback_conversation"),
            models.Index(fields=["rating"], name="idx_feedback_rating"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["message_id", "conversation_id"], name="chat_feedback_message_id_conversation_id_key"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="chat_feedback_rating_check"),
        ]

    def __str__(self) -> str:
        return f"chat_feedback {self.pk}"

class FeedbackPattern(LegacyModel):
    """The legacy `feedback_patterns` table."""

    id = models.BigAutoField(primary_key=True)
    pattern = models.TextField()
    category = models.TextField()
    frequency = models.BigIntegerField(default=1, null=True, blank=True)
    avg_rating = models.FloatField(null=True, blank=True)
    suggested_improvement = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "feedback_patterns"
        indexes = [
            models.Index(fields=["category"], name="idx_patterns_category"),
        ]

    def __str__(self) -> str:
        return f"feedback_patterns {self.pk}"

class ImprovementAction(LegacyModel):
    """The legacy `improvement_actions` table."""

    id = models.BigAutoField(primary_key=True)
    feedback = models.ForeignKey("ChatFeedback", models.DO_NOTHING, db_column="feedback_id", db_index=False, null=True, blank=True)
    action_type = models.TextField()
    action_details = LegacyJSONField(null=True, blank=True)
    status = models.TextField(default='pending', null=True, blank=True)
    applied_at = LegacyDateTimeField(legacy_type="DATETIME", null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "improvement_actions"

    def __str__(self) -> str:
        return f"improvement_actions {self.pk}"

class ProactiveSuggestion(LegacyModel):
    """The legacy `proactive_suggestions` table."""

    id = models.CharField(primary_key=True)
    type = models.TextField()
    priority = models.TextField()
    title = models.TextField()
    message = models.TextField()
    action_label = models.TextField(null=True, blank=True)
    action_command = models.TextField(null=True, blank=True)
    metadata = LegacyJSONField(null=True, blank=True)
    shown_count = models.BigIntegerField(default=0, null=True, blank=True)
    last_shown = LegacyDateTimeField(legacy_type="DATETIME", null=True, blank=True)
    dismissed = LegacyBooleanField(legacy_type="BOOLEAN", default=False, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "proactive_suggestions"
        indexes = [
            models.Index(fields=["priority"], name="idx_suggestions_priority"),
            models.Index(fields=["type"], name="idx_suggestions_type"),
        ]

    def __str__(self) -> str:
        return str(self.title)

class ProactiveTrigger(LegacyModel):
    """The legacy `proactive_triggers` table."""

    id = models.BigAutoField(primary_key=True)
    trigger_type = models.TextField()
    condition = models.TextField()
    suggestion_template = models.TextField()
    active = LegacyBooleanField(legacy_type="BOOLEAN", default=True, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "proactive_triggers"
        indexes = [
            models.Index(fields=["trigger_type"], name="idx_triggers_type"),
        ]

    def __str__(self) -> str:
        return f"proactive_triggers {self.pk}"
