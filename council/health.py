"""Liveness (/healthz): the database answers and, when configured, Redis answers.
Readiness (/readyz): that, and every migration applied, and a Celery worker answering."""

import functools
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


@functools.cache
def _redis_client(url: str):
    """One client (and its connection pool) per process: a probe answered every few seconds
    must not open and close a connection each time."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def _redis() -> None:
    _redis_client(settings.REDIS_URL).ping()


class CheckFailed(Exception):
    """A check's own finding; its message is shown (it never holds a URL or a secret)."""


class Skipped(Exception):
    """The check does not apply to this configuration; the reason is shown."""


def _migrations() -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise CheckFailed(f"{len(plan)} unapplied migration(s)")


# A worker answers a ping within milliseconds; the probe must stay well under a load
# balancer's timeout even when the broker is down.
CELERY_PING_TIMEOUT = 1.0


def _celery() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise Skipped("eager")
    from council.celery import app

    with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=CELERY_PING_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=0, timeout=CELERY_PING_TIMEOUT)
        replies = app.control.ping(timeout=CELERY_PING_TIMEOUT, connection=conn)
    if not replies:
        raise CheckFailed("no worker answered")
    return {"workers": len(replies)}


def run_checks(checks: dict) -> tuple[bool, dict[str, dict]]:
    """Run each check; (all passed or were skipped, {name: result})."""
    results: dict[str, dict] = {}
    healthy = True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            details = check()
        except Skipped as skipped:
            results[name] = {"status": "skipped", "reason": str(skipped)}
        except CheckFailed as failed:
            healthy = False
            results[name] = {"status": "error", "error": str(failed)}
        except Exception as exc:  # any failure of a dependency means "unhealthy", reported by name
            healthy = False
            results[name] = {"status": "error", "error": exc.__class__.__name__}
        else:
            results[name] = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1), **(details or {})}
    return healthy, results


def _response(healthy: bool, results: dict[str, dict]) -> JsonResponse:
    return JsonResponse({"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503)


def liveness_checks() -> dict:
    checks = {"database": _database}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    return checks


def readiness() -> tuple[bool, dict[str, dict]]:
    return run_checks({**liveness_checks(), "migrations": _migrations, "celery": _celery})


@never_cache
@require_GET
def healthz(request):
    return _response(*run_checks(liveness_checks()))


@never_cache
@require_GET
def readyz(request):
    """Ready to take traffic: what /healthz checks, no unapplied migration, a Celery worker
    answering a ping (skipped when tasks run eagerly). 503 names the failing checks."""
    return _response(*readiness())
