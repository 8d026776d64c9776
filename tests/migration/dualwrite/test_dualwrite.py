"""Dual writes: every ORM write path of a migrated model is mirrored, failures stay pending, replay drains."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections, transaction

from core.models.auth import User
from core.models.menu import MenuCategory, MenuItem, Recipe, RecipeIngredient
from migration import dualwrite, fence, flags, phase
from migration.dualwrite import apply as dw_apply
from migration.dualwrite import pending as dw_pending
from migration.models import OutboxRecord, Tombstone
from migration.phase import Phase
from tests.support.cutover import (  # noqa: F401
    BOTH,
    assert_same_rows,
    child_env,
    cutover_state,
    mirror,
    set_phase,
    unreachable,
)

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]

MIRRORED_PHASES = [Phase.DUAL_WRITE, Phase.POSTGRES_PRIMARY]


def _category(name: str = "Çorbalar") -> MenuCategory:
    return MenuCategory.objects.create(name=name, name_tr=name, display_order=1)


def _save_create() -> None:
    _category()


def _save_update() -> None:
    category = _category()
    category.name = "Ana yemek"
    category.save()


def _model_delete() -> None:
    _category("keep")
    gone = _category("gone")
    gone.delete()


def _queryset_update() -> None:
    _category("a"), _category("b")
    MenuCategory.objects.filter(name="a").update(display_order=7)


def _queryset_delete() -> None:
    _category("a"), _category("b")
    MenuCategory.objects.filter(name="a").delete()


def _bulk_create() -> None:
    MenuCategory.objects.bulk_create([MenuCategory(name=f"c{i}", name_tr=f"c{i}") for i in range(5)])


def _bulk_update() -> None:
    made = [_category(f"c{i}") for i in range(3)]
    for category in made:
        category.display_order = 42
    MenuCategory.objects.bulk_update(made, ["display_order"])


def _get_or_create() -> None:
    MenuCategory.objects.get_or_create(name="x", defaults={"name_tr": "x"})
    MenuCategory.objects.get_or_create(name="x", defaults={"name_tr": "y"})


def _update_or_create() -> None:
    MenuCategory.objects.update_or_create(name="x", defaults={"name_tr": "first"})
    MenuCategory.objects.update_or_create(name="x", defaults={"name_tr": "second"})


def _text_pk_create_update() -> None:
    User.objects.create(id="u-1", email="a@example.com", password_hash="h")
    User.objects.filter(pk="u-1").update(name="Ayşe")


def _cascade_delete() -> None:
    item = MenuItem.objects.create(name="Mercimek", meal_type="lunch", default_gramaj=250, unit_cost=3.5)
    recipe = Recipe.objects.create(menu_item=item, instructions="boil")
    recipe.recipeingredient_set.create(ingredient_name="lentil", quantity=1.5, unit="kg")
    RecipeIngredient.objects.create(recipe=recipe, ingredient_name="salt", quantity=0.01, unit="kg")
    item.delete()  # cascades to the recipe and its ingredients


def _atomic_batch() -> None:
    with transaction.atomic(using=dualwrite.active_pair()[0]):  # type: ignore[index]
        _category("one")
        _category("two").delete()


WRITE_PATHS: dict[str, Callable[[], None]] = {
    "save-create": _save_create,
    "save-update": _save_update,
    "model-delete": _model_delete,
    "queryset-update": _queryset_update,
    "queryset-delete": _queryset_delete,
    "bulk_create": _bulk_create,
    "bulk_update": _bulk_update,
    "get_or_create": _get_or_create,
    "update_or_create": _update_or_create,
    "text-pk": _text_pk_create_update,
    "cascade-delete": _cascade_delete,
    "atomic-batch": _atomic_batch,
}


@pytest.mark.parametrize("target", MIRRORED_PHASES, ids=lambda p: p.label)
@pytest.mark.parametrize("path", list(WRITE_PATHS))
def test_dualwrite_mirrors_every_write_path(path: str, target: Phase, mirror: str) -> None:
    set_phase(target)
    WRITE_PATHS[path]()
    assert dualwrite.outbox_depth() == 0
    assert_same_rows(MenuCategory, User, MenuItem, Recipe, RecipeIngredient)
    primary = dualwrite.active_pair()[0]  # type: ignore[index]
    assert MenuCategory.objects.using(primary).exists() or User.objects.using(primary).exists() \
        or path in ("cascade-delete",)


def test_dualwrite_phase_zero_writes_sqlite_only() -> None:
    set_phase(Phase.SQLITE)
    created = _category()
    assert MenuCategory.objects.using("sqlite").filter(pk=created.pk).exists()
    assert not MenuCategory.objects.using("default").filter(pk=created.pk).exists()
    assert dualwrite.outbox_depth() == 0


def test_dualwrite_delete_mirrored_into_postgres_leaves_tombstone() -> None:
    set_phase(Phase.DUAL_WRITE)
    category = _category()
    pk = category.pk
    category.delete()
    assert Tombstone.objects.using("default").filter(table="menu_categories", pk_value=str(pk)).exists()


def test_dualwrite_failed_mirror_stays_pending_is_logged_and_replays(caplog: pytest.LogCaptureFixture) -> None:
    set_phase(Phase.DUAL_WRITE)
    # A row only PostgreSQL has takes the e-mail: the mirror of the new user violates users_email_key.
    with fence.lifted("default"):  # written behind the engine's back
        User.objects.using("default").create(id="squatter", email="taken@example.com", password_hash="h")
    with caplog.at_level(logging.ERROR, logger="migration.dualwrite"):
        user = User.objects.create(id="u-1", email="taken@example.com", password_hash="h")
    assert User.objects.using("sqlite").filter(pk=user.pk).exists()
    record = OutboxRecord.objects.using("sqlite").get()
    assert (record.model_label, record.pk_value, record.attempts) == ("core.User", "u-1", 1)
    assert "IntegrityError" in record.last_error
    assert any("model=core.User pk=u-1" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert dualwrite.pending_pks(User) == {"u-1"}
    assert dualwrite.outbox_depth() == 1

    with fence.lifted("default"):
        User.objects.using("default").filter(pk="squatter").delete()
    result = dualwrite.replay()
    assert result.clean and result.applied == 1
    assert dualwrite.pending_pks(User) == set()
    assert User.objects.using("default").get(pk="u-1").email == "taken@example.com"


def test_dualwrite_mirrors_not_tried_while_postgres_is_down_are_each_logged_and_kept(caplog: pytest.LogCaptureFixture) -> None:
    set_phase(Phase.DUAL_WRITE)
    flags.state()  # the phase is known before PostgreSQL goes away
    with unreachable("default"), caplog.at_level(logging.ERROR, logger="migration.dualwrite"):
        # The first connection failure opens the breaker; later mirrors are not even tried.
        categories = [MenuCategory.objects.create(name=f"during-{i}", name_tr="x") for i in range(3)]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    records = {r.pk_value: r for r in OutboxRecord.objects.using("sqlite").all()}
    for category in categories:
        assert any(f"model=core.MenuCategory pk={category.pk} " in message for message in errors), errors
        assert "OperationalError" in records[str(category.pk)].last_error  # the connection failure itself
    assert any(r.last_error.startswith("TargetUnreachable: default is not tried") for r in records.values())
    assert dualwrite.replay().clean
    assert_same_rows(MenuCategory)


def test_dualwrite_replay_is_idempotent_and_order_free() -> None:
    set_phase(Phase.DUAL_WRITE)
    category = _category()
    category.name = "changed"
    category.save()
    # Duplicates, out of order, for a live row and a row that no longer exists.
    for pk in (category.pk, 999_999, category.pk):
        OutboxRecord.objects.using("sqlite").create(model_label="core.MenuCategory", pk_value=str(pk), operation="save")
    assert dualwrite.replay().clean
    assert dualwrite.replay().applied == 0
    assert_same_rows(MenuCategory)


def test_dualwrite_raw_sql_needs_mark_dirty() -> None:
    set_phase(Phase.DUAL_WRITE)
    category = _category()
    with connections["sqlite"].cursor() as cursor:
        cursor.execute("UPDATE menu_categories SET name = 'raw' WHERE id = %s", [category.pk])
    assert MenuCategory.objects.using("default").get(pk=category.pk).name != "raw"
    assert dualwrite.mark_dirty(MenuCategory, [category.pk]) == 1
    assert MenuCategory.objects.using("default").get(pk=category.pk).name == "raw"
    assert dualwrite.outbox_depth() == 0


def test_dualwrite_mark_dirty_is_a_noop_when_not_mirroring() -> None:
    set_phase(Phase.SQLITE)
    assert dualwrite.mark_dirty(MenuCategory, [1, 2]) == 0
    assert dualwrite.outbox_depth() == 0


def test_dualwrite_rolled_back_write_leaves_no_record() -> None:
    set_phase(Phase.DUAL_WRITE)
    with pytest.raises(RuntimeError):
        with transaction.atomic(using="sqlite"):
            _category("never")
            raise RuntimeError("abort")
    assert dualwrite.outbox_depth() == 0
    assert not MenuCategory.objects.using("default").filter(name="never").exists()
    assert not MenuCategory.objects.using("sqlite").filter(name="never").exists()


def test_dualwrite_mirrored_manager_composes_with_a_plain_queryset() -> None:
    from django.db import models

    class TouchingQuerySet(models.QuerySet):
        def touch(self) -> int:
            return self.update(display_order=99)

    manager = dualwrite.mirrored_manager(TouchingQuerySet)
    manager.model = MenuCategory
    set_phase(Phase.DUAL_WRITE)
    _category("t")
    assert isinstance(manager.get_queryset(), dualwrite.MirroredQuerySetMixin)
    manager.get_queryset().filter(name="t").touch()
    assert MenuCategory.objects.using("default").get(name="t").display_order == 99


WORKER = """
import json, os, sys
import django
django.setup()
from core.models.menu import MenuCategory
tag = sys.argv[1]
made = []
for i in range(int(sys.argv[2])):
    c = MenuCategory.objects.create(name=f"{tag}-{i}", name_tr="x", display_order=i)
    made.append(c.pk)
    if i % 3 == 0:
        MenuCategory.objects.filter(pk=c.pk).update(display_order=-i)
    if i % 5 == 4:
        c.delete()
MenuCategory.objects.filter(name__startswith=tag, display_order__gt=10).update(icon="bulk")
print(json.dumps({"tag": tag, "made": len(made)}))
"""


def test_dualwrite_two_processes_writing_concurrently(tmp_path: Path, mirror: str) -> None:
    set_phase(Phase.DUAL_WRITE)
    env = child_env()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    workers = [
        subprocess.Popen([sys.executable, str(script), tag, "30"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=settings.BASE_DIR)
        for tag in ("p1", "p2")
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["made"] == 30
    dualwrite.replay()  # anything a failed mirror left behind (there should be nothing)
    assert MenuCategory.objects.using("sqlite").count() == 2 * 24
    assert_same_rows(MenuCategory)
    assert dualwrite.outbox_depth() == 0


def _nothing(*args: Any) -> None:
    return None


def test_dualwrite_touching_queryset_update_is_mirrored_with_its_updated_at() -> None:
    from core.models.market import MarketSource

    set_phase(Phase.DUAL_WRITE)
    source = MarketSource.objects.create(source_key="k", source_name="Hal", source_type="web")
    MarketSource.objects.filter(pk=source.pk).update(source_name="Hal fiyatları")
    source.refresh_from_db()
    source.trust_score = 0.9
    source.save()
    assert_same_rows(MarketSource)
    assert MarketSource.objects.using("default").get(pk=source.pk).source_name == "Hal fiyatları"
    MarketSource.objects.using("sqlite").filter(pk=source.pk).delete()


def test_dualwrite_later_commits_retry_old_pending_records() -> None:
    import datetime as dt

    from django.utils import timezone

    set_phase(Phase.DUAL_WRITE)
    category = _category("late")
    with connections["sqlite"].cursor() as cursor:
        cursor.execute("UPDATE menu_categories SET name = 'changed behind the ORM' WHERE id = %s", [category.pk])
    OutboxRecord.objects.using("sqlite").create(
        model_label="core.MenuCategory", pk_value=str(category.pk), operation="save",
        created_at=timezone.now() - dt.timedelta(minutes=1), attempts=3, last_error="earlier failure",
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
    )
    dw_apply._last_drain.clear()
    _category("another write")  # its commit also drains due records
    assert MenuCategory.objects.using("default").get(pk=category.pk).name == "changed behind the ORM"
    # The old record was applied and deleted; the raw UPDATE's own record, captured by SQLite's
    # trigger a moment ago, is too young for the drain and waits for its applier.
    dualwrite.flush_applied()
    left = OutboxRecord.objects.using("sqlite").values_list("pk_value", "last_error")
    assert list(left) == [(str(category.pk), "")]


@pytest.mark.parametrize("path", ["save", "bulk_create"])
def test_dualwrite_insert_routed_before_a_switch_to_postgres_follows_the_new_primary(path: str) -> None:
    """A process that still believes SQLite is primary (its memo is up to a second old) must not
    insert into SQLite once PostgreSQL hands out ids: the fence inside the write transaction sends
    the insert to PostgreSQL instead."""
    import time

    from migration import flags

    set_phase(Phase.READ_ROLLOUT, 100.0)
    stale = flags.state()
    set_phase(Phase.POSTGRES_PRIMARY)
    flags._memo = (time.monotonic(), stale)  # this process has not seen the switch yet
    assert phase.primary_alias() == "sqlite"

    if path == "save":
        created = [_category()]
    else:
        created = MenuCategory.objects.bulk_create(
            [MenuCategory(name=f"Kategori {i}", name_tr="Kategori", display_order=i) for i in range(3)]
        )

    pks = [c.pk for c in created]
    assert MenuCategory.objects.using("default").filter(pk__in=pks).count() == len(pks)
    assert list(OutboxRecord.objects.using("sqlite").values_list("model_label", "pk_value", "operation")) == []
    dualwrite.replay()
    assert_same_rows(MenuCategory)


@pytest.mark.parametrize("path", ["create", "update", "delete"])
def test_dualwrite_routing_and_mirroring_decide_on_one_phase(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo can expire between the router's answer and the mirroring check. A write routed to
    SQLite on the old phase must still be mirrored (or follow the primary), not be taken for a write
    on the secondary and left unmirrored."""
    set_phase(Phase.READ_ROLLOUT, 100.0)
    stale = flags.state()
    set_phase(Phase.POSTGRES_PRIMARY)
    existing = _category("before")
    dualwrite.replay()
    readings = iter([stale])  # the next reading is the old phase, every later one the stored phase
    real_read = flags._read
    monkeypatch.setattr(flags, "_read", lambda: next(readings, None) or real_read())
    monkeypatch.setattr(flags, "MEMO_SECONDS", 0.0)
    flags.forget()

    if path == "create":
        _category("during")
    elif path == "update":
        MenuCategory.objects.filter(pk=existing.pk).update(name="renamed")
    else:
        existing.delete()

    assert next(readings, None) is None  # the stale reading was used
    assert dualwrite.replay().clean
    assert_same_rows(MenuCategory)
    names = sorted(MenuCategory.objects.using("default").values_list("name", flat=True))
    assert names == {"create": ["before", "during"], "update": ["renamed"], "delete": []}[path]



def test_dualwrite_async_write_returns_before_its_mirror_and_reads_stay_on_the_primary_until_it_lands(
    settings: Any,
) -> None:
    """Background mirrors: the write does not wait for PostgreSQL, and no process reads it stale there."""
    import psycopg

    settings.MIGRATION_MIRROR = "async"
    set_phase(Phase.READ_ROLLOUT, 100)
    flags.write_state(**{**phase.flag_values(phase.PhaseState(Phase.READ_ROLLOUT, 100)),
                         "background_reads_postgres": True})
    flags.forget()
    assert dualwrite.read_alias(MenuCategory) == "default"
    params = connections["default"].get_connection_params()
    with psycopg.connect(**params) as blocker:  # holds back every insert into the table on PostgreSQL
        blocker.execute('LOCK TABLE "menu_categories" IN SHARE ROW EXCLUSIVE MODE')
        assert dualwrite.read_alias(MenuCategory) == "default"  # the outbox was just read: nothing pending
        made = _category("in flight")
        assert not dualwrite.wait_for_mirrors(0.3)  # the mirror is still waiting for the lock
        assert not MenuCategory.objects.using("default").filter(pk=made.pk).exists()
        # Another process read the outbox just before this write: only the record tells it.
        dw_pending._pending._labels.discard(MenuCategory._meta.label)
        assert dualwrite.read_alias(MenuCategory) == "sqlite"
        assert MenuCategory.objects.filter(pk=made.pk).exists()  # read from the primary
        blocker.rollback()
    assert dualwrite.wait_for_mirrors(30)
    dualwrite.flush_applied()
    assert MenuCategory.objects.using("default").filter(pk=made.pk).exists()
    assert dualwrite.outbox_depth() == 0
    assert dualwrite.read_alias(MenuCategory) == "default"
    assert dualwrite.mirror_lags()[-1] >= 0.3
