"""`manage.py backup` then `manage.py restore` into a fresh database finds every row again.

The test database (reference data, demo users, and a policy taken through consent, with its
audit trail) is backed up with the command, restored with the command — run as an operator
runs it, `manage.py restore FILE --noinput` in a process of its own whose DATABASE_URL names
a database that did not exist before — and compared table by table: the same tables, the
same number of rows in each, and the same rows (a digest of every row's values). Then
`verify_audit_trail` checks the restored copy's hash chain, anchored at the head the live
database had at backup time.

On PostgreSQL (CI) this is pg_dump/pg_restore into a new database on the same server; on
SQLite (the default locally) SQLite's backup API from the test database into a new file in
the test's tmp directory.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.db import connection, connections

from council.management import dbdump
from tests.worker import ROOT, database_url

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES = connection.vendor == "postgresql"


def table_contents(conn) -> dict[str, tuple[int, str]]:
    """Every table: (row count, digest of its rows in a fixed order)."""
    result = {}
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {conn.ops.quote_name(table)}")
            rows = sorted(repr(row) for row in cursor.fetchall())
            result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return result


class FreshDatabase:
    """A database that does not exist yet: a new PostgreSQL database on the test server
    (dropped afterwards), or a new SQLite file."""

    def __init__(self, tmp_path):
        self.settings = dict(connection.settings_dict)
        if POSTGRES:
            self.settings["NAME"] = f"{self.settings['NAME']}_restored_{uuid.uuid4().hex[:8]}"
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(self.settings['NAME'])}")
            self.url = database_url(self.settings)
        else:
            self.settings["NAME"] = str(tmp_path / "restored.sqlite3")
            self.url = f"sqlite:///{self.settings['NAME']}"
        # Not registered in django.db.connections: a connection of the test's own, for reading.
        self.connection = type(connections["default"])(self.settings, alias="restored")

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST_")) and key not in {"DATABASE_URL", "DEBUG"}
        }
        env.update({
            "DJANGO_SETTINGS_MODULE": "council.settings", "SECRET_KEY": os.environ["SECRET_KEY"],
            "DATABASE_URL": self.url, "PYTHONPATH": str(ROOT),
        })
        env.pop("REDIS_URL", None)
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def restore(self, backup) -> None:
        done = self.manage("restore", str(backup), "--noinput")
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Restored" in done.stdout

    def close(self) -> None:
        self.connection.close()
        if POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(self.settings['NAME'])} WITH (FORCE)")


@pytest.fixture
def fresh_database(tmp_path):
    database = FreshDatabase(tmp_path)
    try:
        yield database
    finally:
        database.close()


def backup_to(path) -> None:
    out = io.StringIO()
    call_command("backup", output=path, stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == str(path)


def test_a_backup_restored_into_a_fresh_database_has_every_row_of_every_table(world, consented_policy, fresh_database, tmp_path):
    consented_policy()
    before = table_contents(connection)
    assert before["tenants_organization"][0] > 1700 and before["policies_ballot"][0] == 3

    backup = tmp_path / "backups" / f"council{dbdump.SUFFIX[connection.vendor]}"
    backup_to(backup)
    assert backup.stat().st_size > 100_000
    assert [p.name for p in backup.parent.iterdir()] == [backup.name]  # no partial file left
    assert dbdump.kind_of_file(backup) == connection.vendor

    fresh_database.restore(backup)
    after = table_contents(fresh_database.connection)
    assert set(after) == set(before)
    assert {t: c[0] for t, c in after.items()} == {t: c[0] for t, c in before.items()}
    assert after == before  # the rows themselves, not only how many

    # The audit trail's chain is intact in the copy and ends where the original ended.
    live = io.StringIO()
    call_command("verify_audit_trail", stdout=live)
    events, head = live.getvalue().strip().removeprefix("OK: ").split(" events, head ")
    assert int(events) > 0
    verified = fresh_database.manage("verify_audit_trail", "--anchor", f"{events}:{head}")
    assert verified.returncode == 0, verified.stderr[-2000:]
    assert verified.stdout.strip() == live.getvalue().strip()


def test_restore_replaces_what_the_target_holds(world, fresh_database, tmp_path, submitted_policy):
    """Restoring an older backup over a database with newer rows brings back exactly the backup."""
    older = tmp_path / f"older{dbdump.SUFFIX[connection.vendor]}"
    backup_to(older)
    expected = table_contents(connection)

    submitted_policy()  # newer rows, then restored into the fresh database on top of them
    newer = tmp_path / f"newer{dbdump.SUFFIX[connection.vendor]}"
    backup_to(newer)
    fresh_database.restore(newer)
    assert table_contents(fresh_database.connection)["policies_policy"][0] == 1

    fresh_database.restore(older)
    assert table_contents(fresh_database.connection) == expected
    assert expected["policies_policy"][0] == 0
