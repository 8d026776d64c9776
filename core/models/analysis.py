"""The tender-analysis pipeline: analyses, data pools, results, caches and API metrics."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import ISO_Z, SQLITE_TS, LegacyBooleanField, LegacyDateTimeField, LegacyJSONField
from core.models.base import LegacyCheck, LegacyModel


class AnalysisHistory(LegacyModel):
    """The legacy `analysis_history` table."""

    id = models.CharField(primary_key=True)
    file_name = models.TextField(null=True, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    mime_type = models.TextField(null=True, blank=True)
    extracted_fields = LegacyJSONField(null=True, blank=True)
    contextual_analysis = LegacyJSONField(null=True, blank=True)
    market_analysis = LegacyJSONField(null=True, blank=True)
    validation = LegacyJSONField(null=True, blank=True)
    processing_time_ms = models.BigIntegerField(null=True, blank=True)
    created_at = LegacyDateTimeField(shapes=[SQLITE_TS, ISO_Z], default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    storage_path = models.TextField(null=True, blank=True)
    progress = models.BigIntegerField(default=0, null=True, blank=True)
    status = models.TextField(default='pending', null=True, blank=True)
    current_step = models.TextField(null=True, blank=True)
    steps_json = models.TextField(null=True, blank=True)
    result = models.TextField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    warnings = models.TextField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    user_id = models.TextField(null=True, blank=True)
    started_at = LegacyDateTimeField(null=True, blank=True)
    completed_at = LegacyDateTimeField(null=True, blank=True)
    data_pool = LegacyJSONField(null=True, blank=True)
    input_files = LegacyJSONField(null=True, blank=True)

    class Meta:
        db_table = "analysis_history"
        indexes = [
            models.Index(fields=["-created_at"], name="idx_analysis_history_created_at"),
            models.Index(fields=["status"], name="idx_analysis_history_status"),
        ]

    def __str__(self) -> str:
        return f"analysis_history {self.pk}"

class AnalysisResult(LegacyModel):
    """The legacy `analysis_results` table (declared by the legacy code but never created in its database)."""

    id = models.CharField(primary_key=True)
    analysis = models.ForeignKey("AnalysisHistory", models.DO_NOTHING, db_column="analysis_id", db_index=False)
    stage = models.TextField()
    result_data = LegacyJSONField(legacy_type="JSON")
    created_at = LegacyDateTimeField(legacy_type="TIMESTAMP", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "analysis_results"
        indexes = [
            models.Index(fields=["analysis"], name="idx_analysis_results_analysis_id"),
            models.Index(fields=["stage"], name="idx_analysis_results_stage"),
        ]

    def __str__(self) -> str:
        return f"analysis_results {self.pk}"

class AnalysisResultV2(LegacyModel):
    """The legacy `analysis_results_v2` table."""

    id = models.CharField(primary_key=True)
    tender_id = models.TextField(null=True, blank=True)
    status = models.TextField(null=True, blank=True)
    institution = models.TextField(null=True, blank=True)
    budget_amount = models.FloatField(null=True, blank=True)
    person_count = models.BigIntegerField(null=True, blank=True)
    duration_days = models.BigIntegerField(null=True, blank=True)
    tender_type = models.TextField(null=True, blank=True)
    contextual_score = models.FloatField(null=True, blank=True)
    market_risk_level = models.TextField(null=True, blank=True)
    data_quality_score = models.FloatField(null=True, blank=True)
    extracted_fields_json = LegacyJSONField(null=True, blank=True)
    contextual_analysis_json = LegacyJSONField(null=True, blank=True)
    market_analysis_json = LegacyJSONField(null=True, blank=True)
    validation_json = LegacyJSONField(null=True, blank=True)
    processing_time_ms = models.BigIntegerField(null=True, blank=True)
    tokens_used = models.BigIntegerField(null=True, blank=True)
    cost_usd = models.FloatField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "analysis_results_v2"
        indexes = [
            models.Index(fields=["-budget_amount"], name="idx_analysis_results_budget"),
            models.Index(fields=["institution"], name="idx_analysis_results_institution"),
            models.Index(fields=["-contextual_score"], name="idx_analysis_results_score"),
            models.Index(fields=["status", "-created_at"], name="idx_analysis_results_status"),
            models.Index(fields=["tender_id"], name="idx_analysis_results_tender"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["pending", "processing", "completed", "failed"]), name="analysis_results_v2_status_check"),
            models.CheckConstraint(
                # Legacy quirk kept on purpose: NULL in the IN list makes this CHECK accept any value.
                condition=LegacyCheck("market_risk_level IN ('low', 'medium', 'high', NULL)"),
                name="analysis_results_v2_market_risk_level_check",
            ),
        ]

    def __str__(self) -> str:
        return f"analysis_results_v2 {self.pk}"

class ApiMetric(LegacyModel):
    """The legacy `api_metrics` table."""

    id = models.BigAutoField(primary_key=True)
    endpoint = models.TextField()
    model = models.TextField(null=True, blank=True)
    input_tokens = models.BigIntegerField(null=True, blank=True)
    output_tokens = models.BigIntegerField(null=True, blank=True)
    total_tokens = models.BigIntegerField(null=True, blank=True)
    cost_usd = models.FloatField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    success = LegacyBooleanField(legacy_type="INTEGER", default=True, null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "api_metrics"
        indexes = [
            models.Index(fields=["-cost_usd", "-created_at"], name="idx_api_metrics_cost"),
            models.Index(fields=["endpoint", "-created_at"], name="idx_api_metrics_endpoint"),
            models.Index(fields=["model", "-created_at"], name="idx_api_metrics_model"),
        ]

    def __str__(self) -> str:
        return str(self.endpoint)

class DataPool(LegacyModel):
    """The legacy `data_pools` table."""

    analysis_id = models.CharField(primary_key=True)
    data_pool_json = LegacyJSONField()
    text_content = models.TextField(null=True, blank=True)
    document_count = models.BigIntegerField(null=True, blank=True)
    table_count = models.BigIntegerField(null=True, blank=True)
    date_count = models.BigIntegerField(null=True, blank=True)
    entity_count = models.BigIntegerField(null=True, blank=True)
    total_size_bytes = models.BigIntegerField(null=True, blank=True)
    expires_at = LegacyDateTimeField(legacy_type="DATETIME", shapes=[ISO_Z], null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "data_pools"
        indexes = [
            models.Index(fields=["expires_at"], name="idx_data_pools_expires"),
            models.Index(fields=["expires_at"], name="idx_datapool_expires"),
        ]

    def __str__(self) -> str:
        return f"data_pools {self.pk}"

class MenuCache(LegacyModel):
    """The legacy `menu_cache` table."""

    hash = models.CharField(primary_key=True)
    menu_items_json = LegacyJSONField()
    item_count = models.BigIntegerField(null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)
    last_used_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "menu_cache"
        indexes = [
            models.Index(fields=["last_used_at"], name="idx_menu_cache_last_used"),
        ]

    def __str__(self) -> str:
        return str(self.hash)

class Orchestration(LegacyModel):
    """The legacy `orchestrations` table (declared by the legacy code but never created in its database)."""

    id = models.CharField(primary_key=True)
    file_name = models.TextField(null=True, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    mime_type = models.TextField(null=True, blank=True)
    progress = models.BigIntegerField(default=0, null=True, blank=True)
    status = models.TextField(default='pending', null=True, blank=True)
    current_step = models.TextField(null=True, blank=True)
    steps_json = LegacyJSONField(null=True, blank=True)
    result = LegacyJSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    warnings = models.TextField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    user_id = models.TextField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    started_at = LegacyDateTimeField(null=True, blank=True)
    completed_at = LegacyDateTimeField(null=True, blank=True)

    class Meta:
        db_table = "orchestrations"
        indexes = [
            models.Index(fields=["-created_at"], name="idx_orchestrations_created_at"),
            models.Index(fields=["status", "-created_at"], name="idx_orchestrations_status"),
            models.Index(fields=["user_id", "-created_at"], name="idx_orchestrations_user"),
        ]

    def __str__(self) -> str:
        return f"orchestrations {self.pk}"

class SemanticCacheEntry(LegacyModel):
    """The legacy `semantic_cache` table."""

    id = models.CharField(primary_key=True)
    prompt_hash = models.TextField()
    prompt_text = models.TextField()
    response_data = LegacyJSONField()
    model = models.TextField()
    temperature = models.FloatField()
    tokens_used = models.BigIntegerField()
    hit_count = models.BigIntegerField(default=0, null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    last_accessed = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    expires_at = LegacyDateTimeField(shapes=[ISO_Z])

    class Meta:
        db_table = "semantic_cache"
        indexes = [
            models.Index(fields=["expires_at"], name="idx_semantic_cache_expires"),
            models.Index(fields=["prompt_hash"], name="idx_semantic_cache_hash"),
            models.Index(fields=["model", "prompt_hash"], name="idx_semantic_cache_model"),
        ]

    def __str__(self) -> str:
        return str(self.prompt_hash)
