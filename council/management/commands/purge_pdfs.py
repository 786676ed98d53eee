"""`manage.py purge_pdfs --older-than-days N`: data retention of stored PDFs (council.retention)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from council import retention


class Command(BaseCommand):
    help = (
        "Delete superseded PDFs (an older rendering of a policy version, progress report or quarterly "
        "pack whose newer rendering exists, and failed renderings) rendered more than N days ago; the "
        "newest PDF of each document is always kept. Default N: PDF_RETENTION_DAYS."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than-days", default=None, metavar="N")
        parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")

    def handle(self, *args, **options) -> None:
        given = options["older_than_days"]
        if given is None:
            days = settings.PDF_RETENTION_DAYS
            if days < 1:
                raise CommandError("no retention period: give --older-than-days N or set PDF_RETENTION_DAYS")
        else:
            days = int(given) if given.strip().isdigit() else 0
            if days < 1:
                raise CommandError(f"--older-than-days must be a whole number of days, at least 1 (got {given!r})")
        result = retention.purge(days, dry_run=options["dry_run"])
        verb = "Would delete" if options["dry_run"] else "Deleted"
        if options["verbosity"] >= 2:
            for name in result.files:
                self.stdout.write(f"  {name}")
        self.stdout.write(
            f"{verb} {result.deleted} superseded PDF(s) older than {days} days "
            f"({len(result.version_pdfs)} policy version PDF(s), {len(result.progress_documents)} progress document(s), "
            f"{len(result.meeting_pdfs)} meeting PDF(s), "
            f"{len(result.files)} file(s), {result.bytes / 1_000_000:.1f} MB); the newest PDF of each document is kept."
        )
