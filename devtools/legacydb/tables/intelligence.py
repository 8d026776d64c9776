"""Row factories of the legacy tables: market intelligence."""

from __future__ import annotations

from devtools.legacydb.rows import L, LegacyRowFactory, SeedFactory, legacy_table
from devtools.legacydb.shapes import DAY_MS, END_MS, ascii_slug, date_only, dumps, sqlite_ts
from devtools.legacydb.vocabulary import (
    BRANDS,
    CATEGORIES,
    CITIES,
    MARKETS,
    PROVIDERS,
    QUEUE_NAMES,
    QUEUE_STATUSES,
)

# -- market intelligence


@legacy_table("brand_mappings")
class BrandMappingFactory(SeedFactory):
    class Params:
        seed = L(lambda o: BRANDS[o.i])

    id = L(lambda o: o.i + 1)
    brand_name = L(lambda o: o.seed[0])
    brand_tier = L(lambda o: o.seed[1])
    parent_brand = L(lambda o: o.seed[2])
    category_focus = L(lambda o: o.seed[3])
    is_market_brand = L(lambda o: o.seed[4])  # DEFAULT FALSE stored as 0
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("fuzzy_matches")
class FuzzyMatchFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    query_text = L(lambda o: ascii_slug(o.s.product()[1], " "))
    matched_product_id = L(lambda o: o.s.product()[0])
    match_score = L(lambda o: round(o.s.uniform(0.5, 1), 3))
    match_method = L(lambda o: o.s.choice(("levenshtein", "trigram", "exact")))
    expires_at = L(lambda o: sqlite_ts(o.ms + DAY_MS))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("user_price_submissions")
class UserPriceSubmissionFactory(LegacyRowFactory):
    class Params:
        product = L(lambda o: o.s.product())

    id = L(lambda o: f"sub_{o.ms}_{o.s.base36(9)}")
    user_id = L(lambda o: o.s.user_id() or "anonymous")
    product_name = L(lambda o: o.product[1])
    normalized_product_name = L(lambda o: ascii_slug(o.product[1]))
    barcode = L(lambda o: "869" + o.s.digits(10) if o.s.chance(0.5) else None)
    price = L(lambda o: o.s.price(o.product[3]))
    unit = L(lambda o: o.product[2])
    weight = 1.0
    weight_unit = L(lambda o: o.product[2])
    market_name = L(lambda o: o.s.choice(MARKETS)[1])
    market_branch = L(lambda o: f"{o.s.choice(CITIES)} Şubesi")
    city = L(lambda o: o.s.choice(CITIES))
    district = None
    latitude = L(lambda o: round(o.s.uniform(36, 42), 6))
    longitude = L(lambda o: round(o.s.uniform(26, 45), 6))
    receipt_image_url = None
    submitted_at = L(lambda o: sqlite_ts(o.ms))
    verification_status = L(lambda o: o.s.choice(("pending", "verified", "rejected")))
    verified_by = L(
        lambda o: (
            dumps([o.s.user_id()])
            if o.verification_status == "verified" and o.s.user_id()
            else None
        )
    )
    trust_score = L(lambda o: round(o.s.random.random(), 2))
    rejection_reason = L(lambda o: "Fiş okunamadı" if o.verification_status == "rejected" else None)


@legacy_table("user_trust_metrics")
class UserTrustMetricsFactory(LegacyRowFactory):
    user_id = L(lambda o: o.s.distinct("users", "id", o.i, o.total))
    total_submissions = L(lambda o: o.s.randint(0, 50))
    verified_submissions = L(lambda o: o.total_submissions // 2)
    rejected_submissions = L(lambda o: o.total_submissions // 10)
    average_accuracy = L(lambda o: round(o.s.random.random(), 2))
    receipt_submission_rate = L(lambda o: round(o.s.random.random(), 2))
    location_consistency = 1.0
    submission_frequency = L(lambda o: round(o.s.uniform(0, 3), 2))
    last_activity_date = L(lambda o: sqlite_ts(o.ms))
    flagged_behaviors = L(lambda o: dumps([] if o.s.chance(0.9) else ["çok_hızlı_gönderim"]))
    trust_score = L(lambda o: round(o.s.random.random(), 2))
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("api_provider_health")
class ApiProviderHealthFactory(SeedFactory):
    class Params:
        seed = L(lambda o: PROVIDERS[o.i])

    provider_name = L(lambda o: o.seed[0])
    total_requests = 0
    successful_requests = 0
    failed_requests = 0
    average_response_time = L(lambda o: float(o.seed[2]))
    is_active = L(lambda o: o.seed[1])  # seed TRUE/FALSE stored as 1/0
    last_check_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("scraper_proxies")
class ScraperProxyFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    proxy_url = L(lambda o: f"http://{o.s.ip()}:{8000 + o.i}")  # UNIQUE
    success_count = L(lambda o: o.s.randint(0, 900))
    failure_count = L(lambda o: o.s.randint(0, 90))
    average_response_time = L(lambda o: round(o.s.uniform(100, 4000), 1))
    last_used_at = L(lambda o: sqlite_ts(o.ms))
    is_active = L(lambda o: o.s.flag(0.8))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("market_category_averages")
class MarketCategoryAverageFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    market_name = L(lambda o: MARKETS[o.i % len(MARKETS)][0])  # UNIQUE(market_name, category)
    category = L(lambda o: CATEGORIES[o.i // len(MARKETS)])
    average_price = L(lambda o: round(o.s.uniform(20, 400), 2))
    min_price = L(lambda o: round(o.average_price * 0.6, 2))
    max_price = L(lambda o: round(o.average_price * 1.7, 2))
    sample_count = L(lambda o: o.s.randint(3, 400))
    last_updated = L(lambda o: sqlite_ts(o.ms))


@legacy_table("scraping_queue")
class ScrapingQueueFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    product_query = L(lambda o: o.s.product()[1])
    market_name = L(lambda o: o.s.choice(MARKETS)[0])
    priority = L(lambda o: o.s.randint(1, 10))
    status = L(lambda o: o.s.choice(("pending", "processing", "completed", "failed")))
    attempts = L(lambda o: o.s.randint(0, 3))
    last_attempt_at = L(lambda o: sqlite_ts(o.ms) if o.attempts else None)
    completed_at = L(lambda o: sqlite_ts(o.ms + 30_000) if o.status == "completed" else None)
    error_message = L(lambda o: "403 Forbidden" if o.status == "failed" else None)
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("webhook_subscriptions")
class WebhookSubscriptionFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    market_name = L(lambda o: o.s.choice(MARKETS)[0])
    webhook_url = L(
        lambda o: f"https://hooks.procheff.com/market/{o.market_name}/{o.i}"
    )  # UNIQUE with market
    secret_key = L(lambda o: o.s.hex(32))
    events = L(lambda o: dumps(["price.updated", "stock.changed"]))
    is_active = L(lambda o: o.s.flag(0.85))
    last_delivery_at = L(
        lambda o: o.s.later(o.ms, 60, 30 * 86400) if o.s.chance(0.6) else None
    )  # epoch ms
    failure_count = L(lambda o: o.s.randint(0, 5))
    created_at = L(lambda o: o.ms)  # epoch ms in a TIMESTAMP column


@legacy_table("accuracy_metrics")
class AccuracyMetricFactory(LegacyRowFactory):
    class Params:
        # One row per (day, provider): UNIQUE(date, provider_type, provider_name), newest day last.
        provider = L(lambda o: ACCURACY_PROVIDERS[o.i % len(ACCURACY_PROVIDERS)])
        day_ms = L(lambda o: END_MS - ((o.total - 1 - o.i) // len(ACCURACY_PROVIDERS)) * DAY_MS)

    id = L(lambda o: o.i + 1)
    date = L(lambda o: date_only(o.day_ms))
    provider_type = L(lambda o: o.provider[0])
    provider_name = L(lambda o: o.provider[1])
    total_prices = L(lambda o: o.s.randint(10, 900))
    accurate_prices = L(lambda o: int(o.total_prices * o.s.uniform(0.6, 1)))
    accuracy_rate = L(lambda o: round(o.accurate_prices / o.total_prices, 4))
    average_deviation = L(lambda o: round(o.s.uniform(0, 0.3), 4))
    outliers_detected = L(lambda o: o.s.randint(0, 20))
    created_at = L(lambda o: o.day_ms - o.s.randint(0, 3_600_000))  # epoch ms in a TIMESTAMP column


ACCURACY_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("api", "tuik"),
    ("api", "migros_api"),
    ("scraper", "a101"),
    ("scraper", "sok"),
    ("crowd", "kullanıcılar"),
    ("ai", "claude"),
    ("ai", "gemini"),
)


@legacy_table("coverage_metrics")
class CoverageMetricFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    market = L(lambda o: MARKETS[o.i % len(MARKETS)][0])  # UNIQUE(market, category)
    category = L(lambda o: CATEGORIES[o.i // len(MARKETS)])
    product_count = L(lambda o: o.s.randint(10, 900))
    available_count = L(lambda o: int(o.product_count * o.s.uniform(0.5, 1)))
    coverage_rate = L(lambda o: round(o.available_count / o.product_count, 4))
    average_price = L(lambda o: round(o.s.uniform(20, 400), 2))
    price_variation = L(lambda o: round(o.s.uniform(0, 0.5), 4))
    last_updated = L(lambda o: o.ms)  # epoch ms


@legacy_table("cache_entries")
class CacheEntryFactory(LegacyRowFactory):
    class Params:
        product = L(lambda o: o.s.product())

    category = L(lambda o: o.s.choice(("price", "price", "search", "fusion", "tuik")))
    key = L(lambda o: f"{o.category}:{o.product[0]}:{o.s.choice(MARKETS)[0]}:{o.i:x}")  # UNIQUE
    value = L(
        lambda o: dumps(
            {"ürün": o.product[1], "fiyat": o.s.price(o.product[3]), "birim": o.product[2]}
        )
    )
    tags = L(lambda o: dumps([o.category, o.product[4]]) if o.s.chance(0.7) else None)
    expires_at = L(lambda o: o.ms + o.s.choice((3_600_000, 21_600_000, DAY_MS)))
    created_at = L(lambda o: o.ms)
    hit_count = L(lambda o: o.s.choice((0, 0, 1, 3, 12)))
    last_accessed = L(lambda o: o.s.later(o.ms, 1, 3600) if o.hit_count else None)


@legacy_table("queue_jobs")
class QueueJobFactory(LegacyRowFactory):
    id = L(lambda o: o.s.uuid4())
    queue = L(lambda o: o.s.choice(QUEUE_NAMES))
    data = L(lambda o: dumps({"ürün": o.s.product()[1], "market": o.s.choice(MARKETS)[0]}))
    priority = L(lambda o: o.s.choice((1, 5, 5, 5, 10)))
    status = L(lambda o: o.s.choice(QUEUE_STATUSES))
    attempts = L(
        lambda o: 0 if o.status == "pending" else (3 if o.status == "failed" else o.s.randint(1, 2))
    )
    max_attempts = 3
    created_at = L(lambda o: o.ms)
    processed_at = L(lambda o: None if o.status == "pending" else o.s.later(o.ms, 0, 30))
    completed_at = L(
        lambda o: o.s.later(o.processed_at, 1, 60) if o.status == "completed" else None
    )
    failed_at = L(lambda o: o.s.later(o.processed_at, 1, 60) if o.status == "failed" else None)
    error = L(lambda o: "ETIMEDOUT" if o.status == "failed" else None)
    result = L(
        lambda o: (
            dumps({"fiyat": round(o.s.uniform(10, 600), 2), "kaynak": "WEB"})
            if o.status == "completed"
            else None
        )
    )
    next_retry_at = L(
        lambda o: o.ms + 60_000 * 2**o.attempts if o.status == "processing" and o.attempts else None
    )


