"""The JSON API against both databases: each test runs once served by SQLite and once by PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from core import ids
from core.models import AnalysisHistory, Log, SemanticCacheEntry
from migration.phase import Phase
from tests.core.api_factories import (
    AnalysisHistoryFactory,
    LogFactory,
    MarketPriceFactory,
    SemanticCacheEntryFactory,
    TenderFactory,
    prompt_hash,
)
from tests.support.cutover import cutover_state, set_phase  # noqa: F401

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

UTC = dt.UTC
SQLITE_TS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def post(api: Client, url: str, body: Any) -> Any:
    return api.post(url, data=json.dumps(body), content_type="application/json")


def put(api: Client, url: str, body: Any) -> Any:
    return api.put(url, data=json.dumps(body), content_type="application/json")


def patch(api: Client, url: str, body: Any) -> Any:
    return api.patch(url, data=json.dumps(body), content_type="application/json")


def raw(alias: str, sql: str, *params: Any) -> tuple[Any, ...]:
    """One row as stored, to check the legacy shapes the ORM wrote."""
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


# --- Logs -----------------------------------------------------------------------------------


def test_logs_post_creates_a_row_in_the_legacy_shape(api: Client, served_by: str) -> None:
    response = post(api, "/api/logs", {"level": "warn", "message": "quota low", "data": {"left": 3}})

    assert response.status_code == 201
    body = response.json()
    assert body["level"] == "warn" and body["data"] == {"left": 3}
    log = Log.objects.using(served_by).get(pk=body["id"])
    assert log.message == "quota low"
    if served_by == "sqlite":
        data, created_at = raw("sqlite", "SELECT data, created_at FROM logs WHERE id = %s", body["id"])
        assert data == '{"left":3}'
        assert SQLITE_TS.match(created_at)


def test_logs_post_stores_an_empty_object_when_data_is_missing(api: Client, served_by: str) -> None:
    response = post(api, "/api/logs", {"level": "info", "message": "started"})

    assert response.status_code == 201
    assert Log.objects.using(served_by).get(pk=response.json()["id"]).data == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "no level"}, "level"),
        ({"level": "debug", "message": "unknown level"}, "level"),
        ({"level": "info"}, "message"),
        ({"level": "info", "message": 42}, "message"),
        ({"level": "info", "message": "x", "data": [1, 2]}, "data"),
        ({"level": "info", "message": "x", "extra": 1}, "__all__"),
    ],
)
def test_logs_post_rejects_invalid_bodies(api: Client, served_by: str, body: dict[str, Any], field: str) -> None:
    response = post(api, "/api/logs", body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Log.objects.using(served_by).exists()


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"", b"\"text\""])
def test_logs_post_rejects_a_body_that_is_not_a_json_object(api: Client, served_by: str, payload: bytes) -> None:
    response = api.post("/api/logs", data=payload, content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()


def test_logs_get_filters_by_level_and_since_newest_first(api: Client, served_by: str) -> None:
    base = dt.datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
    old = LogFactory(level="error", created_at=base - dt.timedelta(days=1))
    first = LogFactory(level="error", created_at=base)
    second = LogFactory(level="error", created_at=base + dt.timedelta(minutes=5))
    LogFactory(level="info", created_at=base + dt.timedelta(minutes=6))

    response = api.get("/api/logs", {"level": "error", "since": "2025-11-01T12:00:00Z"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [second.pk, first.pk]
    assert old.pk not in [row["id"] for row in response.json()["results"]]
    assert response.json()["results"][0]["created_at"] == "2025-11-01T12:05:00Z"


def test_logs_get_pages_with_limit_and_a_next_link(api: Client, served_by: str) -> None:
    logs = LogFactory.create_batch(5)

    first = api.get("/api/logs", {"limit": 2}).json()
    second = api.get(first["next"]).json()
    last = api.get(api.get(second["next"]).json()["next"] or "/api/logs?offset=4&limit=2").json()

    newest_first = [log.pk for log in reversed(logs)]
    assert [row["id"] for row in first["results"]] == newest_first[:2]
    assert [row["id"] for row in second["results"]] == newest_first[2:4]
    assert [row["id"] for row in last["results"]] == newest_first[4:]
    assert last["next"] is None


@pytest.mark.parametrize(
    "query",
    [{"level": "debug"}, {"since": "yesterday"}, {"limit": "0"}, {"limit": "201"}, {"offset": "-1"}, {"levle": "info"}],
)
def test_logs_get_rejects_invalid_queries(api: Client, served_by: str, query: dict[str, str]) -> None:
    response = api.get("/api/logs", query)

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request."


def test_logs_post_rejects_an_oversized_body_with_413(api: Client, served_by: str) -> None:
    response = post(api, "/api/logs", {"level": "info", "message": "x" * 1_100_000})

    assert response.status_code == 413
    assert "error" in response.json()
    assert not Log.objects.using(served_by).exists()


@pytest.mark.parametrize("path", ["/api/nothing", "/api/logs/", "/api/tenders/1"])
def test_api_unknown_paths_are_json_404(api: Client, served_by: str, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert path in response.json()["error"]


def test_logs_reject_other_methods_with_json_and_allow(api: Client, served_by: str) -> None:
    response = api.delete("/api/logs")

    assert response.status_code == 405
    assert "DELETE" in response.json()["error"]
    assert set(response["Allow"].split(", ")) >= {"GET", "POST"}


# --- Semantic cache -------------------------------------------------------------------------

CACHE_BODY = {
    "prompt_text": "Ankara hastane yemek ihalesi maliyet özeti",
    "response_data": {"summary": "ok", "items": [1, 2]},
    "model": "claude-sonnet",
    "temperature": 0.2,
    "tokens_used": 321,
}


def test_semantic_cache_put_creates_an_entry_with_a_legacy_id(api: Client, served_by: str) -> None:
    key = prompt_hash("a prompt")

    response = put(api, f"/api/semantic-cache/{key}", {**CACHE_BODY, "ttl_seconds": 3600})

    assert response.status_code == 201
    body = response.json()
    assert ids.SEMANTIC_CACHE_ID.match(body["id"])
    entry = SemanticCacheEntry.objects.using(served_by).get(pk=body["id"])
    assert entry.prompt_hash == key and entry.response_data == CACHE_BODY["response_data"]
    assert dt.timedelta(minutes=59) < entry.expires_at - dt.datetime.now(UTC) <= dt.timedelta(hours=1)
    if served_by == "sqlite":
        response_data, expires_at, created_at = raw(
            "sqlite", "SELECT response_data, expires_at, created_at FROM semantic_cache WHERE id = %s", body["id"]
        )
        assert response_data == '{"summary":"ok","items":[1,2]}'
        assert ISO_Z.match(expires_at)
        assert SQLITE_TS.match(created_at)


def test_semantic_cache_put_updates_the_entry_of_a_known_hash(api: Client, served_by: str) -> None:
    existing = SemanticCacheEntryFactory()

    response = put(api, f"/api/semantic-cache/{existing.prompt_hash}", {**CACHE_BODY, "tokens_used": 7})

    assert response.status_code == 200
    assert response.json()["id"] == existing.pk
    assert SemanticCacheEntry.objects.using(served_by).count() == 1
    assert SemanticCacheEntry.objects.using(served_by).get().tokens_used == 7


def test_semantic_cache_get_returns_the_live_entry_and_counts_the_hit(api: Client, served_by: str) -> None:
    entry = SemanticCacheEntryFactory(hit_count=2)

    response = api.get(f"/api/semantic-cache/{entry.prompt_hash}")

    assert response.status_code == 200
    assert response.json()["response_data"] == {"answer": "42"}
    assert response.json()["hit_count"] == 3
    stored = SemanticCacheEntry.objects.using(served_by).get(pk=entry.pk)
    assert stored.hit_count == 3
    assert stored.last_accessed.microsecond == 0
    if served_by == "sqlite":
        (last_accessed,) = raw("sqlite", "SELECT last_accessed FROM semantic_cache WHERE id = %s", entry.pk)
        assert SQLITE_TS.match(last_accessed)


def test_semantic_cache_get_is_404_for_unknown_and_expired_hashes(api: Client, served_by: str) -> None:
    expired = SemanticCacheEntryFactory(expires_at=dt.datetime.now(UTC) - dt.timedelta(seconds=1))

    assert api.get(f"/api/semantic-cache/{prompt_hash('never stored')}").status_code == 404
    response = api.get(f"/api/semantic-cache/{expired.prompt_hash}")
    assert response.status_code == 404
    assert "error" in response.json()
    assert SemanticCacheEntry.objects.using(served_by).get(pk=expired.pk).hit_count == 0


def test_semantic_cache_rejects_a_malformed_hash(api: Client, served_by: str) -> None:
    for response in (api.get("/api/semantic-cache/NOT-A-HASH"), put(api, "/api/semantic-cache/NOT-A-HASH", CACHE_BODY)):
        assert response.status_code == 400
        assert "prompt_hash" in response.json()["fields"]
    assert not SemanticCacheEntry.objects.using(served_by).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 3.5}, "temperature"),
        ({"tokens_used": -1}, "tokens_used"),
        ({"tokens_used": 1.5}, "tokens_used"),
        ({"model": None}, "model"),
        ({"response_data": None}, "response_data"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
    ],
)
def test_semantic_cache_put_rejects_invalid_bodies(api: Client, served_by: str, change: dict[str, Any], field: str) -> None:
    response = put(api, f"/api/semantic-cache/{prompt_hash('x')}", {**CACHE_BODY, **change})

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not SemanticCacheEntry.objects.using(served_by).exists()


# --- Tenders and market prices --------------------------------------------------------------


def test_tenders_get_filters_by_city_and_status(api: Client, served_by: str) -> None:
    wanted = TenderFactory(city="İzmir", status="active", publish_date=None)
    TenderFactory(city="İzmir", status="archived")
    TenderFactory(city="Ankara", status="active")

    response = api.get("/api/tenders", {"city": "İzmir", "status": "active"})

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == wanted.pk
    assert row["publish_date"] is None and row["tender_date"] == "2025-12-01"
    assert row["partial_bid_allowed"] is False


def test_tenders_get_rejects_an_unknown_status(api: Client, served_by: str) -> None:
    response = api.get("/api/tenders", {"status": "open"})

    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_market_prices_get_filters_by_product_key_newest_first(api: Client, served_by: str) -> None:
    older = MarketPriceFactory(product_key="pirinc", created_at=dt.datetime(2025, 8, 1, tzinfo=UTC))
    newer = MarketPriceFactory(product_key="pirinc", created_at=dt.datetime(2025, 8, 2, 10, 30, tzinfo=UTC))
    MarketPriceFactory(product_key="mercimek")

    response = api.get("/api/market-prices", {"product_key": "pirinc"})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [newer.pk, older.pk]
    assert rows[1]["created_at"] == "2025-08-01T00:00:00Z"
    assert rows[0]["unit_price"] == pytest.approx(189.9)


# --- Analyses -------------------------------------------------------------------------------


def test_analysis_post_creates_a_pending_analysis_with_a_legacy_id(api: Client, served_by: str) -> None:
    response = post(api, "/api/analysis", {"file_name": "sartname.pdf", "file_size": 2048, "input_files": [{"name": "sartname.pdf"}]})

    assert response.status_code == 201
    body = response.json()
    assert ids.ANALYSIS_ID.match(body["id"])
    assert response["Location"] == f"/api/analysis/{body['id']}"
    analysis = AnalysisHistory.objects.using(served_by).get(pk=body["id"])
    assert analysis.status == "pending" and analysis.input_files == [{"name": "sartname.pdf"}]
    if served_by == "sqlite":
        created_at, updated_at = raw("sqlite", "SELECT created_at, updated_at FROM analysis_history WHERE id = %s", body["id"])
        assert ISO_Z.match(created_at) or SQLITE_TS.match(created_at)
        assert SQLITE_TS.match(updated_at)


def test_analysis_post_with_a_taken_id_is_a_conflict(api: Client, served_by: str) -> None:
    existing = AnalysisHistoryFactory()

    response = post(api, "/api/analysis", {"id": existing.pk, "file_name": "again.pdf"})

    assert response.status_code == 409
    assert existing.pk in response.json()["error"]
    assert AnalysisHistory.objects.using(served_by).get(pk=existing.pk).file_name != "again.pdf"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "file_name"),
        ({"file_name": "a.pdf", "id": "analysis_1"}, "id"),
        ({"file_name": "a.pdf", "status": "done"}, "status"),
        ({"file_name": "a.pdf", "file_size": "big"}, "file_size"),
        ({"file_name": "a.pdf", "input_files": {"a": 1}}, "input_files"),
    ],
)
def test_analysis_post_rejects_invalid_bodies(api: Client, served_by: str, body: dict[str, Any], field: str) -> None:
    response = post(api, "/api/analysis", body)

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_analysis_patch_changes_only_the_sent_fields(api: Client, served_by: str) -> None:
    analysis = AnalysisHistoryFactory(current_step="upload")

    response = patch(api, f"/api/analysis/{analysis.pk}", {"status": "processing", "progress": 40, "extracted_fields": {"kisi": 250}})

    assert response.status_code == 200
    stored = AnalysisHistory.objects.using(served_by).get(pk=analysis.pk)
    assert (stored.status, stored.progress, stored.extracted_fields) == ("processing", 40, {"kisi": 250})
    assert stored.current_step == "upload" and stored.file_name == analysis.file_name
    assert response.json()["progress"] == 40
    assert api.get(f"/api/analysis/{analysis.pk}").json()["status"] == "processing"


def test_analysis_patch_of_a_deleted_analysis_is_a_conflict(api: Client, served_by: str) -> None:
    analysis = AnalysisHistoryFactory(status="deleted")

    response = patch(api, f"/api/analysis/{analysis.pk}", {"status": "processing"})

    assert response.status_code == 409
    assert AnalysisHistory.objects.using(served_by).get(pk=analysis.pk).status == "deleted"


def test_analysis_patch_and_get_of_an_unknown_id_are_404(api: Client, served_by: str) -> None:
    missing = ids.new_analysis_id()

    assert patch(api, f"/api/analysis/{missing}", {"progress": 1}).status_code == 404
    assert api.get(f"/api/analysis/{missing}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "__all__"), ({"progress": 101}, "progress"), ({"status": None}, "status"), ({"file_name": "x"}, "__all__")],
)
def test_analysis_patch_rejects_invalid_bodies(api: Client, served_by: str, body: dict[str, Any], field: str) -> None:
    analysis = AnalysisHistoryFactory()

    response = patch(api, f"/api/analysis/{analysis.pk}", body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert AnalysisHistory.objects.using(served_by).get(pk=analysis.pk).status == "pending"


def test_analysis_collection_rejects_get_with_405(api: Client, served_by: str) -> None:
    response = api.get("/api/analysis")

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


# --- Through the real cutover router --------------------------------------------------------


@pytest.fixture
def real_router(cutover_state: None) -> None:
    """The project's CutoverRouter (not the pinned one), with clean switches, caches and outbox."""


def write_everything(api: Client) -> dict[str, str]:
    """One write of each kind through the API; returns the primary keys it acknowledged."""
    log = post(api, "/api/logs", {"level": "info", "message": "through the router"})
    entry = put(api, f"/api/semantic-cache/{prompt_hash('routed')}", CACHE_BODY)
    analysis = post(api, "/api/analysis", {"file_name": "routed.pdf"})
    assert (log.status_code, entry.status_code, analysis.status_code) == (201, 201, 201)
    assert patch(api, f"/api/analysis/{analysis.json()['id']}", {"status": "processing", "progress": 5}).status_code == 200
    assert api.get(f"/api/semantic-cache/{prompt_hash('routed')}").status_code == 200
    return {"log": log.json()["id"], "entry": entry.json()["id"], "analysis": analysis.json()["id"]}


@pytest.mark.usefixtures("real_router")
def test_api_in_phase_0_serves_from_sqlite_alone(api: Client) -> None:
    set_phase(Phase.SQLITE)

    keys = write_everything(api)

    assert Log.objects.using("sqlite").filter(pk=keys["log"]).exists()
    assert not Log.objects.using("default").filter(pk=keys["log"]).exists()
    assert AnalysisHistory.objects.using("sqlite").get(pk=keys["analysis"]).status == "processing"
    assert not AnalysisHistory.objects.using("default").filter(pk=keys["analysis"]).exists()


@pytest.mark.usefixtures("real_router", "cutover_state")
@pytest.mark.django_db(databases=["default", "sqlite"], transaction=True)  # mirrors run after commit
@pytest.mark.parametrize(
    ("target", "primary"),
    [(Phase.DUAL_WRITE, "sqlite"), (Phase.READ_ROLLOUT, "sqlite"), (Phase.POSTGRES_PRIMARY, "default")],
)
def test_api_writes_land_on_both_databases_while_dual_writing(
    api: Client, target: Phase, primary: str
) -> None:
    set_phase(target, 100.0 if target == Phase.READ_ROLLOUT else None)

    keys = write_everything(api)

    for alias in ("sqlite", "default"):
        assert Log.objects.using(alias).get(pk=keys["log"]).message == "through the router"
        entry = SemanticCacheEntry.objects.using(alias).get(pk=keys["entry"])
        assert (entry.prompt_hash, entry.hit_count) == (prompt_hash("routed"), 1)
        analysis = AnalysisHistory.objects.using(alias).get(pk=keys["analysis"])
        assert (analysis.status, analysis.progress) == ("processing", 5)
    (data, created_at) = raw("sqlite", "SELECT data, created_at FROM logs WHERE id = %s", keys["log"])
    assert data == "{}" and SQLITE_TS.match(created_at)
