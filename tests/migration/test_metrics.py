"""Latency metrics: log-scale histograms per alias, flushed to the database, summarised as p50/p95."""
from __future__ import annotations

from collections import Counter

import pytest

from core.models.menu import MenuCategory
from migration import metrics
from migration.models import LatencySample
from tests.support.cutover import BOTH, cutover_state, unreachable  # noqa: F401


@pytest.mark.parametrize("ms", [0.005, 0.02, 0.5, 3.0, 47.0, 1200.0])
def test_metrics_bucket_bounds_hold_the_value(ms: float) -> None:
    index = metrics.bucket_of(ms)
    assert ms <= metrics.bucket_bound(index) * 1.0000001
    assert index == 0 or ms > metrics.bucket_bound(index - 1)


def test_metrics_percentile_from_histogram() -> None:
    histogram = Counter({metrics.bucket_of(1.0): 90, metrics.bucket_of(10.0): 10})
    assert metrics.percentile(histogram, 0.5) == pytest.approx(1.0, rel=0.2)
    assert metrics.percentile(histogram, 0.95) == pytest.approx(10.0, rel=0.2)
    assert metrics.percentile(Counter(), 0.5) is None


@pytest.mark.django_db(databases=BOTH, transaction=True)
@pytest.mark.usefixtures("cutover_state")
def test_metrics_statements_are_timed_per_alias_and_flushed() -> None:
    MenuCategory.objects.using("sqlite").create(name="x", name_tr="x")
    list(MenuCategory.objects.using("sqlite").all())
    assert metrics.maybe_flush(force=True)
    kinds = set(LatencySample.objects.filter(alias="sqlite").values_list("kind", flat=True))
    assert kinds >= {"read", "write"}
    summary = metrics.latency_summary()
    assert summary["sqlite"]["read"]["count"] >= 1 and summary["sqlite"]["write"]["p95_ms"] > 0


@pytest.mark.django_db(databases=BOTH, transaction=True)
@pytest.mark.usefixtures("cutover_state")
def test_metrics_flush_keeps_data_while_postgres_is_down() -> None:
    list(MenuCategory.objects.using("sqlite").all())
    with unreachable("default"):
        assert metrics.maybe_flush(force=True) is False
    assert metrics._pending[("sqlite", "read")][0] >= 1
    assert metrics.maybe_flush(force=True)
    assert LatencySample.objects.filter(alias="sqlite", kind="read").exists()
