"""One middleware, first in the chain: the request id, the access log line, the HTTP metrics."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from council.ops import metrics
from council.ops.context import REQUEST_ID_HEADER, clean_request_id, new_request_id, request_id_var

access_logger = logging.getLogger("council.access")


def _route(request: HttpRequest) -> str:
    """The URL pattern's name (e.g. "progress:report-detail"): a bounded label, unlike the path."""
    match = getattr(request, "resolver_match", None)
    if match is None and getattr(request, "cached_route", None):
        return request.cached_route  # answered from the API's response cache, unresolved
    if match is not None:
        return match.view_name or match.route or "<unnamed>"
    if settings.STATIC_URL and request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "<static>"  # served by WhiteNoise before URL resolution
    return "<unmatched>"


def _user_id(request: HttpRequest) -> int | None:
    if getattr(request, "cached_user_id", None) is not None:
        return request.cached_user_id  # answered from the API's response cache
    user = getattr(request, "user", None)  # absent when a middleware before auth answered
    try:
        return user.pk if user is not None and user.is_authenticated else None
    except Exception:  # the session store is down: the response still goes out, and is logged
        return None


class RequestIdMiddleware:
    """Takes a sane incoming X-Request-ID or makes a uuid4, keeps it in a contextvar for the
    request (every log record and every task queued gets it) and sends it back in the response."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request_id
            route = _route(request)
            metrics.observe_request(request.method, route, response.status_code, seconds)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,  # without the query string, which may carry tokens
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "route": route,
                    "user_id": _user_id(request),
                },
            )
            return response
        finally:
            request_id_var.reset(token)
