import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_it_answers_anonymous_callers_with_the_checks(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.skipif(not settings.REDIS_URL, reason="Redis is configured only in CI (REDIS_URL)")
def test_it_checks_redis_when_configured(client):
    assert client.get("/healthz").json()["checks"]["redis"]["status"] == "ok"


def test_redis_unreachable_makes_it_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["redis"] == {"status": "error", "error": "ConnectionError"}
    assert body["checks"]["database"]["status"] == "ok"


def test_without_redis_it_checks_only_the_database(client, settings):
    settings.REDIS_URL = None
    assert set(client.get("/healthz").json()["checks"]) == {"database"}


def test_it_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
