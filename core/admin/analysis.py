"""Admin of the tender analyses, results and caches."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

# --- analysis ------------------------------------------------------------------------------------


@admin.register(models.AnalysisHistory)
class AnalysisHistoryAdmin(MigratedModelAdmin):
    list_display = ("id", "file_name", "status", "user_id", "created_at")
    search_fields = ("id", "file_name", "user_id")
    list_filter = ("status", "created_at")


@admin.register(models.AnalysisResult)
class AnalysisResultAdmin(MigratedModelAdmin):
    list_display = ("id", "analysis", "stage", "created_at")
    search_fields = ("id", "stage")
    list_filter = ("stage", "created_at")


@admin.register(models.AnalysisResultV2)
class AnalysisResultV2Admin(MigratedModelAdmin):
    list_display = ("id", "tender_id", "institution", "status", "budget_amount", "created_at")
    search_fields = ("id", "tender_id", "institution")
    list_filter = ("status", "market_risk_level", "created_at")


@admin.register(models.ApiMetric)
class ApiMetricAdmin(MigratedModelAdmin):
    list_display = ("id", "endpoint", "model", "total_tokens", "cost_usd", "success", "created_at")
    search_fields = ("endpoint", "model")
    list_filter = ("success", "model", "created_at")


@admin.register(models.DataPool)
class DataPoolAdmin(MigratedModelAdmin):
    list_display = ("analysis_id", "document_count", "total_size_bytes", "expires_at", "created_at")
    search_fields = ("analysis_id",)
    list_filter = ("created_at", "expires_at")


@admin.register(models.MenuCache)
class MenuCacheAdmin(MigratedModelAdmin):
    list_display = ("hash", "item_count", "created_at", "last_used_at")
    search_fields = ("hash",)
    list_filter = ("last_used_at",)


@admin.register(models.Orchestration)
class OrchestrationAdmin(MigratedModelAdmin):
    list_display = ("id", "file_name", "status", "user_id", "created_at")
    search_fields = ("id", "file_name", "user_id")
    list_filter = ("status", "created_at")


@admin.register(models.SemanticCacheEntry)
class SemanticCacheEntryAdmin(MigratedModelAdmin):
    list_display = ("id", "model", "prompt_hash", "hit_count", "expires_at", "created_at")
    search_fields = ("id", "prompt_hash", "prompt_text")
    list_filter = ("model", "created_at")
