"""Timestamps read from PostgreSQL by psycopg's C loader instead of Django's Python one.

Django's PostgreSQL backend registers, on every psycopg 3 connection, a `timestamptz` loader
that subclasses psycopg's pure-Python one (a regular expression per value) only to replace the
result's tzinfo with the connection's. A page of 50 consent rounds reads about 300 timestamps:
a tenth of its time went to that parse. When Django's connection time zone is UTC (USE_TZ with
no per-database TIME_ZONE, as here) and the server sends UTC, psycopg's C loader already
returns exactly those datetimes (tzinfo `datetime.timezone.utc`), so each connection gets a
loader that hands the parse to it. Anything else (no C implementation, another time zone)
keeps Django's loader. tests/test_pgtime.py compares both loaders' values.
"""

from __future__ import annotations

import datetime

from django.db.backends.signals import connection_created

try:
    import psycopg
    from psycopg import adapt
    from psycopg.postgres import types as pg_types
    from psycopg.pq import Format
    from psycopg.types.datetime import TimestamptzLoader as _PythonTimestamptzLoader
except ImportError:  # SQLite-only installs
    adapt = None
    _CTimestamptzLoader = None
else:
    # psycopg's own choice for the type: its C loader when its C part is installed.
    _default = psycopg.adapters.get_loader(pg_types["timestamptz"].oid, Format.TEXT)
    _CTimestamptzLoader = None if _default is _PythonTimestamptzLoader else _default


if adapt is not None and _CTimestamptzLoader is not None:

    class UtcTimestamptzLoader(adapt.Loader):
        """psycopg's C `timestamptz` text loader, with the `timezone` attribute Django's
        backend looks for before it registers its own loader on a cursor."""

        timezone = datetime.timezone.utc

        def __init__(self, oid: int, context=None) -> None:
            super().__init__(oid, context)
            # psycopg's Transformer takes the bound `load` once per column: the C method's.
            self.load = _CTimestamptzLoader(oid, context).load

        def load(self, data):  # replaced on each instance by the C loader's own
            raise NotImplementedError

else:
    UtcTimestamptzLoader = None


def available() -> bool:
    return UtcTimestamptzLoader is not None


def use_c_loader(sender, connection, **kwargs) -> bool:
    """connection_created receiver: register the C-backed loader when it reads what Django's
    would. Returns whether it did (for tests)."""
    if connection.vendor != "postgresql" or UtcTimestamptzLoader is None:
        return False
    if connection.timezone is not datetime.timezone.utc:
        return False
    pg = connection.connection
    if pg.info.parameter_status("TimeZone") not in ("UTC", "Etc/UTC"):
        return False
    pg.adapters.register_loader(pg_types["timestamptz"].oid, UtcTimestamptzLoader)
    return True


def install() -> None:
    connection_created.connect(use_c_loader, dispatch_uid="council.pgtime")
