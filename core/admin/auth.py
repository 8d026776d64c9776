"""Admin of the users, organizations and their settings; the bookkeeping tables."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

# --- auth ----------------------------------------------------------------------------------------


@admin.register(models.ActivityLog)
class ActivityLogAdmin(MigratedModelAdmin):
    list_display = ("id", "user", "action", "entity_type", "entity_id", "created_at")
    search_fields = ("action", "entity_id", "user__email")
    list_filter = ("action", "entity_type", "created_at")


@admin.register(models.Membership)
class MembershipAdmin(MigratedModelAdmin):
    list_display = ("id", "org_id", "user_id", "role", "created_at")
    search_fields = ("id", "org_id", "user_id")
    list_filter = ("role", "created_at")


@admin.register(models.Organization)
class OrganizationAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "owner_user_id", "created_at")
    search_fields = ("id", "name", "owner_user_id")
    list_filter = ("created_at",)


@admin.register(models.SecurityAuditLog)
class SecurityAuditLogAdmin(MigratedModelAdmin):
    list_display = ("id", "action", "user_id", "created_at", "success")
    search_fields = ("user_id", "action")
    list_filter = ("success", "created_at")


@admin.register(models.User)
class UserAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "email", "created_at")
    search_fields = ("id", "email", "name")
    list_filter = ("created_at",)


@admin.register(models.UserSetting)
class UserSettingAdmin(MigratedModelAdmin):
    list_display = ("id", "user_id", "category", "updated_at")
    search_fields = ("user_id",)
    list_filter = ("category", "updated_at")


@admin.register(models.UserTwoFactor)
class UserTwoFactorAdmin(MigratedModelAdmin):
    list_display = ("id", "user_id", "enabled", "enabled_at", "last_used", "created_at")
    search_fields = ("user_id",)
    list_filter = ("enabled", "enabled_at")


# --- bookkeeping ---------------------------------------------------------------------------------


@admin.register(models.AppliedMigration)
class AppliedMigrationAdmin(MigratedModelAdmin):
    list_display = ("name", "applied_at")
    search_fields = ("name",)
    list_filter = ("applied_at",)


@admin.register(models.MigrationRecord)
class MigrationRecordAdmin(MigratedModelAdmin):
    list_display = ("id", "filename", "executed_at")
    search_fields = ("filename",)
    list_filter = ("executed_at",)
