"""Reminders are sent once with a real Celery worker, Redis and PostgreSQL — seen from outside.

The rest of the suite runs tasks eagerly, in-process (tests/settings.py). Here a real
`celery -A council worker` process, configured by council.settings exactly as in
production, takes tasks from Redis and writes to the test database, while the test plays
beat (it publishes the beat's task messages), kills the worker with SIGKILL in the middle
of a send, restarts Redis, and counts the mail every process sent.

What makes this work, and why:

* Claim first. progress.reminders.send() claims a Reminder row with one conditional
  UPDATE (never sent, and unclaimed or claimed longer ago than the lease) before it
  sends; PostgreSQL lets exactly one of any number of deliveries of the same task
  succeed, so the second beat's duplicate messages do nothing. Policies' consent
  reminders insert their row once (ReminderLog, unique) and claim it the same way; PDFs
  claim their rendering too (VersionPdfClaim, ProgressDocument's status), each with a lease.
* Rows before messages. A task is published only once the row it names is committed:
  plan_and_send_reminders inserts (autocommit) before it queues, and the actions queue
  their notifications with transaction.on_commit, so a worker never gets an id it cannot
  see yet, nor one of a transaction that rolled back.
* CELERY_TASK_ACKS_LATE: a message is acknowledged after its task ran, so a worker that
  dies mid-task does not lose it. CELERY_TASK_REJECT_ON_WORKER_LOST: if only the pool
  child dies, the main process requeues the message at once. When the whole worker dies
  (as here), the message waits in Redis's "unacked" set until the visibility_timeout
  (CELERY_BROKER_TRANSPORT_OPTIONS, 3600 s), longer than any task, so a slow task is not
  handed to a second worker while the first still runs. CELERY_WORKER_PREFETCH_MULTIPLIER
  = 1: a worker holds only the message it runs, so its death strands no others (the test
  checks this: five messages waiting, one unacknowledged).
* Either redelivery of a reminder whose sender died mid-send finds the claim still held
  (inside the lease, REMINDER_CLAIM_LEASE_SECONDS, 600 s) and does nothing: a worker that is
  merely slow is not raced. None of it survives a Redis restart anyway (no persistence:
  the queue and the unacked set are gone). What sends such a reminder is the next
  plan_and_send_reminders after the lease (beat, every 15 minutes; reconcile_reminders,
  daily, runs the same): it re-queues every reminder never sent whose claim is absent or
  older than the lease.

What "exactly once" honestly means: at most one claim per lease, and a reconcile after
the lease, so a reminder is sent — once — as long as a worker that claimed it either
finishes within the lease or dies before its mail leaves. A worker killed after the SMTP
server accepted the message but before it marked the row sent (a few milliseconds) sends
it again after the lease; so does a send that takes longer than the lease (Django's SMTP
backend has no timeout unless EMAIL_TIMEOUT is set). The test kills the worker before its
send, which is the case the design guarantees.

Runs only on PostgreSQL with REDIS_URL set (CI sets both). The worker gets its own
Redis: a redis-server started by this test on a free port, restarted for real (a SIGKILL
and a fresh start, losing every queued message); without a redis-server binary it uses
REDIS_URL's server and closes every client connection instead (CLIENT KILL), queue kept.
Locally:

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE council_worker"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/council_worker REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python -m pytest -q tests/test_celery_worker.py
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from council import calendar
from progress import actions
from progress.models import MeasureRequest, ProgressReport, Reminder
from tests.worker import (
    MAIL_DELAY_ENV,
    MAIL_DIR_ENV,
    RENDER_DELAY_ENV,
    RENDER_DIR_ENV,
    ROOT,
    RedisServer,
    SharedRedis,
    Worker,
    database_url,
    read_mailbox,
    renderings,
    wait_until,
)

POSTGRES = connection.vendor == "postgresql"

pytestmark = [
    pytest.mark.skipif(
        not (POSTGRES and settings.REDIS_URL), reason="a real worker needs PostgreSQL (DATABASE_URL) and REDIS_URL"
    ),
    pytest.mark.django_db(transaction=True),
]

# The workers' claim lease: longer than any send of worker B takes, and than worker B
# needs to start, so that the first reconcile runs inside it. At least this; longer when
# the machine is slow (derived from how long worker A took to get ready: lease_for()).
LEASE_SECONDS = 20


def lease_for(startup_seconds: float) -> int:
    """A lease that worker B's start (about as long as worker A's was), a Redis restart and
    the first reconcile fit in, whatever the machine's load."""
    return max(LEASE_SECONDS, int(2 * startup_seconds) + 15)
TIMEOUT = 60  # the longest any single wait may take


class Rig:
    """The processes of one test: a Redis, a queue of its own, workers, a mailbox."""

    def __init__(self, broker, tmp_path: Path):
        self.broker = broker
        self.tmp_path = tmp_path
        self.queue = f"council-test-{uuid.uuid4().hex[:12]}"
        self.mailbox = tmp_path / "mail"
        self.mailbox.mkdir()
        self.media = tmp_path / "media"
        self.media.mkdir()
        self.rendered = tmp_path / "renderings"
        self.rendered.mkdir()
        self.workers: list[Worker] = []
        self._client = None

    def worker_env(self, mail_delay: float, lease_seconds: int = LEASE_SECONDS) -> dict[str, str]:
        env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("CELERY_", "EMAIL_", "DJANGO_", "PYTEST_", "COUNCIL_TEST_"))
            and key not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "REMINDER_CLAIM_LEASE_SECONDS", "PYTHONPATH"}
        }
        env.update({
            "DJANGO_SETTINGS_MODULE": "council.settings",  # production settings, not tests.settings
            "SECRET_KEY": os.environ["SECRET_KEY"],  # set by tests/settings.py
            "DATABASE_URL": database_url(connection.settings_dict),  # the test database
            "REDIS_URL": self.broker.url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "EMAIL_BACKEND": "tests.worker.RecordingEmailBackend",
            MAIL_DIR_ENV: str(self.mailbox),
            MAIL_DELAY_ENV: str(mail_delay),
            "MEDIA_ROOT": str(self.media),
            "REMINDER_CLAIM_LEASE_SECONDS": str(lease_seconds),
            "PDF_RENDER_LEASE_SECONDS": str(lease_seconds),
            "PYTHONPATH": str(ROOT),
        })
        return env

    def start_worker(self, name: str, *, mail_delay: float = 0.0, lease_seconds: int = LEASE_SECONDS,
                     env: dict[str, str] | None = None) -> Worker:
        worker = Worker(
            name, env={**self.worker_env(mail_delay, lease_seconds), **(env or {})}, queue=self.queue, logdir=self.tmp_path
        )
        self.workers.append(worker)
        return worker

    @property
    def client(self):
        if self._client is None:
            from celery import Celery

            # A client of its own: the suite's app is eager, and must stay so.
            self._client = Celery("council-test-client", broker=self.broker.url, set_as_current=False)
            self._client.conf.update(
                task_serializer="json", accept_content=["json"], broker_connection_retry_on_startup=True,
                broker_transport_options={"visibility_timeout": 3600},
            )
        return self._client

    def publish(self, task_name: str, *args) -> str:
        """What beat does: put one task message on the queue; returns its id."""
        result = self.client.send_task(
            task_name, args=list(args), queue=self.queue,
            retry=True, retry_policy={"max_retries": 20, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2},
        )
        return result.id

    def redis(self):
        import redis

        return redis.Redis.from_url(self.broker.url)

    def result(self, task_id: str, timeout: float = TIMEOUT):
        """The return value the worker stored for a task (result backend: the same Redis)."""
        client = self.redis()
        try:
            def stored():
                raw = client.get(f"celery-task-meta-{task_id}")
                return json.loads(raw) if raw else None

            meta = wait_until(stored, timeout=timeout, message=f"the result of task {task_id}")
        finally:
            client.close()
        assert meta["status"] == "SUCCESS", meta
        return meta["result"]

    def queued(self) -> tuple[int, int]:
        """(messages waiting on the queue, messages delivered to a worker and not acknowledged)."""
        client = self.redis()
        try:
            waiting = client.llen(self.queue)
            unacked = sum(
                1 for raw in client.hvals("unacked") if json.loads(raw)[2] == self.queue
            )
        finally:
            client.close()
        return waiting, unacked

    def reset_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def logs(self) -> str:
        return "\n".join(f"--- worker {w.name} ---\n{w.log()[-4000:]}" for w in self.workers)

    def close(self) -> None:
        # Shown by pytest only when the test failed ("Captured stdout teardown").
        print(self.logs())
        try:
            for worker in self.workers:
                worker.terminate()  # all at once, then wait for each
            for worker in self.workers:
                worker.stop()
        finally:
            self.reset_client()
            if isinstance(self.broker, SharedRedis):
                self._forget_queue()

    def _forget_queue(self) -> None:
        """On the machine's Redis, leave nothing of this queue behind (results expire)."""
        client = self.redis()
        try:
            tags = [tag for tag, raw in client.hgetall("unacked").items() if json.loads(raw)[2] == self.queue]
            if tags:
                client.hdel("unacked", *tags)
                client.zrem("unacked_index", *tags)
            client.delete(self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        finally:
            client.close()


@pytest.fixture
def broker(tmp_path):
    if shutil.which("redis-server") and os.environ.get("COUNCIL_WORKER_TEST_REDIS") != "shared":
        server = RedisServer(tmp_path)
    else:
        server = SharedRedis(settings.REDIS_URL)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def rig(world, broker, tmp_path):
    # Torn down before the broker and before the test database is flushed: no worker is
    # left behind, whatever the test did.
    rig = Rig(broker, tmp_path)
    try:
        yield rig
    finally:
        rig.close()


def test_each_reminder_is_sent_once_across_two_beats_a_killed_worker_and_a_redis_restart(rig, consented_policy, user):
    timings = {}
    started = time.monotonic()

    def mark(phase):
        timings[phase] = round(time.monotonic() - started, 1)

    # Three obligations needing a reminder today: due in 7 days, tomorrow, overdue since yesterday.
    secretariat = user("secretariat")
    policy = consented_policy()
    schedule = actions.set_schedule(policy, secretariat, frequency="quarterly", due_days_after_period=30)
    today = calendar.today()
    ProgressReport.objects.filter(schedule=schedule).update(due_date=today + timedelta(days=7))
    for days in (1, -1):
        measure = actions.request_measures(secretariat, policy=policy, request="対応を", due_date=today + timedelta(days=9))
        MeasureRequest.objects.filter(pk=measure.pk).update(due_date=today + timedelta(days=days))
    mark("data")

    # Two beats in a row: both plan (the rows are inserted once) and both queue all three
    # reminders, since none was sent yet — six deliveries for three reminders.
    beats = [rig.publish("progress.tasks.plan_and_send_reminders") for _ in range(2)]
    a_started = time.monotonic()
    worker_a = rig.start_worker("a", mail_delay=300)  # its sends hang until it is killed
    worker_a.wait_ready()
    # Worker B's lease (the one that decides): B's start, like A's, must fit inside it.
    lease_seconds = lease_for(time.monotonic() - a_started)
    timings["lease"] = lease_seconds
    assert [rig.result(beat) for beat in beats] == [3, 3]
    assert set(Reminder.objects.values_list("subject_type", "kind")) == {
        ("report", "7d"), ("measure", "1d"), ("measure", "overdue")
    }
    mark("two beats")

    # Worker A claims the first reminder and is killed (SIGKILL, main process and pool
    # child) while its mail is being sent.
    inflight = wait_until(
        lambda: Reminder.objects.filter(claimed_at__isnull=False, sent_at=None).first(),
        timeout=TIMEOUT, message="worker A to claim a reminder",
    )
    worker_a.kill()
    mark("worker A killed")
    lease_ends = inflight.claimed_at + timedelta(seconds=lease_seconds)
    assert list(Reminder.objects.filter(claimed_at__isnull=False).values_list("pk", flat=True)) == [inflight.pk]
    assert read_mailbox(rig.mailbox) == []
    # The five other deliveries wait on the queue; the killed one is still unacknowledged.
    assert rig.queued() == (5, 1)

    # Redis restarts: everything queued is lost (or, on the shared server, every connection is cut).
    rig.broker.disrupt()
    rig.reset_client()
    restarted = isinstance(rig.broker, RedisServer)
    assert rig.queued() == ((0, 0) if restarted else (5, 1))
    mark("redis restarted")

    # Worker B starts; the reconcile queues what was never sent. The claim of the killed
    # worker still holds, so its reminder is not sent again yet.
    worker_b = rig.start_worker("b", mail_delay=0.2, lease_seconds=lease_seconds)
    worker_b.wait_ready()
    mark("worker B ready")
    first_reconcile = rig.publish("progress.tasks.reconcile_reminders")
    wait_until(
        lambda: not Reminder.objects.exclude(pk=inflight.pk).filter(sent_at=None).exists(),
        timeout=TIMEOUT, message="the two unclaimed reminders to be sent",
    )
    # The reconcile queued the two unclaimed reminders, not the killed worker's: its claim
    # held. (Only if worker B started slower than twice worker A did, past the derived lease,
    # would it have queued all three; then the last reconcile has nothing left, and the
    # counts below still prove each reminder was sent once.)
    checked_within_lease = rig.result(first_reconcile) == 2
    inflight.refresh_from_db()
    if checked_within_lease:
        assert (inflight.sent_at, inflight.attempts) == (None, 1)
    mark("unclaimed reminders sent")

    # Redis restarts again under the running worker B, which reconnects. Once the lease
    # has expired, the next reconcile hands the killed worker's reminder to worker B.
    rig.broker.disrupt()
    rig.reset_client()
    time.sleep(max(0.0, (lease_ends - timezone.now()).total_seconds() + 0.5))
    reconcile = rig.publish("progress.tasks.reconcile_reminders")
    wait_until(
        lambda: not Reminder.objects.filter(sent_at=None).exists(),
        timeout=TIMEOUT, message="every reminder to be sent",
    )
    assert rig.result(reconcile) == (1 if checked_within_lease else 0)
    mark("all sent")

    # Nothing is left to send: one more reconcile queues nothing.
    assert rig.result(rig.publish("progress.tasks.reconcile_reminders")) == 0
    mark("idle reconcile")

    mails = read_mailbox(rig.mailbox)
    reminders = list(Reminder.objects.order_by("pk"))
    assert Counter(str(m["Subject"]).strip() for m in mails) == Counter(r.subject for r in reminders)
    assert len(mails) == 3
    assert {str(m["To"]).strip() for m in mails} == {"soumu@example.jp"}
    assert {r.pk: r.attempts for r in reminders} == {r.pk: 2 if r.pk == inflight.pk else 1 for r in reminders}
    assert "Connection to broker lost" in worker_b.log()
    print(
        f"\nredis {'restarted' if restarted else 'connections killed'} twice; lease held at first reconcile:"
        f" {checked_within_lease}; timings (s): {timings}"
    )


def test_consent_reminders_of_two_beats_on_two_workers_reach_each_association_once(rig, submitted_policy, user):
    from policies import actions as policy_actions
    from policies.models import ReminderLog

    policy = submitted_policy()
    round_ = policy_actions.open_round(
        policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=2)
    )
    # Two beats at once, normally one to each of two idle workers: they race on the unique insert.
    workers = [rig.start_worker(name, mail_delay=0.5) for name in ("c1", "c2")]
    for worker in workers:
        worker.wait_ready()
    beats = [rig.publish("policies.tasks.send_consent_reminders") for _ in range(2)]
    assert sum(rig.result(beat) for beat in beats) == 3
    recipients = sorted(str(m["To"]).strip() for m in read_mailbox(rig.mailbox))
    assert recipients == ["chijikai@example.jp", "chosonkai@example.jp", "shichokai@example.jp"]
    assert ReminderLog.objects.filter(round=round_, kind="3d").count() == 3
    ran = {w.name: w.log().count("send_consent_reminders[") // 2 for w in workers}  # received + succeeded
    print(f"\nconsent beats run per worker: {ran}")


def test_pdfs_and_a_consent_reminder_whose_workers_were_killed_mid_task_are_done_once_after_a_redis_restart(
    rig, consented_policy, submitted_policy, user
):
    """SIGKILL in the middle of a policy version PDF, of a progress report PDF and of a consent
    reminder's send; Redis restarts (the messages are lost); a new worker takes over. Each
    claim holds for its lease, so nothing is done twice while the killed worker might still be
    at it; after the lease the next request (the page's, the beat's) does it — once."""
    from policies import actions as policy_actions
    from policies.models import ReminderLog, VersionPdf, VersionPdfClaim
    from progress.models import DocumentStatus, ProgressDocument

    timings = {}
    started = time.monotonic()

    def mark(phase):
        timings[phase] = round(time.monotonic() - started, 1)

    secretariat = user("secretariat")
    version = submitted_policy().versions.get()
    schedule = actions.set_schedule(consented_policy(), secretariat, frequency="quarterly", due_days_after_period=30)
    report = ProgressReport.objects.filter(schedule=schedule).first()
    # What the report page's "PDF" button inserts (its task message is published below).
    document = ProgressDocument.objects.create(kind="report", report=report, language="ja", requested_by=user("soumu"))
    # A consent round on the same version, closing in two days: its "3d" reminders are due.
    round_ = policy_actions.open_round(version, secretariat, closes_at=timezone.now() + timedelta(days=2))
    mark("data")

    # Three workers, each of whose renderings and sends hang: each takes one of three tasks.
    hang = {"DJANGO_SETTINGS_MODULE": "tests.worker_settings", RENDER_DIR_ENV: str(rig.rendered), RENDER_DELAY_ENV: "300"}
    killed = [rig.start_worker(f"a{i}", mail_delay=300, env=hang) for i in (1, 2, 3)]
    for worker in killed:
        worker.wait_ready()
    lease_seconds = lease_for(time.monotonic() - started - timings["data"])
    timings["lease"] = lease_seconds
    mark("workers A ready")
    rig.publish("policies.tasks.render_version_pdf", version.pk, "ja")
    rig.publish("progress.tasks.render_progress_document", document.pk)
    rig.publish("policies.tasks.send_consent_reminders")
    wait_until(
        lambda: len(renderings(rig.rendered)[0]) == 2
        and ReminderLog.objects.filter(round=round_, claimed_at__isnull=False).exists(),
        timeout=TIMEOUT, message="both renderings and a reminder's send to start",
    )
    for worker in killed:
        worker.kill()
    mark("workers A killed")
    assert renderings(rig.rendered)[1] == []  # nothing finished
    assert rig.queued() == (0, 3)
    assert not VersionPdf.objects.exists()
    assert VersionPdfClaim.objects.get().attempts == 1
    assert ProgressDocument.objects.get(pk=document.pk).status == DocumentStatus.RENDERING
    assert [(log.claimed_at is not None, log.sent_at) for log in ReminderLog.objects.filter(round=round_)] == [(True, None)]
    assert read_mailbox(rig.mailbox) == []
    claims_end = max(
        VersionPdfClaim.objects.get().claimed_at,
        ProgressDocument.objects.get(pk=document.pk).started_at,
        ReminderLog.objects.get(round=round_).claimed_at,
    ) + timedelta(seconds=lease_seconds)

    rig.broker.disrupt()  # the three unacknowledged messages are gone (on a restarted server)
    rig.reset_client()
    restarted = isinstance(rig.broker, RedisServer)
    mark("redis restarted")

    worker_b = rig.start_worker(
        "b", mail_delay=0.2, lease_seconds=lease_seconds,
        env={**hang, RENDER_DELAY_ENV: "0"},
    )
    worker_b.wait_ready()
    mark("worker B ready")

    def ask_again():
        """What the pages and beat send next: the PDF requests and the reminders' beat."""
        return [
            rig.result(rig.publish("policies.tasks.render_version_pdf", version.pk, "ja")),
            rig.result(rig.publish("progress.tasks.render_progress_document", document.pk)),
            rig.result(rig.publish("policies.tasks.send_consent_reminders")),
        ]

    within = ask_again()
    inside_lease = timezone.now() < claims_end
    if inside_lease:  # the killed workers' claims hold: no second rendering, only the two unclaimed reminders
        assert within == [None, False, 2]
        assert len(renderings(rig.rendered)[0]) == 2
    mark("asked within the lease")

    time.sleep(max(0.0, (claims_end - timezone.now()).total_seconds() + 0.5))
    after = ask_again()
    pdf = VersionPdf.objects.get()
    if inside_lease:
        assert after == [pdf.pk, True, 1]
    mark("asked after the lease")
    assert ask_again() == [pdf.pk, False, 0]  # all done: nothing happens again
    mark("idle")

    started_renders, finished_renders = renderings(rig.rendered)
    assert sorted(finished_renders) == ["policies/version_pdf.html", "progress/report_pdf.html"]  # once each
    assert len(started_renders) == 4  # the two killed, the two that finished
    document.refresh_from_db()
    assert (document.status, document.pages > 0) == (DocumentStatus.DONE, True)
    assert VersionPdfClaim.objects.get().attempts == 2
    stored = sorted(p.relative_to(rig.media).as_posix() for p in rig.media.rglob("*.pdf"))
    assert stored == sorted([pdf.file.name, document.file.name])
    recipients = sorted(str(m["To"]).strip() for m in read_mailbox(rig.mailbox))
    assert recipients == ["chijikai@example.jp", "chosonkai@example.jp", "shichokai@example.jp"]
    assert sorted(ReminderLog.objects.filter(round=round_).values_list("attempts", flat=True)) == [1, 1, 2]
    assert timings["idle"] - timings["redis restarted"] < lease_seconds + 3 * TIMEOUT  # bounded
    print(
        f"\nredis {'restarted' if restarted else 'connections killed'}; claims held within the lease: {inside_lease};"
        f" timings (s): {timings}"
    )
