"""The audit trail is append-only and hash-chained: the database refuses changes, and
`verify_audit_trail` finds the first broken link when someone edits rows behind its back."""

import io
import threading
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from council.audit import chain, triggers
from council.audit.models import GENESIS, AuditEvent
from council.audit.recorder import record

POSTGRES = connection.vendor == "postgresql"


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_audit_trail", *args, stdout=out)
    return out.getvalue().strip()


def verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        verify(*args)
    assert caught.value.returncode == 1
    return str(caught.value)


@contextmanager
def triggers_lifted():
    """What someone with direct database access could do: get past the append-only triggers."""
    if connection.vendor == "sqlite":
        triggers.remove(connection)
        try:
            yield
        finally:
            triggers.install(connection)
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # triggers do not fire
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def three_events(db):
    """Three events of our own at the head of the chain (after the demo world's)."""
    groups = [Group.objects.create(name=f"audit-chain-{n}") for n in range(3)]
    return list(AuditEvent.objects.filter(object_id__in=[str(g.pk) for g in groups], content_type__model="group").order_by("sequence"))


# --- Append-only ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_are_chained_from_genesis():
    record("import", details={"file": "a.csv"})
    events = list(AuditEvent.objects.order_by("sequence"))
    assert events[0].sequence == 1 and events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.sequence == before.sequence + 1 and after.prev_hash == before.hash
    assert all(e.hash == e.compute_hash() for e in events)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda e: (setattr(e, "actor_repr", "someone-else"), e.save()), id="orm-save"),
        pytest.param(lambda e: AuditEvent.objects.filter(pk=e.pk).update(actor_repr="x"), id="orm-update"),
        pytest.param(lambda e: e.delete(), id="orm-delete"),
        pytest.param(lambda e: AuditEvent.objects.filter(pk=e.pk).delete(), id="orm-queryset-delete"),
        pytest.param(lambda e: raw("UPDATE audit_auditevent SET object_repr = 'x' WHERE sequence = %s", [e.pk]), id="sql-update"),
        pytest.param(lambda e: raw("DELETE FROM audit_auditevent WHERE sequence = %s", [e.pk]), id="sql-delete"),
        pytest.param(lambda e: raw("DELETE FROM audit_auditevent"), id="sql-delete-all"),
    ],
)
def test_the_database_refuses_to_change_or_delete_events(three_events, change):
    event = three_events[1]
    stored = (event.actor_repr, event.object_repr, event.hash)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change(event)
    fresh = AuditEvent.objects.get(pk=event.pk)
    assert (fresh.actor_repr, fresh.object_repr, fresh.hash) == stored
    assert verify().startswith("OK:")


@pytest.mark.skipif(not POSTGRES, reason="TRUNCATE triggers are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_truncate():
    # Committed first: PostgreSQL will not TRUNCATE a table with pending (deferred) checks anyway.
    record("import", details={"file": "a.csv"})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_and_rearms_the_triggers():
    """`flush` (tests, a development reset) erases everything, the audit trail included; the
    table refuses changes again afterwards."""
    record("import", details={"file": "a.csv"})
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    event = record("import", details={"file": "b.csv"})
    assert (event.sequence, event.prev_hash) == (1, GENESIS)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("DELETE FROM audit_auditevent")
    assert verify() == f"OK: 1 events, head {event.hash}"


# --- verify_audit_trail --------------------------------------------------------------------------------


def test_an_intact_chain_is_ok_with_its_count_and_head(three_events):
    head = AuditEvent.objects.order_by("-sequence").first()
    assert verify() == f"OK: {AuditEvent.objects.count()} events, head {head.hash}"
    # Small batches read the same chain (the walk is in keyset pages).
    assert verify("--batch-size", "2") == f"OK: {AuditEvent.objects.count()} events, head {head.hash}"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET object_repr = 'forged' WHERE sequence = %s",
        "UPDATE audit_auditevent SET actor_repr = 'forged' WHERE sequence = %s",
        "UPDATE audit_auditevent SET changes = '{\"name\": [null, \"forged\"]}' WHERE sequence = %s",
    ],
)
def test_a_raw_sql_edit_is_found_at_its_sequence(three_events, sql):
    target = three_events[1]
    with triggers_lifted():
        raw(sql, [target.sequence])
    message = verify_fails()
    assert f"sequence {target.sequence}: content does not match its hash" in message
    assert f"expected {AuditEvent.objects.get(pk=target.pk).compute_hash()}, found {target.hash}" in message
    assert f"after {target.sequence - 1} intact events" in message


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(three_events):
    first, second, third = three_events
    forged = AuditEvent.objects.get(pk=second.pk)
    forged.object_repr = "forged"
    new_hash = forged.compute_hash()
    with triggers_lifted():
        raw("UPDATE audit_auditevent SET object_repr = 'forged', hash = %s WHERE sequence = %s", [new_hash, second.sequence])
    message = verify_fails()
    assert f"sequence {third.sequence}: prev_hash does not match the previous event" in message
    assert f"expected {new_hash}, found {second.hash}" in message


def test_a_deleted_event_is_found(three_events):
    first, second, third = three_events
    with triggers_lifted():
        raw("DELETE FROM audit_auditevent WHERE sequence = %s", [second.sequence])
    message = verify_fails()
    assert f"sequence {second.sequence}: missing event (deleted?)" in message
    assert f"found sequence {third.sequence}" in message


def test_an_anchor_catches_a_cut_off_tail(three_events):
    first, second, third = three_events
    anchor = f"{third.sequence}:{third.hash}"
    assert verify("--anchor", anchor).startswith("OK:")
    with triggers_lifted():
        raw("DELETE FROM audit_auditevent WHERE sequence = %s", [third.sequence])
    assert verify().startswith("OK:")  # the chain alone cannot see a removed tail …
    message = verify_fails("--anchor", anchor)  # … the anchor taken earlier can
    assert f"sequence {third.sequence}: anchored event is missing" in message


def test_a_bad_anchor_is_a_one_line_error(db):
    with pytest.raises(CommandError, match="--anchor must be SEQUENCE:SHA256"):
        verify("--anchor", "12:nothex")
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        verify("--batch-size", "0")


def test_verify_reads_in_batches(three_events, django_assert_max_num_queries):
    count = AuditEvent.objects.count()
    # One query per batch, and one more to find the end (content types are cached).
    with django_assert_max_num_queries(count // 100 + 3):
        assert chain.verify(batch_size=100).ok


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------------


@pytest.mark.skipif(not POSTGRES, reason="concurrent writers need PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    """Eight threads, each with its own connection, append in transactions that also hold the
    lock while they do other work: every event lands once, in one unbroken chain."""
    import time

    from django.db import connections

    writers, per_writer, errors = 8, 5, []
    mark = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    record("import", details={"writer": n, "i": i})
                    time.sleep(0.005)  # still inside the transaction: the next writer must wait
                    record("import", details={"writer": n, "i": i, "second": True})
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    events = list(AuditEvent.objects.filter(sequence__gt=mark).order_by("sequence").values_list("sequence", "details"))
    assert [s for s, _d in events] == list(range(mark + 1, mark + writers * per_writer * 2 + 1))
    # A transaction's two events are adjacent: nobody got between them.
    for (_s1, first), (_s2, second) in zip(events[::2], events[1::2], strict=True):
        assert (first["writer"], first["i"]) == (second["writer"], second["i"]) and second["second"]
    report = chain.verify()
    assert report.ok and report.count == mark + writers * per_writer * 2
