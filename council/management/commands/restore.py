"""`manage.py restore FILE`: replace the configured database's contents with a backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from council.management import dbdump


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the database DATABASE_URL names, replacing the tables it "
        "holds: PostgreSQL with pg_restore --clean in one transaction (all or nothing), SQLite with its "
        "backup API. Stop the web, worker and beat processes first. Asks for confirmation unless --noinput."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="do not ask for confirmation")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, file: Path, interactive: bool, **options) -> None:
        if options["database"] not in connections:
            raise CommandError(f"no database alias {options['database']!r}")
        connection = connections[options["database"]]
        try:
            dbdump.vendor(connection)
            dbdump.kind_of_file(file)
        except dbdump.BackupError as exc:
            raise CommandError(f"restore refused, database unchanged: {exc}") from None
        target = dbdump.describe(connection)
        if interactive:
            try:
                answer = input(f"This replaces the contents of {target} with {file}. Type 'yes' to continue: ")
            except EOFError:
                answer = ""
            if answer.strip().lower() != "yes":
                raise CommandError("restore cancelled, database unchanged")
        try:
            dbdump.restore(connection, file)
        except dbdump.BackupError as exc:
            raise CommandError(f"restore failed, database unchanged: {exc}") from None
        self.stdout.write(self.style.SUCCESS(
            f"Restored {file} into {target}. Run `manage.py migrate` if the backup is older than the code."
        ))
