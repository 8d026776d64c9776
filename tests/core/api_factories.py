"""Factories for the rows the JSON API serves; rows are saved where the database router sends them."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

import factory
from factory.django import DjangoModelFactory

from core import api_keys, ids
from core.models import AnalysisHistory, ApiKey, Log, MarketPrice, SemanticCacheEntry, Tender

UTC = dt.UTC


class RoutedFactory(DjangoModelFactory):
    """Create through the default manager without ``using()``, so the router picks the alias."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        return model_class._default_manager.create(*args, **kwargs)


def prompt_hash(prompt: str) -> str:
    """The sha256 hex digest the legacy cache keys on."""
    return hashlib.sha256(prompt.encode()).hexdigest()


class LogFactory(RoutedFactory):
    class Meta:
        model = Log

    level = "info"
    message = factory.Sequence(lambda n: f"log line {n}")
    data = factory.LazyFunction(dict)
    created_at = factory.Sequence(lambda n: dt.datetime(2025, 11, 1, tzinfo=UTC) + dt.timedelta(minutes=n))


class TenderFactory(RoutedFactory):
    class Meta:
        model = Tender

    id = factory.Sequence(lambda n: str(1_000_000 + n))
    tender_number = factory.LazyAttribute(lambda tender: f"2025/{tender.id}")
    title = factory.Sequence(lambda n: f"Yemek hizmeti alımı {n}")
    organization = "Sağlık Bakanlığı"
    city = "Ankara"
    partial_bid_allowed = False
    publish_date = dt.date(2025, 11, 1)
    tender_date = dt.date(2025, 12, 1)
    days_remaining = 30
    status = "active"
    created_at = factory.Sequence(lambda n: dt.datetime(2025, 11, 1, tzinfo=UTC) + dt.timedelta(hours=n))


class MarketPriceFactory(RoutedFactory):
    class Meta:
        model = MarketPrice

    product_key = "tavuk-gogus"
    unit = "kg"
    unit_price = 189.9
    source = "TUIK"
    created_at = factory.Sequence(lambda n: dt.datetime(2025, 8, 1, tzinfo=UTC) + dt.timedelta(days=n))


class SemanticCacheEntryFactory(RoutedFactory):
    class Meta:
        model = SemanticCacheEntry

    id = factory.LazyFunction(ids.new_semantic_cache_id)
    prompt_text = factory.Sequence(lambda n: f"prompt {n}")
    prompt_hash = factory.LazyAttribute(lambda entry: prompt_hash(entry.prompt_text))
    response_data = factory.LazyFunction(lambda: {"answer": "42"})
    model = "claude-sonnet"
    temperature = 0.7
    tokens_used = 120
    hit_count = 0
    expires_at = factory.LazyFunction(lambda: dt.datetime.now(UTC) + dt.timedelta(hours=1))


class AnalysisHistoryFactory(RoutedFactory):
    class Meta:
        model = AnalysisHistory

    id = factory.LazyFunction(ids.new_analysis_id)
    file_name = factory.Sequence(lambda n: f"sartname-{n}.pdf")
    file_size = 1024
    mime_type = "application/pdf"
    status = "pending"


class ApiKeyFactory(RoutedFactory):
    """A row of ``api_keys`` for the key ``key`` (a new one unless given), with every scope."""

    class Meta:
        model = ApiKey

    class Params:
        key = factory.LazyFunction(api_keys.new_key)

    name = factory.Sequence(lambda n: f"test key {n}")
    key_hash = factory.LazyAttribute(lambda row: api_keys.hash_key(row.key))
    key_preview = factory.LazyAttribute(lambda row: api_keys.preview(row.key))
    service = api_keys.SERVICE
    permissions = factory.LazyFunction(lambda: list(api_keys.SCOPES))
    active = True


def key_on(aliases: Iterable[str], **fields: Any) -> str:
    """A new key whose row is written on each alias itself (in phase 0: neither routed nor mirrored)."""
    key = api_keys.new_key()
    for alias in aliases:
        ApiKeyFactory.build(key=key, **fields).save(using=alias)
    return key
