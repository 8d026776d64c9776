"""System checks: misconfigurations of the cutover fail at startup with an id (migration.E001...)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, models

from migration import conf, dualwrite, flags, inventory, phase
from migration.dualwrite import MirroredModel, MirroredQuerySetMixin

ROUTER_PATH = "migration.router.CutoverRouter"
MIDDLEWARE_PATH = "migration.middleware.CutoverReadMiddleware"


@checks.register()
def check_mirrored_models(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """migration.E001: a migrated model whose writes would not be mirrored.

    migration.E005: a foreign key whose on_delete updates rows behind the ORM's write paths.
    """
    errors: list[checks.CheckMessage] = []
    for model in inventory.migrated_models():
        managers = {"default manager": model._default_manager, "base manager": model._base_manager}
        unmirrored = [
            name for name, manager in managers.items()
            if not isinstance(manager.get_queryset(), MirroredQuerySetMixin)
        ]
        if not issubclass(model, MirroredModel) or unmirrored:
            errors.append(checks.Error(
                f"{model._meta.label} is migrated but its writes are not mirrored "
                f"({'not a MirroredModel' if not issubclass(model, MirroredModel) else ', '.join(unmirrored)}).",
                hint="Inherit migration.dualwrite.MirroredModel and give custom managers "
                "migration.dualwrite.mirrored_manager(YourQuerySet).",
                obj=model,
                id="migration.E001",
            ))
        for field in model._meta.concrete_fields:
            remote = getattr(field, "remote_field", None)
            on_delete = getattr(remote, "on_delete", None)
            if on_delete in (models.SET_NULL, models.SET_DEFAULT) or getattr(on_delete, "deconstruct", None):
                errors.append(checks.Error(
                    f"{model._meta.label}.{field.name} uses on_delete={getattr(on_delete, '__name__', on_delete)}, "
                    "which updates rows without a mirrored write.",
                    hint="Use CASCADE, PROTECT, RESTRICT or DO_NOTHING on migrated models.",
                    obj=field,
                    id="migration.E005",
                ))
    return errors


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
            hint="Set MIGRATION_MIRROR to 'sync' (the default) or 'async'.", id="migration.E007",
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
