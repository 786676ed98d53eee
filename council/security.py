"""Hardening that spans the whole site: the client address, login lockout answers, API
throttles, headers on downloaded files and the two-factor gate.

What is promised and how it is tested is written down in SECURITY.md.
"""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import throttling
from rest_framework.settings import api_settings

# --- The client's address ----------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The address the outermost trusted proxy saw, or REMOTE_ADDR without proxies.

    Each of TRUSTED_PROXY_COUNT proxies appends the address it received from to
    X-Forwarded-For, so the client is that many entries from the right; anything further
    left was written by the client and cannot be trusted (it is the same rule as DRF's
    NUM_PROXIES, so lockout and throttling count the same address).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-min(count, len(forwarded))]
    return request.META.get("REMOTE_ADDR")


# --- Login lockout (django-axes) ---------------------------------------------------------------


def lockout_remaining(request: HttpRequest, credentials: dict | None) -> timedelta:
    """How long the username+address pair of this request stays locked out."""
    from axes.helpers import get_client_username, get_cool_off
    from axes.models import AccessAttempt

    cool_off = get_cool_off(request) or timedelta(0)
    last = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials),
        ip_address=getattr(request, "axes_ip_address", None) or client_ip(request),
    ).aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return cool_off
    return max(last + cool_off - timezone.now(), timedelta(0))


def lockout_message(remaining: timedelta) -> str:
    minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    return _(
        "ログインの失敗が続いたため、このユーザー名でのログインを一時的に停止しています。"
        "%(minutes)d分後にもう一度お試しください。パスワードがわからない場合は協議会事務局にお問い合わせください。"
    ) % {"minutes": minutes}


def lockout_api_response(request: HttpRequest, credentials: dict | None = None) -> JsonResponse:
    remaining = lockout_remaining(request, credentials)
    response = JsonResponse({"detail": lockout_message(remaining)}, status=429)
    response["Retry-After"] = str(max(1, math.ceil(remaining.total_seconds())))
    return response


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again with the reason (429), or JSON for the API."""
    if request.path.startswith("/api/"):
        return lockout_api_response(request, credentials)
    from axes.helpers import get_client_username

    remaining = lockout_remaining(request, credentials)
    # An unbound form: binding it to the POST would try the password again.
    form = AuthenticationForm(request, initial={"username": get_client_username(request, credentials) or ""})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "next": request.POST.get("next", ""), "lockout_message": lockout_message(remaining)},
        status=429,
    )
    response["Retry-After"] = str(max(1, math.ceil(remaining.total_seconds())))
    return response


# --- API throttles ---------------------------------------------------------------------------------


class _RateFromSettings:
    """DRF reads the rates once, when the class is defined; read them on each use instead,
    so REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (from the environment) always holds."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class _WindowCount:
    """Counts each client's requests per fixed window with one atomic cache increment (Redis
    INCR), instead of DRF's sliding window, which reads, unpickles, pickles and writes back the
    list of every request time of the window on each request (1,200 of them at the default
    user rate, and the list grows with the rate). A fixed window lets a client spend its rate at
    the end of one window and again at the start of the next: at most twice the rate in a
    short burst, and never more than the rate per window."""

    def allow_request(self, request, view) -> bool:
        counter = self.counter(request, view)
        if counter is None:
            return True
        key, timeout = counter
        # Already counted for this request, with the read of its cached answer
        # (council/api/response_cache.py): that count is the request's, not one more.
        counted = getattr(request, "api_rate_counts", None)
        count = counted.pop(key) if counted and key in counted else self.count(key, timeout)
        return count <= self.num_requests

    def counter(self, request, view) -> tuple[str, int] | None:
        """The key of this request's count in the current window and its lifetime, or None
        when the request is not counted (no rate, or not this throttle's kind of client)."""
        if self.rate is None:
            return None
        ident = self.get_cache_key(request, view)
        if ident is None:
            return None
        window = int(self.timer() // self.duration)
        self.window_end = (window + 1) * self.duration
        return f"{ident}:{window}", self.duration + 1

    def count(self, key: str, timeout: int) -> int:
        # DRF's throttles hold django.core.cache.cache, a proxy: ask it for the method, not
        # isinstance (which the proxy never passes, so every count took two round trips).
        incr_window = getattr(self.cache, "incr_window", None)
        if incr_window is not None:
            return incr_window(key, timeout)  # council.cache.RedisCache: one round trip
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request (or its key just expired)
            if self.cache.add(key, 1, timeout):
                return 1
            return self.cache.incr(key)

    def wait(self) -> float:
        return max(1.0, self.window_end - self.timer())


class AnonRateThrottle(_WindowCount, _RateFromSettings, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_WindowCount, _RateFromSettings, throttling.UserRateThrottle):
    pass


class TokenRateThrottle(_WindowCount, _RateFromSettings, throttling.SimpleRateThrottle):
    """Requests for an API token, per client address, whoever they claim to be."""

    scope = "token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


# --- Downloaded files ----------------------------------------------------------------------------

DOWNLOAD_CSP = "default-src 'none'; sandbox"


def harden_download(response: HttpResponse) -> HttpResponse:
    """A file a user uploaded (or a generated PDF) is saved, never shown as a page of ours:
    `attachment`, no type sniffing, and a policy that would run nothing if it were opened."""
    disposition = response.get("Content-Disposition", "")
    kind, sep, parameters = disposition.partition(";")
    if kind.strip().lower() != "attachment":
        response["Content-Disposition"] = "attachment" + (sep + parameters if sep else "")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


class DownloadHeadersMiddleware:
    """Every file response (attachments, evidence, PDFs; pages and API) gets harden_download.

    Static files never reach it: WhiteNoise, earlier in MIDDLEWARE, answers them itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, FileResponse) or response.get("Content-Disposition", "").lower().startswith(
            ("attachment", "inline")
        ):
            harden_download(response)
        return response


# --- Two-factor authentication (django-otp) -----------------------------------------------------

# Views an unverified (or not yet enrolled) user may still reach.
OTP_OPEN_VIEWS = frozenset({"logout", "set_language", "otp-verify"})
OTP_ENROLL_VIEWS = OTP_OPEN_VIEWS | {"otp-setup"}


def has_device(user) -> bool:
    """Whether `user` has a confirmed device; asked once per request (kept on the user object)."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_council_has_otp_device", None)
    if cached is None:
        from django_otp import user_has_device

        cached = user._council_has_otp_device = user_has_device(user, confirmed=True)
    return cached


def _roles(user) -> set[str]:
    from tenants.access import access_for

    return {seat.role for seat in access_for(user).seats}


def may_enroll(user) -> bool:
    """Roles in OTP_ROLES (or OTP_REQUIRED_FOR) may set up a device."""
    return user.is_authenticated and bool(_roles(user) & (set(settings.OTP_ROLES) | set(settings.OTP_REQUIRED_FOR)))


def must_enroll(user) -> bool:
    """Roles in OTP_REQUIRED_FOR must set up a device before using the platform."""
    required = set(settings.OTP_REQUIRED_FOR)
    return user.is_authenticated and bool(required) and bool(_roles(user) & required)


def _api_token_request(request: HttpRequest) -> bool:
    # DRF authenticates `Token …` itself (or answers 401); a session is not consulted then.
    return request.META.get("HTTP_AUTHORIZATION", "").startswith("Token ")


class OTPRequiredMiddleware:
    """After the password, a user with a confirmed device is signed in but not verified:
    every page except the code page (and logout) sends them there until the code is
    given. A user whose role must use two factors and has no device is sent to set one up.

    Placed after django_otp's OTPMiddleware, which tells whether this session is verified.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or _api_token_request(request):
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if has_device(user):
            if user.is_verified() or name in OTP_OPEN_VIEWS:
                return None
            return self._refuse(request, "otp-verify", _("二要素認証のコードを入力してください。"))
        if must_enroll(user) and name not in OTP_ENROLL_VIEWS:
            return self._refuse(request, "otp-setup", _("この役割では二要素認証の設定が必要です。"))
        return None

    @staticmethod
    def _refuse(request: HttpRequest, view_name: str, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        url = reverse(view_name)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)
