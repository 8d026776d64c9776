"""Row factories of the legacy tables: the menu planner, settings, reports, integrations and bookkeeping."""

from __future__ import annotations

from devtools.legacydb.rows import L, LegacyRowFactory, SeedFactory, legacy_table
from devtools.legacydb.shapes import END_MS, dumps, iso_z, sqlite_ts
from devtools.legacydb.vocabulary import (
    API_ENDPOINTS,
    CITIES,
    GRAMAJ,
    HTTP_METHODS,
    INSTITUTION_TYPES,
    INTEGRATIONS,
    MENU_CATEGORIES,
    MENU_ITEMS,
    MIGRATION_FILES,
    PERFORMANCE_PROFILES,
    PERFORMANCE_SETTINGS,
)

# -- menu planner


@legacy_table("menu_categories")
class MenuCategoryFactory(SeedFactory):
    class Params:
        seed = L(lambda o: MENU_CATEGORIES[o.i])

    id = L(lambda o: o.i + 1)  # menu-seed.json gives explicit ids 1..10
    name = L(lambda o: o.seed[0])
    name_tr = L(lambda o: o.seed[1])
    institution_type = L(lambda o: o.seed[2])
    icon = L(lambda o: o.seed[3])
    display_order = L(lambda o: o.i + 1)
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("menu_items")
class MenuItemFactory(SeedFactory):
    class Params:
        seed = L(lambda o: MENU_ITEMS[o.i])

    id = L(lambda o: o.i + 1)
    name = L(lambda o: o.seed[0])
    category_id = L(lambda o: o.seed[1])
    meal_type = L(lambda o: o.seed[2])
    default_gramaj = L(lambda o: o.seed[3])
    unit_cost = L(lambda o: o.seed[4])
    calories = L(lambda o: o.seed[5])
    protein = L(lambda o: round(o.seed[5] * 0.05, 1))
    carbs = L(lambda o: round(o.seed[5] * 0.12, 1))
    fat = L(lambda o: round(o.seed[5] * 0.04, 1))
    season = L(lambda o: o.seed[6])
    tags = L(lambda o: dumps(["geleneksel", "tabldot"] if o.i % 3 else []))
    institution_types = L(lambda o: dumps(["all"] if o.i % 4 else ["hastane", "okul"]))
    is_active = 1
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("recipes")
class RecipeFactory(SeedFactory):
    id = L(lambda o: o.i + 1)
    menu_item_id = L(lambda o: o.i + 1)  # UNIQUE(menu_item_id)
    # The seed JSON holds '\\n': literal backslash-n sequences, not newlines.
    instructions = L(
        lambda o: (
            "1. Malzemeleri hazırlayın.\\n2. Tencereye alıp kısık ateşte pişirin.\\n"
            f"3. {MENU_ITEMS[o.i][0]} sıcak servis edilir."
        )
    )
    prep_time = L(lambda o: o.s.choice((10, 15, 20, 30)))
    cook_time = L(lambda o: o.s.choice((20, 30, 45, 60)))
    difficulty = L(lambda o: o.s.choice(("kolay", "orta", "zor")))
    serving_size = 1
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("recipe_ingredients")
class RecipeIngredientFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    recipe_id = L(lambda o: o.s.ref("recipes"))
    ingredient_name = L(lambda o: o.s.product()[1])
    quantity = L(lambda o: o.s.choice((5.0, 10.0, 25.0, 50.0, 120.0, 0.5, 1.0)))
    unit = L(lambda o: o.s.choice(("g", "kg", "adet", "ml", "lt")))
    cost_per_unit = L(lambda o: round(o.s.uniform(0.01, 3), 3))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("user_menus")
class UserMenuFactory(LegacyRowFactory):
    id = L(lambda o: o.s.uuid4())
    user_id = L(
        lambda o: o.i + 1 if o.s.chance(0.5) else None
    )  # declared INTEGER, users.id is TEXT
    name = L(lambda o: f"{o.s.choice(INSTITUTION_TYPES).capitalize()} menüsü {o.i + 1}")
    days = L(lambda o: o.s.choice((5, 7, 30)))
    institution_type = L(lambda o: o.s.choice(INSTITUTION_TYPES))
    persons = L(lambda o: o.s.randint(50, 2000))
    menu_data = L(lambda o: dumps({"gün_1": [m[0] for m in o.s.random.sample(MENU_ITEMS, 4)]}))
    total_cost = L(lambda o: round(o.s.uniform(5_000, 900_000), 2))
    avg_calories = L(lambda o: o.s.randint(1500, 3200))
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("gramaj_standards")
class GramajStandardFactory(SeedFactory):
    class Params:
        seed = L(lambda o: GRAMAJ[o.i])

    id = L(lambda o: o.i + 1)
    institution_type = L(lambda o: o.seed[0])
    meal_type = L(lambda o: o.seed[1])
    category = L(lambda o: o.seed[2])
    recommended_gramaj = L(lambda o: o.s.choice((100, 120, 150, 180, 200, 250)))
    min_gramaj = L(lambda o: o.recommended_gramaj - 20)
    max_gramaj = L(lambda o: o.recommended_gramaj + 30)
    notes = L(lambda o: "Çiğ ağırlık üzerinden" if o.i % 2 else None)
    created_at = L(lambda o: sqlite_ts(o.ms))


# -- settings, reports, integrations


@legacy_table("report_templates")
class ReportTemplateFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    name = L(
        lambda o: o.s.choice(
            (
                "Haftalık İhale Özeti",
                "Aylık Maliyet Raporu",
                "Detaylı Analiz Raporu",
                "Şehir Bazlı İhale Listesi",
            )
        )
    )
    description = L(lambda o: "Otomatik oluşturulan rapor şablonu" if o.s.chance(0.5) else None)
    type = L(lambda o: o.s.choice(("analysis", "summary", "detailed", "custom")))
    sections = L(lambda o: dumps(["özet", "maliyet", "risk"]))
    filters = L(lambda o: dumps({"şehir": o.s.choice(CITIES)}) if o.s.chance(0.5) else None)
    format = L(lambda o: o.s.choice(("pdf", "excel", "csv", "html")))
    schedule = L(lambda o: o.s.choice(("0 9 * * 1", "0 8 1 * *", None)))
    recipients = L(lambda o: dumps([o.s.email()]) if o.s.world.count("users") else None)
    last_generated = L(
        lambda o: sqlite_ts(o.s.later(o.ms, 60, 7 * 86400)) if o.s.chance(0.6) else None
    )
    created_by = L(lambda o: o.s.email())  # session e-mail
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("report_history")
class ReportHistoryFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    template_id = L(lambda o: o.s.ref("report_templates", nullable=0.1))
    status = L(lambda o: o.s.choice(("success", "success", "success", "failed")))
    file_path = L(lambda o: f"/reports/rapor_{o.ms}.pdf" if o.status == "success" else None)
    file_size = L(lambda o: o.s.randint(20_000, 4_000_000) if o.status == "success" else None)
    generation_time = L(lambda o: o.s.randint(300, 45_000))  # ms
    error_message = L(lambda o: "Şablon bölümü bulunamadı" if o.status == "failed" else None)
    generated_by = L(lambda o: o.s.email())  # session e-mail
    generated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("performance_settings")
class PerformanceSettingFactory(SeedFactory):
    class Params:
        seed = L(lambda o: PERFORMANCE_SETTINGS[o.i])

    id = L(lambda o: o.i + 1)
    name = L(lambda o: o.seed[0])
    value = L(lambda o: o.seed[1])  # numbers and booleans as text
    type = L(lambda o: o.seed[2])
    category = L(lambda o: o.seed[3])
    description = L(lambda o: o.seed[4])
    min_value = L(lambda o: o.seed[5])
    max_value = L(lambda o: o.seed[6])
    default_value = L(lambda o: o.seed[7])
    requires_restart = L(lambda o: o.seed[8])
    updated_by = L(
        lambda o: o.s.email() if o.i % 2 else None
    )  # session e-mail when changed in the UI
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("performance_profiles")
class PerformanceProfileFactory(SeedFactory):
    """INSERT OR IGNORE without a UNIQUE key: every re-run of the seed file adds three more."""

    class Params:
        ms = L(lambda o: o.s.seeded_at(o.i, o.i // 3, max(o.total // 3, 1)))
        seed = L(lambda o: PERFORMANCE_PROFILES[o.i % 3])

    id = L(lambda o: o.i + 1)
    name = L(lambda o: o.seed[0])
    description = L(lambda o: o.seed[1])
    settings = L(lambda o: dumps(o.seed[2]))
    is_active = L(lambda o: o.seed[3])
    created_by = None
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("webhooks")
class WebhookFactory(SeedFactory):
    """The 'Test Webhook' sample, duplicated by INSERT OR IGNORE without a UNIQUE key."""

    class Params:
        ms = L(lambda o: o.s.seeded_at(o.i, o.i, o.total))

    id = L(lambda o: o.i + 1)
    name = "Test Webhook"
    url = "https://webhook.site/test"
    events = L(lambda o: dumps(["analysis.completed", "tender.new"]))
    headers = L(lambda o: dumps({"Content-Type": "application/json"}))
    secret = None
    active = 0
    retry_count = 3
    timeout_ms = 5000
    last_triggered = L(lambda o: sqlite_ts(END_MS - o.s.randint(60, 86400) * 1000) if o.i else None)
    last_status = L(lambda o: o.s.choice((200, 404, 0)) if o.last_triggered else None)
    failure_count = 0
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("webhook_logs")
class WebhookLogFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    webhook_id = L(lambda o: o.s.ref("webhooks"))
    event_type = L(lambda o: o.s.choice(("analysis.completed", "tender.new", "test")))
    payload = L(
        lambda o: dumps({"event": o.event_type, "kurum": o.s.institution(), "zaman": iso_z(o.ms)})
    )
    success = L(lambda o: o.s.flag(0.7))
    status_code = L(lambda o: 200 if o.success else o.s.choice((404, 500, 502, None)))
    response = L(
        lambda o: (
            '{"ok":true}'
            if o.success
            else o.s.choice(("Not Found", "fetch failed", "Bağlantı zaman aşımı"))
        )
    )
    retry_count = L(lambda o: 0 if o.success else o.s.randint(1, 3))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("integration_configs")
class IntegrationConfigFactory(SeedFactory):
    class Params:
        seed = L(lambda o: INTEGRATIONS[o.i])

    id = L(lambda o: o.i + 1)
    service = L(lambda o: o.seed[0])
    config = L(lambda o: dumps(o.seed[1]))
    enabled = L(lambda o: o.seed[2])
    last_sync = L(lambda o: sqlite_ts(END_MS - 3_600_000) if o.enabled else None)
    sync_status = L(lambda o: "success" if o.enabled else None)
    error_message = None
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("api_usage_logs")
class ApiUsageLogFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    endpoint = L(lambda o: o.s.choice(API_ENDPOINTS))
    method = L(lambda o: o.s.choice(HTTP_METHODS))
    status_code = L(
        lambda o: o.s.random.choices(
            (200, 201, 400, 401, 404, 429, 500), cum_weights=(80, 85, 89, 91, 94, 97, 100)
        )[0]
    )
    response_time_ms = L(lambda o: o.s.randint(5, 30_000))
    user_id = L(lambda o: o.s.user_id() if o.s.chance(0.8) else None)
    ip_address = L(lambda o: o.s.ip())
    user_agent = L(lambda o: o.s.user_agent())
    request_body_size = L(lambda o: o.s.randint(0, 200_000) if o.method != "GET" else 0)
    response_body_size = L(lambda o: o.s.randint(50, 500_000))
    error_message = L(lambda o: "İstek başarısız" if o.status_code >= 400 else None)
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("api_keys")
class ApiKeyFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    name = L(lambda o: o.s.choice(("Üretim anahtarı", "Test anahtarı", "Entegrasyon")))
    key_hash = L(lambda o: o.s.hex(32))  # sha256 hex, UNIQUE
    key_preview = L(lambda o: f"pk_...{o.key_hash[-4:]}")
    service = L(lambda o: o.s.choice(("claude", "gemini", "openai", "internal")))
    permissions = L(lambda o: dumps(["read", "write"] if o.s.chance(0.5) else ["read"]))
    rate_limit = 1000
    last_used = L(lambda o: sqlite_ts(o.ms) if o.s.chance(0.5) else None)
    usage_count = L(lambda o: o.s.randint(0, 5000))
    active = L(lambda o: o.s.flag(0.8))
    expires_at = None
    created_by = L(lambda o: o.s.email())
    created_at = L(lambda o: sqlite_ts(o.ms))


# -- bookkeeping


@legacy_table("migrations")
class MigrationFactory(SeedFactory):
    id = L(lambda o: o.i + 1)
    filename = L(lambda o: MIGRATION_FILES[o.i])
    executed_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("_migrations")
class AppliedMigrationFactory(LegacyRowFactory):
    name = L(lambda o: f"{o.i:03d}_manual.sql")
    applied_at = L(lambda o: sqlite_ts(o.ms))


