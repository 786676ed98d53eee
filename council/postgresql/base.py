"""Django's PostgreSQL backend, with a health check that asks the socket, not the server.

`CONN_HEALTH_CHECKS` makes Django check a reused connection before the first query of each
request, so that a connection the server closed (a restart, `idle_session_timeout`, an
administrator's `pg_terminate_backend`) is replaced instead of failing that request. Django's
check is a `SELECT 1`: one more round trip on every request. On the benchmark's machine that
was a fifth of the time of an answer from the response cache, which itself runs one query.

A server that ends a session tells the client: it sends the error (`57P01 terminating
connection due to administrator command`, and the like) and closes the socket. Between
requests an idle connection has nothing to read, so here a reused connection is taken as
healthy when libpq says it is open and not in a failed or busy state and its socket has
nothing waiting (`poll` with no timeout: a system call, no round trip). Anything else —
something to read, an error, a state other than idle or in a transaction — gets Django's
`SELECT 1`, which closes the connection if it fails. What neither check catches quickly is
a peer that vanished without closing (a network cut): `SELECT 1` would wait for TCP's
timeout as the request's own query does.

`ENGINE` is set to this module by council/settings.py whenever `DATABASE_URL` names
PostgreSQL; `connection.vendor` stays "postgresql". tests/test_db_health_check.py holds it
to Django's behaviour against a real server: a healthy connection kept without a query, a
terminated one replaced, a connection with something to read checked by `SELECT 1`.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq

_HEALTHY_STATES = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)
_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and self.quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def quiet(self) -> bool:
        """Open, idle (or in a transaction), and nothing sent by the server since its last
        answer: the connection needs no `SELECT 1`."""
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status not in _HEALTHY_STATES:
            return False
        try:
            poller = select.poll()
            poller.register(pgconn.socket, _READABLE)
            return not poller.poll(0)
        except (OSError, ValueError, base.Database.Error):  # no socket: let Django check
            return False
