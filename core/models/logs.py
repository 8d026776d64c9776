"""Application logs and notifications: log lines, AI logs, channels, templates and the queue."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import ISO_Z, LegacyBooleanField, LegacyDateTimeField, LegacyJSONField
from core.models.base import LegacyModel


class AiLog(LegacyModel):
    """The legacy `ai_logs` table."""

    id = models.BigAutoField(primary_key=True)
    level = models.TextField()
    message = models.TextField()
    context = models.TextField(null=True, blank=True)
    tokens_used = models.BigIntegerField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    model = models.TextField(null=True, blank=True)
    endpoint = models.TextField(null=True, blank=True)
    user_id = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "ai_logs"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="idx_ai_logs_endpoint"),
            models.Index(fields=["level", "-created_at"], name="idx_ai_logs_level_created"),
            models.Index(fields=["user_id", "-created_at"], name="idx_ai_logs_user"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__in=["info", "warn", "error", "success"]), name="ai_logs_level_check"),
        ]

    def __str__(self) -> str:
        return str(self.message)

class Log(LegacyModel):
    """The legacy `logs` table."""

    id = models.BigAutoField(primary_key=True)
    level = models.TextField()
    message = models.TextField()
    data = LegacyJSONField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "logs"
        indexes = [
            models.Index(fields=["-created_at"], name="idx_logs_created_at"),
            models.Index(fields=["level"], name="idx_logs_level"),
            models.Index(fields=["level", "-created_at"], name="idx_logs_level_created"),
        ]

    def __str__(self) -> str:
        return str(self.message)

class NotificationChannel(LegacyModel):
    """The legacy `notification_channels` table."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.TextField(help_text="The user's e-mail address, not users.id.")
    type = models.TextField()
    destination = models.TextField()
    verified = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    verification_token = models.TextField(null=True, blank=True)
    verification_expires = LegacyDateTimeField(shapes=[ISO_Z], null=True, blank=True)
    settings = LegacyJSONField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "notification_channels"
        indexes = [
            models.Index(fields=["user_id", "type"], name="idx_notification_channels_user"),
        ]

    def __str__(self) -> str:
        return f"notification_channels {self.pk}"

class NotificationQueueItem(LegacyModel):
    """The legacy `notification_queue` table."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.TextField(null=True, blank=True)
    channel = models.ForeignKey("NotificationChannel", models.DO_NOTHING, db_column="channel_id", db_index=False, null=True, blank=True)
    template = models.ForeignKey("NotificationTemplate", models.DO_NOTHING, db_column="template_id", db_index=False, null=True, blank=True)
    data = LegacyJSONField(null=True, blank=True)
    status = models.TextField(default='pending', null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    retry_count = models.BigIntegerField(default=0, null=True, blank=True)
    max_retries = models.BigIntegerField(default=3, null=True, blank=True)
    scheduled_for = models.TextField(null=True, blank=True)
    sent_at = LegacyDateTimeField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "notification_queue"
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="idx_notification_queue_status"),
        ]

    def __str__(self) -> str:
        return f"notification_queue {self.pk}"

class NotificationTemplate(LegacyModel):
    """The legacy `notification_templates` table."""

    id = models.BigAutoField(primary_key=True)
    code = models.TextField()
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    email_subject = models.TextField(null=True, blank=True)
    email_body = models.TextField(null=True, blank=True)
    sms_template = models.TextField(null=True, blank=True)
    push_template = models.TextField(null=True, blank=True)
    in_app_template = models.TextField(null=True, blank=True)
    variables = LegacyJSONField(null=True, blank=True)
    active = LegacyBooleanField(legacy_type="INTEGER", default=True, null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "notification_templates"
        constraints = [
            models.UniqueConstraint(fields=["code"], name="notification_templates_code_key"),
        ]

    def __str__(self) -> str:
        return str(self.name)

class Notification(LegacyModel):
    """The legacy `notifications` table."""

    id = models.BigAutoField(primary_key=True)
    level = models.TextField()
    message = models.TextField()
    details = models.TextField(null=True, blank=True)
    is_read = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)
    expires_at = LegacyDateTimeField(legacy_type="DATETIME", null=True, blank=True)

    class Meta:
        db_table = "notifications"
        indexes = [
            models.Index(fields=["-created_at"], name="idx_notifications_created"),
            models.Index(fields=["-created_at"], name="idx_notifications_created_at"),
            models.Index(fields=["is_read"], name="idx_notifications_is_read"),
            models.Index(fields=["is_read", "-created_at"], name="idx_notifications_unread"),
            models.Index(fields=["is_read", "-created_at"], name="idx_notifications_unread_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__in=["info", "warning", "error", "success"]), name="notifications_level_check"),
        ]

    def __str__(self) -> str:
        return str(self.message)
