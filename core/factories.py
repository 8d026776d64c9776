"""factory-boy recipes for legacy Procheff rows: one dict factory per table, values in legacy shapes.

Every factory builds a plain ``dict`` of raw SQLite values, exactly as the Node.js app stored them
(README section 5 of the legacy facts): ``'YYYY-MM-DD HH:MM:SS'`` timestamps, ISO-Z strings,
date-only strings, epoch-millisecond integers, 0/1 flags, JSON text written like ``JSON.stringify``,
Turkish ``DD.MM.YYYY`` / ``'-'`` tender dates, e-mails in the user columns that hold e-mails, and the
app's id formats. Generated columns are never declared.

Randomness never comes from global state: each factory takes a :class:`Sampler` parameter ``s``
(a seeded ``random.Random`` plus Faker-built text pools shared by the whole database), the row
index ``i`` and the table's row count ``total``::

    world = World.build(seed=7, counts={"users": 3})
    LogFactory.build(s=Sampler(world, "logs"), i=0, total=1)

Building a dict through factory-boy costs ~30-80 µs, too slow for a million rows, so
:func:`row_recipe` reads a factory's declarations once and :meth:`RowRecipe.rows` evaluates the same
functions in the same order without factory-boy's per-row machinery. Both paths give identical
rows for the same sampler state (the tests hold them to it).
"""

from __future__ import annotations

import calendar
import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import factory
from factory.declarations import BaseDeclaration
from faker import Faker

from core.vocabulary import (
    AI_MODELS,
    ANALYSIS_STATUSES,
    API_ENDPOINTS,
    AUDIT_ACTIONS,
    BRANDS,
    CATEGORIES,
    CHAT_ANSWERS,
    CHAT_COMMANDS,
    CHAT_QUESTIONS,
    CITIES,
    FILE_NAMES,
    GRAMAJ,
    HTTP_METHODS,
    INSTITUTION_TYPES,
    INSTITUTIONS,
    INTEGRATIONS,
    LOG_MESSAGES,
    MARKET_SOURCES,
    MARKETS,
    MENU_CATEGORIES,
    MENU_ITEMS,
    MIGRATION_FILES,
    MIME_TYPES,
    NOTIFICATION_MESSAGES,
    NOTIFICATION_TEMPLATES,
    PACKAGING,
    PERFORMANCE_PROFILES,
    PERFORMANCE_SETTINGS,
    PROACTIVE_TRIGGERS,
    PRODUCTS,
    PROVIDERS,
    QUEUE_NAMES,
    QUEUE_STATUSES,
    SEED_PRODUCTS,
    TENDER_TITLES,
    TENDER_TYPES,
)

# The app's life before the PostgreSQL switch: first boot to the snapshot (2025-11-14 16:38 +03).
START_MS = calendar.timegm((2025, 8, 1, 9, 0, 0)) * 1000
END_MS = calendar.timegm((2025, 11, 14, 13, 38, 0)) * 1000
SEEDED_MS = START_MS  # the first getDB() that ran every seed
DAY_MS = 86_400_000

NANOID_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# JSON.stringify: compact separators, non-ASCII kept. One encoder, because json.dumps with options
# builds a new encoder on every call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
dumps = _JSON.encode

_ASCII_FOLD = str.maketrans("çğıöşüÇĞİÖŞÜâîû", "cgiosuCGIOSUaiu")


def sqlite_ts(ms: int) -> str:
    """``CURRENT_TIMESTAMP`` / ``datetime('now')``: ``'YYYY-MM-DD HH:MM:SS'`` UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000))


def iso_z(ms: int) -> str:
    """JavaScript ``toISOString()``: ``'YYYY-MM-DDTHH:MM:SS.sssZ'``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def date_only(ms: int) -> str:
    """``date('now')`` / ``toISOString().split('T')[0]``: ``'YYYY-MM-DD'``."""
    return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))


def turkish_date(ms: int, slashed: bool = False) -> str:
    """The ihalebul scraper's calendar date: ``'DD.MM.YYYY'``, sometimes ``'D/M/YYYY'``."""
    t = time.gmtime(ms // 1000)
    if slashed:
        return f"{t.tm_mday}/{t.tm_mon}/{t.tm_year}"
    return f"{t.tm_mday:02d}.{t.tm_mon:02d}.{t.tm_year}"


def ascii_slug(text: str, sep: str = "_") -> str:
    """Lower-case ASCII slug of Turkish text (how the app normalised product names)."""
    folded = text.translate(_ASCII_FOLD).lower()
    return sep.join("".join(c if c.isalnum() else " " for c in folded).split())


# ---------------------------------------------------------------------------------------------
# The shared world and the per-table sampler.


@dataclass
class Pools:
    """Text built once per database from a seeded Faker('tr_TR'); rows pick from it cheaply."""

    people: list[str]
    companies: list[str]
    user_agents: list[str]
    ips: list[str]
    institutions: list[str]
    words: list[str]

    @classmethod
    def build(cls, seed: int, size: int = 400) -> Pools:
        fake = Faker("tr_TR")
        fake.seed_instance(seed)
        rnd = random.Random(f"{seed}:pools")
        return cls(
            people=[fake.name() for _ in range(size)],
            companies=[fake.company() for _ in range(size // 4)],
            user_agents=[fake.user_agent() for _ in range(size // 8)],
            ips=[fake.ipv4_public() for _ in range(size)],
            institutions=[
                rnd.choice(INSTITUTIONS).format(city=city) for city in CITIES for _ in range(2)
            ],
            words=[fake.word() for _ in range(size)],
        )


@dataclass
class World:
    """What every table's sampler shares: the seed, the text pools, the plan, earlier tables' keys."""

    seed: int
    pools: Pools
    counts: dict[str, int] = field(default_factory=dict)
    remembered: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    @classmethod
    def build(cls, seed: int, counts: dict[str, int] | None = None) -> World:
        return cls(seed=seed, pools=Pools.build(seed), counts=dict(counts or {}))

    def count(self, table: str) -> int:
        return self.counts.get(table, 0)

    def values(self, table: str, column: str) -> list[Any]:
        return self.remembered.get((table, column), [])


class Sampler:
    """Seeded sources of legacy values for one table: choices, ids, instants and Turkish text."""

    def __init__(self, world: World, table: str) -> None:
        self.world = world
        self.table = table
        self.pools = world.pools
        # A stream per table: a table's rows do not shift when another table's count changes.
        self.random = random.Random(f"{world.seed}:{table}")
        self.choice = self.random.choice
        self.randint = self.random.randint
        self.uniform = self.random.uniform

    # -- numbers and choices
    def chance(self, p: float) -> bool:
        return self.random.random() < p

    def flag(self, p: float) -> int:
        """A legacy 0/1 flag that is 1 with probability ``p``."""
        return 1 if self.random.random() < p else 0

    def price(self, base: float, spread: float = 0.25) -> float:
        """A positive TRY price around ``base``, rounded like ``toFixed(2)``."""
        return max(0.01, round(base * (1 + self.uniform(-spread, spread)), 2))

    # -- instants (epoch ms)
    def moment(self, i: int, total: int, start: int = START_MS, end: int = END_MS) -> int:
        """Row ``i`` of ``total`` spread over the app's life, increasing with ``i``."""
        step = (end - start) / max(total, 1)
        return int(start + (i + self.random.random()) * step)

    def slot(self, i: int, total: int) -> int:
        """The start of row ``i``'s time slot, without jitter (shared by rows that belong together)."""
        return int(START_MS + i * (END_MS - START_MS) / max(total, 1))

    def seeded_at(self, i: int, boot: int = 0, boots: int = 1) -> int:
        """When seed row ``i`` was written: at boot ``boot`` of ``boots`` spread over the app's life."""
        return SEEDED_MS + boot * ((END_MS - SEEDED_MS) // max(boots, 1)) + i * 7

    def later(self, ms: int, low_s: int, high_s: int) -> int:
        return ms + self.randint(low_s * 1000, high_s * 1000)

    # -- ids
    def nanoid(self, size: int) -> str:
        return "".join(self.random.choices(NANOID_ALPHABET, k=size))

    def base36(self, size: int) -> str:
        return "".join(self.random.choices(BASE36, k=size))

    def hex(self, nbytes: int) -> str:
        return f"{self.random.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def digits(self, size: int) -> str:
        return "".join(self.random.choices("0123456789", k=size))

    def stable_token(self, key: int, size: int = 9) -> str:
        """A base36 token fixed by (seed, table, key), without drawing from the row stream."""
        n = int.from_bytes(
            hashlib.blake2b(
                f"{self.world.seed}:{self.table}:{key}".encode(), digest_size=8
            ).digest()
        )
        out = []
        for _ in range(size):
            n, r = divmod(n, 36)
            out.append(BASE36[r])
        return "".join(out)

    # -- text
    def person(self) -> str:
        return self.choice(self.pools.people)

    def company(self) -> str:
        return self.choice(self.pools.companies)

    def institution(self) -> str:
        return self.choice(self.pools.institutions)

    def user_agent(self) -> str:
        return self.choice(self.pools.user_agents)

    def ip(self) -> str:
        return self.choice(self.pools.ips)

    def product(self) -> tuple[str, str, str, float, str]:
        return self.choice(PRODUCTS)

    def fill(self, template: str) -> str:
        """Fill a Turkish message template with domain words and numbers."""
        product = self.choice(PRODUCTS)
        return template.format(
            file=self.choice(FILE_NAMES).format(n=self.randint(1, 999)),
            kurum=self.institution(),
            urun=product[1],
            sehir=self.choice(CITIES),
            kisi=self.person(),
            model=self.choice(AI_MODELS),
            n=self.randint(2, 95),
            fiyat=f"{self.price(product[3]):.2f}",
            oran=f"{self.random.random():.2f}",
        )

    # -- earlier tables
    def user_id(self) -> str | None:
        ids = self.world.values("users", "id")
        return self.choice(ids) if ids else None

    def email(self) -> str | None:
        emails = self.world.values("users", "email")
        return self.choice(emails) if emails else None

    def distinct(self, table: str, column: str, i: int, total: int) -> Any:
        """The ``i``-th of ``total`` distinct values spread over an earlier table's column."""
        values = self.world.values(table, column)
        return values[i * len(values) // max(total, 1)]

    def ref(self, table: str, nullable: float = 0.0) -> int | None:
        """An integer id of an earlier AUTOINCREMENT table (ids are 1..count), or NULL."""
        count = self.world.count(table)
        if count == 0 or (nullable and self.random.random() < nullable):
            return None
        return self.randint(1, count)


# ---------------------------------------------------------------------------------------------
# Factories. ``o.s`` is the Sampler, ``o.i`` the row index, ``o.total`` the table's row count;
# declarations may read other columns and parameters (``o.created_at``, ``o.ms``).

TABLE_FACTORIES: dict[str, type[factory.Factory]] = {}


def legacy_table(table: str) -> Callable[[type[factory.Factory]], type[factory.Factory]]:
    """Register a factory as the row recipe of one legacy table."""

    def register(cls: type[factory.Factory]) -> type[factory.Factory]:
        TABLE_FACTORIES[table] = cls
        return cls

    return register


L = factory.LazyAttribute


class LegacyRowFactory(factory.DictFactory):
    """A dict of raw SQLite values for one row; ``s``, ``i`` and ``total`` are parameters.

    ``ms`` (a parameter, never a column) is the row's instant in epoch ms: rows are spread over
    the app's life in id order. Seed tables override it with the moment the seed ran.
    """

    class Params:
        s = None
        i = 0
        total = 1
        ms = L(lambda o: o.s.moment(o.i, o.total))


# -- auth, users, security


@legacy_table("users")
class UserFactory(LegacyRowFactory):
    id = L(lambda o: o.s.nanoid(12))
    name = L(lambda o: o.s.person())
    email = L(
        lambda o: (
            f"{ascii_slug(o.name, '.')}{o.i + 1}@{o.s.choice(('gmail.com', 'hotmail.com', 'procheff.com', 'outlook.com', 'yandex.com.tr'))}"
        )
    )
    password_hash = L(
        lambda o: (
            o.s.choice(("$2a$10$", "$2b$10$")) + "".join(o.s.random.choices(BCRYPT_ALPHABET, k=53))
        )
    )
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("organizations")
class OrganizationFactory(LegacyRowFactory):
    id = L(lambda o: o.s.nanoid(10))
    name = L(lambda o: o.s.company())
    owner_user_id = L(lambda o: o.s.user_id())
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("user_2fa")
class UserTwoFactorFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    user_id = L(lambda o: o.s.distinct("users", "email", o.i, o.total))  # an e-mail, not users.id
    secret = L(lambda o: "".join(o.s.random.choices(BASE32, k=32)))
    backup_codes = L(
        lambda o: dumps([f"{o.s.hex(2).upper()}-{o.s.hex(2).upper()}" for _ in range(8)])
    )
    enabled = L(lambda o: o.s.flag(0.7))
    enabled_at = L(lambda o: sqlite_ts(o.ms) if o.enabled else None)
    last_used = L(
        lambda o: (
            sqlite_ts(o.s.later(o.ms, 600, 30 * 86400)) if o.enabled and o.s.chance(0.6) else None
        )
    )
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("security_audit_logs")
class SecurityAuditLogFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    user_id = L(lambda o: o.s.email())  # the session e-mail
    action = L(lambda o: o.s.choice(AUDIT_ACTIONS))
    ip_address = L(lambda o: o.s.ip())
    user_agent = L(lambda o: o.s.user_agent())
    metadata = L(
        lambda o: (
            dumps({"method": o.s.choice(("totp", "backup_code", "email")), "kaynak": "ayarlar"})
            if o.s.chance(0.7)
            else None
        )
    )
    success = L(lambda o: 0 if o.action.endswith("_failed") else 1)
    created_at = L(lambda o: sqlite_ts(o.ms))


# -- logs and notifications


@legacy_table("logs")
class LogFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    level = L(
        lambda o: o.s.random.choices(
            ("info", "success", "warn", "error"), cum_weights=(60, 80, 92, 100)
        )[0]
    )
    message = L(lambda o: o.s.fill(o.s.choice(LOG_MESSAGES[o.level])))
    # AILogger: JSON.stringify(data || {}); errors as {"error": "..."}.
    data = L(
        lambda o: (
            dumps(
                {
                    "error": o.s.choice(
                        (
                            "ETIMEDOUT",
                            "İstek zaman aşımına uğradı",
                            "Geçersiz JSON yanıtı",
                            "SQLITE_BUSY: database is locked",
                        )
                    )
                }
            )
            if o.level == "error"
            else (
                "{}"
                if o.s.chance(0.55)
                else dumps({"süre_ms": o.s.randint(20, 90000), "model": o.s.choice(AI_MODELS)})
            )
        )
    )
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("ai_logs")
class AiLogFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    level = L(lambda o: o.s.choice(("info", "warn", "error", "success")))
    message = L(lambda o: o.s.fill(o.s.choice(LOG_MESSAGES[o.level])))
    context = L(
        lambda o: dumps({"endpoint": o.s.choice(API_ENDPOINTS)}) if o.s.chance(0.5) else None
    )
    tokens_used = L(lambda o: o.s.randint(200, 12000))
    duration_ms = L(lambda o: o.s.randint(300, 60000))
    model = L(lambda o: o.s.choice(AI_MODELS))
    endpoint = L(lambda o: o.s.choice(API_ENDPOINTS))
    user_id = L(lambda o: o.s.email())
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("notifications")
class NotificationFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    # The CHECK has no 'warn': notifier.ts rows with level 'warn' never got in.
    level = L(lambda o: o.s.choice(("info", "info", "warning", "error", "success", "success")))
    message = L(lambda o: o.s.fill(o.s.choice(NOTIFICATION_MESSAGES[o.level])))
    is_read = L(lambda o: o.s.flag(0.6))
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("notification_channels")
class NotificationChannelFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    user_id = L(lambda o: o.s.email())
    type = L(lambda o: o.s.choice(("email", "email", "sms", "push", "in_app")))
    destination = L(
        lambda o: (
            o.user_id
            if o.type in ("email", "in_app")
            else (
                f"+905{o.s.digits(9)}"
                if o.type == "sms"
                else f"https://fcm.googleapis.com/fcm/send/{o.s.base36(22)}"
            )
        )
    )
    verified = L(lambda o: o.s.flag(0.7))
    verification_token = L(lambda o: None if o.verified else o.s.hex(16))
    verification_expires = L(lambda o: None if o.verified else iso_z(o.ms + DAY_MS))
    settings = L(
        lambda o: dumps(
            {
                "sessizSaatler": {"başlangıç": "22:00", "bitiş": "08:00"},
                "olaylar": ["pipeline_complete", "report_ready"],
            }
        )
    )
    created_at = L(lambda o: sqlite_ts(o.ms))
    updated_at = L(lambda o: sqlite_ts(o.ms))


class SeedFactory(LegacyRowFactory):
    """A row written by a migration seed: all at the first boot, one row per seed entry."""

    class Params:
        ms = L(lambda o: o.s.seeded_at(o.i))


@legacy_table("notification_templates")
class NotificationTemplateFactory(SeedFactory):
    class Params:
        seed = L(lambda o: NOTIFICATION_TEMPLATES[o.i % len(NOTIFICATION_TEMPLATES)])

    id = L(lambda o: o.i + 1)
    code = L(lambda o: o.seed[0] if o.i < len(NOTIFICATION_TEMPLATES) else f"{o.seed[0]}_{o.i}")
    name = L(lambda o: o.seed[1])
    description = L(lambda o: f"{o.seed[1]} bildirimi")
    email_subject = L(lambda o: f"Procheff: {o.seed[1]}")
    email_body = L(lambda o: f"<p>Merhaba,</p><p>{o.seed[2]}</p>")
    sms_template = L(lambda o: o.seed[2])
    push_template = L(lambda o: o.seed[2])
    in_app_template = L(lambda o: o.seed[2])
    variables = L(lambda o: dumps(o.seed[3]))
    active = 1
    created_at = L(lambda o: sqlite_ts(o.ms))


@legacy_table("notification_queue")
class NotificationQueueFactory(LegacyRowFactory):
    id = L(lambda o: o.i + 1)
    user_id = L(lambda o: o.s.email())
    channel_id = L(lambda o: o.s.ref("notification_channels", nullable=0.2))
    template_id = L(lambda o: o.s.ref("notification_templates"))
    data = L(
        lambda o: dumps(
            {"tender_name": o.s.institution(), "analysis_id": f"analysis_{o.ms}_{o.s.base36(9)}"}
        )
    )
    status = L(lambda o: o.s.choice(("sent", "sent", "sent", "pending", "sending", "failed")))
    error_message = L(lambda o: "SMTP bağlantısı reddedildi" if o.status == "failed" else None)
    retry_count = L(lambda o: 3 if o.status == "failed" else 0)
    max_retries = 3
    scheduled_for = L(lambda o: sqlite_ts(o.ms + 60_000) if o.s.chance(0.3) else None)
    sent_at = L(lambda o: sqlite_ts(o.s.later(o.ms, 1, 120)) if o.status == "sent" else None)
    created_at = L(lambda o: sqlite_ts(o.ms))


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


ACCURACY_PROVIDERS = (
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


# ---------------------------------------------------------------------------------------------
# The fast path: the same declarations, evaluated without factory-boy's per-row machinery.


class _RowState:
    """The ``o`` a declaration sees: parameters, columns computed so far, and the rest on demand.

    Like factory-boy's Resolver, a declaration that reads an attribute not computed yet computes it
    there and then, so the random draws happen in exactly the order ``Factory.build()`` makes them.
    """

    _functions: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            function = self._functions[name]
        except KeyError:
            raise AttributeError(name) from None
        value = self.__dict__[name] = function(self)
        return value


@dataclass(frozen=True)
class RowRecipe:
    """A factory's declarations in factory-boy's resolution order, ready to build many rows quickly."""

    table: str
    columns: tuple[str, ...]
    names: tuple[str, ...]  # every declaration, parameters included, in resolution order
    state: type[_RowState]

    def rows(
        self, sampler: Sampler, total: int, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Rows ``start``..``stop`` of ``total`` as tuples in :attr:`columns` order."""
        state_class, names, columns = self.state, self.names, self.columns
        functions = state_class._functions
        for i in range(start, total if stop is None else stop):
            state = state_class()
            values = state.__dict__
            values.update(s=sampler, i=i, total=total)
            for name in names:
                if name not in values:
                    values[name] = functions[name](state)
            yield tuple([values[column] for column in columns])


_PASSED_IN = ("s", "i", "total")


def row_recipe(table: str) -> RowRecipe:
    """Compile the registered factory of ``table`` into a :class:`RowRecipe`.

    Supports the declarations the factories above use: constants and ``LazyAttribute``. Anything
    else raises TypeError rather than silently differing from ``Factory.build()``.
    """
    factory_class = TABLE_FACTORIES[table]
    declarations = factory_class._meta.pre_declarations
    parameters = set(factory_class._meta.parameters)
    functions: dict[str, Callable[[Any], Any]] = {}
    for name in declarations:  # factory-boy's own resolution order (StepBuilder.resolve)
        if name in _PASSED_IN:
            continue
        declaration = declarations.declarations[name]
        if isinstance(declaration, factory.LazyAttribute):
            functions[name] = declaration.function
        elif isinstance(declaration, BaseDeclaration):
            raise TypeError(
                f"{factory_class.__name__}.{name}: {type(declaration).__name__} has no fast path"
            )
        else:
            functions[name] = _constant(declaration)
    state = type(f"{factory_class.__name__}State", (_RowState,), {"_functions": functions})
    columns = tuple(name for name in functions if name not in parameters)
    return RowRecipe(table, columns, tuple(functions), state)


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda o: value


def build_row(table: str, sampler: Sampler, i: int = 0, total: int = 1) -> dict[str, Any]:
    """One row of ``table`` through factory-boy (slow path; for tests and one-off rows)."""
    return TABLE_FACTORIES[table].build(s=sampler, i=i, total=total)
