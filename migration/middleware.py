"""Evaluates the read-rollout flag once per request into a context variable the router reads."""
from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from migration import context, fence, flags, metrics
from migration.exceptions import PhaseUnknown


class CutoverReadMiddleware:
    """Decide once per request whether its reads may go to PostgreSQL (sticky per browser)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            reads_postgres, new_bucket = flags.request_reads_from_postgres(request)
        except PhaseUnknown as exc:
            return JsonResponse({"error": str(exc)}, status=503, headers={"Retry-After": "5"})
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

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """503, never a guess: a request that needed the phase while no database could tell it, or
        whose write a fence refused (a switch of primary under way, or a database not the primary)."""
        if isinstance(exception, PhaseUnknown):
            return JsonResponse({"error": str(exception)}, status=503, headers={"Retry-After": "5"})
        if isinstance(exception, DatabaseError) and fence.is_fence_error(exception):
            return JsonResponse({"error": str(exception)}, status=503, headers={"Retry-After": "1"})
        return None
