"""Admin: every legacy model is registered and its change list renders on PostgreSQL with rows in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse

from core import fields as legacy_fields

CORE_MODELS = sorted(apps.get_app_config("core").get_models(), key=lambda m: m._meta.db_table)
UTC = dt.UTC


def allowed_values(model: type[models.Model]) -> dict[str, Any]:
    """For columns under an ``IN (...)`` CHECK, a value the CHECK accepts."""
    allowed = {}
    for constraint in model._meta.constraints:
        condition = getattr(constraint, "condition", None)
        for child in getattr(condition, "children", []):
            if isinstance(child, tuple) and child[0].endswith("__in"):
                allowed[child[0].removesuffix("__in")] = child[1][0]
    return allowed


def sample_value(field: models.Field, n: int) -> Any:
    """A plausible value for ``field`` in the ``n``-th sample row (distinct per row, so UNIQUE holds)."""
    if isinstance(field, legacy_fields.LegacyJSONField):
        return {"sira": n, "ad": "Mercimek çorbası", "etiketler": ["sıcak", "vegan"]}
    if isinstance(field, legacy_fields.LegacyBooleanField):
        return n % 2 == 0
    if isinstance(field, legacy_fields.LegacyDateTimeField):
        return dt.datetime(2024, 1, 1 + n, 10, 30, tzinfo=UTC)
    if isinstance(field, models.DateField):
        return dt.date(2024, 1, 1 + n)
    if isinstance(field, models.FloatField):
        return 0.5 + n / 10  # inside every legacy CHECK range (confidence 0..1, price > 0)
    if isinstance(field, models.BigIntegerField):
        return 3 + n  # a chat rating must be 1..5
    return f"{field.column}-{n} Ünye"


def make_row(model: type[models.Model], n: int) -> models.Model:
    """Insert one sample row into ``default``, creating the rows its foreign keys point at."""
    allowed = allowed_values(model)
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if isinstance(field, (models.AutoField, models.GeneratedField)):
            continue
        if field.is_relation:
            values[field.name] = make_row(field.related_model, n)
        elif field.column in allowed:
            values[field.name] = allowed[field.column]
        else:
            values[field.name] = sample_value(field, n)
    return model.objects.using("default").create(**values)


def test_admin_registers_every_core_model() -> None:
    assert len(CORE_MODELS) == 75
    assert [m for m in CORE_MODELS if m not in admin.site._registry] == []


@pytest.mark.parametrize("model", CORE_MODELS, ids=[m._meta.db_table for m in CORE_MODELS])
def test_admin_options_name_real_columns(model: type[models.Model]) -> None:
    """Every name in list_display, search_fields and list_filter is a field of the model."""
    options = admin.site._registry[model]
    names = {f.name for f in model._meta.get_fields()}
    assert options.list_display[0] == model._meta.pk.name
    assert min(3, len(model._meta.concrete_fields)) <= len(options.list_display) <= 7
    assert set(options.list_display) <= names
    assert {name.split("__")[0] for name in options.search_fields} <= names
    assert set(options.list_filter) <= names


@pytest.fixture
def postgres_only() -> Any:
    """The cutover finalized: the router sends every read and write of core models to PostgreSQL."""
    from migration import flags
    from tests.support.cutover import reset_process_state

    reset_process_state()
    flags.write_state(dual_write=False, read_percent=100, background_reads_postgres=True,
                      postgres_primary=True, finalized=True)
    yield
    reset_process_state()  # the switches roll back with the test; waffle's cache must forget them too


@pytest.mark.django_db(databases=["default"])
@pytest.mark.usefixtures("postgres_only")
@pytest.mark.parametrize("model", CORE_MODELS, ids=[m._meta.db_table for m in CORE_MODELS])
def test_admin_changelist_renders(model: type[models.Model], admin_client: Client) -> None:
    rows = [make_row(model, n) for n in range(2)]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == len(rows)

    options = admin.site._registry[model]
    if options.search_fields:
        response = admin_client.get(url, {"q": "-1 Ünye"})
        assert response.status_code == 200
    for name in options.list_filter:
        field = model._meta.get_field(name)
        if isinstance(field, models.BooleanField):
            response = admin_client.get(url, {f"{name}__exact": "1"})
            assert response.status_code == 200
            assert response.context["cl"].result_count == 1
