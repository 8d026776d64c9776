"""Settings, reports and integrations: report templates, webhooks, API keys and app settings."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import LegacyBooleanField, LegacyDateTimeField, LegacyJSONField
from core.models.base import LegacyModel


class ApiKey(LegacyModel):
    """The legacy `api_keys` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    key_hash = models.TextField()
    key_preview = models.TextField()
    service = models.TextField()
    permissions = LegacyJSONField(null=True, blank=True)
    rate_limit = models.BigIntegerField(default=1000, null=True, blank=True)
    last_used = LegacyDateTimeField(null=True, blank=True)
    usage_count = models.BigIntegerField(default=0, null=True, blank=True)
    active = LegacyBooleanField(legacy_type="INTEGER", default=True, null=True, blank=True)
    expires_at = LegacyDateTimeField(null=True, blank=True)
    created_by = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "api_keys"
        indexes = [
            models.Index(fields=["key_hash"], name="idx_api_keys_key_hash"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key_hash"], name="api_keys_key_hash_key"),
        ]

    def __str__(self) -> str:
        return str(self.name)

class ApiUsageLog(LegacyModel):
    """The legacy `api_usage_logs` table."""

    id = models.BigAutoField(primary_key=True)
    endpoint = models.TextField()
    method = models.TextField()
    status_code = models.BigIntegerField(null=True, blank=True)
    response_time_ms = models.BigIntegerField(null=True, blank=True)
    user_id = models.TextField(null=True, blank=True)
    ip_address = models.TextField(null=True, blank=True)
    user_agent = models.TextField(null=True, blank=True)
    request_body_size = models.BigIntegerField(null=True, blank=True)
    response_body_size = models.BigIntegerField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "api_usage_logs"
        indexes = [
            models.Index(fields=["created_at"], name="idx_api_usage_logs_created_at"),
            models.Index(fields=["endpoint"], name="idx_api_usage_logs_endpoint"),
            models.Index(fields=["user_id"], name="idx_api_usage_logs_user_id"),
        ]

    def __str__(self) -> str:
        return str(self.endpoint)

class AppSetting(LegacyModel):
    """The legacy `app_settings` table (declared by the legacy code but never created in its database)."""

    key = models.CharField(primary_key=True)
    value = models.TextField()
    description = models.TextField(null=True, blank=True)
    category = models.TextField()
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "app_settings"
        indexes = [
            models.Index(fields=["category"], name="idx_app_settings_category"),
        ]

    def __str__(self) -> str:
        return str(self.key)

class BackupHistory(LegacyModel):
    """The legacy `backup_history` table (declared by the legacy code but never created in its database)."""

    id = models.BigAutoField(primary_key=True)
    file_name = models.TextField()
    file_size = models.BigIntegerField(null=True, blank=True)
    backup_type = models.TextField()
    status = models.TextField(default='completed', null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    created_by = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "backup_history"
        indexes = [
            models.Index(fields=["-created_at"], name="idx_backup_history_created"),
        ]

    def __str__(self) -> str:
        return f"backup_history {self.pk}"

class IntegrationConfig(LegacyModel):
    """The legacy `integration_configs` table."""

    id = models.BigAutoField(primary_key=True)
    service = models.TextField()
    config = LegacyJSONField()
    enabled = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    last_sync = LegacyDateTimeField(null=True, blank=True)
    sync_status = models.TextField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "integration_configs"
        constraints = [
            models.UniqueConstraint(fields=["service"], name="integration_configs_service_key"),
        ]

    def __str__(self) -> str:
        return str(self.service)

class PerformanceProfile(LegacyModel):
    """The legacy `performance_profiles` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    settings = LegacyJSONField()
    is_active = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    created_by = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "performance_profiles"

    def __str__(self) -> str:
        return str(self.name)

class PerformanceSetting(LegacyModel):
    """The legacy `performance_settings` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    value = models.TextField()
    type = models.TextField()
    category = models.TextField(null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    min_value = models.BigIntegerField(null=True, blank=True)
    max_value = models.BigIntegerField(null=True, blank=True)
    default_value = models.TextField(null=True, blank=True)
    requires_restart = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    updated_by = models.TextField(null=True, blank=True, help_text="The user's e-mail address, not users.id.")
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "performance_settings"
        indexes = [
            models.Index(fields=["category", "name"], name="idx_performance_settings_category"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="performance_settings_name_key"),
        ]

    def __str__(self) -> str:
        return str(self.name)

class ReportHistory(LegacyModel):
    """The legacy `report_history` table."""

    id = models.BigAutoField(primary_key=True)
    template = models.ForeignKey("ReportTemplate", models.DO_NOTHING, db_column="template_id", db_index=False, null=True, blank=True)
    file_path = models.TextField(null=True, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    generation_time = models.BigIntegerField(null=True, blank=True)
    status = models.TextField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    generated_by = models.TextField(null=True, blank=True, help_text="The user's e-mail address, not users.id.")
    generated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "report_history"
        indexes = [
            models.Index(fields=["template", "-generated_at"], name="idx_report_history_template"),
        ]

    def __str__(self) -> str:
        return f"report_history {self.pk}"

class ReportTemplate(LegacyModel):
    """The legacy `report_templates` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    description = models.TextField(null=True, blank=True)
    type = models.TextField()
    sections = LegacyJSONField()
    filters = LegacyJSONField(null=True, blank=True)
    format = models.TextField(default='pdf', null=True, blank=True)
    schedule = models.TextField(null=True, blank=True)
    recipients = LegacyJSONField(null=True, blank=True)
    last_generated = LegacyDateTimeField(null=True, blank=True)
    created_by = models.TextField(null=True, blank=True, help_text="The user's e-mail address, not users.id.")
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "report_templates"

    def __str__(self) -> str:
        return str(self.name)

class WebhookLog(LegacyModel):
    """The legacy `webhook_logs` table."""

    id = models.BigAutoField(primary_key=True)
    webhook = models.ForeignKey("Webhook", models.CASCADE, db_column="webhook_id", db_index=False)
    event_type = models.TextField()
    payload = LegacyJSONField()
    status_code = models.BigIntegerField(null=True, blank=True)
    response = models.TextField(null=True, blank=True)
    retry_count = models.BigIntegerField(default=0, null=True, blank=True)
    success = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "webhook_logs"
        indexes = [
            models.Index(fields=["created_at"], name="idx_webhook_logs_created_at"),
            models.Index(fields=["webhook"], name="idx_webhook_logs_webhook_id"),
        ]

    def __str__(self) -> str:
        return f"webhook_logs {self.pk}"

class Webhook(LegacyModel):
    """The legacy `webhooks` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    url = models.TextField()
    events = LegacyJSONField()
    headers = LegacyJSONField(null=True, blank=True)
    secret = models.TextField(null=True, blank=True)
    active = LegacyBooleanField(legacy_type="INTEGER", default=True, null=True, blank=True)
    retry_count = models.BigIntegerField(default=3, null=True, blank=True)
    timeout_ms = models.BigIntegerField(default=5000, null=True, blank=True)
    last_triggered = LegacyDateTimeField(null=True, blank=True)
    last_status = models.BigIntegerField(null=True, blank=True)
    failure_count = models.BigIntegerField(default=0, null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "webhooks"

    def __str__(self) -> str:
        return str(self.name)
