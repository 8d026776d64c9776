"""The cutover console and the database toggle in the admin: who may see and do what, over real databases."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models.auth import SecurityAuditLog
from core.models.market import MarketSource
from migration import conf, console, fence, phase, spotcheck
from migration.models import CutoverConsole, OutboxRecord, PhaseChange, ValidationRepair
from migration.phase import Phase
from tests.support.cutover import BOTH, cutover_state, set_phase  # noqa: F401 (fixture)
from tests.support.factories import UserFactory, audit_pair, fresh_flags, insert  # noqa: F401 (fixture)

CONSOLE = "admin:migration_cutoverconsole_changelist"
PHASE = "admin:migration_cutoverconsole_phase"
SPOTCHECK = "admin:migration_cutoverconsole_spotcheck"
REPAIR = "admin:migration_cutoverconsole_repair"


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Who sees the console -------------------------------------------------------------------


@pytest.mark.django_db(databases=BOTH)
def test_console_linked_from_admin_index_for_plain_staff() -> None:
    response = client_for(UserFactory()).get(reverse("admin:index"))

    assert response.status_code == 200
    assert reverse(CONSOLE) in response.content.decode()


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.parametrize("url", [CONSOLE, SPOTCHECK])
def test_console_refuses_anonymous_and_non_staff(url: str) -> None:
    anonymous = Client().get(reverse(url))
    not_staff = client_for(UserFactory(is_staff=False)).get(reverse(url))

    for response in (anonymous, not_staff):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db(databases=BOTH)
def test_console_index_hides_console_from_non_staff() -> None:
    response = client_for(UserFactory(is_staff=False)).get(reverse("admin:index"))

    assert reverse(CONSOLE) not in response.content.decode()


@pytest.mark.django_db(databases=BOTH)
def test_console_shows_row_counts_of_both_databases() -> None:
    for pk in (1, 2, 3):
        insert("sqlite", "security_audit_logs", id=pk, action="login")
    insert("default", "security_audit_logs", id=1, action="login")

    response = client_for(UserFactory()).get(reverse(CONSOLE))

    assert response.status_code == 200
    row = next(r for r in response.context["snapshot"].tables if r.table == "security_audit_logs")
    assert (row.source, row.target, row.equal) == (3, 1, False)
    absent = next(r for r in response.context["snapshot"].tables if r.table == "memberships")
    assert absent.source is None and absent.target == 0 and absent.equal
    html = response.content.decode()
    assert 'data-table="security_audit_logs"' in html


# --- Who changes the phase ------------------------------------------------------------------


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.parametrize("action", ["advance", "rollback"])
def test_phase_change_refused_to_staff_without_permission(action: str) -> None:
    user = UserFactory(perms=["migration.repair_rows"])

    response = client_for(user).post(reverse(PHASE), {"action": action})

    assert response.status_code == 403
    assert not LogEntry.objects.exists()


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.parametrize(
    "user_kwargs", [{"is_superuser": True}, {"perms": ["migration.change_phase"]}]
)
@pytest.mark.usefixtures("fresh_flags")
def test_phase_change_by_permitted_user_moves_phase_and_is_logged(user_kwargs: dict) -> None:
    user = UserFactory(**user_kwargs)
    client = client_for(user)

    advanced = client.post(reverse(PHASE), {"action": "advance"}, follow=True)
    after_advance = phase.current_state_fresh()
    rolled_back = client.post(reverse(PHASE), {"action": "rollback"}, follow=True)

    assert after_advance.phase == phase.Phase.DUAL_WRITE
    assert phase.current_state_fresh().phase == phase.Phase.SQLITE
    assert "Advanced the cutover from 0 sqlite to 1 dual-write" in advanced.content.decode()
    assert "Rolled back the cutover from 1 dual-write to 0 sqlite" in rolled_back.content.decode()
    entries = list(LogEntry.objects.order_by("id"))
    assert [e.user_id for e in entries] == [user.pk, user.pk]
    assert (
        entries[0]
        .get_change_message()
        .startswith("Advanced the cutover from 0 sqlite to 1 dual-write")
    )
    assert entries[0].content_type.model_class() is CutoverConsole
    assert (
        list(PhaseChange.objects.values_list("actor", flat=True))
        == [f"{user.username} (admin console)"] * 2
    )


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.usefixtures("fresh_flags")
def test_phase_change_refused_by_gate_shows_why_and_logs_nothing() -> None:
    OutboxRecord.objects.using("default").create(
        model_label="core.Log", pk_value="1", operation="save",
        created_at=timezone.now() - dt.timedelta(minutes=5),  # older than the gate tolerates
    )

    response = client_for(UserFactory(is_superuser=True)).post(
        reverse(PHASE), {"action": "advance"}, follow=True
    )

    html = response.content.decode()
    assert (
        "annot move from 0 sqlite to 1 dual-write: outbox: 1 pending records older than 5s (default: 1)" in html
    )
    assert 'data-gate="outbox" data-passed="no"' in html
    assert not LogEntry.objects.exists()
    assert phase.current_state_fresh().phase == phase.Phase.SQLITE


@pytest.mark.django_db(databases=BOTH)
def test_phase_change_refuses_get() -> None:
    response = client_for(UserFactory(is_superuser=True)).get(reverse(PHASE) + "?action=advance")

    assert response.status_code == 405


@pytest.mark.django_db(databases=BOTH)
def test_phase_change_refuses_post_without_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_superuser=True))

    response = client.post(reverse(PHASE), {"action": "advance"})

    assert response.status_code == 403
    assert b"CSRF" in response.content


@pytest.mark.django_db(databases=BOTH)
def test_phase_buttons_shown_only_to_holders_of_the_permission() -> None:
    plain = client_for(UserFactory()).get(reverse(CONSOLE))
    holder = client_for(UserFactory(perms=["migration.change_phase"])).get(reverse(CONSOLE))

    assert plain.context["can_change_phase"] is False
    assert holder.context["can_change_phase"] is True
    assert 'name="action"' not in plain.content.decode()


# --- Spot check and repair through the admin ------------------------------------------------


@pytest.mark.django_db(databases=BOTH)
def test_spotcheck_view_highlights_the_differing_field() -> None:
    audit_pair(8, user_id="ayse@example.com")

    response = client_for(UserFactory(perms=["core.view_securityauditlog"])).get(
        reverse(SPOTCHECK), {"model": "core.SecurityAuditLog", "pk": "8"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert '<tr class="differs" data-field="user_id" data-differs="yes">' in html
    assert 'data-field="action" data-differs="no"' in html
    assert "&#x27;Ayse@Example.com&#x27;" in html and "&#x27;ayse@example.com&#x27;" in html
    assert "&#x27;2024-01-01 10:00:00&#x27;" in html  # the legacy form of created_at


@pytest.mark.django_db(databases=BOTH)
def test_spotcheck_view_sample_reports_the_planted_row() -> None:
    for pk in range(30, 35):
        audit_pair(pk, **({"success": False} if pk == 33 else {}))

    response = client_for(UserFactory(perms=["core.view_securityauditlog"])).get(
        reverse(SPOTCHECK), {"model": "core.SecurityAuditLog", "sample": "5"}
    )

    assert [r.pk for r in response.context["differing"]] == [33]


@pytest.mark.django_db(databases=BOTH)
def test_spotcheck_view_key_wins_over_sample_and_empty_sample_says_so() -> None:
    audit_pair(13)
    client = client_for(UserFactory(perms=["core.view_securityauditlog", "core.view_log"]))

    by_key = client.get(
        reverse(SPOTCHECK), {"model": "core.SecurityAuditLog", "pk": "13", "sample": "10"}
    )
    empty = client.get(reverse(SPOTCHECK), {"model": "core.Log", "sample": "10"})

    assert [r.pk for r in by_key.context["results"]] == [13]
    assert empty.context["results"] == []
    assert "no rows on either database" in empty.content.decode()


@pytest.mark.django_db(databases=BOTH)
def test_spotcheck_view_names_a_bad_key() -> None:
    response = client_for(UserFactory(perms=["core.view_securityauditlog"])).get(
        reverse(SPOTCHECK), {"model": "core.SecurityAuditLog", "pk": "abc"}
    )

    assert "not a valid primary key for security_audit_logs" in response.content.decode()


@pytest.mark.django_db(databases=BOTH)
def test_spotcheck_and_repair_refused_without_view_permission_on_the_model() -> None:
    audit_pair(14, user_id="secret@example.com")
    client = client_for(UserFactory(perms=["migration.repair_rows", "core.view_log"]))

    check = client.get(reverse(SPOTCHECK), {"model": "core.SecurityAuditLog", "pk": "14"})
    repair = client.get(reverse(REPAIR), {"model": "core.SecurityAuditLog", "pk": "14"})

    assert (check.status_code, repair.status_code) == (403, 403)
    assert b"secret@example.com" not in check.content + repair.content


@pytest.mark.django_db(databases=BOTH)
def test_repair_refused_to_staff_without_permission() -> None:
    audit_pair(9, action="changed")
    client = client_for(UserFactory(perms=["migration.change_phase"]))

    confirm = client.get(reverse(REPAIR), {"model": "core.SecurityAuditLog", "pk": "9"})
    done = client.post(
        reverse(REPAIR), {"model": "core.SecurityAuditLog", "pk": "9", "confirm": "yes"}
    )

    assert (confirm.status_code, done.status_code) == (403, 403)


@pytest.mark.django_db(databases=BOTH)
def test_repair_asks_for_confirmation_then_repairs_and_logs() -> None:
    audit_pair(12, user_id="wrong@example.com")
    user = UserFactory(perms=["migration.repair_rows", "core.view_securityauditlog"])
    client = client_for(user)

    confirm = client.get(reverse(REPAIR), {"model": "core.SecurityAuditLog", "pk": "12"})
    untouched = spotcheck.compare_row(SecurityAuditLog, 12).differs
    done = client.post(
        reverse(REPAIR), {"model": "core.SecurityAuditLog", "pk": "12", "confirm": "yes"}
    )

    assert confirm.status_code == 200 and 'id="confirm-repair"' in confirm.content.decode()
    assert "differs in user_id" in confirm.content.decode()
    assert untouched
    assert done.status_code == 200
    assert "Repaired security_audit_logs on default: updated 12" in done.content.decode()
    assert not done.context["differing"]
    assert (
        LogEntry.objects.get().get_change_message()
        == "Repaired security_audit_logs on default: updated 12"
    )
    assert ValidationRepair.objects.get(action="update").pk_value == "12"


@pytest.mark.django_db(databases=BOTH, transaction=True)
@pytest.mark.usefixtures("cutover_state")
def test_repair_confirmation_in_phase_three_names_the_secondary_and_writes_only_there() -> None:
    set_phase(Phase.DUAL_WRITE)
    written = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
    pks = [MarketSource.objects.create(source_key=key, source_name=key, source_type="web",
                                       created_at=written, updated_at=written).pk for key in ("a", "b", "c")]
    set_phase(Phase.POSTGRES_PRIMARY)
    with fence.lifted("sqlite"), connections["sqlite"].cursor() as cursor:  # every copy stamped, as a trigger would
        cursor.execute("UPDATE market_sources SET updated_at = '2026-01-01 00:00:00'")
    client = client_for(UserFactory(perms=["migration.repair_rows", "core.view_marketsource"]))
    query = {"model": "core.MarketSource", "pk": [str(pk) for pk in pks]}

    confirm = client.get(reverse(REPAIR), query).content.decode()
    assert spotcheck.compare_row(MarketSource, pks[0]).differs  # asking wrote nothing
    done = client.post(reverse(REPAIR), {**query, "confirm": "yes"})

    assert "3 rows will change on sqlite</strong> (3 updated)" in confirm
    assert "nothing is written on default" in confirm and 'value="Yes, repair sqlite"' in confirm
    assert "differ in updated_at only. That looks systematic" in confirm
    assert f"Repaired market_sources on sqlite: updated {', '.join(map(str, pks))}" in done.content.decode()
    assert {s.updated_at for s in MarketSource.objects.using("default").filter(pk__in=pks)} == {written}
    assert {s.updated_at for s in MarketSource.objects.using("sqlite").filter(pk__in=pks)} == {written}


@pytest.mark.django_db(databases=BOTH, transaction=True)
@pytest.mark.usefixtures("cutover_state")
def test_repair_confirmation_in_phase_four_refuses_and_offers_no_button() -> None:
    set_phase(Phase.FINALIZED)
    client = client_for(UserFactory(perms=["migration.repair_rows", "core.view_marketsource"]))

    confirm = client.get(reverse(REPAIR), {"model": "core.MarketSource", "pk": "1"}).content.decode()

    assert 'id="repair-refused"' in confirm and "rollback --reverse-copy" in confirm
    assert 'id="confirm-repair"' not in confirm


# --- Database toggle on the legacy models' changelists ---------------------------------------


def other_alias(primary: str) -> str:
    return conf.target_alias() if primary == conf.source_alias() else conf.source_alias()


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.urls("tests.support.toggle_urls")
def test_changelist_toggle_shows_each_database() -> None:
    insert(
        "sqlite", "security_audit_logs", id=501, user_id="only-in-sqlite@example.com", action="a"
    )
    insert(
        "default", "security_audit_logs", id=502, user_id="only-in-postgres@example.com", action="b"
    )
    client = client_for(UserFactory(is_superuser=True))
    url = reverse("toggle:core_securityauditlog_changelist")

    on_sqlite = client.get(url, {"db": "sqlite"}).content.decode()
    on_postgres = client.get(url, {"db": "default"}).content.decode()

    assert (
        "only-in-sqlite@example.com" in on_sqlite
        and "only-in-postgres@example.com" not in on_sqlite
    )
    assert (
        "only-in-postgres@example.com" in on_postgres
        and "only-in-sqlite@example.com" not in on_postgres
    )


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.urls("tests.support.toggle_urls")
def test_changelist_toggle_non_primary_side_is_read_only() -> None:
    primary = console.primary_alias(SecurityAuditLog)
    secondary = other_alias(primary)
    for alias in (primary, secondary):
        insert(alias, "security_audit_logs", id=601, user_id="u@example.com", action="before")
    client = client_for(UserFactory(is_superuser=True))
    change_url = reverse("toggle:core_securityauditlog_change", args=[601])
    changelist_url = reverse("toggle:core_securityauditlog_changelist")

    read_only = client.get(changelist_url, {"db": secondary})
    writable = client.get(changelist_url, {"db": primary})
    view = client.get(change_url, {"_changelist_filters": f"db={secondary}"})
    post = client.post(
        change_url + f"?_changelist_filters=db%3D{secondary}",
        {"user_id": "u@example.com", "action": "after", "success": "1"},
    )

    assert read_only.context["has_add_permission"] is False
    assert "read-only" in read_only.content.decode()
    assert writable.context["has_add_permission"] is True
    assert view.status_code == 200 and view.context["has_change_permission"] is False
    assert post.status_code == 403
    with connections[secondary].cursor() as cursor:
        cursor.execute("SELECT action FROM security_audit_logs WHERE id = 601")
        assert cursor.fetchone() == ("before",)


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.urls("tests.support.toggle_urls")
def test_changelist_toggle_table_absent_on_source_shows_nothing() -> None:
    # memberships was declared by the legacy code but never created in its database.
    client = client_for(UserFactory(is_superuser=True))

    response = client.get(reverse("toggle:core_membership_changelist"), {"db": "sqlite"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    assert "Memberships does not exist on &#x27;sqlite&#x27;" in response.content.decode()


# --- No secret ever appears ------------------------------------------------------------------


@pytest.mark.django_db(databases=BOTH)
@pytest.mark.urls("tests.support.toggle_urls")
@pytest.mark.usefixtures("fresh_flags")
def test_console_pages_never_show_the_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "Pa55-w0rd-never-shown"
    url = f"postgres://cutover:{secret}@db.internal.example:5432/procheff"
    settings_dict = connections["default"].settings_dict
    monkeypatch.setitem(settings_dict, "PASSWORD", secret)
    monkeypatch.setitem(os.environ, "DATABASE_URL", url)
    audit_pair(10, user_id="other@example.com")
    client = client_for(UserFactory(is_superuser=True))

    pages = [
        client.get(reverse("admin:index")),
        client.get(reverse(CONSOLE)),
        client.get(reverse(SPOTCHECK), {"model": "core.SecurityAuditLog", "pk": "10"}),
        client.get(reverse(SPOTCHECK), {"model": "core.SecurityAuditLog", "sample": "3"}),
        client.get(reverse(REPAIR), {"model": "core.SecurityAuditLog", "pk": "10"}),
        client.post(reverse(PHASE), {"action": "advance"}, follow=True),
        client.get(reverse("toggle:core_securityauditlog_changelist"), {"db": "sqlite"}),
        client.get(reverse("toggle:core_securityauditlog_changelist"), {"db": "default"}),
    ]

    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert secret not in html
        assert "db.internal.example" not in html
        assert "postgres://" not in html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "connect postgres://u:Pa55@h:5432/d failed",
            "connect postgres://u:********@h:5432/d failed",
        ),
        ("no credentials here", "no credentials here"),
    ],
)
def test_redact_removes_url_credentials(text: str, expected: str) -> None:
    assert console.redact(text) == expected


def test_redact_removes_configured_passwords(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(connections["default"].settings_dict, "PASSWORD", "hunter2-xyz")

    assert (
        console.redact('FATAL: password "hunter2-xyz" rejected')
        == 'FATAL: password "********" rejected'
    )


def test_console_model_has_only_the_dedicated_permissions() -> None:
    assert CutoverConsole._meta.permissions == [
        ("change_phase", "Can advance or roll back the cutover phase"),
        ("repair_rows", "Can send differing rows to repair from the spot check"),
    ]
    assert CutoverConsole._meta.default_permissions == ()


@pytest.mark.django_db(databases=BOTH)
def test_core_admin_changelists_render_on_both_databases() -> None:
    from django.apps import apps
    from django.contrib import admin as django_admin

    from migration.admin import MigratedModelAdmin

    audit_pair(700, user_id="changed@example.com")
    client = client_for(UserFactory(is_superuser=True))
    models_ = list(apps.get_app_config("core").get_models())

    for model in models_:
        assert isinstance(django_admin.site._registry[model], MigratedModelAdmin), model
        url = reverse(f"admin:core_{model._meta.model_name}_changelist")
        for alias in BOTH:
            response = client.get(url, {"db": alias})
            assert response.status_code == 200, (model, alias)
    sqlite_side = client.get(reverse("admin:core_securityauditlog_changelist"), {"db": "sqlite"})
    postgres_side = client.get(reverse("admin:core_securityauditlog_changelist"), {"db": "default"})
    assert "Ayse@Example.com" in sqlite_side.content.decode()
    assert "changed@example.com" in postgres_side.content.decode()
