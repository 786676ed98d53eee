"""Production defaults are secure, `check --deploy` is clean, and each opt-out works.

Each case runs Django in a fresh interpreter with a production-like environment (no DEBUG).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Variables the suite's own environment may set, removed so each case starts from production.
VARIABLES = (
    "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "USE_X_FORWARDED_PROTO",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "CSP_REPORT_ONLY", "LOGIN_LOCKOUT_ENABLED", "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES", "API_THROTTLE_ANON", "API_THROTTLE_USER", "API_THROTTLE_TOKEN", "TRUSTED_PROXY_COUNT",
    "OTP_ROLES", "OTP_REQUIRED_FOR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # tests/conftest.py sets it for Playwright; never in production
)


def production(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="council.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="council.example.jp",
    )
    env.update(overrides)
    return env


def run(args: list[str], **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=production(**overrides), capture_output=True, text=True, timeout=120)


PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "redirect_exempt": s.SECURE_REDIRECT_EXEMPT,
    "hsts": s.SECURE_HSTS_SECONDS,
    "hsts_subdomains": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "hsts_preload": s.SECURE_HSTS_PRELOAD,
    "silenced": s.SILENCED_SYSTEM_CHECKS,
    "proxy_ssl_header": s.SECURE_PROXY_SSL_HEADER,
    "session_secure": s.SESSION_COOKIE_SECURE,
    "csrf_secure": s.CSRF_COOKIE_SECURE,
    "session_httponly": s.SESSION_COOKIE_HTTPONLY,
    "frame": s.X_FRAME_OPTIONS,
    "nosniff": s.SECURE_CONTENT_TYPE_NOSNIFF,
    "csp": getattr(s, "CONTENT_SECURITY_POLICY", None),
    "csp_report_only": getattr(s, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None),
    "axes": [s.AXES_ENABLED, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.AXES_HANDLER],
    "rates": s.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "proxies": [s.TRUSTED_PROXY_COUNT, s.REST_FRAMEWORK["NUM_PROXIES"]],
    "otp": [s.OTP_ROLES, s.OTP_REQUIRED_FOR],
}))
"""


def probe(**overrides: str) -> dict:
    result = run([sys.executable, "-c", PROBE], **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_settings():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    security = [line for line in (result.stdout + result.stderr).splitlines() if "(security." in line]
    assert security == []  # the hardening itself: said separately, so a failure below names its cause
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_production_defaults_are_secure():
    found = probe()
    assert found["debug"] is False
    assert found["ssl_redirect"] is True
    assert found["hsts"] == 31_536_000
    assert (found["hsts_subdomains"], found["hsts_preload"]) == (False, False)
    # Only the two reminders about whole-domain choices are silenced, and only while they are off.
    assert sorted(found["silenced"]) == ["security.W005", "security.W021"]
    assert found["proxy_ssl_header"] is None
    assert found["session_secure"] is True and found["csrf_secure"] is True and found["session_httponly"] is True
    assert found["frame"] == "DENY" and found["nosniff"] is True
    assert found["csp"]["DIRECTIVES"] == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    assert found["csp_report_only"] is None
    assert found["axes"] == [True, 5, 1800.0, "axes.handlers.database.AxesDatabaseHandler"]
    assert found["rates"] == {"anon": "60/minute", "user": "1200/minute", "token": "20/minute"}
    assert found["proxies"] == [0, 0]
    assert found["otp"] == [["secretariat_staff", "association_representative"], []]
    # Internal probes speak plain HTTP: never redirected.
    assert {"^healthz$", "^readyz$", "^metrics$"} <= set(found["redirect_exempt"])


def test_each_default_can_be_changed_from_the_environment():
    found = probe(
        SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0", USE_X_FORWARDED_PROTO="true",
        SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false", CSP_REPORT_ONLY="true",
        LOGIN_FAILURE_LIMIT="10", LOGIN_LOCKOUT_MINUTES="5", LOGIN_LOCKOUT_ENABLED="false",
        API_THROTTLE_ANON="10/minute", API_THROTTLE_USER="100/hour", API_THROTTLE_TOKEN="3/minute",
        TRUSTED_PROXY_COUNT="1", OTP_REQUIRED_FOR="secretariat_staff",
    )
    assert found["ssl_redirect"] is False and found["hsts"] == 0
    assert found["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["session_secure"] is False and found["csrf_secure"] is False
    assert found["csp"] is None and found["csp_report_only"]["DIRECTIVES"]["script-src"] == ["'self'"]
    assert found["axes"][:3] == [False, 10, 300.0]
    assert found["rates"] == {"anon": "10/minute", "user": "100/hour", "token": "3/minute"}
    assert found["proxies"] == [1, 1]
    assert found["otp"][1] == ["secretariat_staff"]


def test_opting_into_hsts_subdomains_and_preload_unsilences_nothing():
    found = probe(SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="true")
    assert (found["hsts_subdomains"], found["hsts_preload"], found["silenced"]) == (True, True, [])


def test_check_deploy_names_what_an_insecure_setting_breaks():
    # The check is not silenced wholesale: turning HTTPS off is reported.
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false",
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W012" in result.stderr
