"""A cache of the REST API's JSON answers to token-authenticated GETs, keyed on the database's
visibility snapshot, so that a cached answer is never stale.

REST clients (dashboards, municipal systems syncing adoption, the prefectures' portals) ask
for the same pages again and again while the data they read changes a few times an hour. An
answer is a function of

- the request: the token, the path with its query, the host and scheme (pagination links are
  absolute), the accepted type and language (header and language cookie);
- the data the view read: every row visible to its queries; and
- the date in Tokyo (overdue flags compare due dates with today), and the code (``RELEASE``).

The data is named by PostgreSQL's ``pg_current_snapshot()`` — ``xmin:xmax:in-progress xids``,
which says exactly which transactions are visible; an answer is kept with the snapshot it was
made under and given only while the snapshot is the same. Any transaction that wrote anything and
committed (or rolled back) changes it, so no trigger or signal has to be kept in step with the
models: queryset updates, raw SQL, COPY and the admin all count. The snapshot is read before
the view runs; the view's queries see that state or a later one, so an answer stored under a
snapshot is never older than the snapshot, and once a write commits no request reads that
snapshot again. One answer is kept per token and request (a newer one replaces it), so frequent
writes do not fill the cache with answers no one can be given.

What is cached: GET requests with ``Authorization: Token …``, without conditional headers,
answered 200 with JSON by a DRF view that authenticated them by that token
(``council.api.authentication`` marks the request), set no cookie, counts requests with the
default throttles and did not opt out (``response_cache = False`` on the view). A request inside a transaction that
may have written (a test's transaction, for one) is never served from or stored in the cache,
since its own writes do not show in the snapshot.

A hit skips sessions, authentication, the view and its queries: one query (the snapshot) and
two cache operations (the answer, and the user's rate count, which still applies: over the
rate, the request goes the whole way and gets its 429). Once a process has seen which user a
token is (from an answer kept for it), the answer is read and the request counted against that
user's rate in one round trip, and the view's throttles take that count as the request's, so
every request is counted once. ``Cache-Control: no-cache`` in the
request makes the answer again (and stores it). An answer is stored once it has been sent,
when the WSGI server closes the response. PostgreSQL only; with SQLite (development)
requests pass straight through. ``API_RESPONSE_CACHE_SECONDS`` bounds an entry's life (0 turns
the cache off).
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache as once
from functools import partial
from types import SimpleNamespace
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from rest_framework.settings import api_settings

from council import calendar
from council.ops import metrics

logger = logging.getLogger(__name__)

PREFIX = "api-response:"
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def seconds() -> int:
    return getattr(settings, "API_RESPONSE_CACHE_SECONDS", 0)


def _token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Token "):
        return None
    key = header[len("Token ") :].strip()
    return key or None


def snapshot() -> str | None:
    """The visibility snapshot the next statement of this connection would see, or None when
    it cannot tell (not PostgreSQL, inside a transaction, the database unreachable)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_snapshot()::text")
            return cursor.fetchone()[0]
    except DatabaseError:
        return None  # the view will answer (most likely with the same error) as usual


@once
def release() -> str:
    """settings.RELEASE, or the newest modification time of the project's code and templates:
    a new deployment (or an edited file in development) names a new release."""
    if settings.RELEASE:
        return settings.RELEASE
    newest = 0.0
    for top in ("council", "candidates", "policies", "progress", "tenants", "templates"):
        for path in (settings.BASE_DIR / top).rglob("*"):
            if path.suffix in (".py", ".html", ".txt"):
                newest = max(newest, path.stat().st_mtime)
    return f"{newest:.0f}"


def request_key(request: HttpRequest, token: str) -> str:
    """The request's slot in the cache: one answer per token and request, overwritten when the
    data changes (the answer carries its snapshot), so the cache holds at most one answer per
    token and URL however often the data changes."""
    meta = request.META
    parts = (
        release(),
        settings.DATABASES["default"].get("NAME") or "",
        calendar.today().isoformat(),
        token,
        request.get_full_path(),
        meta.get("HTTP_HOST", ""),
        meta.get("SERVER_NAME", ""),
        "https" if request.is_secure() else "http",
        meta.get("HTTP_ACCEPT", ""),
        meta.get("HTTP_ACCEPT_LANGUAGE", ""),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
    )
    return PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _as_user(user_id: int) -> SimpleNamespace:
    """What the throttles read of a request: its authenticated user."""
    return SimpleNamespace(user=SimpleNamespace(pk=user_id, is_authenticated=True), META={})


def _within_rate(user_id: int) -> bool:
    """The default throttles, counted for this request as DRF would count it."""
    fake = _as_user(user_id)
    for throttle in _default_throttles():
        if not throttle().allow_request(fake, None):
            return False
    return True


def _default_throttles() -> list[type]:
    return [import_string(p) if isinstance(p, str) else p for p in api_settings.DEFAULT_THROTTLE_CLASSES]


def _cacheable(request: HttpRequest, response: HttpResponse) -> int | None:
    """The user id to store with the answer, or None when it must not be stored."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    user_id = getattr(request, "api_token_user_id", None)  # set by council.api.authentication
    match = getattr(request, "resolver_match", None)
    view = getattr(getattr(match, "func", None), "cls", None)  # DRF's as_view() keeps the class
    if user_id is None or view is None or not getattr(view, "response_cache", True):
        return None
    # Views with throttles of their own would be counted differently on a hit.
    if list(view.throttle_classes) != _default_throttles():
        return None
    return user_id


# Which user each token is, as the answers kept for it say (a token belongs to one user), so
# that the next answer for that token is read and the request counted against its user's rate
# in one round trip (_read_counting). At most TOKEN_USERS_KEPT tokens per process.
_token_users: dict[str, int] = {}
TOKEN_USERS_KEPT = 10_000


def _learn(token: str, user_id: int | None) -> None:
    if user_id is None:
        _token_users.pop(token, None)
    elif _token_users.get(token) != user_id:
        if len(_token_users) >= TOKEN_USERS_KEPT:
            _token_users.clear()
        _token_users[token] = user_id


def _counters(user_id: int) -> list[tuple] | None:
    """(throttle, key, timeout) of each default throttle that counts this user's requests, or
    None when one of them counts some other way than council.security's window counter."""
    fake = _as_user(user_id)
    found = []
    for throttle_class in _default_throttles():
        throttle = throttle_class()
        counter = getattr(throttle, "counter", None)
        if counter is None:
            return None
        window = counter(fake, None)
        if window is not None:
            found.append((throttle, *window))
    return found


class Counted(NamedTuple):
    """A request counted against `user`'s rate with the read of its answer (_read_counting)."""

    user: int
    within: bool  # every count within its rate
    counts: dict[str, int]  # counter key → this request's count, for the view's throttles


def _read_counting(key: str, token: str) -> tuple[dict | None, Counted | None]:
    """The answer kept under `key`, and, when the token's user is known, the request counted
    against that user's rate in the same round trip. The view's throttles take those counts as this request's (council.security), so
    a request is counted once whether it is answered here or by the view. Otherwise (a token
    not seen yet, another cache) the answer alone, and the rate is counted as before. A token
    revoked since is counted once more against its user's rate, by the request the view then
    refuses, which forgets it; a GET of the token endpoint (POST only, with a rate of its
    own) is counted against the user's rate as well as its own."""
    user_id = _token_users.get(token)
    get_and_count = getattr(cache, "get_and_count", None)
    counters = _counters(user_id) if user_id is not None and get_and_count is not None else None
    if counters is None:
        return _read(key), None
    try:
        entry, counts = get_and_count(key, [(counter, timeout) for _, counter, timeout in counters])
    except Exception as exc:  # as _read: the view answers, and counts the request itself
        logger.warning("api response cache: read failed (%s)", exc.__class__.__name__)
        return None, None
    within = all(count <= throttle.num_requests for (throttle, _, _), count in zip(counters, counts))
    return entry, Counted(user_id, within, {counter: count for (_, counter, _), count in zip(counters, counts)})


def _read(key: str) -> dict | None:
    try:
        return cache.get(key)
    except Exception as exc:  # the cache is an optimisation: without it the view answers
        logger.warning("api response cache: read failed (%s)", exc.__class__.__name__)
        return None


def _write(key: str, entry: dict, ttl: int) -> None:
    try:
        cache.set(key, entry, ttl)
    except Exception as exc:
        logger.warning("api response cache: write failed (%s)", exc.__class__.__name__)


class ResponseCacheMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ttl = seconds()
        api = ttl > 0 and request.method == "GET" and request.path_info.startswith("/api/")
        token = _token(request) if api else None
        if token is None or any(h in request.META for h in CONDITIONAL_HEADERS):
            return self.get_response(request)
        state = snapshot()
        if state is None:
            return self.get_response(request)
        key = request_key(request, token)
        if "no-cache" not in request.META.get("HTTP_CACHE_CONTROL", ""):
            entry, counted = _read_counting(key, token)
            if counted is not None and entry is not None and entry["user"] != counted.user:
                counted = None  # counted for whom the token was; the rate is counted again below
            if counted is not None:
                request.api_rate_counts = counted.counts  # for the view's throttles
            if entry is not None and entry["state"] == state:
                if counted is not None:
                    within = counted.within
                else:
                    _learn(token, entry["user"])
                    within = _within_rate(entry["user"])
                if within:
                    metrics.observe_response_cache(True)
                    request.cached_route, request.cached_user_id = entry["route"], entry["user"]
                    response = HttpResponse(entry["body"], status=200)
                    for name, value in entry["headers"]:
                        response.headers[name] = value
                    return response
        metrics.observe_response_cache(False)
        response = self.get_response(request)
        # Whom the view found the token to be. A token no view accepted (revoked, its user
        # inactive; or no view reached, a 404) is forgotten, so that it no longer counts
        # against anyone's rate; the next answer given for it teaches it again.
        _learn(token, getattr(request, "api_token_user_id", None))
        user_id = _cacheable(request, response)
        if user_id is not None and not connection.in_atomic_block:
            match = getattr(request, "resolver_match", None)
            entry = {
                "state": state,
                "body": response.content,
                # The view's headers, as they are now: the middleware above this one adds its
                # own (a request id among them) to every answer, cached or not.
                "headers": list(response.headers.items()),
                "user": user_id,
                "route": (match.view_name if match else None) or "<unnamed>",
            }
            # Stored once the answer has been sent: the WSGI server closes the response after
            # writing it, and the client need not wait for the cache (0.4–0.5 ms a page).
            response._resource_closers.append(partial(_write, key, entry, ttl))
        return response
