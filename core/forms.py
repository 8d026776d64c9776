"""Validation of the JSON API's request bodies and query strings, with Django forms."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from core.ids import ANALYSIS_ID, PROMPT_HASH

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Offsets beyond this would make every list request a long scan; clients narrow with filters instead.
MAX_OFFSET = 10_000
DEFAULT_CACHE_TTL = dt.timedelta(hours=24)
MAX_CACHE_TTL = dt.timedelta(days=30)


class LogLevel(models.TextChoices):
    """``logs.level`` as AILogger writes it."""

    INFO = "info"
    SUCCESS = "success"
    WARN = "warn"
    ERROR = "error"


class AnalysisStatus(models.TextChoices):
    """``analysis_history.status`` values seen in the legacy writers; ``deleted`` is a soft delete."""

    PENDING = "pending"
    QUEUED = "queued"
    PROCESSING = "processing"
    EXTRACTING = "extracting"
    READY = "ready"
    COMPLETED = "completed"
    FAILED = "failed"
    DELETED = "deleted"


class TenderStatus(models.TextChoices):
    """``tenders.status`` as the scraper writes it."""

    ACTIVE = "active"
    ARCHIVED = "archived"


# --- Strict fields for JSON bodies ----------------------------------------------------------
# Django's form fields coerce (123 -> "123", "12" -> 12, true -> 1); a JSON API should reject a
# value of the wrong JSON type instead, so a client bug shows up as a 400 and not as odd data.


class JsonCharField(forms.CharField):
    """A JSON string; numbers, booleans and objects are rejected, not stringified."""

    def to_python(self, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValidationError("Must be a string.", code="type")
        return super().to_python(value)


class JsonChoiceField(forms.ChoiceField):
    """A JSON string from a fixed set."""

    def to_python(self, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValidationError("Must be a string.", code="type")
        return super().to_python(value)


class JsonIntegerField(forms.IntegerField):
    """A JSON integer; strings, floats and booleans are rejected."""

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Must be an integer.", code="type")
        return value


class JsonFloatField(forms.FloatField):
    """A JSON number; strings and booleans are rejected."""

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Must be a number.", code="type")
        return float(value)


class JsonValueField(forms.Field):
    """An already decoded JSON value restricted to some JSON types (objects and arrays by default)."""

    type_names = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}

    def __init__(self, *, types: tuple[type, ...] = (dict, list), **kwargs: Any) -> None:
        self.types = types
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, self.types):
            wanted = " or ".join(dict.fromkeys(self.type_names[t] for t in self.types))
            raise ValidationError(f"Must be {wanted}.", code="type")
        return value

    def validate(self, value: Any) -> None:
        # Only None is "missing": an empty object or array is a real value here.
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")


class JsonForm(forms.Form):
    """A form over a decoded JSON object: unknown keys are errors; ``partial`` keeps only sent keys.

    ``partial=True`` is PATCH semantics: a field the body does not name is neither required nor
    changed, so ``cleaned_data`` holds exactly the fields to write.
    """

    def __init__(self, payload: dict[str, Any], *, partial: bool = False) -> None:
        super().__init__(data=payload)
        self.payload = payload
        self.partial = partial
        if partial:
            for name in [name for name in self.fields if name not in payload]:
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        unknown = sorted(set(self.payload) - set(self.base_fields))
        for name in unknown:
            self.add_error(None, ValidationError(f"Unknown field {name!r}.", code="unknown"))
        if self.partial and not self.payload:
            self.add_error(None, ValidationError("Send at least one field to change.", code="empty"))
        return cleaned


class QueryForm(forms.Form):
    """A form over a query string: unknown parameters are errors, so a typo never widens a filter."""

    def __init__(self, query: Any) -> None:
        super().__init__(data=query)
        self.query_keys = set(query.keys())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in sorted(self.query_keys - set(self.base_fields)):
            self.add_error(None, ValidationError(f"Unknown query parameter {name!r}.", code="unknown"))
        return cleaned


class PageForm(QueryForm):
    """``limit`` and ``offset`` of a list endpoint."""

    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)
    offset = forms.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET)

    def clean_limit(self) -> int:
        return self.cleaned_data.get("limit") or DEFAULT_PAGE_SIZE

    def clean_offset(self) -> int:
        return self.cleaned_data.get("offset") or 0


# --- Logs -----------------------------------------------------------------------------------


class LogCreateForm(JsonForm):
    """``POST /api/logs``: what AILogger writes."""

    level = JsonChoiceField(choices=LogLevel.choices)
    message = JsonCharField(max_length=10_000, strip=False)
    # The payload's key is "data"; declared fields leave the class (Form.data stays the bound data).
    data = JsonValueField(types=(dict,), required=False)  # type: ignore[assignment]


class LogQueryForm(PageForm):
    """``GET /api/logs?level=&since=``."""

    level = forms.ChoiceField(choices=LogLevel.choices, required=False)
    since = forms.DateTimeField(required=False, help_text="ISO 8601; naive values are UTC.")

    def clean_since(self) -> dt.datetime | None:
        since = self.cleaned_data.get("since")
        if since is None:
            return None
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        # logs.created_at holds whole seconds; a fractional bound would be compared as ISO-Z text
        # against 'YYYY-MM-DD HH:MM:SS' text on SQLite, so round down to the second.
        return since.astimezone(dt.UTC).replace(microsecond=0)


# --- Semantic cache -------------------------------------------------------------------------


def validate_prompt_hash(value: str) -> None:
    """A prompt hash is the sha256 hex digest the legacy cache keys on."""
    if not PROMPT_HASH.match(value):
        raise ValidationError("A prompt hash is 64 lowercase hex characters (sha256).", code="format")


class SemanticCachePutForm(JsonForm):
    """``PUT /api/semantic-cache/<prompt_hash>``: the cached answer to one prompt."""

    prompt_text = JsonCharField(strip=False)
    response_data = JsonValueField(types=(dict, list, str, int, float))
    model = JsonCharField(max_length=200)
    temperature = JsonFloatField(min_value=0.0, max_value=2.0)
    tokens_used = JsonIntegerField(min_value=0)
    ttl_seconds = JsonIntegerField(
        required=False, min_value=1, max_value=int(MAX_CACHE_TTL.total_seconds())
    )

    def clean_ttl_seconds(self) -> dt.timedelta:
        seconds = self.cleaned_data.get("ttl_seconds")
        return DEFAULT_CACHE_TTL if seconds is None else dt.timedelta(seconds=seconds)


# --- Tenders and market prices --------------------------------------------------------------


class TenderQueryForm(PageForm):
    """``GET /api/tenders?city=&status=``."""

    city = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(choices=TenderStatus.choices, required=False)


class MarketPriceQueryForm(PageForm):
    """``GET /api/market-prices?product_key=``."""

    product_key = forms.CharField(required=False, max_length=200)


# --- Analyses -------------------------------------------------------------------------------


def validate_analysis_id(value: str) -> None:
    """A new analysis id must look like the ones the upload route generates."""
    if not ANALYSIS_ID.match(value):
        raise ValidationError(
            "An analysis id is 'analysis_<13-digit epoch ms>_<9 base36 characters>'.", code="format"
        )


class AnalysisCreateForm(JsonForm):
    """``POST /api/analysis``: an uploaded document waiting for the pipeline.

    ``id`` is optional; a client that sends its own can retry safely, because a second create with
    the same id is a 409 instead of a duplicate analysis.
    """

    id = JsonCharField(required=False, validators=[validate_analysis_id])
    file_name = JsonCharField(max_length=500)
    file_size = JsonIntegerField(required=False, min_value=0)
    mime_type = JsonCharField(required=False, max_length=200, empty_value=None)
    user_id = JsonCharField(required=False, max_length=200, empty_value=None)
    status = JsonChoiceField(choices=AnalysisStatus.choices, required=False)
    input_files = JsonValueField(types=(list,), required=False)

    def clean_status(self) -> str:
        return self.cleaned_data.get("status") or AnalysisStatus.PENDING


class AnalysisPatchForm(JsonForm):
    """``PATCH /api/analysis/<id>``: pipeline progress and results; only sent fields change."""

    status = JsonChoiceField(choices=AnalysisStatus.choices)
    progress = JsonIntegerField(min_value=0, max_value=100)
    current_step = JsonCharField(required=False, max_length=200, empty_value=None)
    error = JsonCharField(required=False, strip=False, empty_value=None)
    processing_time_ms = JsonIntegerField(required=False, min_value=0)
    extracted_fields = JsonValueField(required=False)
    contextual_analysis = JsonValueField(required=False)
    market_analysis = JsonValueField(required=False)
    validation = JsonValueField(required=False)
    data_pool = JsonValueField(required=False)
