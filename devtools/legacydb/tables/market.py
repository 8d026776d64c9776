"""Row factories of the legacy tables: market prices."""

from __future__ import annotations

from devtools.legacydb.rows import L, LegacyRowFactory, SeedFactory, legacy_table
from devtools.legacydb.shapes import (
    DAY_MS,
    END_MS,
    SEEDED_MS,
    ascii_slug,
    date_only,
    dumps,
    iso_z,
    sqlite_ts,
)
from devtools.legacydb.vocabulary import (
    BRANDS,
    CITIES,
    MARKET_SOURCES,
    MARKETS,
    PACKAGING,
    SEED_PRODUCTS,
)

# -- market prices


@legacy_table("market_prices")
class MarketPriceFactory(LegacyRowFactory):
    class Params:
        # seedMarketPrices(): 7 products x 90 days; provider/db.ts adds a few live rows.
        seeded = L(lambda o: o.s.chance(0.92))
        product = L(lambda o: SEED_PRODUCTS[o.i % 7] if o.seeded else o.s.product())

    id = L(lambda o: o.i + 1)
    product_key = L(lambda o: o.product[0])
    raw_query = L(lambda o: o.product[1] if o.s.chance(0.7) else None)
    unit = L(lambda o: o.product[2])
    unit_price = L(lambda o: o.s.price(o.product[3]))
    currency = "TRY"
    source = L(
        lambda o: (
            o.s.choice(("TUIK", "WEB", "DB")) if o.seeded else o.s.choice(("ai", "tuik", "web"))
        )
    )
    # The seed back-fills the 90 days before the first boot, oldest first.
    created_at = L(
        lambda o: (
            date_only(SEEDED_MS - (89 - (o.i // 7) % 90) * DAY_MS) if o.seeded else sqlite_ts(o.ms)
        )
    )
    meta = L(
        lambda o: (
            None
            if o.s.chance(0.6)
            else dumps({"güven": round(o.s.uniform(0.5, 1), 2), "seed": o.seeded})
        )
    )


@legacy_table("market_price_details")
class MarketPriceDetailFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    price_id = L(lambda o: o.s.ref("market_prices"))
    market_key = L(lambda o: o.s.choice(MARKETS)[0])
    brand = L(lambda o: o.s.choice(BRANDS)[0])
    brand_tier = L(lambda o: o.s.choice(("premium", "standard", "economy")))
    stock_status = L(lambda o: o.s.choice(("in_stock", "out_of_stock", "limited")))
    promotion = L(lambda o: "2 al 1 öde" if o.s.chance(0.1) else None)
    packaging = L(lambda o: o.s.choice(("1 kg", "500 g", "5 kg", "1 lt")))
    product_url = L(lambda o: f"https://www.migros.com.tr/urun-{o.s.digits(8)}")
    image_url = None
    scraped_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("market_price_history")
class MarketPriceHistoryFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    product_key = L(lambda o: o.s.product()[0])
    market_key = L(lambda o: o.s.choice(MARKETS)[0])
    price = L(lambda o: round(o.s.uniform(10, 600), 2))
    price_date = L(lambda o: date_only(o.ms))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("market_prices_v2")
class MarketPriceV2Factory(LegacyRowFactory):
    class Params:
        # migrateOldPrices() copies market_prices (DATE_ONLY); tuik-real.ts writes toISOString().
        copied = L(lambda o: o.s.chance(0.7))
        product = L(lambda o: o.s.product())
        pack = L(lambda o: o.s.choice(PACKAGING))

    id = L(lambda o: o.i + 1)
    product_key = L(lambda o: o.product[0])
    unit = L(lambda o: o.product[2])
    unit_price = L(lambda o: o.s.price(o.product[3]))
    source = L(lambda o: o.s.choice(("TUIK", "WEB", "DB")) if o.copied else "TUIK")
    brand = L(lambda o: o.s.choice(BRANDS)[0] if o.s.chance(0.5) else None)
    brand_tier = L(lambda o: o.s.choice(("premium", "standard", "economy")) if o.brand else None)
    packaging_size = L(lambda o: o.pack[1])
    packaging_unit = L(lambda o: o.pack[2])
    packaging_type = L(lambda o: o.pack[0])
    packaging_description = L(lambda o: f"{o.pack[1]:g} {o.pack[2]} paket" if o.pack[0] else None)
    source_trust = L(lambda o: round(o.s.uniform(0.6, 0.9), 2) if o.copied else 0.95)
    confidence_score = L(lambda o: round(o.s.uniform(0.5, 1.0), 2))
    created_at = L(lambda o: date_only(o.ms) if o.copied else iso_z(o.ms))
    verified_at = L(lambda o: sqlite_ts(o.ms) if o.s.chance(0.1) else None)
    verified_by = L(lambda o: "system" if o.verified_at else None)
    notes = L(lambda o: "TÜİK aylık ortalama" if not o.copied else None)
    meta = L(lambda o: dumps({"bölge": o.s.choice(CITIES)}) if o.s.chance(0.3) else None)


@legacy_table("normalized_prices")
class NormalizedPriceFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    raw_price_id = L(lambda o: o.s.ref("market_prices_v2", nullable=0.2))
    original_price = L(lambda o: round(o.s.uniform(10, 600), 2))
    original_weight = L(lambda o: o.s.choice((0.5, 1.0, 2.5, 500.0, 1000.0)))
    original_unit = L(lambda o: o.s.choice(("kg", "g", "lt", "ml", "adet")))
    normalization_factor = L(
        lambda o: (
            1000.0 / o.original_weight
            if o.original_unit in ("g", "ml")
            else 1.0 / o.original_weight
        )
    )
    normalized_price_per_kg = L(lambda o: round(o.original_price * o.normalization_factor, 2))
    confidence_score = L(lambda o: round(o.s.uniform(0.5, 1), 2))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("price_history")
class PriceHistoryFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    product_key = L(lambda o: o.s.product()[0])
    price = L(lambda o: round(o.s.uniform(10, 600), 2))
    source = L(lambda o: o.s.choice(("TUIK", "WEB")))
    previous_price = L(lambda o: round(o.price * o.s.uniform(0.85, 1.15), 2))
    price_change = L(lambda o: round(o.price - o.previous_price, 2))
    price_change_percent = L(lambda o: round(100 * o.price_change / o.previous_price, 2))
    change_direction = L(
        lambda o: "up" if o.price_change > 0 else ("down" if o.price_change < 0 else "stable")
    )
    volatility_score = L(lambda o: round(o.s.random.random(), 3))
    timestamp = L(lambda o: sqlite_ts(o.ms))  # the generated column `date` is never inserted


@legacy_table("price_validations")
class PriceValidationFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    source = L(lambda o: o.s.choice(("TUIK", "WEB", "AI", "DB")))
    product_key = L(lambda o: o.s.product()[0])
    quoted_price = L(lambda o: round(o.s.uniform(10, 600), 2))
    actual_price = L(
        lambda o: round(o.quoted_price * o.s.uniform(0.8, 1.2), 2) if o.s.chance(0.9) else None
    )
    was_accurate = L(
        lambda o: (
            1
            if o.actual_price and abs(o.actual_price - o.quoted_price) / o.quoted_price < 0.1
            else 0
        )
    )
    deviation = L(
        lambda o: round(
            abs((o.actual_price or o.quoted_price) - o.quoted_price) / o.quoted_price, 4
        )
    )
    timestamp = L(lambda o: sqlite_ts(o.ms))


@legacy_table("market_cache")
class MarketCacheFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    product_key = L(lambda o: f"{o.s.product()[0]}_{o.i}")  # UNIQUE
    fusion_data = L(
        lambda o: dumps({"fiyat": round(o.s.uniform(10, 600), 2), "kaynaklar": ["TUIK", "WEB"]})
    )
    confidence = L(lambda o: round(o.s.random.random(), 3))
    created_at = L(lambda o: sqlite_ts(o.ms))
    expires_at = L(lambda o: sqlite_ts(o.ms + DAY_MS))


@legacy_table("market_sources")
class MarketSourceFactory(SeedFactory):
    class Params:
        seed = L(lambda o: MARKET_SOURCES[o.i])

    id = L(lambda o: o.i + 1)
    source_key = L(lambda o: o.seed[0])
    source_name = L(lambda o: o.seed[1])
    source_type = L(lambda o: o.seed[2])
    base_url = L(lambda o: o.seed[3])
    is_active = 1
    rate_limit = 10
    last_scraped = L(lambda o: sqlite_ts(END_MS - o.s.randint(60, 86400) * 1000))
    success_count = L(lambda o: o.s.randint(0, 5000))
    error_count = L(lambda o: o.s.randint(0, 200))
    average_response_time = L(lambda o: round(o.s.uniform(200, 3000), 1))
    trust_score = L(lambda o: o.seed[4])
    meta = L(lambda o: dumps({"açıklama": o.seed[1]}))
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("markets")
class MarketFactory(SeedFactory):
    class Params:
        seed = L(lambda o: MARKETS[o.i])

    id = L(lambda o: o.i + 1)
    name = L(lambda o: o.seed[0])
    display_name = L(lambda o: o.seed[1])
    logo_url = L(lambda o: f"/logos/{o.seed[0]}.png")
    website_url = L(lambda o: f"https://www.{o.seed[0].replace('_', '')}.com.tr")
    api_available = L(lambda o: 1 if o.seed[0] in ("migros", "carrefoursa") else 0)
    scraping_available = L(lambda o: 0 if o.seed[0] == "tarim_kredi" else 1)
    average_price_level = L(lambda o: o.seed[2])
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("product_cards")
class ProductCardFactory(LegacyRowFactory):
    class Params:
        product = L(lambda o: o.s.product())
        variant_count = L(lambda o: o.s.choice((0, 0, 2, 3)))

    name = L(lambda o: o.product[1])
    normalized_name = L(lambda o: ascii_slug(o.name))
    id = L(lambda o: f"product_{o.normalized_name}_{o.ms}")  # ms grows with the row: unique
    category = L(lambda o: o.product[4])
    subcategory = L(lambda o: o.s.choice(("taze", "paketli", "dondurulmuş", None)))
    icon = L(lambda o: o.s.choice(("🥩", "🍅", "🥛", "🌾", "🧀", "🥚")))
    brand = L(lambda o: o.s.choice(BRANDS)[0] if o.s.chance(0.6) else None)
    tags = L(lambda o: dumps([o.product[4], "gıda"]))
    has_variants = L(lambda o: 1 if o.variant_count else 0)
    variants = L(
        lambda o: (
            dumps([f"{o.name} {k + 1} kg" for k in range(o.variant_count)])
            if o.variant_count
            else None
        )
    )
    default_variant = L(lambda o: f"{o.name} 1 kg" if o.variant_count else None)
    nutrition_category = L(lambda o: o.s.choice(("protein", "karbonhidrat", "yağ", "vitamin")))
    barcode = L(lambda o: "869" + o.s.digits(10))
    image_url = None
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("price_alerts")
class PriceAlertFactory(LegacyRowFactory):
    id = L(lambda o: f"alert_{o.ms}_{o.s.base36(9)}")
    user_id = L(lambda o: o.s.user_id() or "anonymous")
    product_card_id = L(lambda o: o.s.choice(o.s.world.values("product_cards", "id")))
    target_price = L(lambda o: round(o.s.uniform(10, 600), 2))
    alert_type = L(lambda o: o.s.choice(("below", "above", "change")))
    notification_channels = L(lambda o: dumps(["email", "in_app"]))
    is_active = L(lambda o: o.s.flag(0.8))
    triggered_count = L(lambda o: o.s.randint(0, 4))
    last_triggered = L(lambda o: sqlite_ts(o.ms) if o.triggered_count else None)
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("product_catalog")
class ProductCatalogFactory(LegacyRowFactory):
    class Params:
        product = L(lambda o: o.s.product())

    id = L(lambda o: o.i + 1)
    product_key = L(lambda o: f"{o.product[0]}_{o.i}")  # UNIQUE
    canonical_name = L(lambda o: o.product[1])
    category = L(lambda o: o.product[4])
    variants = L(lambda o: dumps([o.product[1]]))
    aliases = L(lambda o: dumps([ascii_slug(o.product[1], " ")]))
    tags = L(lambda o: dumps([o.product[4]]))
    search_count = L(lambda o: o.s.randint(0, 300))
    last_searched = L(lambda o: sqlite_ts(o.ms) if o.search_count else None)
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


