"""Lists of SQL statements run as they are: the database triggers the progress app installs
(progress/tally.py, progress/report_tally.py, progress/orgcode.py), written once per database
vendor; and constants written into a query's SQL (Constant)."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import CharField, Expression, IntegerField

_CODE = re.compile(r"[a-z0-9_]+")


def _connection(schema_editor):
    # In a migration, the migration's connection; otherwise the default one.
    return schema_editor.connection if schema_editor is not None else connection


def for_vendor(by_vendor: dict[str, list[str]], schema_editor=None) -> list[str]:
    """The statements written for the connection's database (none for another database)."""
    return by_vendor.get(_connection(schema_editor).vendor, [])


def run(statements: list[str], schema_editor=None) -> None:
    with _connection(schema_editor).cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class Triggers:
    """Database triggers that keep a table of counts: the statements that install them (per
    vendor), drop them, and recount the table from the rows (run after installing them, and
    for writers that bypass triggers)."""

    def __init__(self, install: dict[str, list[str]], drop: dict[str, list[str]], recount: list[str]) -> None:
        self.statements, self.drop, self.recount = install, drop, recount

    def install(self, schema_editor=None) -> None:
        run(for_vendor(self.statements, schema_editor) + self.recount, schema_editor)

    def uninstall(self, schema_editor=None) -> None:
        run(for_vendor(self.drop, schema_editor), schema_editor)

    def rebuild(self) -> None:
        """Recount (in the caller's transaction)."""
        run(self.recount)


class Constant(Expression):
    """A constant of the code (a status a visibility rule names), written into the SQL as a
    literal instead of sent as a parameter.

    PostgreSQL plans a prepared statement with its parameters' values for its first five
    runs, then keeps a generic plan unless that plan's estimated cost is higher. A page
    under LIMIT 50 filtered on a status sent as a parameter is estimated with an average
    status's number of rows: dearer than the custom plans, though it is the same plan, so
    the statement is planned again on every request (a municipal official's progress
    reports at scale 10: 3.4 ms of planning for 0.7 ms of execution; candidates: 1.9 ms for
    1.5 ms). With the status in the SQL, the generic plan knows it. Only lowercase codes and
    integers, which need no quoting beyond the quotes."""

    def __init__(self, value: str | int, output_field=None) -> None:
        if not (isinstance(value, int) and not isinstance(value, bool)) and not (
            isinstance(value, str) and _CODE.fullmatch(value)
        ):
            raise ValueError(f"not a code or an integer: {value!r}")
        super().__init__(output_field=output_field)
        self.value = value

    def as_sql(self, compiler, connection):
        return (f"'{self.value}'" if isinstance(self.value, str) else str(self.value)), []

    def _resolve_output_field(self):
        return CharField() if isinstance(self.value, str) else IntegerField()
