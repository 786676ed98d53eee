"""API rate limits (DRF throttles): per user and, on the token endpoint, per address; 429 with
Retry-After; rates come from the settings (the environment). The "anon" rate is there for
endpoints open to anonymous users; today every endpoint but the token one answers them 401."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def low_rates(settings):
    # A cache of this test's own, so no other test (or the other test process, which may share
    # CI's Redis) adds to these counts; and rates low enough to reach.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-tests"}}
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "3/minute", "token": "2/minute"},
    }


def test_a_user_over_the_rate_gets_429_with_retry_after(api):
    client = api("soumu")
    answers = [client.get("/api/v1/candidates/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert "detail" in answers[-1].json()


def test_each_user_has_their_own_count(api):
    for _ in range(3):
        api("soumu").get("/api/v1/candidates/")
    assert api("soumu").get("/api/v1/candidates/").status_code == 429
    assert api("mhlw").get("/api/v1/candidates/").status_code == 200


def test_the_token_endpoint_has_its_own_rate_per_address(demo_password):
    client = APIClient(REMOTE_ADDR="203.0.113.50")
    body = {"username": "soumu", "password": demo_password}
    answers = [client.post("/api/v1/auth/token/", body, format="json") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1]["Retry-After"]) >= 1
    # Another address is not held back by this one.
    assert APIClient(REMOTE_ADDR="203.0.113.51").post("/api/v1/auth/token/", body, format="json").status_code == 200


def test_a_forwarded_address_does_not_reset_the_token_count(demo_password):
    # Without trusted proxies (TRUSTED_PROXY_COUNT=0) X-Forwarded-For is the client's own claim.
    client = APIClient(REMOTE_ADDR="203.0.113.60")
    body = {"username": "soumu", "password": demo_password}
    codes = [
        client.post("/api/v1/auth/token/", body, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_anonymous_requests_to_the_api_are_refused_before_they_are_counted():
    # Every endpoint but the token one needs a user: 401 costs nothing to answer.
    client = APIClient(REMOTE_ADDR="203.0.113.70")
    assert {client.get("/api/v1/candidates/").status_code for _ in range(4)} == {401}


def test_a_new_window_lets_the_user_in_again_and_the_count_is_one_number(api, monkeypatch):
    """Counted per fixed window by one cache increment (not DRF's list of request times)."""
    from django.core.cache import cache

    from council.security import UserRateThrottle

    now = [1_000_020.0]  # a window's start: windows start at multiples of 60 s
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: now[0])
    client = api("soumu")
    assert [client.get("/api/v1/candidates/").status_code for _ in range(4)] == [200, 200, 200, 429]
    counts = [value for key, value in cache._cache.items() if b"throttle_user" in str(key).encode()]  # LocMemCache
    assert len(counts) == 1
    now[0] += 61
    assert client.get("/api/v1/candidates/").status_code == 200
    now[0] += 30
    answers = [client.get("/api/v1/candidates/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1]["Retry-After"] == "29"  # the window of 1,000,080–1,000,140 s, at 1,000,111 s
