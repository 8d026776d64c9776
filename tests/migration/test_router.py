"""The router: per-phase routing of migrated models, None for every other app, allow_migrate."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User as AuthUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core import checks
from django.db import connections
from django.test import RequestFactory, override_settings
from waffle.models import Flag, Switch

from core.models.menu import MenuCategory
from migration import context, dualwrite
from migration.dualwrite import pending as dw_pending
from migration.models import OutboxRecord, PhaseChange, Tombstone
from migration.phase import Phase
from migration.router import CutoverRouter
from tests.support.cutover import BOTH, cutover_state, set_phase  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH), pytest.mark.usefixtures("cutover_state")]

router = CutoverRouter()


@pytest.mark.parametrize(
    ("target", "percent", "write", "read_outside_request"),
    [
        (Phase.SQLITE, 0, "sqlite", "sqlite"),
        (Phase.DUAL_WRITE, 0, "sqlite", "sqlite"),
        (Phase.READ_ROLLOUT, 10, "sqlite", "sqlite"),
        (Phase.READ_ROLLOUT, 100, "sqlite", "default"),
        (Phase.POSTGRES_PRIMARY, 100, "default", "default"),
        (Phase.FINALIZED, 100, "default", "default"),
    ],
)
def test_router_routes_migrated_models_by_phase(target: Phase, percent: float, write: str, read_outside_request: str) -> None:
    set_phase(target, percent)
    assert router.db_for_write(MenuCategory) == write
    assert router.db_for_read(MenuCategory) == read_outside_request


@pytest.mark.parametrize("model", [AuthUser, Session, ContentType, Switch, Flag, OutboxRecord, PhaseChange, Tombstone])
@pytest.mark.parametrize("target", list(Phase))
def test_router_returns_none_for_other_apps(model: type, target: Phase) -> None:
    set_phase(target)
    assert router.db_for_read(model) is None
    assert router.db_for_write(model) is None


@pytest.mark.parametrize(
    ("db", "app_label", "model_name", "allowed"),
    [
        ("sqlite", "core", "menucategory", False),
        ("default", "core", "menucategory", True),
        ("sqlite", "migration", "outboxrecord", True),
        ("default", "migration", "outboxrecord", None),
        ("sqlite", "migration", "phasechange", False),
        ("sqlite", "waffle", "switch", False),
        ("default", "auth", "user", None),
    ],
)
def test_router_allow_migrate(db: str, app_label: str, model_name: str, allowed: bool | None) -> None:
    assert router.allow_migrate(db, app_label, model_name) is allowed


def test_router_outbox_table_exists_on_both_databases() -> None:
    for alias in BOTH:
        assert "cutover_outbox" in connections[alias].introspection.table_names()
    assert "cutover_phase_change" not in connections["sqlite"].introspection.table_names()


def test_router_request_in_rollout_reads_postgres_until_it_writes() -> None:
    set_phase(Phase.READ_ROLLOUT, 50)
    token = context.begin_request(reads_postgres=True)
    try:
        assert router.db_for_read(MenuCategory) == "default"
        MenuCategory.objects.create(name="n", name_tr="n")
        assert router.db_for_read(MenuCategory) == "sqlite"
    finally:
        context.end_request(token)
    token = context.begin_request(reads_postgres=False)
    try:
        assert router.db_for_read(MenuCategory) == "sqlite"
    finally:
        context.end_request(token)


def test_router_model_with_pending_records_reads_primary() -> None:
    set_phase(Phase.READ_ROLLOUT, 100)
    assert router.db_for_read(MenuCategory) == "default"
    OutboxRecord.objects.using("sqlite").create(model_label=MenuCategory._meta.label, pk_value="1", operation="dirty")
    dw_pending._pending.forget()
    assert router.db_for_read(MenuCategory) == "sqlite"


def _without_sqlite() -> dict:
    from django.conf import settings

    return {alias: value for alias, value in settings.DATABASES.items() if alias != "sqlite"}


def test_router_copes_without_the_sqlite_alias() -> None:
    set_phase(Phase.FINALIZED)
    with override_settings(DATABASES=_without_sqlite()):
        assert router.db_for_write(MenuCategory) == "default"
        assert router.db_for_read(MenuCategory) == "default"
        assert router.allow_migrate("default", "core", "menucategory") is True
        assert dualwrite.active_pair() is None
        created = MenuCategory.objects.create(name="after", name_tr="after")
        assert MenuCategory.objects.get(pk=created.pk).name == "after"
        errors = [m for m in checks.run_checks(databases=["default"]) if m.level >= checks.ERROR and not m.is_silenced()]
    assert errors == []


def test_router_missing_sqlite_alias_before_finalized_fails_database_check() -> None:
    set_phase(Phase.POSTGRES_PRIMARY)
    with override_settings(DATABASES=_without_sqlite()):
        ids = [m.id for m in checks.run_checks(databases=["default"])]
    assert "migration.E006" in ids


def test_router_request_factory_has_no_routing_state() -> None:
    RequestFactory().get("/")
    assert context.current() is None
