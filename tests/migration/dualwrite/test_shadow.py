"""Shadow reads: a sampled read also runs on the other database; mismatches are recorded, results unchanged."""
from __future__ import annotations

import pytest

from core.models.menu import MenuCategory
from migration import fence, flags, metrics
from migration.models import ShadowMismatch
from migration.phase import Phase
from tests.support.cutover import BOTH, cutover_state, set_phase, unreachable  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]


def _shadow_everything() -> None:
    set_phase(Phase.READ_ROLLOUT, 10)
    flags.set_shadow_reads(True, 100)


def test_shadow_read_equal_rows_record_nothing() -> None:
    _shadow_everything()
    MenuCategory.objects.create(name="same", name_tr="x")
    assert [c.name for c in MenuCategory.objects.all()] == ["same"]
    assert list(MenuCategory.objects.values_list("name", flat=True)) == ["same"]
    assert ShadowMismatch.objects.count() == 0
    assert metrics._pending[("default", "shadow")][0] >= 2


def test_shadow_read_mismatch_is_recorded_and_the_primary_answer_returned() -> None:
    _shadow_everything()
    category = MenuCategory.objects.create(name="original", name_tr="x")
    with fence.lifted("default"):  # behind the mirror
        MenuCategory.objects.using("default").filter(pk=category.pk).update(name="drifted")
    assert [c.name for c in MenuCategory.objects.filter(pk=category.pk)] == ["original"]
    mismatch = ShadowMismatch.objects.get()
    assert (mismatch.model_label, mismatch.primary_alias, mismatch.shadow_alias) == ("core.MenuCategory", "sqlite", "default")
    assert (mismatch.primary_rows, mismatch.shadow_rows) == (1, 1)
    assert "drifted" in mismatch.detail and mismatch.primary_ms >= 0 and mismatch.shadow_ms >= 0


def test_shadow_reads_off_run_nothing_on_the_other_database() -> None:
    set_phase(Phase.READ_ROLLOUT, 10)
    category = MenuCategory.objects.create(name="original", name_tr="x")
    with fence.lifted("default"):
        MenuCategory.objects.using("default").filter(pk=category.pk).update(name="drifted")
    assert [c.name for c in MenuCategory.objects.all()] == ["original"]
    assert ShadowMismatch.objects.count() == 0


def test_shadow_read_failure_does_not_reach_the_user() -> None:
    _shadow_everything()
    MenuCategory.objects.create(name="safe", name_tr="x")
    flags.state()  # the switches are known before PostgreSQL goes away
    with unreachable("default"):
        assert [c.name for c in MenuCategory.objects.all()] == ["safe"]
