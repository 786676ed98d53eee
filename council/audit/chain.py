"""Appending to the one hash chain, and walking it to find the first broken link.

Appending takes the chain lock, reads the head (the highest sequence and its hash), and
inserts the next row, all inside the caller's transaction. On PostgreSQL the lock is a
transaction-level advisory lock: it is held until that transaction commits or rolls back, so
a second writer waits, then reads the head the first one committed, and two concurrent
writers can never both chain from the same head. (Read committed, Django's default, gives
the second writer a fresh snapshot after the wait.) SQLite allows one writer at a time; should
two connections still race, the primary key on `sequence` turns the second insert into an
IntegrityError rather than a fork.

The cost: transactions that record events commit one after another. The platform's writes
are few (people deliberating, not a high-rate feed), so that is cheap; the lock is taken as
late as possible (at the first event of a transaction).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from council.audit.models import GENESIS, HASHED_COLUMNS, AuditEvent, event_material, hash_material

# One 64-bit key for pg_advisory_xact_lock, derived from a name so it cannot collide by accident
# with another feature's numeric key.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"council.audit.chain").digest()[:8], "big", signed=True)


def _lock(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _head(using: str) -> tuple[int, str] | None:
    """The last event's sequence and hash (one primary-key index probe; plain SQL because this
    runs on every recorded write)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT sequence, hash FROM {AuditEvent._meta.db_table} ORDER BY sequence DESC LIMIT 1")
        return cursor.fetchone()


def append(**fields: Any) -> AuditEvent:
    """Insert the next event with `fields` (everything but sequence, at, prev_hash, hash)."""
    using = router.db_for_write(AuditEvent)
    with transaction.atomic(using=using, savepoint=False):
        _lock(using)
        head = _head(using)
        sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
        event = AuditEvent(sequence=sequence, at=timezone.now(), prev_hash=prev_hash, **fields)
        event.hash = event.compute_hash()
        event.save(using=using, force_insert=True)
    return event


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    problem: str
    expected: str
    found: str

    def __str__(self) -> str:
        return f"sequence {self.sequence}: {self.problem} (expected {self.expected}, found {self.found})"


@dataclass(frozen=True)
class ChainReport:
    count: int
    head: str
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def rows(batch_size: int = 1000, using: str | None = None) -> Iterator[dict[str, Any]]:
    """Every row in sequence order, read in keyset batches: memory stays bounded by the batch."""
    queryset = AuditEvent.objects.using(using or router.db_for_read(AuditEvent)).order_by("sequence")
    after = None
    while True:
        batch = queryset if after is None else queryset.filter(sequence__gt=after)
        page = list(batch.values(*HASHED_COLUMNS, "hash")[:batch_size])
        if not page:
            return
        yield from page
        after = page[-1]["sequence"]


def verify(batch_size: int = 1000, anchors: dict[int, str] | None = None, using: str | None = None) -> ChainReport:
    """Walk the chain; report the first row whose sequence, link or content does not check out.

    `anchors` ({sequence: hash}, e.g. a head printed at backup time) also catch what a chain
    cannot see by itself: rows cut off its end, or a chain rewritten from some row onwards.
    """
    anchors = dict(anchors or {})
    expected_sequence, prev_hash, count = 1, GENESIS, 0
    for row in rows(batch_size, using):
        sequence = row["sequence"]
        if sequence != expected_sequence:
            return ChainReport(count, prev_hash, BrokenLink(
                expected_sequence, "missing event (deleted?)", f"sequence {expected_sequence}", f"sequence {sequence}"
            ))
        if row["prev_hash"] != prev_hash:
            return ChainReport(count, prev_hash, BrokenLink(sequence, "prev_hash does not match the previous event", prev_hash, row["prev_hash"]))
        computed = hash_material(event_material(row))
        if row["hash"] != computed:
            return ChainReport(count, prev_hash, BrokenLink(sequence, "content does not match its hash", computed, row["hash"]))
        if sequence in anchors and anchors.pop(sequence) != row["hash"]:
            return ChainReport(count, prev_hash, BrokenLink(sequence, "hash differs from the anchor", "the anchored hash", row["hash"]))
        prev_hash, expected_sequence, count = row["hash"], sequence + 1, count + 1
    if anchors:
        missing = min(anchors)
        return ChainReport(count, prev_hash, BrokenLink(
            missing, "anchored event is missing (chain cut short?)", anchors[missing], f"chain ends at {count}"
        ))
    return ChainReport(count, prev_hash, None)
