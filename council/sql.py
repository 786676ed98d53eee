"""Lists of SQL statements run as they are: the database triggers the progress app installs
(progress/tally.py, progress/report_tally.py, progress/orgcode.py), written once per database vendor."""

from __future__ import annotations

from django.db import connection


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
