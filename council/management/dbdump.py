"""Backup and restore of the configured database (the `backup` and `restore` commands).

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction`
into the database DATABASE_URL names, with the PostgreSQL client of the machine (the Docker
image has it; its major version must be at least the server's). SQLite: SQLite's online
backup API, which copies a consistent snapshot even while others write, in both directions.

A backup is written beside its destination under a temporary name and renamed when complete,
so a file with the final name is always a whole backup. Every failure is a BackupError with
a one-line reason.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
SUFFIX = {POSTGRESQL: ".dump", SQLITE: ".sqlite3"}


class BackupError(Exception):
    pass


def vendor(connection) -> str:
    if connection.vendor in (POSTGRESQL, SQLITE):
        return connection.vendor
    raise BackupError(f"backup and restore support PostgreSQL and SQLite, not {connection.vendor}")


def describe(connection) -> str:
    settings = connection.settings_dict
    if connection.vendor == SQLITE:
        return f"SQLite database {settings['NAME']}"
    host = settings.get("HOST") or "local socket"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"PostgreSQL database {settings['NAME']!r} on {host}{port}"


def kind_of_file(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"no such backup file: {path}") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(PG_MAGIC):
        return POSTGRESQL
    if head == SQLITE_MAGIC:
        return SQLITE
    raise BackupError(f"{path} is not a backup made by `backup` (neither a pg_dump custom-format file nor SQLite)")


def _pg_env(settings: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        value = settings.get(key)
        if value:
            env[variable] = str(value)
    options = settings.get("OPTIONS") or {}
    for key, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                          ("sslkey", "PGSSLKEY"), ("passfile", "PGPASSFILE")):
        if options.get(key):
            env[variable] = str(options[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client (Debian: postgresql-client)")
    return path


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    # pg_restore ends with a summary ("errors ignored on restore: 1"); the cause comes before it.
    for line in lines:
        if "error:" in line.lower():
            return line
    return lines[-1] if lines else "no message"


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    completed = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    if completed.returncode != 0:
        raise BackupError(f"{what} failed: {_last_line(completed.stderr)}")


def dump(connection, destination: Path) -> int:
    """Write a backup of `connection`'s database to `destination`; returns its size in bytes."""
    kind = vendor(connection)
    destination = Path(destination)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {destination.parent}: {exc.strerror}") from None
    if destination.exists():
        raise BackupError(f"{destination} exists already: choose another --output")
    partial = destination.with_name(destination.name + ".partial")
    try:
        if kind == POSTGRESQL:
            settings = connection.settings_dict
            _run(
                [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                 settings["NAME"]],
                _pg_env(settings), "pg_dump",
            )
        else:
            connection.ensure_connection()
            target = sqlite3.connect(partial)
            try:
                # The live connection: a consistent copy, whatever other connections write.
                connection.connection.backup(target)
            except sqlite3.Error as exc:
                raise BackupError(f"SQLite backup failed: {exc}") from None
            finally:
                target.close()
        os.replace(partial, destination)
    except OSError as exc:
        raise BackupError(f"cannot write {destination}: {exc.strerror}") from None
    finally:
        if partial.exists():
            partial.unlink()
    return destination.stat().st_size


def restore(connection, source: Path) -> None:
    """Replace the contents of `connection`'s database with the backup in `source`."""
    kind = vendor(connection)
    source = Path(source)
    found = kind_of_file(source)
    if found != kind:
        names = {POSTGRESQL: "PostgreSQL", SQLITE: "SQLite"}
        raise BackupError(f"{source} is a {names[found]} backup but the configured database is {names[kind]}")
    if kind == POSTGRESQL:
        settings = connection.settings_dict
        # Other sessions of this process would hold locks pg_restore needs.
        connection.close()
        _run(
            [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", f"--dbname={settings['NAME']}", str(source)],
            _pg_env(settings), "pg_restore",
        )
    else:
        connection.ensure_connection()
        backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            backup.backup(connection.connection)
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite restore failed: {exc}") from None
        finally:
            backup.close()
