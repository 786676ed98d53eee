"""/readyz: ready to take traffic — database, Redis when configured, every migration applied,
a Celery worker answering (skipped when tasks run eagerly). 503 names what failed."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_it_is_ready_with_everything_in_place(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"
    # The suite runs tasks eagerly: there is no worker to ask.
    assert checks["celery"] == {"status": "skipped", "reason": "eager"}
    assert ("redis" in checks) == bool(settings.REDIS_URL)
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_needs_no_login_and_answers_only_get(client):
    assert client.get("/readyz").status_code == 200
    assert client.post("/readyz").status_code == 405


def test_an_unreachable_redis_makes_it_503_and_names_only_the_error(client, settings):
    settings.REDIS_URL = "redis://:hunter2-secret@127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["redis"] == {"status": "error", "error": "ConnectionError"}
    assert body["checks"]["database"]["status"] == "ok"
    assert "hunter2" not in response.content.decode()  # no URL, no password


def test_an_unapplied_migration_makes_it_503(client, settings):
    # A real migration module set for the ops app with one migration more than the database has.
    settings.MIGRATION_MODULES = {"ops": "tests.ops_pending_migrations"}
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["migrations"] == {"status": "error", "error": "1 unapplied migration(s)"}
    assert body["checks"]["database"]["status"] == "ok"


def test_no_worker_answering_makes_it_503(client, settings):
    # Tasks no longer run eagerly and the broker is one no worker listens on.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["celery"] == {"status": "error", "error": "no worker answered"}


def test_an_unreachable_broker_makes_it_503_quickly(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://:hunter2-secret@127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    celery = response.json()["checks"]["celery"]
    assert celery["status"] == "error" and celery["error"] == "OperationalError"
    assert "hunter2" not in response.content.decode()


def test_healthz_is_still_only_liveness(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    settings.MIGRATION_MODULES = {"ops": "tests.ops_pending_migrations"}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database"} | ({"redis"} if settings.REDIS_URL else set())
