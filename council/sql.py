"""Lists of SQL statements run as they are: the database triggers the progress app installs
(progress/tally.py, progress/orgcode.py), written once per database vendor."""

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
