"""URLs for the database-toggle tests: an admin site whose legacy model uses MigratedModelAdmin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from core.models.auth import Membership, SecurityAuditLog
from migration.admin import MigratedModelAdmin

site = admin.AdminSite(name="toggle")


class SecurityAuditLogAdmin(MigratedModelAdmin):
    list_display = ("id", "user_id", "action", "success", "created_at")
    list_filter = ("success",)


site.register(SecurityAuditLog, SecurityAuditLogAdmin)
site.register(Membership, MigratedModelAdmin)

urlpatterns = [
    path("toggle/", site.urls),
    path("admin/", admin.site.urls),
]
