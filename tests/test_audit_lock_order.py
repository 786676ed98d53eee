"""The chain lock comes before row locks (council/audit/chain.py, "Lock order").

A transaction that locks a recorded row and then records an event waits for the chain lock; if
the chain lock's holder then wants that row, the two deadlock. On PostgreSQL every transaction
therefore takes the chain lock before its first write or row lock on a recorded table. These
tests show the deadlock that order prevents (by removing it), that it is gone with it, and what
takes the lock and how often.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from council.audit import chain
from council.audit.recorder import record

POSTGRES = connection.vendor == "postgresql"
on_postgresql = pytest.mark.skipif(not POSTGRES, reason="the lock order is PostgreSQL's (DATABASE_URL); CI runs it")


@pytest.mark.parametrize(
    ("sql", "locks"),
    [
        ('INSERT INTO "auth_group" ("name") VALUES (%s) RETURNING "auth_group"."id"', True),
        ('UPDATE "policies_policy" SET "status" = %s WHERE "policies_policy"."id" = %s', True),
        ('DELETE FROM "candidates_candidate" WHERE "candidates_candidate"."id" IN (%s)', True),
        ('INSERT INTO "auth_user_groups" ("user_id", "group_id") VALUES (%s, %s)', True),
        ('SELECT "policies_consentround"."id" FROM "policies_consentround" WHERE "policies_consentround"."id" = %s LIMIT 21 FOR UPDATE', True),
        ('SELECT "a"."id" FROM "policies_policyversion" a INNER JOIN "policies_policy" ON (1 = 1) FOR NO KEY UPDATE', True),
        ('select id from progress_adoption where id = %s for update', True),
        ('SELECT "policies_consentround"."id" FROM "policies_consentround" WHERE "policies_consentround"."id" = %s', False),
        ('SELECT "dashboards_stamp"."id" FROM "dashboards_stamp" WHERE "dashboards_stamp"."id" = %s FOR UPDATE', False),
        ('INSERT INTO "django_session" ("session_key") VALUES (%s)', False),
        ('UPDATE "progress_reminder" SET "sent_at" = %s', False),
        ('SELECT pg_advisory_xact_lock(%s)', False),
    ],
)
def test_which_statements_take_the_chain_lock(sql, locks):
    """Writes and row locks of recorded tables do; reads, and writes of unrecorded tables
    (sessions, the dashboards' stamps, reminder claims), do not."""
    assert chain.locks_recorded_rows(sql) is locks


def test_the_recorded_tables_are_what_capture_records():
    tables = chain.recorded_tables()
    assert {"policies_policy", "candidates_candidate", "progress_adoption", "auth_user", "auth_user_groups"} <= tables
    assert tables.isdisjoint({"audit_auditevent", "policies_consentrecord", "progress_adoptionchange", "django_session", "dashboards_stamp"})


def advisory_locks(queries) -> int:
    return sum("pg_advisory_xact_lock" in q["sql"] for q in queries)


def held_by_me() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted")
        return cursor.fetchone()[0]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_lock_is_taken_once_per_transaction_before_its_first_recorded_write():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        group = Group.objects.create(name="lock-order-1")
        assert held_by_me() == 1
        group.name = "lock-order-1b"
        group.save()
        Group.objects.create(name="lock-order-2")
    sqls = [q["sql"] for q in queries]
    assert advisory_locks(queries) == 1
    first_write = next(i for i, sql in enumerate(sqls) if sql.startswith("INSERT"))
    assert "pg_advisory_xact_lock" in sqls[first_write - 1]
    assert held_by_me() == 0  # released with the commit


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_releases_the_lock_and_the_next_write_takes_it_again():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            Group.objects.create(name="lock-order-sp")
            raise RuntimeError
        assert held_by_me() == 0  # PostgreSQL released what the savepoint took
        Group.objects.create(name="lock-order-after")
        assert held_by_me() == 1
    assert advisory_locks(queries) == 2
    assert not Group.objects.filter(name="lock-order-sp").exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_writes_of_unrecorded_tables_and_reads_do_not_take_it():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        session = SessionStore()
        session["x"] = 1
        session.save()
        list(Group.objects.all())
        assert held_by_me() == 0
    assert advisory_locks(queries) == 0


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ordered", [True, False], ids=["chain lock first", "without the order"])
def test_a_row_lock_then_an_event_against_an_event_then_that_row(ordered):
    """The shape of a round closed on time (records the round's change, then locks its policy)
    against a ministry's edit of that policy (locks it, then records): here, one transaction
    records an event and then updates a group, while the other locks that group and then
    creates another. Without the order PostgreSQL finds a deadlock and fails one of them; with
    it, the second waits before its row lock and both commit."""
    group = Group.objects.create(name="lock-order-contended")
    recorded, locking = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}

    def prepare() -> None:
        connection.ensure_connection()
        if not ordered:
            connection.execute_wrappers.remove(chain.lock_before_recorded_writes)

    def records_then_updates() -> None:
        try:
            prepare()
            with transaction.atomic():
                record("import", details={"lock order": "records first"})
                recorded.set()
                locking.wait(10)
                time.sleep(0.3)  # the other is now locking the group (or waiting to)
                Group.objects.filter(pk=group.pk).update(name="lock-order-renamed")
        except BaseException as exc:  # noqa: BLE001 — asserted below
            errors["records first"] = exc
        finally:
            connections.close_all()

    def locks_then_records() -> None:
        try:
            prepare()
            recorded.wait(10)
            locking.set()
            with transaction.atomic():
                Group.objects.select_for_update().get(pk=group.pk)
                time.sleep(0.6)  # the other now wants the group
                Group.objects.create(name="lock-order-new")
        except BaseException as exc:  # noqa: BLE001 — asserted below
            errors["locks first"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=records_then_updates), threading.Thread(target=locks_then_records)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if ordered:
        assert errors == {}
        assert Group.objects.get(pk=group.pk).name == "lock-order-renamed"
        assert Group.objects.filter(name="lock-order-new").exists()
        assert chain.verify().ok
    else:
        assert len(errors) == 1
        (error,) = errors.values()
        assert isinstance(error, OperationalError) and isinstance(error.__cause__, psycopg.errors.DeadlockDetected)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_every_new_connection_orders_its_locks():
    connections.close_all()
    connection.ensure_connection()
    assert connection.execute_wrappers.count(chain.lock_before_recorded_writes) == 1
    connection.close()
    connection.ensure_connection()  # a reconnection does not wrap twice
    assert connection.execute_wrappers.count(chain.lock_before_recorded_writes) == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_connection_opened_inside_another_wrapper_keeps_the_order_when_it_ends():
    """connection.execute_wrapper() pops the last wrapper on leaving: a connection first opened
    inside one (a new thread's) must not lose its lock-order wrapper to that pop."""
    seen: list = []

    def passing(execute, sql, params, many, context):
        return execute(sql, params, many, context)

    def in_a_new_thread() -> None:
        try:
            with connection.execute_wrapper(passing):
                connection.ensure_connection()
            seen.extend(connection.execute_wrappers)
        finally:
            connections.close_all()

    thread = threading.Thread(target=in_a_new_thread)
    thread.start()
    thread.join(timeout=30)
    assert seen == [chain.lock_before_recorded_writes]
