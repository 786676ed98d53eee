"""Walk the audit chain from its first event and report the first broken link.

Prints `OK: N events, head <hash>` and exits 0, or the first broken link (its sequence, what
was expected and what was found) and exits 1. The chain is read in batches of --batch-size
rows, so memory stays bounded however long it is.

A chain proves that nothing before its head was changed or removed; rows cut off the end, or
a chain rewritten from some row onwards with recomputed hashes, are caught by --anchor: a
sequence and hash recorded earlier (e.g. the head printed when a backup was taken).
"""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError, CommandParser

from council.audit import chain

ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def anchor(value: str) -> tuple[int, str]:
    match = ANCHOR.match(value.strip().lower())
    if not match:
        raise CommandError(f"--anchor must be SEQUENCE:SHA256 (64 hex digits), not {value!r}")
    return int(match[1]), match[2]


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 at the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="rows read per query (default 1000)")
        parser.add_argument(
            "--anchor", action="append", default=[], metavar="SEQUENCE:HASH",
            help="an event's hash recorded earlier (e.g. the head at backup time); repeatable",
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        anchors = dict(anchor(value) for value in options["anchor"])
        report = chain.verify(batch_size=options["batch_size"], anchors=anchors, using=options["database"])
        if not report.ok:
            raise CommandError(f"BROKEN: {report.broken} (after {report.count} intact events)", returncode=1)
        self.stdout.write(f"OK: {report.count} events, head {report.head}")
