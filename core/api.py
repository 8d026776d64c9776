"""The JSON API over the hot legacy tables: logs, semantic cache, tenders, market prices, analyses.

Plain class-based Django views: eight routes do not justify a framework, and Django's ``View``
already gives method dispatch, HEAD and OPTIONS. Every response is JSON, errors included.

The database router decides which alias serves each request, so these views never name one.
A read that precedes a write of the same row (PATCH, the cache upsert) asks the router for the
*write* alias, so it sees the row it is about to change even while reads are split between two
databases.

Authentication: every request, to any path under /api/, carries ``Authorization: Bearer <key>``
(``core.api_keys``); a missing, unknown, revoked or expired key is a 401, a key without the scope
``<resource>:read`` (GET, HEAD, OPTIONS) or ``<resource>:write`` (the rest) a 403, both JSON with a
``WWW-Authenticate`` challenge. The key is checked before the method and the body, so nothing about
a route is told to a client without a key. Every response says how long the check took in a
``Server-Timing: auth;dur=<ms>`` header (read by the load test).

CSRF: these endpoints serve non-browser clients (the legacy app's workers and scripts) that send
JSON without cookies, and a key travels only in a header a browser never adds on its own, so there
is no ambient credential for a cross-site request to abuse; they are exempted explicitly
(``csrf_exempt`` on ``JsonView.dispatch``). Any future cookie-authenticated browser route must not
inherit from ``JsonView``.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.db import IntegrityError, models, router
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from core import api_keys, ids
from core.fields import LegacyDateTimeField, LegacyValueError
from core.forms import (
    AnalysisCreateForm,
    AnalysisPatchForm,
    AnalysisStatus,
    LogCreateForm,
    LogQueryForm,
    MarketPriceQueryForm,
    SemanticCachePutForm,
    TenderQueryForm,
    validate_prompt_hash,
)
from core.models import AnalysisHistory, Log, MarketPrice, SemanticCacheEntry, Tender

# Request bodies are small JSON documents; anything larger is a client bug, not a payload.
MAX_BODY_BYTES = 1_000_000


class ApiError(Exception):
    """An error the client should see as a JSON body with an HTTP status."""

    def __init__(
        self, status: int, message: str, fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields
        self.headers = headers

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"error": self.message}
        if self.fields:
            body["fields"] = self.fields
        return JsonResponse(body, status=self.status, headers=self.headers)


def invalid(form: forms.Form) -> ApiError:
    """A 400 naming each invalid field (``__all__`` for errors about the request as a whole)."""
    fields = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    return ApiError(400, "Invalid request.", fields)


def json_value(value: Any) -> Any:
    """A model value as JSON: instants in ISO 8601 UTC with 'Z', dates in ISO 8601."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def as_json(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The listed fields of ``instance`` as a JSON object."""
    return {name: json_value(getattr(instance, name)) for name in fields}


def write_manager(model: type[models.Model]) -> models.Manager[Any]:
    """The model's manager on the alias the router would write to (read-your-own-writes)."""
    return model._default_manager.db_manager(router.db_for_write(model))


def at_column_precision(model: type[models.Model], field: str, value: dt.datetime) -> dt.datetime:
    """``value`` at the precision the legacy column holds (whole seconds or milliseconds).

    Legacy fields truncate only their own defaults; an instant the API sets itself must be cut
    here, or a whole-second column would get an ISO-Z string with microseconds on SQLite, and the
    two databases would hold different instants.
    """
    return cast(LegacyDateTimeField, model._meta.get_field(field)).truncate(value)


def truncated_now(model: type[models.Model], field: str) -> dt.datetime:
    """Now, at the precision the legacy column holds."""
    return at_column_precision(model, field, timezone.now())


def listing(
    request: HttpRequest,
    form_class: type[forms.Form],
    queryset: models.QuerySet[Any],
    fields: Iterable[str],
    filters: dict[str, str],
) -> JsonResponse:
    """A page of ``queryset`` narrowed by the query's non-empty ``filters`` (form field -> ORM lookup)."""
    form = form_class(request.GET)
    if not form.is_valid():
        raise invalid(form)
    data = form.cleaned_data
    narrowed = {lookup: data[name] for name, lookup in filters.items() if data[name]}
    return page(request, queryset.filter(**narrowed), fields, data["limit"], data["offset"])


def page(
    request: HttpRequest, queryset: models.QuerySet[Any], fields: Iterable[str], limit: int, offset: int
) -> JsonResponse:
    """One page of ``queryset`` plus the URL of the next page, fetched with one extra row."""
    rows = list(queryset[offset : offset + limit + 1])
    more = len(rows) > limit
    next_url = None
    if more:
        query = request.GET.copy()
        query["offset"] = str(offset + limit)
        query["limit"] = str(limit)
        next_url = f"{request.path}?{urlencode(sorted(query.items()))}"
    return JsonResponse(
        {
            "results": [as_json(row, fields) for row in rows[:limit]],
            "limit": limit,
            "offset": offset,
            "next": next_url,
        }
    )


@method_decorator(csrf_exempt, name="dispatch")
class JsonView(View):
    """Key check, then dispatch with JSON errors for bad bodies, unknown rows, wrong methods and unreadable rows."""

    # The first path segment of the view's routes: the ``<resource>`` of the scopes it needs
    # (core.api_keys.RESOURCES). None: any valid key will do (the JSON 404 of unknown paths).
    resource: str | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        started = time.perf_counter()
        try:
            try:
                self.authorize(request)
            finally:
                auth_ms = (time.perf_counter() - started) * 1000
            response = self.serve(request, *args, **kwargs)
        except ApiError as error:
            response = error.response()
        except LegacyValueError as error:
            # A legacy row no known shape explains: a data problem to fix in the file, not a crash.
            response = ApiError(
                500, f"Unreadable legacy value in {error.table}.{error.column}: {error.reason}."
            ).response()
        response["Server-Timing"] = f"auth;dur={auth_ms:.3f}"
        return response

    def authorize(self, request: HttpRequest) -> None:
        """A 401 unless the request carries a valid key; a 403 unless it holds the route's scope.

        A method the view does not serve needs no scope: it is answered with 405 after the key.
        """
        try:
            grant = api_keys.verify(request.headers.get("Authorization"))
            if self.resource is not None and self.serves(request.method or ""):
                grant.require(api_keys.scope(self.resource, request.method or ""))
        except api_keys.KeyRejected as rejected:
            raise ApiError(rejected.status, rejected.message, headers={"WWW-Authenticate": rejected.challenge}) from None

    def serves(self, method: str) -> bool:
        """True when ``method`` has a handler here (as ``View.dispatch`` decides)."""
        return method.lower() in self.http_method_names and hasattr(self, method.lower())

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """The request, once its key let it through: Django's method dispatch."""
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = ApiError(405, f"Method {request.method} is not allowed here.").response()
        # Django's own list for the Allow header (View.options uses it); the stubs omit it.
        response["Allow"] = ", ".join(method.upper() for method in self._allowed_methods())  # type: ignore[attr-defined]
        return response

    def json_body(self, request: HttpRequest) -> dict[str, Any]:
        """The request body as a JSON object, or a 400 saying why not."""
        # Checked before reading the body: past Django's own limit, reading it raises a 400 page.
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
            raise ApiError(413, f"Request body exceeds {MAX_BODY_BYTES} bytes.")
        try:
            payload = json.loads(request.body or b"null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, f"Request body is not valid JSON: {exc}.") from exc
        if not isinstance(payload, dict):
            raise ApiError(400, "Request body must be a JSON object.")
        return payload


class NotFoundView(JsonView):
    """Any other path under /api/: a JSON 404 instead of Django's HTML page (after the key check)."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        raise ApiError(404, f"No API endpoint at {request.path}.")


# --- Logs -----------------------------------------------------------------------------------

LOG_FIELDS = ("id", "level", "message", "data", "created_at")


class LogsView(JsonView):
    """``POST /api/logs`` writes one log line; ``GET /api/logs?level=&since=`` lists them, newest first."""

    resource = "logs"

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = Log.objects.order_by("-created_at", "-id")
        return listing(request, LogQueryForm, queryset, LOG_FIELDS, {"level": "level", "since": "created_at__gte"})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = LogCreateForm(self.json_body(request))
        if not form.is_valid():
            raise invalid(form)
        # AILogger stores JSON.stringify(data || {}): never NULL, '{}' when empty.
        data = form.cleaned_data["data"] or {}
        log = Log.objects.create(level=form.cleaned_data["level"], message=form.cleaned_data["message"], data=data)
        return JsonResponse(as_json(log, LOG_FIELDS), status=201)


# --- Semantic cache -------------------------------------------------------------------------

CACHE_FIELDS = (
    "id", "prompt_hash", "prompt_text", "response_data", "model", "temperature", "tokens_used",
    "hit_count", "created_at", "last_accessed", "expires_at",
)


def checked_prompt_hash(prompt_hash: str) -> str:
    try:
        validate_prompt_hash(prompt_hash)
    except forms.ValidationError as exc:
        raise ApiError(400, "Invalid prompt hash.", {"prompt_hash": list(exc.messages)}) from exc
    return prompt_hash


class SemanticCacheView(JsonView):
    """``GET`` returns the live cached answer for a prompt hash and counts the hit; ``PUT`` stores one."""

    resource = "semantic-cache"

    def get(self, request: HttpRequest, prompt_hash: str) -> HttpResponse:
        checked_prompt_hash(prompt_hash)
        now = timezone.now()
        entry = (
            SemanticCacheEntry.objects.filter(prompt_hash=prompt_hash, expires_at__gt=now)
            .order_by("-created_at", "-id")
            .first()
        )
        if entry is None:
            raise ApiError(404, f"No live cache entry for prompt hash {prompt_hash}.")
        # The legacy cache counts hits and stamps last_accessed on every hit; F() keeps concurrent
        # hits from overwriting each other's increment.
        accessed = truncated_now(SemanticCacheEntry, "last_accessed")
        SemanticCacheEntry.objects.filter(pk=entry.pk).update(hit_count=F("hit_count") + 1, last_accessed=accessed)
        entry.hit_count = (entry.hit_count or 0) + 1
        entry.last_accessed = accessed
        return JsonResponse(as_json(entry, CACHE_FIELDS))

    def put(self, request: HttpRequest, prompt_hash: str) -> HttpResponse:
        checked_prompt_hash(prompt_hash)
        form = SemanticCachePutForm(self.json_body(request))
        if not form.is_valid():
            raise invalid(form)
        values = dict(form.cleaned_data)
        expires_at = at_column_precision(SemanticCacheEntry, "expires_at", timezone.now() + values.pop("ttl_seconds"))
        # Entries are keyed by prompt hash but the legacy table has no UNIQUE on it; updating the
        # newest entry (expired or not) keeps one row per hash instead of piling up duplicates.
        entry = write_manager(SemanticCacheEntry).filter(prompt_hash=prompt_hash).order_by("-created_at", "-id").first()
        if entry is None:
            entry = SemanticCacheEntry.objects.create(
                id=ids.new_semantic_cache_id(), prompt_hash=prompt_hash, expires_at=expires_at, **values
            )
            return JsonResponse(as_json(entry, CACHE_FIELDS), status=201)
        for name, value in values.items():
            setattr(entry, name, value)
        entry.expires_at = expires_at
        entry.save(update_fields=[*values, "expires_at"])
        return JsonResponse(as_json(entry, CACHE_FIELDS))


# --- Tenders and market prices --------------------------------------------------------------

TENDER_FIELDS = (
    "id", "tender_number", "title", "organization", "city", "tender_type", "partial_bid_allowed",
    "publish_date", "tender_date", "days_remaining", "url", "status", "created_at", "updated_at",
)
MARKET_PRICE_FIELDS = ("id", "product_key", "raw_query", "unit", "unit_price", "currency", "source", "created_at", "meta")


class TendersView(JsonView):
    """``GET /api/tenders?city=&status=``, newest first."""

    resource = "tenders"

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = Tender.objects.order_by("-created_at", "id")
        return listing(request, TenderQueryForm, queryset, TENDER_FIELDS, {"city": "city", "status": "status"})


class MarketPricesView(JsonView):
    """``GET /api/market-prices?product_key=``, newest first."""

    resource = "market-prices"

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = MarketPrice.objects.order_by("-created_at", "-id")
        return listing(request, MarketPriceQueryForm, queryset, MARKET_PRICE_FIELDS, {"product_key": "product_key"})


# --- Analyses -------------------------------------------------------------------------------

ANALYSIS_FIELDS = (
    "id", "file_name", "file_size", "mime_type", "status", "progress", "current_step", "error",
    "processing_time_ms", "user_id", "input_files", "extracted_fields", "contextual_analysis",
    "market_analysis", "validation", "data_pool", "created_at", "updated_at",
)


class AnalysisCollectionView(JsonView):
    """``POST /api/analysis`` registers an uploaded document, as the upload route does."""

    resource = "analysis"

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AnalysisCreateForm(self.json_body(request))
        if not form.is_valid():
            raise invalid(form)
        values = dict(form.cleaned_data)
        client_id = values.pop("id")
        analysis_id = client_id or ids.new_analysis_id()
        # A generated id is new (ms clock plus 46 random bits); only a client's own id can be taken.
        if client_id and write_manager(AnalysisHistory).filter(pk=client_id).exists():
            raise ApiError(409, f"Analysis {client_id} already exists.")
        now = timezone.now()
        try:
            # The upload route writes created_at with toISOString() (milliseconds, ISO-Z) and
            # updated_at from the column default (whole seconds).
            analysis = AnalysisHistory.objects.create(
                id=analysis_id,
                created_at=at_column_precision(AnalysisHistory, "created_at", now),
                updated_at=at_column_precision(AnalysisHistory, "updated_at", now),
                **values,
            )
        except IntegrityError as exc:
            # Two creates with the same id raced past the check above.
            raise ApiError(409, f"Analysis {analysis_id} already exists.") from exc
        response = JsonResponse(as_json(analysis, ANALYSIS_FIELDS), status=201)
        response["Location"] = reverse("core-api:analysis", args=[analysis.pk])
        return response


class AnalysisView(JsonView):
    """``GET`` one analysis; ``PATCH`` its progress and results. A soft-deleted analysis is frozen (409)."""

    resource = "analysis"

    def get(self, request: HttpRequest, analysis_id: str) -> HttpResponse:
        analysis = AnalysisHistory.objects.filter(pk=analysis_id).first()
        if analysis is None:
            raise ApiError(404, f"No analysis {analysis_id}.")
        return JsonResponse(as_json(analysis, ANALYSIS_FIELDS))

    def patch(self, request: HttpRequest, analysis_id: str) -> HttpResponse:
        form = AnalysisPatchForm(self.json_body(request), partial=True)
        if not form.is_valid():
            raise invalid(form)
        analysis = write_manager(AnalysisHistory).filter(pk=analysis_id).first()
        if analysis is None:
            raise ApiError(404, f"No analysis {analysis_id}.")
        if analysis.status == AnalysisStatus.DELETED:
            raise ApiError(409, f"Analysis {analysis_id} is deleted; it can no longer change.")
        for name, value in form.cleaned_data.items():
            setattr(analysis, name, value)
        analysis.updated_at = truncated_now(AnalysisHistory, "updated_at")
        analysis.save(update_fields=[*form.cleaned_data, "updated_at"])
        return JsonResponse(as_json(analysis, ANALYSIS_FIELDS))
