"""Tenders scraped from ihalebul.com and their (never created) analysis tables."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.fields import (
    ISO_Z,
    LegacyBooleanField,
    LegacyDateTimeField,
    LegacyJSONField,
    TurkishDateField,
)
from core.models.base import LegacyModel


class TenderAnalysis(LegacyModel):
    """The legacy `tender_analysis` table (declared by the legacy code but never created in its database)."""

    tender_id = models.CharField(primary_key=True)
    raw_json = LegacyJSONField(null=True, blank=True)
    announcement_text = models.TextField(null=True, blank=True)
    ai_analyzed = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    ai_analyzed_at = LegacyDateTimeField(shapes=[ISO_Z], null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "tender_analysis"

    def __str__(self) -> str:
        return f"tender_analysis {self.pk}"

class TenderFullContent(LegacyModel):
    """The legacy `tender_full_content` table (declared by the legacy code but never created in its database)."""

    tender_id = models.CharField(primary_key=True)
    raw_html = models.TextField(null=True, blank=True)
    plain_text = models.TextField(null=True, blank=True)
    screenshot = models.TextField(null=True, blank=True)
    documents = LegacyJSONField(null=True, blank=True)
    structured_data = LegacyJSONField(null=True, blank=True)
    created_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "tender_full_content"

    def __str__(self) -> str:
        return f"tender_full_content {self.pk}"

class Tender(LegacyModel):
    """The legacy `tenders` table."""

    id = models.CharField(primary_key=True)
    tender_number = models.TextField(null=True, blank=True)
    title = models.TextField(null=True, blank=True)
    organization = models.TextField(null=True, blank=True)
    city = models.TextField(null=True, blank=True)
    tender_type = models.TextField(null=True, blank=True)
    partial_bid_allowed = LegacyBooleanField(legacy_type="INTEGER", default=False, null=True, blank=True)
    publish_date = TurkishDateField(null=True, blank=True)
    tender_date = TurkishDateField(null=True, blank=True)
    days_remaining = models.BigIntegerField(null=True, blank=True)
    url = models.TextField(null=True, blank=True)
    status = models.TextField(default='active', null=True, blank=True)
    created_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)
    updated_at = LegacyDateTimeField(legacy_type="DATETIME", default=timezone.now, null=True, blank=True)

    class Meta:
        db_table = "tenders"
        indexes = [
            models.Index(fields=["city"], name="idx_tenders_city"),
            models.Index(fields=["created_at"], name="idx_tenders_created_at"),
            models.Index(fields=["days_remaining"], name="idx_tenders_days_remaining"),
            models.Index(fields=["status"], name="idx_tenders_status"),
            models.Index(fields=["tender_date"], name="idx_tenders_tender_date"),
        ]

    def __str__(self) -> str:
        return str(self.title)
