"""``manage.py api_key``: create prints the key once; list and revoke show names and scopes, never keys."""
from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client

from core import api_keys
from core.models import ApiKey
from migration.phase import Phase
from tests.support.cutover import cutover_state, set_phase  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db(databases=["default", "sqlite"]), pytest.mark.usefixtures("cutover_state")]


@pytest.fixture(autouse=True)
def no_memo() -> Any:
    api_keys.forget()
    yield
    api_keys.forget()


def run(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command("api_key", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def raw_row(alias: str, pk: int) -> tuple[Any, ...]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT * FROM api_keys WHERE id = %s", [pk])
        return cursor.fetchone()


def test_api_key_create_prints_the_key_once_and_stores_its_hash() -> None:
    out = run("create", "--name", "ci bot", "--scope", "logs:write", "tenders:read", "--scope", "logs:read",
              "--created-by", "ops@example.com")

    key = out.strip().splitlines()[-1]
    assert api_keys.KEY_PATTERN.fullmatch(key)
    assert out.count(key) == 1
    row = ApiKey.objects.using("sqlite").get()
    assert row.name == "ci bot" and row.created_by == "ops@example.com"
    assert row.permissions == ["logs:read", "logs:write", "tenders:read"]
    assert row.key_hash == api_keys.hash_key(key) and row.key_hash not in out
    assert key not in repr(raw_row("sqlite", row.pk))
    assert "logs:read logs:write tenders:read" in out and row.key_preview in out


def test_api_key_create_issues_a_key_the_api_accepts() -> None:
    key = run("create", "--name", "reader", "--scope", "tenders:read", verbosity=0).strip()

    client = Client(headers={"Authorization": f"Bearer {key}"})
    assert client.get("/api/tenders").status_code == 200
    assert client.get("/api/logs").status_code == 403


def test_api_key_create_json_holds_the_key_and_the_expiry() -> None:
    result = json.loads(run("create", "--name", "j", "--scope", "logs:read", "--expires-at", "2031-05-01T12:30:00+03:00", "--json"))

    assert api_keys.hash_key(result["key"]) == ApiKey.objects.using("sqlite").get(pk=result["id"]).key_hash
    assert result["expires_at"] == "2031-05-01T09:30:00+00:00"
    assert result["scopes"] == ["logs:read"] and result["status"] == "active"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "logs:erase"], "Unknown scope logs:erase"),
        (["--scope", "tenders:write"], "Unknown scope tenders:write"),
        (["--scope", "logs:read", "--expires-at", "2001-01-01"], "not in the future"),
        (["--scope", "logs:read", "--expires-at", "next week"], "not an ISO 8601 date"),
        (["--scope", "logs:read", "--expires-at", "2030-02-30"], "not an ISO 8601 date"),
    ],
)
def test_api_key_create_refuses_bad_requests_with_exit_2(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as raised:
        run("create", "--name", "bad", *args)

    assert raised.value.returncode == 2
    assert not ApiKey.objects.using("sqlite").exists()


def test_api_key_list_shows_names_previews_and_scopes_never_keys_or_hashes() -> None:
    _, first = api_keys.issue("first", ["logs:read"])
    revoked, second = api_keys.issue("second", ["tenders:read", "market-prices:read"])
    api_keys.revoke(key_id=revoked.pk)

    out = run("list")
    listed = json.loads(run("list", "--json"))

    lines = out.splitlines()
    assert len(lines) == 2
    assert "'first'" in lines[0] and "active" in lines[0] and "logs:read" in lines[0]
    assert "'second'" in lines[1] and "revoked" in lines[1] and "market-prices:read tenders:read" in lines[1]
    assert [item["name"] for item in listed] == ["first", "second"]
    assert set(listed[0]) == {"id", "name", "key_preview", "scopes", "status", "expires_at", "created_by", "created_at"}
    for secret in (first, second, api_keys.hash_key(first), api_keys.hash_key(second)):
        assert secret not in out and secret not in json.dumps(listed)


def test_api_key_revoke_by_id_and_by_name() -> None:
    one, _ = api_keys.issue("worker", ["logs:read"])
    two, _ = api_keys.issue("worker", ["logs:write"])
    other, _ = api_keys.issue("other", ["logs:read"])

    by_id = run("revoke", str(other.pk))
    by_name = run("revoke", "--name", "worker")

    assert "'other'" in by_id and "Revoked 1 key(s)" in by_id and "up to 5 s" in by_id
    assert "Revoked 2 key(s)" in by_name and "logs:write" in by_name
    assert list(ApiKey.objects.using("sqlite").order_by("id").values_list("active", flat=True)) == [False, False, False]
    assert {one.pk, two.pk} == {item["id"] for item in json.loads(run("list", "--json")) if item["name"] == "worker"}


@pytest.mark.parametrize(("args", "returncode"), [(["999"], 1), (["--name", "nobody"], 1), ([], 2), (["1", "--name", "x"], 2)])
def test_api_key_revoke_of_nothing_fails(args: list[str], returncode: int) -> None:
    with pytest.raises(CommandError) as raised:
        run("revoke", *args)

    assert raised.value.returncode == returncode


def test_api_key_revoke_twice_says_the_key_is_not_active() -> None:
    row, _ = api_keys.issue("once", ["logs:read"])
    run("revoke", str(row.pk))

    with pytest.raises(CommandError, match=f"No active API key with id {row.pk}"):
        run("revoke", str(row.pk))


@pytest.mark.django_db(databases=["default", "sqlite"], transaction=True)  # the mirror runs after commit
def test_api_key_created_in_phase_1_is_mirrored_to_postgres() -> None:
    set_phase(Phase.DUAL_WRITE)

    result = json.loads(run("create", "--name", "mirrored", "--scope", "logs:read", "--json"))

    rows = [ApiKey.objects.using(alias).get(pk=result["id"]) for alias in ("sqlite", "default")]
    assert {(row.key_hash, row.key_preview, tuple(row.permissions)) for row in rows} == {
        (api_keys.hash_key(result["key"]), result["key_preview"], ("logs:read",))
    }
