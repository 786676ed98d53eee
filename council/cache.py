"""Django's Redis cache backend, keeping its redis-py client.

Django's RedisCacheClient makes a new `redis.Redis` for every cache operation (sharing the
connection pool), and each one copies redis-py's table of response callbacks: about a tenth of
a millisecond a time, several times per request here (the API rate counter, the dashboards'
cached answers). A `redis.Redis` over a pool is safe to share between threads, and Django
already keeps one cache object (so one of these clients) per thread.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class KeptClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClient

    def incr_window(self, key, timeout: int) -> int:
        """Count one more in `key`, which lives `timeout` seconds from its first count: INCR and
        EXPIRE NX in one transaction, one round trip (Django's incr asks EXISTS first, and a
        new key needs an add). For the API's rate counters (council.security)."""
        full = self.make_and_validate_key(key)
        client = self._cache.get_client(full, write=True)
        with client.pipeline(transaction=True) as pipe:
            _queue_count(pipe, full, timeout)
            count, _ = pipe.execute()
        return count

    def get_and_count(self, key, counters: list[tuple[str, int]]) -> tuple[object, list[int]]:
        """`get(key)` and `incr_window` of each (counter, timeout), in one transaction and one
        round trip: the API response cache reads an answer and counts the request against the
        user's rate together (council/api/response_cache.py)."""
        full = self.make_and_validate_key(key)
        client = self._cache.get_client(full, write=True)
        with client.pipeline(transaction=True) as pipe:
            pipe.get(full)
            for counter, timeout in counters:
                _queue_count(pipe, self.make_and_validate_key(counter), timeout)
            found, *counted = pipe.execute()
        value = None if found is None else self._cache._serializer.loads(found)
        return value, counted[::2]


def _queue_count(pipe, full_key: str, timeout: int) -> None:
    """A window counter's two commands (RedisCache.incr_window), queued in a transaction:
    one more, and the key's lifetime from its first count."""
    pipe.incr(full_key)
    pipe.expire(full_key, timeout, nx=True)
