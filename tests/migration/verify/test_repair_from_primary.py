"""A repair copies from the phase's primary to its secondary, through the applier: never the other way, never in phase 4."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from core.models.menu import MenuCategory
from migration import fence, verify
from migration.exceptions import RepairRefused
from migration.models import ValidationRepair, ValidationRun
from migration.phase import Phase
from tests.support.cutover import BOTH, cutover_state, set_phase  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]


def _name_on(alias: str, pk: int) -> str:
    return MenuCategory.objects.using(alias).get(pk=pk).name


def _raw_rename(alias: str, pk: int, name: str) -> None:
    with fence.lifted(alias), connections[alias].cursor() as cursor:  # the secondary is fenced: planted past it
        cursor.execute("UPDATE menu_categories SET name = %s WHERE id = %s", [name, pk])


@pytest.mark.parametrize(
    ("primary_phase", "primary", "secondary"),
    [
        (Phase.SQLITE, "sqlite", "default"),
        (Phase.DUAL_WRITE, "sqlite", "default"),
        (Phase.READ_ROLLOUT, "sqlite", "default"),
        (Phase.POSTGRES_PRIMARY, "default", "sqlite"),
    ],
)
def test_repair_keeps_the_primarys_value(primary_phase: Phase, primary: str, secondary: str) -> None:
    set_phase(Phase.DUAL_WRITE)  # the row on both sides
    category = MenuCategory.objects.create(name="Çorba", name_tr="çorba")
    set_phase(primary_phase)
    assert _name_on(secondary, category.pk) == "Çorba"
    _raw_rename(secondary, category.pk, "stale copy")  # the secondary drifted
    report = verify.validate(tables=["menu_categories"], recheck_delay=0, repair=True)
    assert _name_on(primary, category.pk) == "Çorba"  # the primary is never overwritten
    assert _name_on(secondary, category.pk) == "Çorba"
    result = report.tables[0]
    assert result.repair is not None and result.repair.updated == [category.pk] and result.repair.verified
    assert report.clean
    assert ValidationRepair.objects.filter(pk_value=str(category.pk), verified=True).exists()


def test_repair_in_phase_four_is_refused_before_anything_is_compared_or_written() -> None:
    set_phase(Phase.FINALIZED)  # PostgreSQL is the only database; SQLite no longer receives writes
    category = MenuCategory.objects.create(name="Çorba", name_tr="çorba")
    with pytest.raises(RepairRefused, match="is the only database"):
        verify.validate(tables=["menu_categories"], recheck_delay=0, repair=True)
    with pytest.raises(CommandError, match="rollback --reverse-copy") as refused:
        call_command("validate_counts", "--tables", "menu_categories", "--repair", "--no-input",
                     "--recheck-delay", "0", stdout=io.StringIO(), stderr=io.StringIO())
    assert refused.value.returncode == 2
    assert not MenuCategory.objects.using("sqlite").filter(pk=category.pk).exists()
    assert not ValidationRun.objects.exists() and not ValidationRepair.objects.exists()
