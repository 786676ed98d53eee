"""Django's `flush`, which empties every table, able to empty the audit table too.

The audit table refuses DELETE and TRUNCATE (council/audit/triggers.py), so the stock command
would fail on it. `flush` already means "erase all data, audit trail included": this lifts the
triggers, runs Django's command, and re-arms them whatever happened, in the same database.
The test suite depends on it (transactional tests flush the database after each test).
"""

from django.core.management.commands import flush
from django.db import connections

from council.audit import triggers


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        triggers.remove(connection)
        try:
            return super().handle(**options)
        finally:
            triggers.install(connection)
