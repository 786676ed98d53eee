"""council.pgtime: PostgreSQL timestamps parsed by psycopg's C loader read as Django's own
loader reads them, and the C loader is used only where that holds."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from council import pgtime

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's loaders"),
]

VALUES = [
    "2026-11-28 10:00:00+09",
    "2026-11-28 10:00:00.5+09",
    "2026-03-31 23:59:59.999999+00",
    "2027-01-01 00:00:00.000001-05:30",
    "1999-12-31 15:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.123+00",
]
SQL = "SELECT v::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n"


def read(loader=None) -> list:
    with connection.cursor() as cursor:
        if loader is not None:
            cursor.cursor.adapters.register_loader("timestamptz", loader)
        cursor.execute(SQL, [VALUES])
        return [row[0] for row in cursor.fetchall()]


def test_connections_read_timestamps_with_the_c_loader():
    connection.ensure_connection()
    if not pgtime.available():
        pytest.skip("psycopg without its C implementation")
    assert connection.connection.adapters.get_loader(1184, 0) is pgtime.UtcTimestamptzLoader


def test_the_c_loader_reads_what_djangos_loader_reads():
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class DjangoLoader(BaseTzLoader):
        timezone = datetime.timezone.utc

    fast, django = read(), read(DjangoLoader)
    assert fast == django
    assert [value.tzinfo for value in fast] == [datetime.timezone.utc] * len(VALUES)
    assert fast[1] == datetime.datetime(2026, 11, 28, 1, 0, 0, 500000, tzinfo=datetime.timezone.utc)
    assert fast[3] == datetime.datetime(2027, 1, 1, 5, 30, 0, 1, tzinfo=datetime.timezone.utc)


def test_orm_values_are_utc_aware(user):
    someone = user("secretariat")
    someone.last_login = datetime.datetime(2026, 11, 28, 9, 15, 30, 250000, tzinfo=ZoneInfo("Asia/Tokyo"))
    someone.save(update_fields=["last_login"])
    someone.refresh_from_db()
    assert someone.last_login == datetime.datetime(2026, 11, 28, 0, 15, 30, 250000, tzinfo=datetime.timezone.utc)
    assert someone.last_login.tzinfo is datetime.timezone.utc


def test_another_session_time_zone_keeps_djangos_loader():
    """A connection whose server time zone is not UTC would have the C loader return another
    tzinfo: such a connection keeps Django's loader."""
    if not pgtime.available():
        pytest.skip("psycopg without its C implementation")
    connection.ensure_connection()
    adapters = connection.connection.adapters
    before = adapters.get_loader(1184, 0)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
        adapters.register_loader("timestamptz", before)
        assert pgtime.use_c_loader(None, connection) is False
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        assert pgtime.use_c_loader(None, connection) is True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        adapters.register_loader("timestamptz", before)


def test_sqlite_and_other_vendors_are_left_alone():
    class Other:
        vendor = "sqlite"

    assert pgtime.use_c_loader(None, Other()) is False
