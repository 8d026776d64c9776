"""Records whose rows cannot be copied one at a time: a unique value swapped in one source transaction."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from core.models.auth import User
from migration import dualwrite
from migration.models import OutboxRecord
from migration.phase import Phase
from tests.support.cutover import BOTH, assert_same_rows, cutover_state, set_phase, write_legacy_file  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]


def _two_users() -> tuple[User, User]:
    a = User.objects.create(id="u-a", email="ayse@example.com", password_hash="h")
    b = User.objects.create(id="u-b", email="can@example.com", password_hash="h")
    assert_same_rows(User)
    dualwrite.flush_applied()  # their records are applied: gone from the outbox
    return a, b


@pytest.mark.parametrize("primary", [Phase.DUAL_WRITE, Phase.POSTGRES_PRIMARY])
def test_apply_a_unique_value_swapped_in_one_orm_transaction_lands_on_the_other_side(primary: Phase) -> None:
    set_phase(primary)
    a, b = _two_users()
    with transaction.atomic(using=User.objects.db_manager().db):
        User.objects.filter(pk=a.pk).update(email="swap@example.com")
        User.objects.filter(pk=b.pk).update(email="ayse@example.com")
        User.objects.filter(pk=a.pk).update(email="can@example.com")
    assert dualwrite.replay().clean
    assert dualwrite.outbox_depth() == 0
    for alias in BOTH:
        assert dict(User.objects.using(alias).values_list("id", "email")) == {
            "u-a": "can@example.com", "u-b": "ayse@example.com"}, alias
    assert_same_rows(User)


def test_apply_a_unique_value_swapped_by_the_legacy_app_reaches_postgresql() -> None:
    set_phase(Phase.DUAL_WRITE)
    _two_users()
    done = write_legacy_file("node", [  # one transaction of three statements
        ("BEGIN IMMEDIATE", []),
        ("UPDATE users SET email = 'swap@example.com' WHERE id = 'u-a'", []),
        ("UPDATE users SET email = 'ayse@example.com' WHERE id = 'u-b'", []),
        ("UPDATE users SET email = 'can@example.com' WHERE id = 'u-a'", []),
        ("COMMIT", []),
    ])
    assert done.returncode == 0, done.stderr
    assert OutboxRecord.objects.using("sqlite").count() == 3
    call_command("replicate", "--once", stdout=io.StringIO())
    assert dict(User.objects.using("default").values_list("id", "email")) == {
        "u-a": "can@example.com", "u-b": "ayse@example.com"}
    assert_same_rows(User)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cutover_outbox")
        assert cursor.fetchone()[0] == 0
