"""Admin of the provider health, accuracy and learning tables."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

# --- intelligence --------------------------------------------------------------------------------


@admin.register(models.AccuracyMetric)
class AccuracyMetricAdmin(MigratedModelAdmin):
    list_display = ("id", "provider_name", "provider_type", "accuracy_rate", "date", "created_at")
    search_fields = ("provider_name",)
    list_filter = ("provider_type", "date")


@admin.register(models.ApiProviderHealth)
class ApiProviderHealthAdmin(MigratedModelAdmin):
    list_display = (
        "provider_name",
        "total_requests",
        "failed_requests",
        "average_response_time",
        "is_active",
        "last_check_at",
    )
    search_fields = ("provider_name",)
    list_filter = ("is_active", "last_check_at")


@admin.register(models.BrandMapping)
class BrandMappingAdmin(MigratedModelAdmin):
    list_display = ("id", "brand_name", "brand_tier", "created_at", "is_market_brand")
    search_fields = ("brand_name",)
    list_filter = ("is_market_brand", "brand_tier", "created_at")


@admin.register(models.CacheEntry)
class CacheEntryAdmin(MigratedModelAdmin):
    list_display = ("key", "category", "hit_count", "expires_at", "created_at")
    search_fields = ("key",)
    list_filter = ("category", "created_at")


@admin.register(models.CoverageMetric)
class CoverageMetricAdmin(MigratedModelAdmin):
    list_display = ("id", "market", "category", "product_count", "coverage_rate", "last_updated")
    search_fields = ("market", "category")
    list_filter = ("category", "last_updated")


@admin.register(models.FuzzyMatch)
class FuzzyMatcheAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "query_text",
        "matched_product_id",
        "match_score",
        "match_method",
        "expires_at",
    )
    search_fields = ("query_text", "matched_product_id")
    list_filter = ("match_method", "created_at")


@admin.register(models.MarketCategoryAverage)
class MarketCategoryAverageAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "market_name",
        "category",
        "average_price",
        "sample_count",
        "last_updated",
    )
    search_fields = ("market_name", "category")
    list_filter = ("category",)


@admin.register(models.NormalizedPrice)
class NormalizedPriceAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "raw_price",
        "original_price",
        "original_unit",
        "normalized_price_per_kg",
        "created_at",
    )
    list_filter = ("original_unit", "created_at")


@admin.register(models.QueueJob)
class QueueJobAdmin(MigratedModelAdmin):
    list_display = ("id", "queue", "status", "priority", "attempts", "created_at")
    search_fields = ("id", "queue")
    list_filter = ("queue", "status", "created_at")


@admin.register(models.ScraperProxy)
class ScraperProxyAdmin(MigratedModelAdmin):
    list_display = ("id", "proxy_url", "created_at", "is_active")
    search_fields = ("proxy_url",)
    list_filter = ("is_active", "created_at")


@admin.register(models.ScrapingQueueItem)
class ScrapingQueueItemAdmin(MigratedModelAdmin):
    list_display = ("id", "market_name", "status", "priority", "created_at")
    search_fields = ("product_query", "market_name")
    list_filter = ("status", "created_at")


@admin.register(models.UserPriceSubmission)
class UserPriceSubmissionAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "product_name",
        "market_name",
        "city",
        "price",
        "verification_status",
        "submitted_at",
    )
    search_fields = ("id", "user_id", "product_name", "normalized_product_name", "barcode")
    list_filter = ("unit", "weight_unit", "verification_status", "submitted_at")


@admin.register(models.UserTrustMetrics)
class UserTrustMetricsAdmin(MigratedModelAdmin):
    list_display = (
        "user_id",
        "total_submissions",
        "verified_submissions",
        "trust_score",
        "updated_at",
    )
    search_fields = ("user_id",)
    list_filter = ("updated_at",)


@admin.register(models.WebhookSubscription)
class WebhookSubscriptionAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "market_name",
        "webhook_url",
        "failure_count",
        "is_active",
        "last_delivery_at",
    )
    search_fields = ("market_name", "webhook_url")
    list_filter = ("is_active", "last_delivery_at")
