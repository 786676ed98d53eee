"""Proof that a refused request changed no row, and that an allowed write changed some.

Every SQL statement a request runs goes through Django's cursor, so a wrapper sees each
INSERT, UPDATE and DELETE with the number of rows it affected (the DB-API `rowcount`). A
request changed a table exactly when one of its writes there affected a row. This is exact
for every table of every app (including ones added later) and costs nothing, where hashing
every table's values before and after each of hundreds of requests took half a second each.

A few tables change on any request by design, whatever its outcome; they are left out here,
each with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection

# model label -> why its rows may change even when the request was refused.
SKIPPED_MODELS = {
    "sessions.Session": "a signed-in client's session (messages, language), not the platform's data",
    "audit.AuditEvent": "the audit trail records sign-ins and refused attempts too; that is its job",
    "axes.AccessAttempt": "failed sign-ins are counted (lockout), refused or not",
    "axes.AccessFailureLog": "failed sign-ins are logged (lockout), refused or not",
    "axes.AccessLog": "sign-ins are logged",
}

IGNORING = re.compile(r"^\s*INSERT\s+OR\s+IGNORE|\bON\s+CONFLICT\b", re.IGNORECASE)
WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', re.IGNORECASE)


def skipped_tables() -> set[str]:
    tables = set()
    for label in SKIPPED_MODELS:
        try:
            tables.add(apps.get_model(label)._meta.db_table)
        except LookupError:  # an app that is not installed (yet)
            continue
    return tables


@dataclass
class Writes:
    """The tables a block of code changed, with the rows each write affected."""

    changes: list[tuple[str, int]] = field(default_factory=list)
    skipped: set[str] = field(default_factory=skipped_tables)

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        match = WRITE.match(sql)
        if match and match.group(1) not in self.skipped:
            rows = context["cursor"].rowcount
            if sql.lstrip()[:6].upper() == "INSERT" and not IGNORING.search(sql):
                # A plain INSERT inserts or raises. (SQLite reports no rowcount for
                # INSERT … RETURNING until the returned ids are fetched, after this wrapper.)
                rows = max(rows, 1)
            if rows != 0:  # -1: the driver cannot tell, so count it as a change
                self.changes.append((match.group(1), rows))
        return result

    @property
    def tables(self) -> list[str]:
        totals: dict[str, int] = {}
        for table, rows in self.changes:
            totals[table] = totals.get(table, 0) + rows
        return [f"{table} ({rows} rows)" for table, rows in sorted(totals.items())]


@contextmanager
def recording_writes() -> Iterator[Writes]:
    writes = Writes()
    with connection.execute_wrapper(writes):
        yield writes
