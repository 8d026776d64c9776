"""Evaluates the read-rollout flag once per request into a context variable the router reads."""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from migration import context, flags, metrics


class CutoverReadMiddleware:
    """Decide once per request whether its reads may go to PostgreSQL (sticky per browser)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reads_postgres, new_bucket = flags.request_reads_from_postgres(request)
        token = context.begin_request(reads_postgres)
        try:
            response = self.get_response(request)
        finally:
            context.end_request(token)
        if new_bucket is not None:
            response.set_cookie(
                flags.BUCKET_COOKIE, new_bucket, max_age=flags.BUCKET_COOKIE_MAX_AGE,
                httponly=True, samesite="Lax",
            )
        metrics.maybe_flush()
        return response
