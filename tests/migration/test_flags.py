"""Flags: switch names live in one module, predicates follow waffle, last known values survive an outage."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from waffle import get_waffle_flag_model, get_waffle_switch_model
from waffle.testutils import override_switch

from migration import flags
from tests.support.cutover import BOTH, cutover_state, hung, unreachable  # noqa: F401

pytestmark = [pytest.mark.usefixtures("cutover_state")]


@pytest.mark.django_db(databases=BOTH)
def test_flags_predicates_follow_waffle_switches() -> None:
    assert not flags.dual_write_enabled()
    with override_switch(flags.SWITCH_DUAL_WRITE, active=True):
        flags.forget()
        assert flags.dual_write_enabled()
    flags.forget()
    assert not flags.dual_write_enabled()


@pytest.mark.django_db(databases=BOTH)
def test_flags_change_reaches_this_process_without_waiting_for_the_memo() -> None:
    assert not flags.postgres_primary()
    switch = get_waffle_switch_model().objects.create(name=flags.SWITCH_POSTGRES_PRIMARY, active=True)
    switch.flush()  # what waffle does on commit
    assert flags.postgres_primary()  # the post_save hook dropped the memo


@pytest.mark.django_db(databases=BOTH)
def test_flags_ignore_an_old_value_left_in_waffles_cache() -> None:
    # A process that read the switch just before a change committed can store the old object in
    # waffle's cache after the change flushed it; waffle then serves it until the cache times out.
    switch = get_waffle_switch_model().objects.create(name=flags.SWITCH_POSTGRES_PRIMARY, active=False)
    switch.flush()
    get_waffle_switch_model().get(flags.SWITCH_POSTGRES_PRIMARY)  # cached: inactive
    get_waffle_switch_model().objects.filter(pk=switch.pk).update(active=True)  # no flush
    assert not get_waffle_switch_model().get(flags.SWITCH_POSTGRES_PRIMARY).is_active()
    flags.forget()
    assert flags.postgres_primary()


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.parametrize(("everyone", "percent", "expected"), [(True, None, 100.0), (False, 50, 0.0), (None, 25, 25.0), (None, None, 0.0)])
def test_flags_read_percent_from_waffle_flag(everyone: bool | None, percent: int | None, expected: float) -> None:
    flag = get_waffle_flag_model().objects.create(name=flags.FLAG_READ_POSTGRES, everyone=everyone, percent=percent)
    flag.flush()
    flags.forget()
    assert flags.read_rollout_percent() == expected


def _decision(token: str) -> bool:
    request = RequestFactory().get("/", HTTP_COOKIE=f"{flags.BUCKET_COOKIE}={token}")
    return flags.request_reads_from_postgres(request)[0]


@pytest.mark.django_db(databases=BOTH)
def test_flags_read_rollout_is_sticky_and_monotonic_per_browser() -> None:
    tokens = [f"browser-{i}" for i in range(2000)]
    chosen: dict[float, set[str]] = {}
    for percent in (10.0, 50.0, 100.0):
        flags.write_state(dual_write=True, read_percent=percent, background_reads_postgres=False,
                          postgres_primary=False, finalized=False)
        first = {t for t in tokens if _decision(t)}
        assert first == {t for t in tokens if _decision(t)}  # the same browser gets the same answer
        chosen[percent] = first
    assert chosen[10.0] <= chosen[50.0] <= chosen[100.0]
    assert 0.07 < len(chosen[10.0]) / len(tokens) < 0.13
    assert 0.45 < len(chosen[50.0]) / len(tokens) < 0.55
    assert len(chosen[100.0]) == len(tokens)


@pytest.mark.django_db(databases=BOTH)
def test_flags_new_browser_gets_a_bucket_cookie() -> None:
    reads, cookie = flags.request_reads_from_postgres(RequestFactory().get("/"))
    assert cookie and len(cookie) == 32
    assert reads is False


@pytest.mark.django_db(databases=BOTH, transaction=True)
def test_flags_survive_postgres_down_with_last_known_values() -> None:
    # Phase 3: PostgreSQL is the primary, so the switches are read there (in phases 0-2 the SQLite
    # file's copy is read instead, see the next test).
    flags.write_state(dual_write=True, read_percent=100, background_reads_postgres=True,
                      postgres_primary=True, finalized=False)
    assert flags.state().postgres_primary and not flags.state().stale
    # Drop waffle's cached objects so a lookup must reach the database.
    for name in flags.ALL_NAMES:
        get_waffle_switch_model()(name=name).flush()
        get_waffle_flag_model()(name=name).flush()
    with unreachable("default"):
        flags.forget()
        in_process = flags.state()
        flags._last_known = None  # a fresh process: only the cache remembers
        flags.forget()
        from migration import breaker

        breaker.reset()
        from_cache = flags.state()
    for snapshot in (in_process, from_cache):
        assert snapshot.stale
        assert snapshot.postgres_primary and snapshot.read_percent == 100


@pytest.mark.django_db(databases=BOTH, transaction=True)
def test_flags_while_sqlite_is_primary_are_read_from_the_file_and_never_from_postgresql() -> None:
    flags.write_state(dual_write=True, read_percent=50, background_reads_postgres=False,
                      postgres_primary=False, finalized=False)  # its commit writes the file's copy
    with hung("default") as tried:
        flags.forget()
        snapshot = flags.state()
        assert tried == []  # PostgreSQL was not asked
    assert snapshot.dual_write and snapshot.read_percent == 50 and not snapshot.stale


@pytest.mark.django_db(databases=BOTH)
def test_flags_no_switch_name_outside_flags_module() -> None:
    root = Path(settings.BASE_DIR)
    names = [*flags.ALL_NAMES]
    offenders = []
    for path in [*root.glob("migration/**/*.py"), *root.glob("core/**/*.py"), *root.glob("procheff/**/*.py")]:
        if path.name == "flags.py":
            continue
        text = path.read_text()
        offenders += [f"{path}: {n}" for n in names if n in text]
    assert offenders == []
