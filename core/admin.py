"""Admin for every legacy table: spot checks of what the legacy app wrote, on either database."""

from __future__ import annotations

from django.contrib import admin

from core import models
from core.api_keys_admin import ApiKeyAdmin
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


# --- logs ----------------------------------------------------------------------------------------


@admin.register(models.AiLog)
class AiLogAdmin(MigratedModelAdmin):
    list_display = ("id", "level", "endpoint", "message", "user_id", "created_at")
    search_fields = ("message", "endpoint", "user_id")
    list_filter = ("level", "created_at")


@admin.register(models.Log)
class LogAdmin(MigratedModelAdmin):
    list_display = ("id", "level", "message", "created_at")
    search_fields = ("message",)
    list_filter = ("level", "created_at")


@admin.register(models.Notification)
class NotificationAdmin(MigratedModelAdmin):
    list_display = ("id", "level", "message", "is_read", "created_at", "expires_at")
    search_fields = ("message",)
    list_filter = ("is_read", "level", "created_at")


@admin.register(models.NotificationChannel)
class NotificationChannelAdmin(MigratedModelAdmin):
    list_display = ("id", "user_id", "type", "destination", "verified", "created_at")
    search_fields = ("user_id", "destination")
    list_filter = ("verified", "type", "created_at")


@admin.register(models.NotificationQueueItem)
class NotificationQueueItemAdmin(MigratedModelAdmin):
    list_display = ("id", "user_id", "channel", "template", "status", "retry_count", "created_at")
    search_fields = ("user_id",)
    list_filter = ("status", "created_at")


@admin.register(models.NotificationTemplate)
class NotificationTemplateAdmin(MigratedModelAdmin):
    list_display = ("id", "code", "name", "active", "created_at")
    search_fields = ("code", "name")
    list_filter = ("active", "created_at")


# --- market --------------------------------------------------------------------------------------


@admin.register(models.Market)
class MarketAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "name",
        "display_name",
        "average_price_level",
        "api_available",
        "scraping_available",
        "last_sync",
    )
    search_fields = ("name", "display_name")
    list_filter = ("api_available", "scraping_available", "average_price_level", "created_at")


@admin.register(models.MarketCache)
class MarketCacheAdmin(MigratedModelAdmin):
    list_display = ("id", "product_key", "confidence", "expires_at", "created_at")
    search_fields = ("product_key",)
    list_filter = ("created_at",)


@admin.register(models.MarketPrice)
class MarketPriceAdmin(MigratedModelAdmin):
    list_display = ("id", "product_key", "source", "unit_price", "currency", "unit", "created_at")
    search_fields = ("product_key", "raw_query")
    list_filter = ("unit", "currency", "source", "created_at")


@admin.register(models.MarketPriceDetail)
class MarketPriceDetailAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "price",
        "market_key",
        "brand",
        "brand_tier",
        "stock_status",
        "scraped_at",
    )
    search_fields = ("market_key", "brand")
    list_filter = ("brand_tier", "scraped_at")


@admin.register(models.MarketPriceHistory)
class MarketPriceHistoryAdmin(MigratedModelAdmin):
    list_display = ("id", "product_key", "market_key", "price", "price_date")
    search_fields = ("product_key", "market_key")
    list_filter = ("price_date",)


@admin.register(models.MarketPriceV2)
class MarketPriceV2Admin(MigratedModelAdmin):
    list_display = (
        "id",
        "product_key",
        "source",
        "brand",
        "unit_price",
        "year_month",
        "created_at",
    )
    search_fields = ("product_key", "brand")
    list_filter = ("unit", "source", "brand_tier", "packaging_type", "created_at")


@admin.register(models.MarketSource)
class MarketSourceAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "source_key",
        "source_name",
        "source_type",
        "is_active",
        "trust_score",
        "updated_at",
    )
    search_fields = ("source_key", "source_name")
    list_filter = ("is_active", "source_type", "updated_at")


@admin.register(models.PriceAlert)
class PriceAlertAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "user_id",
        "product_card",
        "alert_type",
        "target_price",
        "is_active",
        "created_at",
    )
    search_fields = ("id", "user_id")
    list_filter = ("is_active", "alert_type", "created_at")


@admin.register(models.PriceHistory)
class PriceHistoryAdmin(MigratedModelAdmin):
    list_display = ("id", "product_key", "source", "price", "change_direction", "timestamp")
    search_fields = ("product_key",)
    list_filter = ("source", "change_direction", "timestamp")


@admin.register(models.PriceValidation)
class PriceValidationAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "product_key",
        "source",
        "quoted_price",
        "actual_price",
        "was_accurate",
        "timestamp",
    )
    search_fields = ("product_key",)
    list_filter = ("was_accurate", "source", "timestamp")


@admin.register(models.ProductCard)
class ProductCardAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "category", "subcategory", "brand", "has_variants", "updated_at")
    search_fields = ("id", "name", "normalized_name", "barcode")
    list_filter = ("has_variants", "category", "created_at")


@admin.register(models.ProductCatalogEntry)
class ProductCatalogEntryAdmin(MigratedModelAdmin):
    list_display = ("id", "product_key", "canonical_name", "category", "created_at")
    search_fields = ("product_key", "canonical_name")
    list_filter = ("category", "created_at")


# --- menu ----------------------------------------------------------------------------------------


@admin.register(models.GramajStandard)
class GramajStandardAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "institution_type",
        "meal_type",
        "category",
        "recommended_gramaj",
        "created_at",
    )
    search_fields = ("category",)
    list_filter = ("institution_type", "meal_type", "category", "created_at")


@admin.register(models.MenuCategory)
class MenuCategoryAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "name_tr", "institution_type", "display_order")
    search_fields = ("name", "name_tr")
    list_filter = ("institution_type", "created_at")


@admin.register(models.MenuItem)
class MenuItemAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "category", "meal_type", "unit_cost", "is_active", "updated_at")
    search_fields = ("name",)
    list_filter = ("is_active", "meal_type", "season", "category")


@admin.register(models.Recipe)
class RecipeAdmin(MigratedModelAdmin):
    list_display = ("id", "menu_item", "difficulty", "prep_time", "cook_time", "serving_size")
    search_fields = ("menu_item__name", "instructions")
    list_filter = ("difficulty", "created_at")


@admin.register(models.RecipeIngredient)
class RecipeIngredientAdmin(MigratedModelAdmin):
    list_display = ("id", "recipe", "ingredient_name", "quantity", "unit", "cost_per_unit")
    search_fields = ("ingredient_name",)
    list_filter = ("unit", "created_at")


@admin.register(models.UserMenu)
class UserMenuAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "institution_type", "days", "persons", "total_cost", "created_at")
    search_fields = ("id", "name")
    list_filter = ("institution_type", "created_at")


# --- settings ------------------------------------------------------------------------------------


# Keys are credentials: no add page, no hash shown (core/api_keys_admin.py).
admin.site.register(models.ApiKey, ApiKeyAdmin)


@admin.register(models.ApiUsageLog)
class ApiUsageLogAdmin(MigratedModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "method",
        "status_code",
        "response_time_ms",
        "user_id",
        "created_at",
    )
    search_fields = ("endpoint", "user_id")
    list_filter = ("method", "status_code", "created_at")


@admin.register(models.AppSetting)
class AppSettingAdmin(MigratedModelAdmin):
    list_display = ("key", "value", "category", "updated_at")
    search_fields = ("key",)
    list_filter = ("category", "created_at")


@admin.register(models.BackupHistory)
class BackupHistoryAdmin(MigratedModelAdmin):
    list_display = ("id", "file_name", "backup_type", "status", "file_size", "created_at")
    search_fields = ("file_name", "created_by")
    list_filter = ("backup_type", "status", "created_at")


@admin.register(models.IntegrationConfig)
class IntegrationConfigAdmin(MigratedModelAdmin):
    list_display = ("id", "service", "enabled", "sync_status", "last_sync", "updated_at")
    list_filter = ("enabled", "service", "sync_status", "last_sync")


@admin.register(models.PerformanceProfile)
class PerformanceProfileAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "description", "is_active", "created_by", "created_at")
    search_fields = ("name", "created_by")
    list_filter = ("is_active", "created_at")


@admin.register(models.PerformanceSetting)
class PerformanceSettingAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "value", "type", "category", "requires_restart", "updated_at")
    search_fields = ("name",)
    list_filter = ("requires_restart", "type", "category")


@admin.register(models.ReportHistory)
class ReportHistoryAdmin(MigratedModelAdmin):
    list_display = ("id", "template", "status", "file_path", "generated_by", "generated_at")
    search_fields = ("generated_by",)
    list_filter = ("status", "generated_at")


@admin.register(models.ReportTemplate)
class ReportTemplateAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "type", "format", "schedule", "created_by", "updated_at")
    search_fields = ("name", "created_by")
    list_filter = ("type", "format", "created_at")


@admin.register(models.Webhook)
class WebhookAdmin(MigratedModelAdmin):
    list_display = ("id", "name", "url", "active", "last_status", "failure_count", "last_triggered")
    search_fields = ("name", "url")
    list_filter = ("active", "created_at")


@admin.register(models.WebhookLog)
class WebhookLogAdmin(MigratedModelAdmin):
    list_display = ("id", "webhook", "event_type", "status_code", "success", "created_at")
    search_fields = ("event_type",)
    list_filter = ("success", "event_type", "created_at")


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
