"""The health check of reused PostgreSQL connections (council/postgresql/base.py).

Django checks a reused connection with `SELECT 1` before each request's first query; ours
asks the socket instead, and sends `SELECT 1` only when the server has said something. What
the connection sent is read from outside, in `pg_stat_activity` (the backend's last statement),
through a second connection to the same database.
"""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, close_old_connections, connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

POSTGRES = connection.vendor == "postgresql"
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="the health check is PostgreSQL's (DATABASE_URL); CI runs it"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def other():
    """A second connection to the test database, to watch the first one and to end it."""
    watcher = connections.create_connection("default")
    yield watcher
    watcher.close()


@pytest.fixture
def reused():
    """The request's connection, open, kept between requests and health-checked, as in
    production (CONN_MAX_AGE, CONN_HEALTH_CHECKS)."""
    connection.ensure_connection()
    connection.health_check_enabled = True
    connection.close_at = time.monotonic() + 600
    yield connection
    connection.close()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def last_statement(other, pid: int) -> str | None:
    with other.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else None


def run(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def next_request_first_query() -> None:
    """What a request does first: Django's request_started handler, then a cursor."""
    close_old_connections()
    assert not connection.health_check_done
    with connection.cursor():
        pass
    assert connection.health_check_done


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_backend_is_ours_and_still_postgresql():
    assert type(connections["default"]).__module__ == "council.postgresql.base"
    assert isinstance(connections["default"], DjangoWrapper)
    assert connection.vendor == "postgresql"


def test_a_healthy_connection_is_kept_without_a_query(reused, other):
    pid = backend_pid()
    run("SELECT 'the last request'")
    next_request_first_query()
    assert last_statement(other, pid) == "SELECT 'the last request'"
    assert backend_pid() == pid


def test_djangos_own_check_would_have_sent_select_1(reused, other):
    """The observation above can fail: Django's check, on the same connection, is seen."""
    pid = backend_pid()
    run("SELECT 'the last request'")
    close_old_connections()
    DjangoWrapper.close_if_health_check_failed(connections["default"])
    assert last_statement(other, pid) == "SELECT 1"
    assert backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced(reused, other):
    pid = backend_pid()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: last_statement(other, pid) is None)
    wait_for(lambda: not connection.quiet())  # the server's FATAL and the closed socket
    next_request_first_query()
    assert backend_pid() != pid


def test_without_a_health_check_that_request_would_fail(reused, other):
    """The case above is real: unchecked, the ended connection fails the request's query."""
    pid = backend_pid()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: last_statement(other, pid) is None)
    connection.health_check_enabled = False
    close_old_connections()
    with pytest.raises(OperationalError):
        run("SELECT 1")


def test_a_connection_with_something_to_read_gets_select_1_and_is_kept(reused, other):
    """Anything the server sent between requests (here a notification) is left to Django's
    `SELECT 1`, which reads it; the connection is healthy, so it stays."""
    pid = backend_pid()
    run("LISTEN council_health_check")
    assert connection.quiet()
    with other.cursor() as cursor:
        cursor.execute("NOTIFY council_health_check")
    wait_for(lambda: not connection.quiet())
    next_request_first_query()
    assert last_statement(other, pid) == "SELECT 1"
    assert backend_pid() == pid
    run("UNLISTEN *")


def test_a_closed_or_failed_connection_is_not_quiet(reused):
    assert connection.quiet()
    connection.connection.close()
    assert not connection.quiet()
    close_old_connections()
    assert backend_pid() > 0  # Django's check found it closed; a new one was opened
