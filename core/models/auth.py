"""Users, organizations and security: accounts, two-factor settings, audit trails."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import LegacyBooleanField, LegacyDateTimeField, LegacyJSONField
from core.models.base import LegacyModel


class ActivityLog(LegacyModel):
    """The legacy `activity_logs` table (declared by the legacy code but never created in its database)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey("User", models.DO_NOTHING, db_column="user_id", db_index=False, null=True, blank=True)
    action = models.TextField()
    entity_type = models.TextField(null=True, blank=True)
    entity_id = models.TextField(null=True, blank=True)
    details = models.TextField(null=True, blank=True)
    ip_address = models.TextField(null=True, blank=True)
    user_agent = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "activity_logs"
        indexes = [
            models.Index(fields=["action", "-created_at"], name="idx_activity_logs_action"),
            models.Index(fields=["-created_at"], name="idx_activity_logs_created"),
            models.Index(fields=["user", "-created_at"], name="idx_activity_logs_user"),
        ]

    def __str__(self) -> str:
        return f"activity_logs {self.pk}"

class Membership(LegacyModel):
    """The legacy `memberships` table (declared by the legacy code but never created in its database)."""

    id = models.CharField(primary_key=True)
    org_id = models.TextField()
    user_id = models.TextField()
    role = models.TextField()
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "memberships"
        indexes = [
            models.Index(fields=["org_id"], name="idx_memberships_org_id"),
            models.Index(fields=["user_id"], name="idx_memberships_user_id"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["org_id", "user_id"], name="memberships_org_id_user_id_key"),
        ]

    def __str__(self) -> str:
        return f"memberships {self.pk}"

class Organization(LegacyModel):
    """The legacy `organizations` table."""

    id = models.CharField(primary_key=True)
    name = models.TextField()
    owner_user_id = models.TextField()
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "organizations"

    def __str__(self) -> str:
        return str(self.name)

class SecurityAuditLog(LegacyModel):
    """The legacy `security_audit_logs` table."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.TextField(null=True, blank=True, help_text="The user's e-mail address, not users.id.")
    action = models.TextField()
    ip_address = models.TextField(null=True, blank=True)
    user_agent = models.TextField(null=True, blank=True)
    metadata = LegacyJSONField(null=True, blank=True)
    success = LegacyBooleanField(legacy_type="INTEGER", default=True, null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "security_audit_logs"
        indexes = [
            models.Index(fields=["-created_at"], name="idx_audit_logs_created"),
            models.Index(fields=["user_id"], name="idx_audit_logs_user"),
        ]

    def __str__(self) -> str:
        return f"security_audit_logs {self.pk}"

class UserTwoFactor(LegacyModel):
    """The legacy `user_2fa` table."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.TextField(help_text="The user's e-mail address, not users.id.")
    secret = models.TextField()
    backup_codes = LegacyJSONField(null=True, blank=True)
    enabled = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    enabled_at = LegacyDateTimeField(null=True, blank=True)
    last_used = LegacyDateTimeField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "user_2fa"
        indexes = [
            models.Index(fields=["user_id"], name="idx_user_2fa_user"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user_id"], name="user_2fa_user_id_key"),
        ]

    def __str__(self) -> str:
        return f"user_2fa {self.pk}"

class UserSetting(LegacyModel):
    """The legacy `user_settings` table (declared by the legacy code but never created in its database)."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.TextField()
    category = models.TextField()
    settings_json = models.TextField()
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "user_settings"
        indexes = [
            models.Index(fields=["user_id", "category"], name="idx_user_settings_user"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "category"], name="user_settings_user_id_category_key"),
        ]

    def __str__(self) -> str:
        return f"user_settings {self.pk}"

class User(LegacyModel):
    """The legacy `users` table."""

    id = models.CharField(primary_key=True)
    email = models.TextField()
    name = models.TextField(null=True, blank=True)
    password_hash = models.TextField()
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "users"
        indexes = [
            models.Index(fields=["email"], name="idx_users_email"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["email"], name="users_email_key"),
        ]

    def __str__(self) -> str:
        return str(self.name)
