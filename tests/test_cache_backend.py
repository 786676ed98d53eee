"""The Redis cache backend (council.cache) keeps one redis-py client per connection pool and
still behaves as Django's: values, expiry, increments."""

import os

import pytest
from django.core.cache import caches

from council.cache import RedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL), as in CI")


@pytest.fixture
def cache():
    backend = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "cache-backend-test"})
    backend.clear()
    yield backend
    backend.clear()


def test_one_client_serves_every_operation(cache):
    cache.set("a", {"x": 1}, 30)
    first = cache._cache.get_client(write=True)
    assert cache.get("a") == {"x": 1}
    assert cache._cache.get_client(write=True) is first
    assert cache._cache.get_client() is first  # one server: reads use the same pool


def test_it_behaves_as_djangos_backend(cache):
    assert cache.add("n", 1, 30) is True
    assert cache.add("n", 5, 30) is False
    assert cache.incr("n") == 2
    with pytest.raises(ValueError):
        cache.incr("missing")
    cache.set("gone", 1, 0)
    assert cache.get("gone") is None
    assert cache.get_many(["n", "missing"]) == {"n": 2}


def test_the_project_uses_it_when_redis_is_configured():
    assert isinstance(caches["default"], RedisCache)


def test_the_api_rate_counts_in_one_round_trip(monkeypatch, settings):
    from django.core.cache import cache as default_cache

    from council.security import UserRateThrottle

    calls = []
    real = RedisCache.incr_window
    monkeypatch.setattr(RedisCache, "incr_window", lambda self, key, timeout: calls.append(key) or real(self, key, timeout))
    monkeypatch.setattr(RedisCache, "incr", lambda *args, **kwargs: pytest.fail("counted with EXISTS + INCR"))
    throttle = UserRateThrottle()
    assert throttle.cache is default_cache  # DRF's: the proxy, not the backend itself
    assert throttle.count("rate-test", 60) == 1
    assert throttle.count("rate-test", 60) == 2
    assert calls == ["rate-test", "rate-test"]
    caches["default"].delete("rate-test")


def test_a_window_counter_counts_and_expires(cache):
    assert cache.incr_window("w", 30) == 1
    assert cache.incr_window("w", 30) == 2
    assert cache.get("w") == 2  # an int, readable by Django's get and incr alike
    assert cache.incr("w") == 3
    client = cache._cache.get_client(write=True)
    ttl = client.ttl(cache.make_and_validate_key("w"))
    assert 0 < ttl <= 30
    cache.incr_window("w", 300)  # a later count does not extend the window
    assert client.ttl(cache.make_and_validate_key("w")) <= 30


def test_a_value_read_and_counters_counted_in_one_transaction(cache):
    cache.set("answer", {"body": b"{}"}, 30)
    assert cache.get_and_count("answer", [("c1", 30), ("c2", 60)]) == ({"body": b"{}"}, [1, 1])
    assert cache.get_and_count("answer", [("c1", 30)]) == ({"body": b"{}"}, [2])
    assert cache.get_and_count("missing", [("c1", 300), ("c2", 60)]) == (None, [3, 2])
    assert cache.get_and_count("missing", []) == (None, [])
    assert cache.get("c1") == 3  # the counters are incr_window's
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_and_validate_key("c1")) <= 30  # the first count's timeout
    assert cache.incr_window("c2", 60) == 3
