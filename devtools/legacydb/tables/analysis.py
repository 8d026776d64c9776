"""Row factories of the legacy tables: the tender-analysis pipeline, tenders (ihalebul.com) and the chat assistant."""

from __future__ import annotations

import hashlib
from typing import Any

from devtools.legacydb.rows import L, LegacyRowFactory, SeedFactory, legacy_table
from devtools.legacydb.shapes import DAY_MS, END_MS, dumps, iso_z, sqlite_ts, turkish_date
from devtools.legacydb.vocabulary import (
    AI_MODELS,
    ANALYSIS_STATUSES,
    API_ENDPOINTS,
    CHAT_ANSWERS,
    CHAT_COMMANDS,
    CHAT_QUESTIONS,
    CITIES,
    FILE_NAMES,
    MENU_ITEMS,
    MIME_TYPES,
    PROACTIVE_TRIGGERS,
    PRODUCTS,
    TENDER_TITLES,
    TENDER_TYPES,
)

# -- tender-analysis pipeline


def _extracted_fields(o: Any) -> str:
    return dumps(
        {
            "kurum": o.s.institution(),
            "ihale_turu": o.s.choice(TENDER_TYPES),
            "kisi_sayisi": o.s.randint(50, 5000),
            "ogun_sayisi": o.s.randint(1, 3),
            "gun_sayisi": o.s.randint(30, 1095),
            "tahmini_butce": o.s.randint(250, 90000) * 1000,
            "il": o.s.choice(CITIES),
            "özel_şartlar": ["Helal sertifikası", "Günlük numune saklama"],
        }
    )


@legacy_table("analysis_history")
class AnalysisHistoryFactory(LegacyRowFactory):
    class Params:
        ext = L(lambda o: o.s.choice(("pdf", "pdf", "pdf", "docx", "xlsx")))
        done = L(lambda o: o.status in ("completed", "ready"))

    status = L(lambda o: o.s.choice(ANALYSIS_STATUSES))
    id = L(lambda o: f"analysis_{o.ms}_{o.s.base36(9)}")
    file_name = L(
        lambda o: (
            o.s.choice(FILE_NAMES).format(n=o.s.randint(1, 999)).rsplit(".", 1)[0] + "." + o.ext
        )
    )
    file_size = L(lambda o: o.s.randint(40_000, 25_000_000))
    mime_type = L(lambda o: MIME_TYPES[o.ext])
    extracted_fields = L(lambda o: _extracted_fields(o) if o.done else None)
    contextual_analysis = L(
        lambda o: (
            dumps(
                {
                    "risk_seviyesi": o.s.choice(("düşük", "orta", "yüksek")),
                    "skor": round(o.s.uniform(0, 100), 1),
                    "özet": o.s.fill("{kurum} için bütçe piyasa fiyatlarıyla uyumlu görünüyor."),
                }
            )
            if o.done
            else None
        )
    )
    market_analysis = L(
        lambda o: (
            dumps(
                {
                    "kalemler": [
                        {"ürün": p[1], "birim": p[2], "fiyat": o.s.price(p[3])}
                        for p in o.s.random.sample(PRODUCTS, 3)
                    ],
                    "para_birimi": "TRY",
                }
            )
            if o.done
            else None
        )
    )
    validation = L(lambda o: dumps({"valid": True, "uyarılar": []}) if o.done else None)
    processing_time_ms = L(lambda o: o.s.randint(4_000, 240_000) if o.done else None)
    # MIXED: the upload route writes toISOString(), DataPoolManager and the default write SQLite time.
    created_at = L(lambda o: iso_z(o.ms) if o.s.chance(0.6) else sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms + (o.processing_time_ms or 0)))
    error = L(lambda o: "Claude API zaman aşımı (120 sn)" if o.status == "failed" else None)
    user_id = L(lambda o: o.s.user_id() if o.s.chance(0.8) else None)
    data_pool = L(
        lambda o: (
            dumps({"documents": 1, "tables": o.s.randint(0, 12), "dates": o.s.randint(0, 20)})
            if o.done
            else None
        )
    )
    input_files = L(lambda o: dumps([{"name": o.file_name, "size": o.file_size}]))


@legacy_table("data_pools")
class DataPoolFactory(LegacyRowFactory):
    analysis_id = L(lambda o: o.s.distinct("analysis_history", "id", o.i, o.total))
    document_count = L(lambda o: o.s.randint(1, 6))
    table_count = L(lambda o: o.s.randint(0, 15))
    date_count = L(lambda o: o.s.randint(0, 30))
    entity_count = L(lambda o: o.s.randint(5, 200))
    data_pool_json = L(
        lambda o: dumps(
            {
                "documents": [
                    {"doc_id": f"doc_{k}", "name": o.s.choice(FILE_NAMES).format(n=k)}
                    for k in range(o.document_count)
                ],
                "tables": o.table_count,
                "dates": [],
                "entities": {"kurum": o.s.institution()},
            }
        )
    )
    text_content = L(
        lambda o: o.s.fill(
            "{kurum} {sehir} ili merkez ve ilçelerinde {n} kişilik yemek hizmeti; "
            "şartname ekinde gramaj çizelgesi yer almaktadır."
        )
    )
    total_size_bytes = L(lambda o: o.s.randint(10_000, 30_000_000))
    expires_at = L(lambda o: iso_z(o.ms + DAY_MS))  # now + 24 h, toISOString()
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("analysis_results_v2")
class AnalysisResultV2Factory(LegacyRowFactory):
    id = L(lambda o: o.s.distinct("analysis_history", "id", o.i, o.total))
    tender_id = L(
        lambda o: (
            o.s.choice(o.s.world.values("tenders", "id"))
            if o.s.world.count("tenders") and o.s.chance(0.4)
            else None
        )
    )
    status = L(
        lambda o: o.s.choice(
            ("completed", "completed", "completed", "failed", "processing", "pending")
        )
    )
    institution = L(lambda o: o.s.institution())
    budget_amount = L(lambda o: round(o.s.uniform(250_000, 90_000_000), 2))
    person_count = L(lambda o: o.s.randint(50, 5000))
    duration_days = L(lambda o: o.s.randint(30, 1095))
    tender_type = L(lambda o: o.s.choice(TENDER_TYPES))
    contextual_score = L(lambda o: round(o.s.uniform(20, 98), 1))
    market_risk_level = L(lambda o: o.s.choice(("low", "medium", "high", None)))
    data_quality_score = L(lambda o: round(o.s.random.random(), 3))
    extracted_fields_json = L(lambda o: _extracted_fields(o))
    contextual_analysis_json = L(
        lambda o: dumps({"skor": o.contextual_score, "öneriler": ["Gramajları kontrol edin"]})
    )
    market_analysis_json = L(
        lambda o: dumps(
            {"risk": o.market_risk_level, "sapma_yüzde": round(o.s.uniform(-30, 30), 1)}
        )
    )
    validation_json = L(lambda o: dumps({"valid": o.status == "completed"}))
    processing_time_ms = L(lambda o: o.s.randint(4_000, 240_000))
    tokens_used = L(lambda o: o.s.randint(2_000, 180_000))
    cost_usd = L(lambda o: round(o.tokens_used * 0.000009, 6))
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms + o.processing_time_ms))


@legacy_table("api_metrics")
class ApiMetricFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    endpoint = L(lambda o: o.s.choice(API_ENDPOINTS))
    model = L(lambda o: o.s.choice(AI_MODELS))
    input_tokens = L(lambda o: o.s.randint(100, 150_000))
    output_tokens = L(lambda o: o.s.randint(50, 8_000))
    total_tokens = L(lambda o: o.input_tokens + o.output_tokens)
    cost_usd = L(lambda o: round(o.input_tokens * 3e-6 + o.output_tokens * 15e-6, 6))
    duration_ms = L(lambda o: o.s.randint(300, 120_000))
    success = L(lambda o: o.s.flag(0.95))
    error_message = L(
        lambda o: (
            None
            if o.success
            else o.s.choice(
                ("429 Too Many Requests", "overloaded_error", "İstek zaman aşımına uğradı")
            )
        )
    )
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("semantic_cache")
class SemanticCacheFactory(LegacyRowFactory):
    id = L(lambda o: o.s.hex(16))  # crypto.randomBytes(16).toString('hex')
    prompt_text = L(lambda o: o.s.fill(o.s.choice(CHAT_QUESTIONS)))
    model = L(lambda o: o.s.choice(AI_MODELS))
    temperature = L(lambda o: o.s.choice((0.0, 0.2, 0.3, 0.7)))
    prompt_hash = L(
        lambda o: hashlib.sha256(
            f"{o.prompt_text.lower().strip()}:{o.model}:{o.temperature}".encode()
        ).hexdigest()
    )
    response_data = L(
        lambda o: dumps({"content": o.s.fill(o.s.choice(CHAT_ANSWERS)), "model": o.model})
    )
    tokens_used = L(lambda o: o.s.randint(150, 6_000))
    hit_count = L(lambda o: o.s.choice((0, 0, 1, 2, 5, 17)))
    created_at = L(lambda o: sqlite_ts(o.ms))
    last_accessed = L(
        lambda o: sqlite_ts(o.s.later(o.ms, 0, 7 * 86400)) if o.hit_count else o.created_at
    )
    expires_at = L(lambda o: iso_z(o.ms + 7 * DAY_MS))


@legacy_table("menu_cache")
class MenuCacheFactory(LegacyRowFactory):
    hash = L(lambda o: o.s.hex(32))
    item_count = L(lambda o: o.s.randint(3, 8))
    menu_items_json = L(
        lambda o: dumps(
            [{"ad": m[0], "gramaj": m[3]} for m in o.s.random.sample(MENU_ITEMS, o.item_count)]
        )
    )
    created_at = L(lambda o: sqlite_ts(o.ms))
    last_used_at = L(lambda o: sqlite_ts(o.s.later(o.ms, 0, 86400)))


# -- tenders (ihalebul.com)


@legacy_table("tenders")
class TenderFactory(LegacyRowFactory):
    class Params:
        tender_ms = L(lambda o: o.ms + o.s.randint(3, 45) * DAY_MS)

    id = L(lambda o: str(1_480_000 + o.i * 13 + o.s.randint(0, 12)))  # /tender/<digits>, unique
    tender_number = L(lambda o: f"2025/{o.s.digits(7)}" if o.s.chance(0.85) else o.id)
    title = L(lambda o: o.s.choice(TENDER_TITLES))
    organization = L(lambda o: o.s.institution() if o.s.chance(0.93) else "-")
    city = L(lambda o: o.s.choice(CITIES) if o.s.chance(0.93) else "-")
    tender_type = L(lambda o: o.s.choice(TENDER_TYPES))
    partial_bid_allowed = L(lambda o: o.s.flag(0.2))
    publish_date = L(lambda o: _scraped_date(o, o.ms))
    tender_date = L(lambda o: _scraped_date(o, o.tender_ms))
    days_remaining = L(
        lambda o: (o.tender_ms - o.ms) // DAY_MS
    )  # computed at scrape time, goes stale
    url = L(lambda o: f"https://www.ihalebul.com/tender/{o.id}")
    status = L(
        lambda o: "archived" if o.tender_ms < END_MS - 10 * DAY_MS and o.s.chance(0.5) else "active"
    )
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.s.later(o.ms, 0, 5 * 86400)))


def _scraped_date(o: Any, ms: int) -> str:
    """'DD.MM.YYYY' mostly, 'D/M/YYYY' from some listing pages, '-' when the page had none."""
    roll = o.s.random.random()
    if roll < 0.08:
        return "-"
    return turkish_date(ms, slashed=roll > 0.9)


# -- chat assistant


@legacy_table("chat_analytics")
class ChatAnalyticsFactory(LegacyRowFactory):
    class Params:
        assistant = L(lambda o: o.i % 2 == 1)

    message_type = L(lambda o: "assistant" if o.assistant else "user")
    id = L(lambda o: f"msg_{o.ms}_{o.s.base36(9)}" + ("_response" if o.assistant else ""))
    # Six messages per conversation; the id is stable for the conversation, not drawn per row.
    conversation_id = L(
        lambda o: f"conv_{o.s.slot(o.i - o.i % 6, o.total)}_{o.s.stable_token(o.i // 6)}"
    )
    user_id = L(lambda o: o.s.user_id())
    timestamp = L(lambda o: iso_z(o.ms))
    content = L(
        lambda o: o.s.fill(o.s.choice(CHAT_ANSWERS if o.assistant else CHAT_QUESTIONS))[:1000]
    )
    response_time = L(lambda o: o.s.randint(400, 25_000) if o.assistant else None)
    tokens_used = L(lambda o: o.s.randint(80, 4_000) if o.assistant else None)
    command = L(lambda o: None if o.assistant else o.s.choice(CHAT_COMMANDS))
    success = L(lambda o: o.s.flag(0.97))
    error = L(lambda o: None if o.success else "Yanıt üretilemedi")
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("chat_feedback")
class ChatFeedbackFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    message_id = L(
        lambda o: o.s.distinct("chat_analytics", "id", o.i, o.total)
    )  # assistant messages
    conversation_id = L(lambda o: o.s.distinct("chat_analytics", "conversation_id", o.i, o.total))
    rating = L(lambda o: o.s.random.choices((1, 2, 3, 4, 5), cum_weights=(5, 10, 25, 60, 100))[0])
    feedback = L(
        lambda o: o.s.choice(
            (
                "Çok faydalı, teşekkürler",
                "Fiyatlar güncel değil",
                "Yanıt eksik",
                "Gramaj bilgisi doğru",
                None,
            )
        )
    )
    improvements = L(lambda o: dumps(["Daha güncel fiyat kullan"] if o.rating < 3 else []))
    tags = L(lambda o: dumps(o.s.random.sample(["fiyat", "menü", "ihale", "doğruluk", "hız"], 2)))
    context = L(
        lambda o: dumps({"sayfa": "/chat", "komut": o.s.choice(("/fiyat", "/analiz", None))})
    )
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("feedback_patterns")
class FeedbackPatternFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    pattern = L(
        lambda o: o.s.choice(
            (
                "fiyat güncel değil",
                "eksik gramaj",
                "yanlış kurum adı",
                "yavaş yanıt",
                "menü önerisi tekrarlıyor",
            )
        )
    )
    category = L(lambda o: o.s.choice(("accuracy", "speed", "content", "ux")))
    frequency = L(lambda o: o.s.randint(1, 40))
    avg_rating = L(lambda o: round(o.s.uniform(1, 5), 2))
    suggested_improvement = L(lambda o: "TÜİK verisini önceliklendir" if o.s.chance(0.5) else None)
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.s.later(o.ms, 0, 20 * 86400)))


@legacy_table("improvement_actions")
class ImprovementActionFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    feedback_id = L(lambda o: o.s.ref("chat_feedback", nullable=0.1))
    action_type = L(lambda o: o.s.choice(("prompt_update", "cache_invalidate", "data_refresh")))
    action_details = L(
        lambda o: dumps({"açıklama": "Fiyat verisi yenilendi", "ürün": o.s.product()[1]})
    )
    status = L(lambda o: o.s.choice(("pending", "applied")))
    applied_at = L(
        lambda o: sqlite_ts(o.s.later(o.ms, 60, 86400)) if o.status == "applied" else None
    )
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("proactive_suggestions")
class ProactiveSuggestionFactory(LegacyRowFactory):
    id = L(lambda o: f"sug_{o.ms}_{o.s.base36(7)}")
    type = L(lambda o: o.s.choice(("deadline", "price", "analysis")))
    priority = L(lambda o: o.s.choice(("low", "medium", "high")))
    title = L(lambda o: "Son teklif tarihi yaklaşıyor")
    message = L(lambda o: o.s.fill("{kurum} ihalesinin son teklif günü {n} gün sonra."))
    action_label = "İhaleyi aç"
    action_command = "/ihale"
    metadata = L(lambda o: dumps({"kaynak": "proaktif"}))
    shown_count = L(lambda o: o.s.randint(0, 5))
    last_shown = L(lambda o: sqlite_ts(o.ms) if o.shown_count else None)
    dismissed = L(lambda o: o.s.flag(0.3))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("proactive_triggers")
class ProactiveTriggerFactory(SeedFactory):
    """Re-seeded with INSERT OR IGNORE at every ProactiveAssistant construction: 5 rows per boot."""

    class Params:
        ms = L(lambda o: o.s.seeded_at(o.i, o.i // 5, max(o.total // 5, 1)))

    id = L(lambda o: o.i + 1)
    trigger_type = L(lambda o: PROACTIVE_TRIGGERS[o.i % 5][0])
    condition = L(lambda o: PROACTIVE_TRIGGERS[o.i % 5][1])
    suggestion_template = L(lambda o: PROACTIVE_TRIGGERS[o.i % 5][2])
    active = 1
    created_at = L(lambda o: sqlite_ts(o.ms))


