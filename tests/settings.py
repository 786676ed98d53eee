"""Test settings: the real settings, with a throwaway key and a fast password hasher."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from council.settings import *  # noqa: E402,F403

# Hashing demo passwords with the production hasher would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Tasks run in-process in the suite, whether or not REDIS_URL is set (CI sets it): the tests
# that need a real worker start one themselves, against Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# The suite speaks plain HTTP to the test client and the live server.
SECURE_SSL_REDIRECT = False
# Django's test client logs in without a request, which django-axes refuses; the lockout
# tests (tests/test_lockout.py) switch it on themselves.
AXES_ENABLED = False
# API rates high enough that no test elsewhere is throttled (CI's cache is one Redis shared
# by both test processes); tests/test_security_throttle.py sets low ones itself.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute", "token": "100000/minute"},
}

# A test changes data inside a transaction that is rolled back, so the figures' stamps do not
# tell one test's data from the next one's: the dashboards' body cache is off, except in the
# tests of that cache (tests/test_dashboard_cache.py).
DASHBOARD_CACHE_SECONDS = 0
# The API's response cache is off too (most tests run in a transaction, where it stands aside
# anyway); tests/test_response_cache.py switches it on.
API_RESPONSE_CACHE_SECONDS = 0

# Each pytest-xdist worker keeps its cache in a Redis database of its own: a test's
# cache.clear() (FLUSHDB) must not empty the cache under another worker's test.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if CACHES["default"]["BACKEND"] == "council.cache.RedisCache" and _worker.startswith("gw"):  # noqa: F405
    from urllib.parse import urlsplit, urlunsplit

    _url = urlsplit(CACHES["default"]["LOCATION"])  # noqa: F405
    _base = int(_url.path.strip("/") or 0)
    _db = (_base + 8 + int(_worker[2:])) % 16
    CACHES["default"]["LOCATION"] = urlunsplit(_url._replace(path=f"/{_db}"))  # noqa: F405
