"""Liveness: the database answers and, when configured, Redis answers."""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    results: dict[str, dict] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure of a dependency means "unhealthy", reported by name
            healthy = False
            results[name] = {"status": "error", "error": exc.__class__.__name__}
        else:
            results[name] = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
    return JsonResponse({"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503)
