"""Admin of the tenders and their documents."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

# --- tenders -------------------------------------------------------------------------------------


@admin.register(models.Tender)
class TenderAdmin(MigratedModelAdmin):
    list_display = ("id", "tender_number", "title", "organization", "city", "tender_date", "status")
    search_fields = ("id", "tender_number", "title", "organization", "city")
    list_filter = ("status", "partial_bid_allowed", "tender_date", "created_at")


@admin.register(models.TenderAnalysis)
class TenderAnalysisAdmin(MigratedModelAdmin):
    list_display = ("tender_id", "ai_analyzed", "ai_analyzed_at", "created_at")
    search_fields = ("tender_id",)
    list_filter = ("ai_analyzed", "created_at")


@admin.register(models.TenderFullContent)
class TenderFullContentAdmin(MigratedModelAdmin):
    list_display = ("tender_id", "created_at", "updated_at")
    search_fields = ("tender_id",)
    list_filter = ("created_at",)
