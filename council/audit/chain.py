"""Appending to the one hash chain, and walking it to find the first broken link.

Appending takes the chain lock, reads the head (the highest sequence and its hash), and
inserts the next row, all inside the caller's transaction. On PostgreSQL the lock is a
transaction-level advisory lock: it is held until that transaction commits or rolls back, so
a second writer waits, then reads the head the first one committed, and two concurrent
writers can never both chain from the same head. (Read committed, Django's default, gives
the second writer a fresh snapshot after the wait.) SQLite allows one writer at a time; should
two connections still race, the primary key on `sequence` turns the second insert into an
IntegrityError rather than a fork.

Lock order. A transaction that writes recorded rows will take the chain lock when it records
their event; if it took a row lock first, it could wait for the chain lock while the holder of
the chain lock waits for that row: a deadlock, which PostgreSQL resolves by failing one of the
two (a round closed on time, which locks its policy after recording the round's change, against
a ministry's edit of that policy, which locks it and then records). So on PostgreSQL the chain
lock comes first: an execute wrapper (`lock_before_recorded_writes`, installed on every
connection) takes it before a transaction's first statement that writes or locks rows of a
recorded table (INSERT, UPDATE, DELETE or SELECT … FOR UPDATE/SHARE). Transactions that touch
only unrecorded tables (sessions, the dashboards' figures, reminder claims) never take it.
Whether the current transaction holds it is remembered by a no-op commit hook, which Django
drops with the transaction, and with a rolled-back savepoint, exactly when PostgreSQL releases
a lock taken there; so the lock costs one statement per transaction.

The cost: transactions that write recorded rows commit one after another. The platform's
writes are few (people deliberating, not a high-rate feed), so that is cheap.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from council.audit.models import GENESIS, HASHED_COLUMNS, AuditEvent, event_material, hash_material

# One 64-bit key for pg_advisory_xact_lock, derived from a name so it cannot collide by accident
# with another feature's numeric key.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"council.audit.chain").digest()[:8], "big", signed=True)


def _chain_locked() -> None:
    """A commit hook that does nothing: while it is queued, this transaction holds the lock."""


def _holds_lock(connection: BaseDatabaseWrapper) -> bool:
    return any(hook is _chain_locked for _sids, hook, _robust in connection.run_on_commit)


def _lock(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql" and not _holds_lock(connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        transaction.on_commit(_chain_locked, using=using)


@functools.cache
def recorded_tables() -> frozenset[str]:
    """The tables whose writes are recorded: the models capture.py records, and the
    many-to-many tables between them (a user's groups)."""
    from council.audit.capture import is_tracked

    return frozenset(
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if is_tracked(model) or (model._meta.auto_created and is_tracked(model._meta.auto_created))
    )


_WRITTEN_TABLE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_ROW_LOCK = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)
_READ_TABLES = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)', re.IGNORECASE)


def locks_recorded_rows(sql: str) -> bool:
    """Whether a statement writes, or locks for update, rows of a recorded table."""
    written = _WRITTEN_TABLE.match(sql)
    if written:
        return written.group(1) in recorded_tables()
    if (" FOR " in sql or " for " in sql) and _ROW_LOCK.search(sql):
        return not recorded_tables().isdisjoint(_READ_TABLES.findall(sql))
    return False


def lock_before_recorded_writes(execute: Callable, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Execute wrapper: inside a transaction, take the chain lock before the first statement
    that writes or locks recorded rows (see "Lock order" above)."""
    connection = context["connection"]
    if connection.in_atomic_block and isinstance(sql, str) and locks_recorded_rows(sql):
        _lock(connection.alias)
    return execute(sql, params, many, context)


def install_lock_order(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver (council.audit.apps): on PostgreSQL, wrap every statement.
    Outermost, so that `connection.execute_wrapper()`, which pops the last wrapper on leaving,
    removes its own even when the connection was opened inside it."""
    if connection.vendor == "postgresql" and lock_before_recorded_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, lock_before_recorded_writes)


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
