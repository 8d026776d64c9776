"""Row factories of the legacy tables: auth, users, security, logs and notifications."""

from __future__ import annotations

from devtools.legacydb.rows import L, LegacyRowFactory, SeedFactory, legacy_table
from devtools.legacydb.shapes import (
    BASE32,
    BCRYPT_ALPHABET,
    DAY_MS,
    ascii_slug,
    dumps,
    iso_z,
    sqlite_ts,
)
from devtools.legacydb.vocabulary import (
    AI_MODELS,
    API_ENDPOINTS,
    AUDIT_ACTIONS,
    LOG_MESSAGES,
    NOTIFICATION_MESSAGES,
    NOTIFICATION_TEMPLATES,
)

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


