"""The legacy updated_at trigger as ORM behaviour: MarketSource.save(), update() and bulk_update()."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from core.models import MarketSource

OLD = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
DATABASES = ["default", "sqlite"]


def make_source(alias: str, key: str = "migros") -> MarketSource:
    """A market source whose updated_at is long past."""
    source = MarketSource(
        source_key=key,
        source_name="Migros Sanal Market",
        source_type="scraping",
        created_at=OLD,
        updated_at=OLD,
    )
    source.save(using=alias)
    return MarketSource.objects.using(alias).get(pk=source.pk)


def assert_fresh(value: dt.datetime, before: dt.datetime) -> None:
    """``value`` was set during the test, at whole-second precision (the SQLITE_TS shape)."""
    assert before.replace(microsecond=0) <= value <= timezone.now()
    assert value.microsecond == 0


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
def test_market_source_insert_keeps_given_updated_at(alias: str) -> None:
    assert make_source(alias).updated_at == OLD


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
def test_market_source_save_refreshes_updated_at(alias: str) -> None:
    source = make_source(alias)
    before = timezone.now()
    source.trust_score = 0.9
    source.save(using=alias)
    stored = MarketSource.objects.using(alias).get(pk=source.pk)
    assert stored.trust_score == 0.9
    assert_fresh(stored.updated_at, before)
    assert stored.created_at == OLD


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
def test_market_source_save_with_update_fields_refreshes_updated_at(alias: str) -> None:
    source = make_source(alias)
    before = timezone.now()
    source.error_count = 4
    source.save(using=alias, update_fields=["error_count"])
    stored = MarketSource.objects.using(alias).get(pk=source.pk)
    assert stored.error_count == 4
    assert_fresh(stored.updated_at, before)


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
def test_market_source_queryset_update_refreshes_updated_at(alias: str) -> None:
    source = make_source(alias)
    other = make_source(alias, key="a101")
    before = timezone.now()
    assert MarketSource.objects.using(alias).filter(pk=source.pk).update(is_active=False) == 1
    stored = MarketSource.objects.using(alias).get(pk=source.pk)
    assert stored.is_active is False
    assert_fresh(stored.updated_at, before)
    assert MarketSource.objects.using(alias).get(pk=other.pk).updated_at == OLD


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
def test_market_source_queryset_update_keeps_explicit_updated_at(alias: str) -> None:
    source = make_source(alias)
    later = OLD + dt.timedelta(days=1)
    MarketSource.objects.using(alias).filter(pk=source.pk).update(success_count=7, updated_at=later)
    assert MarketSource.objects.using(alias).get(pk=source.pk).updated_at == later


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
def test_market_source_bulk_update_refreshes_updated_at(alias: str) -> None:
    sources = [make_source(alias), make_source(alias, key="bim")]
    before = timezone.now()
    for source in sources:
        source.rate_limit = 20
    MarketSource.objects.using(alias).bulk_update(sources, ["rate_limit"])
    for source in sources:
        stored = MarketSource.objects.using(alias).get(pk=source.pk)
        assert stored.rate_limit == 20
        assert_fresh(stored.updated_at, before)


@pytest.mark.django_db(databases=["sqlite"])
def test_market_source_updated_at_written_in_legacy_shape_on_sqlite() -> None:
    source = make_source("sqlite")
    MarketSource.objects.using("sqlite").filter(pk=source.pk).update(success_count=1)
    with connections["sqlite"].cursor() as cursor:
        cursor.execute("SELECT updated_at FROM market_sources WHERE id = %s", [source.pk])
        (raw,) = cursor.fetchone()
    assert isinstance(raw, str)
    assert dt.datetime.strptime(raw, "%Y-%m-%d %H:%M:%S")


@pytest.mark.django_db(databases=DATABASES)
def test_market_source_copied_with_force_insert_keeps_updated_at() -> None:
    source = make_source("sqlite")
    source.save(using="default", force_insert=True)
    assert MarketSource.objects.using("default").get(pk=source.pk).updated_at == OLD
