"""The words and seed rows of the legacy Procheff app: Turkish places, institutions, products, seeds.

Seed tuples follow the app's seed files (markets, menu items, notification templates, performance
settings, ...); the rest is vocabulary the factories draw from, in Turkish where the app wrote
Turkish.
"""

from __future__ import annotations

CITIES = (
    "İstanbul",
    "Ankara",
    "İzmir",
    "Bursa",
    "Antalya",
    "Konya",
    "Gaziantep",
    "Şanlıurfa",
    "Kocaeli",
    "Mersin",
    "Diyarbakır",
    "Hatay",
    "Manisa",
    "Kayseri",
    "Samsun",
    "Balıkesir",
    "Kahramanmaraş",
    "Van",
    "Aydın",
    "Denizli",
    "Sakarya",
    "Tekirdağ",
    "Muğla",
    "Eskişehir",
    "Malatya",
    "Erzurum",
    "Trabzon",
    "Elazığ",
    "Çanakkale",
    "Çorum",
    "Ağrı",
    "Muş",
    "Iğdır",
    "Düzce",
    "Kırıkkale",
)
INSTITUTIONS = (
    "{city} İl Sağlık Müdürlüğü",
    "{city} Devlet Hastanesi",
    "{city} Üniversitesi Rektörlüğü",
    "{city} Büyükşehir Belediyesi",
    "{city} İl Milli Eğitim Müdürlüğü",
    "{city} Cumhuriyet Başsavcılığı",
    "{city} Kapalı Ceza İnfaz Kurumu",
    "{city} Eğitim ve Araştırma Hastanesi",
    "Kredi ve Yurtlar Kurumu {city} Bölge Müdürlüğü",
    "{city} Gençlik ve Spor İl Müdürlüğü",
    "Jandarma Genel Komutanlığı {city} Alay Komutanlığı",
    "{city} Sosyal Hizmetler İl Müdürlüğü",
)
TENDER_TITLES = (
    "Malzemeli Yemek Pişirme, Dağıtım ve Sonrası Hizmet Alımı",
    "Personel Yemek Hizmeti Alımı",
    "Hasta ve Personel Yemeği Hizmet Alımı",
    "Öğrenci Yemekhanesi Malzemeli Yemek Hizmeti",
    "Kuru Gıda Malzemesi Alımı",
    "Et ve Tavuk Ürünleri Alımı",
    "Sebze ve Meyve Alımı",
    "Süt ve Süt Ürünleri Alımı",
    "Kahvaltılık Gıda Malzemesi Alımı",
    "Catering Hizmeti Alımı",
    "Taşımalı Eğitim Öğle Yemeği Hizmeti",
    "Hazır Yemek Alımı (Tabldot)",
)
TENDER_TYPES = ("Hizmet Alımı", "Mal Alımı", "Yapım İşi", "Danışmanlık")
# (product_key, raw_query, unit, base price in TRY, category)
PRODUCTS = (
    ("tavuk_gogus", "Tavuk Göğsü", "kg", 189.90, "et-tavuk"),
    ("dana_kiyma", "Dana Kıyma", "kg", 549.00, "et-tavuk"),
    ("pirinc", "Baldo Pirinç", "kg", 74.50, "bakliyat"),
    ("makarna", "Spagetti Makarna", "kg", 38.90, "kuru-gida"),
    ("domates", "Domates", "kg", 29.75, "sebze"),
    ("aycicek_yagi", "Ayçiçek Yağı", "lt", 89.90, "yag"),
    ("un", "Buğday Unu", "kg", 24.40, "kuru-gida"),
    ("kirmizi_mercimek", "Kırmızı Mercimek", "kg", 62.00, "bakliyat"),
    ("sut", "Günlük Süt", "lt", 36.50, "sut-urunleri"),
    ("yogurt", "Süzme Yoğurt", "kg", 79.00, "sut-urunleri"),
    ("beyaz_peynir", "Beyaz Peynir", "kg", 289.00, "sut-urunleri"),
    ("patates", "Patates", "kg", 22.90, "sebze"),
    ("sogan", "Kuru Soğan", "kg", 18.50, "sebze"),
    ("yumurta", "Yumurta (30'lu)", "adet", 129.00, "kahvaltilik"),
    ("seker", "Toz Şeker", "kg", 42.00, "kuru-gida"),
    ("nohut", "Nohut", "kg", 68.00, "bakliyat"),
    ("bulgur", "Pilavlık Bulgur", "kg", 34.90, "bakliyat"),
    ("zeytin", "Siyah Zeytin", "kg", 219.00, "kahvaltilik"),
    ("cay", "Siyah Çay", "kg", 289.00, "icecek"),
    ("salca", "Domates Salçası", "kg", 84.00, "kuru-gida"),
)
SEED_PRODUCTS = PRODUCTS[:7]  # seedMarketPrices(): 7 products x 90 days x 1-3 sources
CATEGORIES = (
    "et-tavuk",
    "sebze",
    "meyve",
    "bakliyat",
    "kuru-gida",
    "sut-urunleri",
    "yag",
    "kahvaltilik",
    "icecek",
    "temizlik",
    "dondurulmus",
    "baharat",
    "unlu-mamul",
    "konserve",
    "su",
    "atistirmalik",
    "balik",
    "sarkuteri",
    "bebek",
    "organik",
)
MARKETS = (
    ("migros", "Migros", "normal"),
    ("a101", "A101", "cheap"),
    ("bim", "BİM", "cheap"),
    ("sok", "ŞOK", "cheap"),
    ("carrefoursa", "CarrefourSA", "normal"),
    ("metro", "Metro Toptancı", "normal"),
    ("hakmar", "Hakmar Express", "cheap"),
    ("file", "File Market", "normal"),
    ("macrocenter", "Macrocenter", "premium"),
    ("tarim_kredi", "Tarım Kredi Koop", "cheap"),
)
MARKET_SOURCES = (
    ("tuik", "TÜİK Tüketici Fiyatları", "api", "https://data.tuik.gov.tr", 0.95),
    ("migros_web", "Migros Sanal Market", "scraping", "https://www.migros.com.tr", 0.8),
    ("a101_web", "A101 Kapıda", "scraping", "https://www.a101.com.tr", 0.75),
    ("ai_estimate", "Yapay Zekâ Tahmini", "api", None, 0.5),
    ("manual", "Elle Girilen Fiyatlar", "manual", None, 0.6),
)
BRANDS = (
    ("Pınar", "premium", None, "sut-urunleri", 0),
    ("Sütaş", "premium", None, "sut-urunleri", 0),
    ("Banvit", "standard", "BRF", "et-tavuk", 0),
    ("Keskinoğlu", "standard", None, "et-tavuk", 0),
    ("Yayla", "standard", None, "bakliyat", 0),
    ("Reis", "standard", None, "bakliyat", 0),
    ("Filiz", "standard", None, "kuru-gida", 0),
    ("Barilla", "premium", None, "kuru-gida", 0),
    ("Yudum", "standard", None, "yag", 0),
    ("Komili", "premium", None, "yag", 0),
    ("Migros", "economy", "Migros", None, 1),
    ("Eker", "standard", None, "sut-urunleri", 0),
    ("Torku", "economy", "Konya Şeker", "kuru-gida", 0),
)
PROVIDERS = (
    ("tuik", 1, 412, 1.2),
    ("migros_api", 1, 850, 0.9),
    ("a101_scraper", 1, 1930, 0.7),
    ("claude", 1, 4200, 1.0),
    ("gemini", 0, 3100, 0.8),
    ("web_search", 0, 2600, 0.6),
)
AI_MODELS = (
    "claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-20241022",
    "claude-sonnet-4-20250514",
    "gemini-1.5-pro",
    "gemini-2.0-flash",
    "gpt-4o-mini",
)
API_ENDPOINTS = (
    "/api/analysis/upload",
    "/api/analysis/contextual",
    "/api/analysis/market",
    "/api/ai/extract",
    "/api/ai/deep-analysis",
    "/api/chat",
    "/api/market/price",
    "/api/ihale/list",
    "/api/ihale/detail",
    "/api/menu/generate",
    "/api/reports/generate",
)
HTTP_METHODS = ("GET", "GET", "GET", "POST", "POST", "PUT", "DELETE")
LOG_MESSAGES = {
    "info": (
        "📄 Doküman işleniyor: {file}",
        "🔍 Bağlamsal analiz başlatıldı ({kurum})",
        "Piyasa fiyatı sorgulanıyor: {urun}",
        "İhale listesi güncellendi: {n} yeni ihale",
        "Veri havuzu oluşturuldu: {n} doküman",
        "Önbellekten yanıt döndü ({model})",
        "Kullanıcı oturumu açıldı: {kisi}",
        "Menü planı hesaplanıyor: {n} kişi, {sehir}",
    ),
    "success": (
        "✅ Analiz tamamlandı: {kurum}",
        "Fiyat güncellendi: {urun} = {fiyat} TL",
        "Rapor üretildi ({n} sayfa)",
        "Claude yanıtı alındı ({n} token)",
        "İhale detayı kaydedildi: {sehir}",
    ),
    "warn": (
        "⚠️ Düşük güven skoru: {urun} ({oran})",
        "Zaman aşımı, yeniden deneniyor ({n}. deneme)",
        "Eksik alan: kişi sayısı bulunamadı ({kurum})",
        "Fiyat sapması yüksek: {urun} %{n}",
    ),
    "error": (
        "❌ Analiz başarısız: {kurum}",
        "Gemini API hatası: 429 Too Many Requests",
        "PDF okunamadı: {file}",
        "Scraper hata verdi: {sehir} sayfası yüklenemedi",
        "Veritabanı kilitli (SQLITE_BUSY), işlem tekrar denenecek",
    ),
}
NOTIFICATION_MESSAGES = {
    "info": ("Yeni ihale yayınlandı: {kurum}", "{n} ihalenin son teklif tarihi yaklaşıyor"),
    "warning": ("Fiyat verisi eski: {urun}", "Günlük API kotasının %{n}'i kullanıldı"),
    "error": ("Analiz başarısız oldu: {file}", "Piyasa servisine ulaşılamıyor"),
    "success": ("Analiz tamamlandı: {kurum}", "Rapor hazır: {file}"),
}
CHAT_QUESTIONS = (
    "{kurum} ihalesinde kişi başı maliyet ne kadar çıkar?",
    "{urun} fiyatı bu ay ne kadar arttı?",
    "{sehir} için 500 kişilik öğle yemeği menüsü önerir misin?",
    "/fiyat {urun}",
    "Şartnamedeki gramaj değerlerini özetler misin?",
    "/analiz son ihale",
    "Geçen haftaki ihaleleri listele",
    "Bu ihalede risk var mı? Bütçe yeterli görünüyor mu?",
    "Öğrenci yurdu için kahvaltı gramajı kaç olmalı?",
)
CHAT_ANSWERS = (
    "{kurum} ihalesi için tahmini kişi başı maliyet {fiyat} TL. Et ve süt ürünleri toplamın %{n}'ini oluşturuyor.",
    "{urun} son 30 günde %{n} arttı; TÜİK verisine göre güncel ortalama {fiyat} TL.",
    "Öneri: mercimek çorbası, tavuk sote, bulgur pilavı, cacık. Kişi başı maliyet yaklaşık {fiyat} TL.",
    "Şartnameye göre öğle yemeğinde et gramajı 120 g, pilav 200 g, çorba 250 ml olmalı.",
    "Bütçe, piyasa fiyatlarının %{n} altında görünüyor; düşük teklif riski yüksek.",
)
CHAT_COMMANDS = ("/fiyat", "/analiz", "/menu", "/ihale", None, None, None, None)
FILE_NAMES = (
    "Teknik_Şartname_{n}.pdf",
    "İdari_Şartname_{n}.pdf",
    "İhale_İlanı_{n}.docx",
    "Birim_Fiyat_Cetveli_{n}.xlsx",
    "Yemek_Listesi_Ekim_{n}.pdf",
    "Sözleşme_Tasarısı_{n}.pdf",
)
MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ANALYSIS_STATUSES = ("completed",) * 12 + (
    "failed",
    "pending",
    "queued",
    "processing",
    "extracting",
    "ready",
    "deleted",
)
QUEUE_NAMES = ("scraping", "price-update", "analysis", "notifications", "cache-warmup")
QUEUE_STATUSES = ("completed",) * 6 + ("pending", "processing", "failed", "cancelled")
AUDIT_ACTIONS = (
    "2fa_enabled",
    "2fa_login_success",
    "2fa_login_failed",
    "2fa_disabled",
    "backup_codes_regenerated",
    "notification_channel_added",
    "notification_channel_deleted",
    "notification_channel_verified",
    "notification_preferences_updated",
    "test_notification_sent",
    "performance_settings_updated",
    "report_generated",
    "report_template_created",
    "report_template_updated",
    "report_template_deleted",
)
MENU_CATEGORIES = (
    ("soups", "Çorbalar", "all", "🍲"),
    ("main_meat", "Etli Yemekler", "all", "🍖"),
    ("main_chicken", "Tavuk Yemekleri", "all", "🍗"),
    ("vegetables", "Sebze Yemekleri", "all", "🥦"),
    ("legumes", "Bakliyat", "all", "🫘"),
    ("rice_pasta", "Pilav ve Makarnalar", "all", "🍚"),
    ("salads", "Salatalar", "all", "🥗"),
    ("desserts", "Tatlılar", "okul", "🍮"),
    ("breakfast", "Kahvaltılıklar", "universite", "🍳"),
    ("drinks", "İçecekler", "hastane", "🥛"),
)
# (name, category id, meal_type, gramaj, TL/kg, kcal, season)
MENU_ITEMS = (
    ("Mercimek Çorbası", 1, "ogle", 250, 42.5, 180, "all"),
    ("Ezogelin Çorbası", 1, "aksam", 250, 40.0, 170, "kis"),
    ("Yayla Çorbası", 1, "ogle", 250, 38.0, 160, "all"),
    ("Tarhana Çorbası", 1, "aksam", 250, 36.5, 150, "kis"),
    ("Etli Kuru Fasulye", 2, "ogle", 200, 185.0, 320, "kis"),
    ("Orman Kebabı", 2, "aksam", 180, 410.0, 380, "all"),
    ("İzmir Köfte", 2, "aksam", 180, 365.0, 410, "all"),
    ("Karnıyarık", 2, "ogle", 200, 240.0, 350, "yaz"),
    ("Tavuk Sote", 3, "ogle", 180, 175.0, 290, "all"),
    ("Fırın Tavuk But", 3, "aksam", 200, 160.0, 330, "all"),
    ("Tavuk Şiş", 3, "aksam", 160, 210.0, 280, "yaz"),
    ("Zeytinyağlı Taze Fasulye", 4, "ogle", 200, 95.0, 140, "yaz"),
    ("Ispanak Yemeği", 4, "aksam", 200, 80.0, 120, "kis"),
    ("Türlü", 4, "ogle", 220, 90.0, 150, "yaz"),
    ("Nohut Yemeği", 5, "ogle", 200, 70.0, 260, "all"),
    ("Barbunya Pilaki", 5, "aksam", 180, 75.0, 210, "ilkbahar"),
    ("Pirinç Pilavı", 6, "ogle", 180, 48.0, 250, "all"),
    ("Bulgur Pilavı", 6, "aksam", 180, 32.0, 230, "all"),
    ("Fırın Makarna", 6, "ogle", 200, 45.0, 310, "all"),
    ("Çoban Salata", 7, "ogle", 120, 55.0, 60, "yaz"),
    ("Mevsim Salata", 7, "aksam", 120, 50.0, 55, "all"),
    ("Cacık", 7, "ogle", 150, 44.0, 80, "yaz"),
    ("Sütlaç", 8, "ogle", 150, 65.0, 210, "all"),
    ("İrmik Helvası", 8, "aksam", 120, 58.0, 280, "kis"),
    ("Kemalpaşa Tatlısı", 8, "aksam", 100, 95.0, 260, "sonbahar"),
    ("Menemen", 9, "sabah", 200, 70.0, 220, "all"),
    ("Haşlanmış Yumurta", 9, "sabah", 100, 60.0, 155, "all"),
    ("Ayran", 10, "ara", 200, 25.0, 75, "all"),
    ("Komposto", 10, "ara", 200, 30.0, 90, "yaz"),
)
GRAMAJ = (
    ("hastane", "ogle", "et"),
    ("hastane", "ogle", "corba"),
    ("hastane", "aksam", "et"),
    ("hastane", "sabah", "kahvalti"),
    ("universite", "ogle", "et"),
    ("universite", "ogle", "pilav"),
    ("universite", "aksam", "sebze"),
    ("universite", "sabah", "kahvalti"),
    ("okul", "ogle", "et"),
    ("okul", "ogle", "corba"),
    ("okul", "ogle", "tatli"),
    ("okul", "ara", "meyve"),
    ("resmi", "ogle", "et"),
    ("resmi", "ogle", "pilav"),
    ("resmi", "aksam", "corba"),
    ("ozel", "ogle", "et"),
    ("ozel", "ogle", "salata"),
    ("ozel", "aksam", "tatli"),
    ("all", "ogle", "ekmek"),
    ("all", "ara", "icecek"),
)
NOTIFICATION_TEMPLATES = (
    (
        "pipeline_complete",
        "Analiz Tamamlandı",
        "{{tender_name}} analizi tamamlandı",
        ["tender_name", "analysis_id", "duration"],
    ),
    (
        "pipeline_failed",
        "Analiz Başarısız",
        "{{tender_name}} analizi başarısız: {{error}}",
        ["tender_name", "error"],
    ),
    (
        "report_ready",
        "Rapor Hazır",
        "{{report_name}} raporunuz indirilmeye hazır",
        ["report_name", "download_url"],
    ),
)
PERFORMANCE_SETTINGS = (
    ("cache_ttl", "86400", "number", "cache", "Önbellek süresi (saniye)", 60, 604800, "86400", 0),
    (
        "max_concurrent_analyses",
        "3",
        "number",
        "pipeline",
        "Aynı anda çalışan analiz sayısı",
        1,
        10,
        "3",
        1,
    ),
    (
        "enable_semantic_cache",
        "true",
        "boolean",
        "cache",
        "Anlamsal önbellek açık",
        None,
        None,
        "true",
        0,
    ),
    ("api_rate_limit", "100", "number", "api", "Dakikadaki istek sınırı", 10, 1000, "100", 1),
    (
        "default_model",
        "claude-3-5-sonnet-20241022",
        "string",
        "ai",
        "Varsayılan yapay zekâ modeli",
        None,
        None,
        "claude-3-5-sonnet-20241022",
        0,
    ),
    ("ocr_languages", '["tur","eng"]', "json", "pipeline", "OCR dilleri", None, None, '["tur"]', 1),
    ("log_retention_days", "30", "number", "logs", "Log saklama süresi (gün)", 1, 365, "30", 0),
)
PERFORMANCE_PROFILES = (
    (
        "Dengeli",
        "Günlük kullanım için önerilen ayarlar",
        {"cache_ttl": 86400, "max_concurrent_analyses": 3},
        1,
    ),
    (
        "Hızlı",
        "Önbellek ağırlıklı, düşük gecikme",
        {"cache_ttl": 604800, "max_concurrent_analyses": 5},
        0,
    ),
    (
        "Tasarruflu",
        "API maliyetini en aza indirir",
        {"cache_ttl": 604800, "max_concurrent_analyses": 1},
        0,
    ),
)
INTEGRATIONS = (
    ("ihalebul", {"username": "", "autoSync": True, "syncInterval": 3600}, 1),
    ("google_sheets", {"spreadsheetId": "", "sheetName": "İhaleler"}, 0),
    ("slack", {"webhookUrl": "", "channel": "#ihaleler"}, 0),
    ("discord", {"webhookUrl": ""}, 0),
    ("zapier", {"hookUrl": ""}, 0),
)
PROACTIVE_TRIGGERS = (
    (
        "deadline_approaching",
        "days_remaining <= 3",
        "{{count}} ihalenin son teklif günü yaklaşıyor",
    ),
    (
        "price_spike",
        "price_change_percent > 15",
        "{{product}} fiyatı %{{change}} arttı, teklifinizi gözden geçirin",
    ),
    (
        "analysis_ready",
        "status = 'completed'",
        "{{tender}} analizi hazır, raporu görmek ister misiniz?",
    ),
    (
        "budget_risk",
        "budget_per_person < market_cost",
        "Bütçe piyasa maliyetinin altında görünüyor",
    ),
    ("new_tenders", "new_tender_count > 0", "Takip ettiğiniz şehirlerde {{count}} yeni ihale var"),
)
MIGRATION_FILES = ("000_create_analysis_history.sql", "003_analysis_repository.sql")
MEAL_TYPES = ("sabah", "ogle", "aksam", "ara")
INSTITUTION_TYPES = ("hastane", "universite", "okul", "resmi", "ozel")
PACKAGING = (
    ("bulk", 25.0, "kg"),
    ("retail", 1.0, "kg"),
    ("retail", 0.5, "kg"),
    ("wholesale", 10.0, "kg"),
    ("retail", 1.0, "lt"),
    (None, None, None),
)
