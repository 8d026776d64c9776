"""Spot checks read both real databases and name exactly the fields that differ."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.models.auth import Organization, SecurityAuditLog
from migration import spotcheck
from migration.exceptions import SpotCheckError
from tests.support.factories import UTC, audit_pair, insert

BOTH = ["default", "sqlite"]


@pytest.mark.django_db(databases=BOTH)
def test_compare_row_identical_rows_show_both_stored_forms() -> None:
    audit_pair(7)

    result = spotcheck.compare_row(SecurityAuditLog, 7)

    assert not result.differs
    assert result.differing == []
    by_name = {f.name: f for f in result.fields}
    created = by_name["created_at"]
    assert created.source.stored == "2024-01-01 10:00:00"
    assert created.target.stored == dt.datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert created.source.value == created.target.value
    assert by_name["success"].source.stored == 1
    assert by_name["success"].target.stored is True
    assert by_name["metadata"].source.value == {"ip": "10.0.0.1", "tries": 2}
    assert (result.source.alias, result.source.vendor) == ("sqlite", "sqlite")
    assert (result.target.alias, result.target.vendor) == ("default", "postgresql")


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"created_at": dt.datetime(2024, 1, 1, 13, tzinfo=UTC)}, "created_at"),
        ({"user_id": "ayse@example.com"}, "user_id"),
        ({"success": False}, "success"),
        ({"metadata": '{"ip": "10.0.0.1", "tries": 3}'}, "metadata"),
        ({"action": ""}, "action"),
    ],
)
def test_compare_row_planted_difference_names_only_that_field(
    override: dict[str, Any], field: str
) -> None:
    audit_pair(8, **override)

    result = spotcheck.compare_row(SecurityAuditLog, 8)

    assert result.differs
    assert result.differing == [field]


@pytest.mark.django_db(databases=BOTH)
def test_compare_row_missing_on_target_marks_every_field() -> None:
    insert("sqlite", "security_audit_logs", id=9, action="logout", success=0)

    result = spotcheck.compare_row(SecurityAuditLog, 9)

    assert result.source.row_exists and not result.target.row_exists
    assert result.differs
    assert set(result.differing) == {f.name for f in result.fields}


@pytest.mark.django_db(databases=BOTH)
def test_compare_row_absent_everywhere_does_not_differ() -> None:
    result = spotcheck.compare_row(SecurityAuditLog, 123456)

    assert not result.source.row_exists and not result.target.row_exists
    assert not result.differs


@pytest.mark.django_db(databases=BOTH)
def test_compare_row_unreadable_legacy_value_is_shown_with_its_reason() -> None:
    insert(
        "sqlite",
        "security_audit_logs",
        id=10,
        action="x",
        metadata="not json",
        success=1,
        created_at=None,
    )
    insert("default", "security_audit_logs", id=10, action="x", success=True)

    result = spotcheck.compare_row(SecurityAuditLog, 10)

    metadata = next(f for f in result.fields if f.name == "metadata")
    assert metadata.source.stored == "not json"
    assert "not valid JSON" in metadata.source.error
    assert result.differing == ["metadata"]


@pytest.mark.django_db(databases=BOTH)
def test_compare_row_text_primary_key() -> None:
    insert(
        "sqlite",
        "organizations",
        id="org-1",
        name="Çiğ Köfte",
        owner_user_id="u1",
        created_at="2024-02-03T04:05:06.789Z",
    )
    insert(
        "default",
        "organizations",
        id="org-1",
        name="Cig Kofte",
        owner_user_id="u1",
        created_at=dt.datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),
    )

    result = spotcheck.compare_row(Organization, spotcheck.parse_pk(Organization, " org-1 "))

    assert result.differing == ["name"]


@pytest.mark.django_db(databases=BOTH)
def test_sample_rows_picks_distinct_source_rows_and_finds_the_planted_one() -> None:
    for pk in range(20, 30):
        audit_pair(pk, **({"user_id": "x@example.com"} if pk == 25 else {}))

    results = spotcheck.sample_rows(SecurityAuditLog, 10)

    assert sorted(r.pk for r in results) == list(range(20, 30))
    assert [r.pk for r in results if r.differs] == [25]


@pytest.mark.django_db(databases=BOTH)
def test_sample_rows_smaller_than_table() -> None:
    for pk in range(40, 46):
        audit_pair(pk)

    results = spotcheck.sample_rows(SecurityAuditLog, 3)

    assert len({r.pk for r in results}) == 3
    assert {r.pk for r in results} <= set(range(40, 46))


@pytest.mark.parametrize("size", [0, -1, spotcheck.MAX_SAMPLE + 1])
def test_sample_rows_refuses_bad_size(size: int) -> None:
    with pytest.raises(SpotCheckError, match="a sample holds"):
        spotcheck.sample_rows(SecurityAuditLog, size)


@pytest.mark.parametrize(
    "label", ["core.SecurityAuditLog", "securityauditlog", "security_audit_logs"]
)
def test_resolve_model_accepts_label_name_or_table(label: str) -> None:
    assert spotcheck.resolve_model(label) is SecurityAuditLog


@pytest.mark.parametrize("label", ["auth.User", "nope", "migration.Tombstone"])
def test_resolve_model_refuses_models_that_are_not_migrated(label: str) -> None:
    with pytest.raises(SpotCheckError, match="names no migrated model"):
        spotcheck.resolve_model(label)


def test_compare_row_refuses_an_unconfigured_database() -> None:
    with pytest.raises(SpotCheckError, match="database 'archived' is not configured"):
        spotcheck.compare_row(SecurityAuditLog, 1, source="archived")


def test_parse_pk_refuses_text_for_an_integer_key() -> None:
    with pytest.raises(SpotCheckError, match="not a valid primary key for security_audit_logs"):
        spotcheck.parse_pk(SecurityAuditLog, "abc")
