"""System checks: misconfigurations of the cutover fail at startup with an id (migration.E001...)."""
from __future__ import annotations

import sqlite3
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from migration import conf, drift, dualwrite, flags, inventory, phase
from migration.exceptions import MigrationError

ROUTER_PATH = "migration.router.CutoverRouter"
MIDDLEWARE_PATH = "migration.middleware.CutoverReadMiddleware"


# Models need no base class, manager or on_delete rule: every write of a migrated table is
# captured in the database itself (migration.dualwrite.capture), whoever makes it. MirroredModel
# stays available for mirroring right after commit and read-your-writes in the read rollout.


@checks.register()
def check_wiring(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """migration.E002 router, E003 target alias, E004 middleware, E007 mirror mode; W001 SQLite transaction mode."""
    errors: list[checks.CheckMessage] = []
    if ROUTER_PATH not in getattr(settings, "DATABASE_ROUTERS", []):
        errors.append(checks.Error(
            f"{ROUTER_PATH} is not in DATABASE_ROUTERS; migrated models would ignore the cutover phase.",
            hint=f"Add {ROUTER_PATH!r} to DATABASE_ROUTERS.", id="migration.E002",
        ))
    if conf.target_alias() not in settings.DATABASES:
        errors.append(checks.Error(
            f"MIGRATION_TARGET_ALIAS {conf.target_alias()!r} is not a configured database.",
            hint="Point MIGRATION_TARGET_ALIAS at the PostgreSQL alias in DATABASES.", id="migration.E003",
        ))
    if MIDDLEWARE_PATH not in getattr(settings, "MIDDLEWARE", []):
        errors.append(checks.Error(
            f"{MIDDLEWARE_PATH} is not in MIDDLEWARE; the read rollout would not be per request.",
            hint=f"Add {MIDDLEWARE_PATH!r} to MIDDLEWARE.", id="migration.E004",
        ))
    if conf.mirror_mode() not in conf.MIRROR_MODES:
        errors.append(checks.Error(
            f"MIGRATION_MIRROR is {conf.mirror_mode()!r}; it must be one of {', '.join(conf.MIRROR_MODES)}.",
            hint="Set MIGRATION_MIRROR to 'sync' (the default), 'async' or 'applier'.", id="migration.E007",
        ))
    source = settings.DATABASES.get(conf.source_alias())
    if source is not None and source.get("OPTIONS", {}).get("transaction_mode") != "IMMEDIATE":
        errors.append(checks.Warning(
            f"The {conf.source_alias()!r} database does not use transaction_mode IMMEDIATE; concurrent "
            "mirrored updates can fail with 'database is locked'.",
            hint="Set OPTIONS['transaction_mode'] = 'IMMEDIATE' for the SQLite alias.", id="migration.W001",
        ))
    return errors


@checks.register(checks.Tags.database)
def check_phase_matches_settings(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """migration.E006: the SQLite alias was removed from settings before the cutover was finalized."""
    if not databases or conf.source_alias() in settings.DATABASES:
        return []
    try:
        stored = phase.state_from(flags.read_uncached())
    except DatabaseError:
        return []
    if stored.phase != phase.Phase.FINALIZED:
        return [checks.Error(
            f"The {conf.source_alias()!r} database is not configured but the cutover is in phase {stored}.",
            hint="Restore the SQLite alias, or finish the cutover with `./manage.py cutover advance`.",
            id="migration.E006",
        )]
    return []


# The drift check reads the legacy file at every start; it never waits long for the legacy app's lock.
DRIFT_CHECK_LOCK_WAIT_SECONDS = 0.5


@checks.register()
def check_exclusions(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """migration.E008: a MIGRATION_EXCLUDE entry that is malformed, has no reason, or names a mapped column."""
    value = getattr(settings, "MIGRATION_EXCLUDE", None) or {}
    hint = 'MIGRATION_EXCLUDE = {"table.column": "why it stays behind", "table": "why"}'
    if not isinstance(value, dict):
        return [checks.Error(f"MIGRATION_EXCLUDE is a {type(value).__name__}, not a dict.", hint=hint,
                             id="migration.E008")]
    mapped = {
        (m._meta.db_table.lower(), f.column.lower()): m._meta.label
        for m in inventory.migrated_models() for f in m._meta.concrete_fields if f.column
    }
    tables = {m._meta.db_table.lower(): m._meta.label for m in inventory.migrated_models()}
    errors: list[checks.CheckMessage] = []
    for key, reason in value.items():
        table, _, column = str(key).partition(".")
        if not isinstance(key, str) or not table or key.endswith("."):
            errors.append(checks.Error(f"MIGRATION_EXCLUDE key {key!r} is not 'table' or 'table.column'.",
                                       hint=hint, id="migration.E008"))
        elif not isinstance(reason, str) or not reason.strip():
            errors.append(checks.Error(f"MIGRATION_EXCLUDE[{key!r}] gives no reason.",
                                       hint="Say why the data stays behind: the entry is the record of that choice.",
                                       id="migration.E008"))
        elif column and (table.lower(), column.lower()) in mapped:
            errors.append(checks.Error(
                f"MIGRATION_EXCLUDE lists {key}, which {mapped[(table.lower(), column.lower())]} maps.",
                hint="Remove the entry, or the field.", id="migration.E008"))
        elif not column and table.lower() in tables:
            errors.append(checks.Error(f"MIGRATION_EXCLUDE lists {key}, the table of {tables[table.lower()]}.",
                                       hint="Remove the entry, or the model from MIGRATION_APPS.", id="migration.E008"))
    return errors


@checks.register()
def check_schema_drift(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """migration.W002: the legacy file has tables or columns no model covers, or lacks or retypes one.

    Silent when the file cannot be read (the commands that need it say why) or is held locked.
    """
    if conf.source_alias() not in settings.DATABASES:
        return []
    try:
        found = drift.detect(count=False, timeout=DRIFT_CHECK_LOCK_WAIT_SECONDS)
    except (MigrationError, sqlite3.Error, DatabaseError):
        return []
    return [
        checks.Warning(
            f"Schema drift in the legacy file ({conf.source_alias()}): {finding.describe()}"
            + ("; the copy refuses to run until it is covered." if finding.blocking else "."),
            hint="./manage.py describe_schema --drift prints the model code to add; or list it in "
                 "MIGRATION_EXCLUDE with the reason it stays behind.",
            id="migration.W002",
        )
        for finding in found.findings
    ]


@checks.register(checks.Tags.database)
def check_capture_triggers(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """migration.W020: in phases 1-2, a migrated SQLite table without its capture triggers."""
    source = conf.source_alias()
    if not databases or source not in databases or source not in settings.DATABASES:
        return []
    try:
        stored = phase.state_from(flags.read_uncached())
        if stored.phase not in (phase.Phase.DUAL_WRITE, phase.Phase.READ_ROLLOUT):
            return []
        gaps = dualwrite.capture.missing(source, inventory.migrated_models())
    except DatabaseError:
        return []
    if not gaps:
        return []
    return [checks.Warning(
        f"{len(gaps)} migrated tables on {source!r} lack their capture triggers: {', '.join(gaps[:10])}; "
        "writes there by other processes are not mirrored.",
        hint="A legacy schema change rebuilt them. Roll back to phase 0 and advance again to reinstall the triggers.",
        id="migration.W020",
    )]
