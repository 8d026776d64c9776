"""The validation gate: only a recent, clean, row-level validation lets the cutover move forward."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from migration import gates
from migration.models import ValidationRun


def _run(mode: str, clean: bool, age: dt.timedelta = dt.timedelta(0)) -> ValidationRun:
    finished = timezone.now() - age
    return ValidationRun.objects.create(
        started_at=finished, finished_at=finished, mode=mode,
        source_alias="sqlite", target_alias="default", clean=clean,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mode", "clean", "age_minutes", "passed", "says"),
    [
        ("rows", True, 1, True, "clean, finished"),
        ("counts", True, 1, False, "counts only"),
        ("rows", False, 1, False, "found differences"),
        ("rows", True, 24 * 60, False, "min old"),
    ],
)
def test_gates_validation_needs_recent_clean_row_level_proof(
    mode: str, clean: bool, age_minutes: int, passed: bool, says: str
) -> None:
    _run(mode, clean, dt.timedelta(minutes=age_minutes))

    result = gates.validation_clean_and_recent()

    assert result.ok is passed
    assert says in result.detail


@pytest.mark.django_db
def test_gates_validation_refuses_when_it_never_ran() -> None:
    result = gates.validation_clean_and_recent()

    assert not result.ok
    assert "no validation run recorded" in result.detail


@pytest.mark.django_db(databases=["default", "sqlite"], transaction=True)
def test_gates_outbox_missing_on_the_legacy_file_names_the_command_that_creates_it() -> None:
    with connections["sqlite"].cursor() as cursor:
        cursor.execute('ALTER TABLE "cutover_outbox" RENAME TO "cutover_outbox_aside"')
    try:
        result = gates.outbox_empty()
    finally:
        with connections["sqlite"].cursor() as cursor:
            cursor.execute('ALTER TABLE "cutover_outbox_aside" RENAME TO "cutover_outbox"')
    assert not result.ok
    assert result.detail == (
        "the outbox table cutover_outbox is missing on sqlite: create it with `./manage.py migrate --database sqlite`"
    )
