"""One equality for validation, spot checks and shadow reads: equal when the target column stores both the same."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import models

from core.models.menu import MenuCategory
from migration.values import equality

UTC = dt.UTC


@pytest.mark.parametrize(
    ("field", "a", "b", "same"),
    [
        (models.BooleanField(), True, 1, True),  # PostgreSQL stores both as true
        (models.BooleanField(), True, 0, False),
        (models.FloatField(), 0.1 + 0.2, 0.3, False),  # every one of the 64 bits counts
        (models.FloatField(), float("nan"), float("nan"), True),
        (models.CharField(max_length=10, null=True), None, "", False),
        (models.CharField(max_length=10, null=True), None, None, True),
        (models.JSONField(), {"a": [1, True]}, {"a": [1, 1]}, False),  # jsonb keeps true and 1 apart
        (models.JSONField(), {"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True),
        (
            models.DateTimeField(),
            dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
            dt.datetime(2024, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=3))),
            True,
        ),
        (
            models.DateTimeField(),
            dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
            dt.datetime(2024, 1, 1, 10, 0, 0, 1, tzinfo=UTC),
            False,
        ),
    ],
)
@pytest.mark.django_db
def test_same_value_is_the_target_columns_equality(field: models.Field, a: Any, b: Any, same: bool) -> None:
    assert equality.same_value(field, a, b) is same
    assert equality.same_value(field, b, a) is same


@pytest.mark.django_db
def test_a_value_the_column_cannot_hold_equals_only_itself() -> None:
    field = models.IntegerField()
    assert not equality.same_value(field, "abc", 0)
    assert equality.same_value(field, "abc", "abc")


@pytest.mark.django_db
def test_shadow_comparison_and_row_equality_agree() -> None:
    # The shadow read's comparable() and the spot check's same_row() give one verdict per pair.
    at = dt.datetime(2024, 1, 1, 10, tzinfo=UTC)
    left = MenuCategory(id=1, name="Çorba", name_tr="çorba", created_at=at)
    pairs = [
        (MenuCategory(id=1, name="Çorba", name_tr="çorba", created_at=at.astimezone(dt.timezone(dt.timedelta(hours=3)))), True),
        (MenuCategory(id=1, name="Corba", name_tr="çorba", created_at=at), False),
        (MenuCategory(id=1, name="Çorba", name_tr="çorba", created_at=at, display_order=None), False),
        (MenuCategory(id=2, name="Çorba", name_tr="çorba", created_at=at), False),
    ]
    for right, same in pairs:
        assert (equality.comparable(left) == equality.comparable(right)) is same
        assert equality.same_row(MenuCategory, equality.row_values(left), equality.row_values(right)) is same
