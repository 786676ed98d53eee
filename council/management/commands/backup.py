"""`manage.py backup [--output PATH]`: a backup of the configured database (council.management.dbdump)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from council.management import dbdump


class Command(BaseCommand):
    help = (
        "Back up the database DATABASE_URL names: PostgreSQL with pg_dump (custom format), SQLite with its "
        "online backup API. Writes BACKUP_DIR/council-<database>-<time>.dump|.sqlite3 unless --output is given, "
        "and prints the file's path. Uploaded files and PDFs (MEDIA_ROOT or the bucket) are not included."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="file to write (must not exist)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, **options) -> None:
        if options["database"] not in connections:
            raise CommandError(f"no database alias {options['database']!r}")
        connection = connections[options["database"]]
        try:
            kind = dbdump.vendor(connection)
            output = options["output"]
            if output is None:
                name = Path(str(connection.settings_dict["NAME"])).stem or "database"
                stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
                output = Path(settings.BACKUP_DIR) / f"council-{name}-{stamp}{dbdump.SUFFIX[kind]}"
            size = dbdump.dump(connection, output)
        except dbdump.BackupError as exc:
            raise CommandError(f"backup failed, nothing written: {exc}") from None
        self.stderr.write(f"Backed up {dbdump.describe(connection)} ({size / 1_000_000:.1f} MB) to:")
        self.stdout.write(str(output))
