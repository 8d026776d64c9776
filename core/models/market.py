"""Market prices: price lists, sources, price history, product catalog and cards."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone

from core.fields import (
    DATE_ONLY,
    ISO_Z,
    SQLITE_TS,
    LegacyBooleanField,
    LegacyDateField,
    LegacyDateTimeField,
    LegacyJSONField,
)
from core.models.base import LegacyModel, TouchUpdatedAtQuerySet, touch_on_save
from core.models.expressions import UTCDate, UTCYearMonth
from migration.dualwrite import mirrored_manager


class MarketCache(LegacyModel):
    """The legacy `market_cache` table."""

    id = models.BigAutoField(primary_key=True)
    product_key = models.TextField()
    fusion_data = models.TextField()
    confidence = models.FloatField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now)
    expires_at = LegacyDateTimeField()

    class Meta:
        db_table = "market_cache"
        indexes = [
            models.Index(fields=["expires_at"], name="idx_market_cache_expires"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product_key"], name="market_cache_product_key_key"),
            models.CheckConstraint(condition=models.Q(confidence__gte=0, confidence__lte=1), name="market_cache_confidence_check"),
        ]

    def __str__(self) -> str:
        return str(self.product_key)

class MarketPriceDetail(LegacyModel):
    """The legacy `market_price_details` table."""

    id = models.BigAutoField(primary_key=True)
    price = models.ForeignKey("MarketPrice", models.DO_NOTHING, db_column="price_id", db_index=False)
    market_key = models.TextField()
    brand = models.TextField(null=True, blank=True)
    brand_tier = models.TextField(null=True, blank=True)
    stock_status = models.TextField(null=True, blank=True)
    promotion = models.TextField(null=True, blank=True)
    packaging = models.TextField(null=True, blank=True)
    product_url = models.TextField(null=True, blank=True)
    image_url = models.TextField(null=True, blank=True)
    scraped_at = LegacyDateTimeField(default=timezone.now)

    class Meta:
        db_table = "market_price_details"
        indexes = [
            models.Index(fields=["market_key"], name="idx_market_price_details_market"),
        ]

    def __str__(self) -> str:
        return f"market_price_details {self.pk}"

class MarketPriceHistory(LegacyModel):
    """The legacy `market_price_history` table."""

    id = models.BigAutoField(primary_key=True)
    product_key = models.TextField()
    market_key = models.TextField()
    price = models.FloatField()
    price_date = LegacyDateField()
    created_at = LegacyDateTimeField(default=timezone.now)

    class Meta:
        db_table = "market_price_history"
        indexes = [
            models.Index(fields=["price_date"], name="idx_market_price_history_date"),
            models.Index(fields=["product_key", "market_key"], name="idx_market_price_history_product_market"),
        ]

    def __str__(self) -> str:
        return str(self.product_key)

class MarketPrice(LegacyModel):
    """The legacy `market_prices` table."""

    id = models.BigAutoField(primary_key=True)
    product_key = models.TextField()
    raw_query = models.TextField(null=True, blank=True)
    unit = models.TextField()
    unit_price = models.FloatField()
    currency = models.TextField(default='TRY', null=True, blank=True)
    source = models.TextField()
    created_at = LegacyDateTimeField(shapes=[DATE_ONLY, SQLITE_TS], default=timezone.now)
    meta = LegacyJSONField(null=True, blank=True)

    class Meta:
        db_table = "market_prices"
        indexes = [
            models.Index(fields=["created_at"], name="idx_market_prices_date"),
            models.Index(fields=["product_key"], name="idx_market_prices_product"),
            models.Index(fields=["product_key", "-created_at"], name="idx_market_prices_product_date"),
            models.Index(fields=["product_key"], name="idx_market_prices_product_key"),
            models.Index(fields=["source"], name="idx_market_prices_source"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gt=0), name="market_prices_unit_price_check"),
        ]

    def __str__(self) -> str:
        return str(self.product_key)

class MarketPriceV2(LegacyModel):
    """The legacy `market_prices_v2` table."""

    id = models.BigAutoField(primary_key=True)
    product_key = models.TextField()
    unit = models.TextField()
    unit_price = models.FloatField()
    source = models.TextField()
    brand = models.TextField(null=True, blank=True)
    brand_tier = models.TextField(null=True, blank=True)
    packaging_size = models.FloatField(null=True, blank=True)
    packaging_unit = models.TextField(null=True, blank=True)
    packaging_type = models.TextField(null=True, blank=True)
    packaging_description = models.TextField(null=True, blank=True)
    source_trust = models.FloatField(null=True, blank=True)
    confidence_score = models.FloatField(null=True, blank=True)
    created_at = LegacyDateTimeField(shapes=[DATE_ONLY, ISO_Z], default=timezone.now)
    verified_at = LegacyDateTimeField(null=True, blank=True)
    verified_by = models.TextField(null=True, blank=True)
    notes = models.TextField(null=True, blank=True)
    meta = LegacyJSONField(null=True, blank=True)
    year_month = models.GeneratedField(
        expression=UTCYearMonth("created_at"),
        output_field=models.TextField(),
        # VIRTUAL in the legacy file; STORED here, as PostgreSQL before 18 has no virtual columns.
        db_persist=True,
        null=True,
    )

    class Meta:
        db_table = "market_prices_v2"
        indexes = [
            models.Index(fields=["product_key", "brand"], name="idx_market_prices_v2_brand"),
            models.Index(fields=["product_key", "-created_at"], name="idx_market_prices_v2_product"),
            models.Index(fields=["source", "created_at"], name="idx_market_prices_v2_source"),
            models.Index(fields=["product_key", "year_month", "created_at"], name="idx_market_prices_v2_timeseries"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(brand_tier__in=["premium", "standard", "economy"]), name="market_prices_v2_brand_tier_check"),
            models.CheckConstraint(condition=models.Q(packaging_type__in=["bulk", "retail", "wholesale"]), name="market_prices_v2_packaging_type_check"),
        ]

    def __str__(self) -> str:
        return str(self.product_key)

class MarketSource(LegacyModel):
    """The legacy `market_sources` table."""

    id = models.BigAutoField(primary_key=True)
    source_key = models.TextField()
    source_name = models.TextField()
    source_type = models.TextField()
    base_url = models.TextField(null=True, blank=True)
    is_active = LegacyBooleanField(legacy_type="BOOLEAN", default=True)
    rate_limit = models.BigIntegerField(default=10, null=True, blank=True)
    last_scraped = LegacyDateTimeField(null=True, blank=True)
    success_count = models.BigIntegerField(default=0, null=True, blank=True)
    error_count = models.BigIntegerField(default=0, null=True, blank=True)
    average_response_time = models.FloatField(null=True, blank=True)
    trust_score = models.FloatField(default=0.7, null=True, blank=True)
    meta = LegacyJSONField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now)
    updated_at = LegacyDateTimeField(default=timezone.now)

    # The legacy trigger update_market_sources_timestamp, as ORM behaviour (see save()).
    objects: ClassVar[models.Manager[MarketSource]] = mirrored_manager(TouchUpdatedAtQuerySet)

    class Meta:
        db_table = "market_sources"
        indexes = [
            models.Index(fields=["source_key"], name="idx_market_sources_key"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source_key"], name="market_sources_source_key_key"),
        ]

    def __str__(self) -> str:
        return str(self.source_name)

    def save(
        self, *args: Any, force_insert: bool | Any = False, update_fields: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Save; an update refreshes ``updated_at`` to now, as the legacy trigger did."""
        update_fields = touch_on_save(self, update_fields, force_insert)
        super().save(*args, force_insert=force_insert, update_fields=update_fields, **kwargs)

class Market(LegacyModel):
    """The legacy `markets` table."""

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    display_name = models.TextField()
    logo_url = models.TextField(null=True, blank=True)
    website_url = models.TextField(null=True, blank=True)
    api_available = LegacyBooleanField(legacy_type="BOOLEAN", default=False, null=True, blank=True)
    scraping_available = LegacyBooleanField(legacy_type="BOOLEAN", default=True, null=True, blank=True)
    average_price_level = models.TextField(null=True, blank=True)
    last_sync = LegacyDateTimeField(legacy_type="TIMESTAMP", null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "markets"
        constraints = [
            models.UniqueConstraint(fields=["name"], name="markets_name_key"),
        ]

    def __str__(self) -> str:
        return str(self.name)

class PriceAlert(LegacyModel):
    """The legacy `price_alerts` table."""

    id = models.CharField(primary_key=True)
    user_id = models.TextField()
    product_card = models.ForeignKey("ProductCard", models.CASCADE, db_column="product_card_id", db_index=False)
    target_price = models.FloatField(null=True, blank=True)
    alert_type = models.TextField()
    notification_channels = LegacyJSONField()
    is_active = LegacyBooleanField(legacy_type="BOOLEAN", default=True, null=True, blank=True)
    triggered_count = models.BigIntegerField(default=0, null=True, blank=True)
    last_triggered = LegacyDateTimeField(legacy_type="TIMESTAMP", null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "price_alerts"

    def __str__(self) -> str:
        return f"price_alerts {self.pk}"

class PriceHistory(LegacyModel):
    """The legacy `price_history` table."""

    id = models.BigAutoField(primary_key=True)
    product_key = models.TextField()
    price = models.FloatField()
    source = models.TextField()
    previous_price = models.FloatField(null=True, blank=True)
    price_change = models.FloatField(null=True, blank=True)
    price_change_percent = models.FloatField(null=True, blank=True)
    change_direction = models.TextField(null=True, blank=True)
    volatility_score = models.FloatField(null=True, blank=True)
    timestamp = LegacyDateTimeField(default=timezone.now)
    date = models.GeneratedField(
        expression=UTCDate("timestamp"),
        output_field=LegacyDateField(),
        # VIRTUAL in the legacy file; STORED here, as PostgreSQL before 18 has no virtual columns.
        db_persist=True,
        null=True,
    )

    class Meta:
        db_table = "price_history"
        indexes = [
            models.Index(fields=["date", "product_key"], name="idx_price_history_date"),
            models.Index(fields=["product_key", "-timestamp"], name="idx_price_history_product"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(change_direction__in=["up", "down", "stable"]), name="price_history_change_direction_check"),
        ]

    def __str__(self) -> str:
        return str(self.product_key)

class PriceValidation(LegacyModel):
    """The legacy `price_validations` table."""

    id = models.BigAutoField(primary_key=True)
    source = models.TextField()
    product_key = models.TextField()
    quoted_price = models.FloatField()
    actual_price = models.FloatField(null=True, blank=True)
    was_accurate = LegacyBooleanField(legacy_type="INTEGER")
    deviation = models.FloatField()
    timestamp = LegacyDateTimeField(default=timezone.now)

    class Meta:
        db_table = "price_validations"
        indexes = [
            models.Index(fields=["product_key", "-timestamp"], name="idx_price_validations_product"),
            models.Index(fields=["source", "-timestamp"], name="idx_price_validations_source"),
        ]

    def __str__(self) -> str:
        return str(self.product_key)

class ProductCard(LegacyModel):
    """The legacy `product_cards` table."""

    id = models.CharField(primary_key=True)
    name = models.TextField()
    normalized_name = models.TextField(null=True, blank=True)
    category = models.TextField(null=True, blank=True)
    subcategory = models.TextField(null=True, blank=True)
    icon = models.TextField(null=True, blank=True)
    brand = models.TextField(null=True, blank=True)
    tags = LegacyJSONField(null=True, blank=True)
    has_variants = LegacyBooleanField(legacy_type="BOOLEAN", default=False, null=True, blank=True)
    variants = LegacyJSONField(null=True, blank=True)
    default_variant = models.TextField(null=True, blank=True)
    nutrition_category = models.TextField(null=True, blank=True)
    barcode = models.TextField(null=True, blank=True)
    image_url = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "product_cards"

    def __str__(self) -> str:
        return str(self.name)

class ProductCatalogEntry(LegacyModel):
    """The legacy `product_catalog` table."""

    id = models.BigAutoField(primary_key=True)
    product_key = models.TextField()
    canonical_name = models.TextField()
    category = models.TextField()
    variants = LegacyJSONField(null=True, blank=True)
    aliases = LegacyJSONField(null=True, blank=True)
    tags = LegacyJSONField(null=True, blank=True)
    search_count = models.BigIntegerField(default=0, null=True, blank=True)
    last_searched = LegacyDateTimeField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now)
    updated_at = LegacyDateTimeField(default=timezone.now)

    class Meta:
        db_table = "product_catalog"
        indexes = [
            models.Index(fields=["category"], name="idx_product_catalog_category"),
            models.Index(fields=["product_key"], name="idx_product_catalog_key"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product_key"], name="product_catalog_product_key_key"),
        ]

    def __str__(self) -> str:
        return str(self.product_key)
