"""Market intelligence: normalisation, brand mappings, trust, scraping, caches and queues."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import (
    EPOCH_MS,
    LegacyBooleanField,
    LegacyDateField,
    LegacyDateTimeField,
    LegacyJSONField,
)
from core.models.base import LegacyModel


class AccuracyMetric(LegacyModel):
    """The legacy `accuracy_metrics` table."""

    id = models.BigAutoField(primary_key=True)
    date = LegacyDateField(legacy_type="DATE")
    provider_type = models.TextField()
    provider_name = models.TextField()
    total_prices = models.BigIntegerField(default=0, null=True, blank=True)
    accurate_prices = models.BigIntegerField(default=0, null=True, blank=True)
    accuracy_rate = models.FloatField(default=0.0, null=True, blank=True)
    average_deviation = models.FloatField(default=0.0, null=True, blank=True)
    outliers_detected = models.BigIntegerField(default=0, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", shapes=[EPOCH_MS], default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "accuracy_metrics"
        indexes = [
            models.Index(fields=["date", "provider_type"], name="idx_accuracy_date"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["date", "provider_type", "provider_name"], name="accuracy_metrics_date_provider_type_provider_name_key"),
            models.CheckConstraint(condition=models.Q(provider_type__in=["api", "scraper", "crowd", "ai"]), name="accuracy_metrics_provider_type_check"),
        ]

    def __str__(self) -> str:
        return str(self.provider_name)

class ApiProviderHealth(LegacyModel):
    """The legacy `api_provider_health` table."""

    provider_name = models.CharField(primary_key=True)
    total_requests = models.BigIntegerField(default=0, null=True, blank=True)
    successful_requests = models.BigIntegerField(default=0, null=True, blank=True)
    failed_requests = models.BigIntegerField(default=0, null=True, blank=True)
    average_response_time = models.FloatField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)
    last_error_at = LegacyDateTimeField(legacy_type="TIMESTAMP", shapes=[EPOCH_MS], null=True, blank=True)
    is_active = LegacyBooleanField(legacy_type="BOOLEAN", default=True, null=True, blank=True)
    last_check_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "api_provider_health"

    def __str__(self) -> str:
        return str(self.provider_name)

class BrandMapping(LegacyModel):
    """The legacy `brand_mappings` table."""

    id = models.BigAutoField(primary_key=True)
    brand_name = models.TextField()
    brand_tier = models.TextField(null=True, blank=True)
    parent_brand = models.TextField(null=True, blank=True)
    category_focus = models.TextField(null=True, blank=True)
    is_market_brand = LegacyBooleanField(legacy_type="BOOLEAN", default=False, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "brand_mappings"
        constraints = [
            models.UniqueConstraint(fields=["brand_name"], name="brand_mappings_brand_name_key"),
            models.CheckConstraint(condition=models.Q(brand_tier__in=["premium", "standard", "economy"]), name="brand_mappings_brand_tier_check"),
        ]

    def __str__(self) -> str:
        return str(self.brand_name)

class CacheEntry(LegacyModel):
    """The legacy `cache_entries` table."""

    key = models.CharField(primary_key=True)
    value = LegacyJSONField()
    category = models.TextField()
    tags = LegacyJSONField(null=True, blank=True)
    expires_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS])
    created_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS])
    hit_count = models.BigIntegerField(default=0, null=True, blank=True)
    last_accessed = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS], null=True, blank=True)

    class Meta:
        db_table = "cache_entries"
        indexes = [
            models.Index(fields=["category"], name="idx_cache_category"),
            models.Index(fields=["expires_at"], name="idx_cache_expires"),
        ]

    def __str__(self) -> str:
        return str(self.key)

class CoverageMetric(LegacyModel):
    """The legacy `coverage_metrics` table."""

    id = models.BigAutoField(primary_key=True)
    market = models.TextField()
    category = models.TextField()
    product_count = models.BigIntegerField(default=0, null=True, blank=True)
    available_count = models.BigIntegerField(default=0, null=True, blank=True)
    coverage_rate = models.FloatField(default=0.0, null=True, blank=True)
    average_price = models.FloatField(null=True, blank=True)
    price_variation = models.FloatField(null=True, blank=True)
    last_updated = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS])

    class Meta:
        db_table = "coverage_metrics"
        indexes = [
            models.Index(fields=["market"], name="idx_coverage_market"),
            models.Index(fields=["last_updated"], name="idx_coverage_updated"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["market", "category"], name="coverage_metrics_market_category_key"),
        ]

    def __str__(self) -> str:
        return f"coverage_metrics {self.pk}"

class FuzzyMatch(LegacyModel):
    """The legacy `fuzzy_matches` table."""

    id = models.BigAutoField(primary_key=True)
    query_text = models.TextField()
    matched_product_id = models.TextField()
    match_score = models.FloatField()
    match_method = models.TextField(null=True, blank=True)
    expires_at = LegacyDateTimeField(legacy_type="TIMESTAMP")
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "fuzzy_matches"
        indexes = [
            models.Index(fields=["query_text", "expires_at"], name="idx_fuzzy_matches_query"),
        ]

    def __str__(self) -> str:
        return f"fuzzy_matches {self.pk}"

class MarketCategoryAverage(LegacyModel):
    """The legacy `market_category_averages` table."""

    id = models.BigAutoField(primary_key=True)
    market_name = models.TextField()
    category = models.TextField()
    average_price = models.FloatField()
    min_price = models.FloatField()
    max_price = models.FloatField()
    sample_count = models.BigIntegerField()
    last_updated = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "market_category_averages"
        constraints = [
            models.UniqueConstraint(fields=["market_name", "category"], name="market_category_averages_market_name_category_key"),
        ]

    def __str__(self) -> str:
        return f"market_category_averages {self.pk}"

class NormalizedPrice(LegacyModel):
    """The legacy `normalized_prices` table."""

    id = models.BigAutoField(primary_key=True)
    raw_price = models.ForeignKey("core.MarketPriceV2", models.CASCADE, db_column="raw_price_id", db_index=False, null=True, blank=True)
    original_price = models.FloatField()
    original_weight = models.FloatField()
    original_unit = models.TextField()
    normalized_price_per_kg = models.FloatField()
    normalization_factor = models.FloatField()
    confidence_score = models.FloatField(default=1.0, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "normalized_prices"
        indexes = [
            models.Index(fields=["raw_price"], name="idx_normalized_prices_raw"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(original_unit__in=["kg", "g", "lt", "ml", "adet"]), name="normalized_prices_original_unit_check"),
        ]

    def __str__(self) -> str:
        return f"normalized_prices {self.pk}"

class QueueJob(LegacyModel):
    """The legacy `queue_jobs` table."""

    id = models.CharField(primary_key=True)
    queue = models.TextField()
    data = LegacyJSONField()
    priority = models.BigIntegerField(default=5, null=True, blank=True)
    attempts = models.BigIntegerField(default=0, null=True, blank=True)
    max_attempts = models.BigIntegerField(default=3, null=True, blank=True)
    status = models.TextField()
    created_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS])
    processed_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS], null=True, blank=True)
    completed_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS], null=True, blank=True)
    failed_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS], null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    result = LegacyJSONField(null=True, blank=True)
    next_retry_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=[EPOCH_MS], null=True, blank=True)

    class Meta:
        db_table = "queue_jobs"
        indexes = [
            models.Index(fields=["next_retry_at"], name="idx_queue_next_retry"),
            models.Index(fields=["queue", "status", "-priority", "created_at"], name="idx_queue_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["pending", "processing", "completed", "failed", "cancelled"]), name="queue_jobs_status_check"),
        ]

    def __str__(self) -> str:
        return f"queue_jobs {self.pk}"

class ScraperProxy(LegacyModel):
    """The legacy `scraper_proxies` table."""

    id = models.BigAutoField(primary_key=True)
    proxy_url = models.TextField()
    success_count = models.BigIntegerField(default=0, null=True, blank=True)
    failure_count = models.BigIntegerField(default=0, null=True, blank=True)
    average_response_time = models.FloatField(null=True, blank=True)
    last_used_at = LegacyDateTimeField(legacy_type="TIMESTAMP", null=True, blank=True)
    is_active = LegacyBooleanField(legacy_type="BOOLEAN", default=True, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "scraper_proxies"
        constraints = [
            models.UniqueConstraint(fields=["proxy_url"], name="scraper_proxies_proxy_url_key"),
        ]

    def __str__(self) -> str:
        return str(self.proxy_url)

class ScrapingQueueItem(LegacyModel):
    """The legacy `scraping_queue` table."""

    id = models.BigAutoField(primary_key=True)
    product_query = models.TextField()
    market_name = models.TextField()
    priority = models.BigIntegerField(default=5, null=True, blank=True)
    status = models.TextField(default='pending', null=True, blank=True)
    attempts = models.BigIntegerField(default=0, null=True, blank=True)
    last_attempt_at = LegacyDateTimeField(legacy_type="TIMESTAMP", null=True, blank=True)
    completed_at = LegacyDateTimeField(legacy_type="TIMESTAMP", null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "scraping_queue"
        indexes = [
            models.Index(fields=["status", "priority", "created_at"], name="idx_scraping_queue_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["pending", "processing", "completed", "failed"]), name="scraping_queue_status_check"),
        ]

    def __str__(self) -> str:
        return f"scraping_queue {self.pk}"

class UserPriceSubmission(LegacyModel):
    """The legacy `user_price_submissions` table."""

    id = models.CharField(primary_key=True)
    user_id = models.TextField()
    product_name = models.TextField()
    normalized_product_name = models.TextField()
    barcode = models.TextField(null=True, blank=True)
    price = models.FloatField()
    unit = models.TextField()
    weight = models.FloatField()
    weight_unit = models.TextField()
    market_name = models.TextField()
    market_branch = models.TextField(null=True, blank=True)
    city = models.TextField()
    district = models.TextField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    receipt_image_url = models.TextField(null=True, blank=True)
    submitted_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)
    verification_status = models.TextField(default='pending', null=True, blank=True)
    verified_by = LegacyJSONField(null=True, blank=True)
    trust_score = models.FloatField(default=0.5, null=True, blank=True)
    rejection_reason = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "user_price_submissions"
        indexes = [
            models.Index(fields=["normalized_product_name", "market_name", "city"], name="idx_user_submissions_product"),
            models.Index(fields=["verification_status", "submitted_at"], name="idx_user_submissions_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight_unit__in=["kg", "g", "lt", "ml", "adet"]), name="user_price_submissions_weight_unit_check"),
            models.CheckConstraint(condition=models.Q(verification_status__in=["pending", "verified", "rejected"]), name="user_price_submissions_verification_status_check"),
        ]

    def __str__(self) -> str:
        return f"user_price_submissions {self.pk}"

class UserTrustMetrics(LegacyModel):
    """The legacy `user_trust_metrics` table."""

    user_id = models.CharField(primary_key=True)
    total_submissions = models.BigIntegerField(default=0, null=True, blank=True)
    verified_submissions = models.BigIntegerField(default=0, null=True, blank=True)
    rejected_submissions = models.BigIntegerField(default=0, null=True, blank=True)
    average_accuracy = models.FloatField(default=0.5, null=True, blank=True)
    receipt_submission_rate = models.FloatField(default=0.0, null=True, blank=True)
    location_consistency = models.FloatField(default=1.0, null=True, blank=True)
    submission_frequency = models.FloatField(default=0.0, null=True, blank=True)
    last_activity_date = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)
    flagged_behaviors = LegacyJSONField(null=True, blank=True)
    trust_score = models.FloatField(default=0.5, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "user_trust_metrics"
        indexes = [
            models.Index(fields=["trust_score"], name="idx_user_trust_score"),
        ]

    def __str__(self) -> str:
        return f"user_trust_metrics {self.pk}"

class WebhookSubscription(LegacyModel):
    """The legacy `webhook_subscriptions` table."""

    id = models.BigAutoField(primary_key=True)
    market_name = models.TextField()
    webhook_url = models.TextField()
    secret_key = models.TextField()
    events = LegacyJSONField()
    is_active = LegacyBooleanField(legacy_type="BOOLEAN", default=True, null=True, blank=True)
    last_delivery_at = LegacyDateTimeField(legacy_type="TIMESTAMP", shapes=[EPOCH_MS], null=True, blank=True)
    failure_count = models.BigIntegerField(default=0, null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", shapes=[EPOCH_MS], default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "webhook_subscriptions"
        constraints = [
            models.UniqueConstraint(fields=["market_name", "webhook_url"], name="webhook_subscriptions_market_name_webhook_url_key"),
        ]

    def __str__(self) -> str:
        return f"webhook_subscriptions {self.pk}"
