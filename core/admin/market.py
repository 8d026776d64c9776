"""Admin of the market prices, products and sources."""
from __future__ import annotations

from django.contrib import admin

from core import models
from migration.admin import MigratedModelAdmin

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
