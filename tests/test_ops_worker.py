"""With a real `celery -A council worker` (CI: PostgreSQL and Redis): the request id travels
in the task message's headers into the worker's JSON log lines and failure records, task
outcomes written by the worker show on /metrics, and /readyz sees the worker answer.

The rest of the ops tests run tasks eagerly (tests/settings.py); this is the path with a
message between two processes.
"""

import json
import os
import uuid

import pytest
from django.conf import settings
from django.db import connection

from council.ops.context import request_id_var
from council.ops.models import TaskFailure
from tests.worker import ROOT, Worker, database_url, wait_until

POSTGRES = connection.vendor == "postgresql"

pytestmark = [
    pytest.mark.skipif(
        not (POSTGRES and settings.REDIS_URL), reason="a real worker needs PostgreSQL (DATABASE_URL) and REDIS_URL"
    ),
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 60


@pytest.fixture
def rig(world, tmp_path):
    from celery import Celery

    queue = f"council-ops-test-{uuid.uuid4().hex[:12]}"
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "DJANGO_", "PYTEST_", "LOG_", "PROMETHEUS_"))
        and key not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "PYTHONPATH"}
    }
    env.update({
        "DJANGO_SETTINGS_MODULE": "council.settings",  # production settings: JSON logs
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": str(ROOT),
    })
    worker = Worker("ops", env=env, queue=queue, logdir=tmp_path)
    # A client of its own: the suite's app is eager, and must stay so.
    client = Celery("council-ops-test-client", broker=settings.REDIS_URL, set_as_current=False)
    client.conf.update(task_serializer="json", accept_content=["json"], broker_connection_retry_on_startup=True)
    try:
        worker.wait_ready()
        yield worker, client, queue
    finally:
        client.close()
        worker.stop()
        print(worker.log()[-4000:])  # shown when the test failed


def json_lines(log: str) -> list[dict]:
    lines = []
    for line in log.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_a_worker_logs_and_records_with_the_id_of_the_request_that_queued_the_task(rig, client, settings):
    worker, celery_client, queue = rig
    token = request_id_var.set("req-to-the-worker")
    try:
        # Published from this process: before_task_publish puts the id in the message headers.
        failing = celery_client.send_task("council.ops.tasks.canary", kwargs={"fail": True}, queue=queue).id
    finally:
        request_id_var.reset(token)
    passing = celery_client.send_task("council.ops.tasks.canary", queue=queue).id  # no request

    failure = wait_until(lambda: TaskFailure.objects.filter(task_id=failing).first(), timeout=TIMEOUT,
                         message="the worker to record the failure")
    assert failure.request_id == "req-to-the-worker"
    assert failure.exception == "CanaryFailure: the canary failed on purpose"
    assert failure.hostname.startswith("ops@")
    assert "Traceback" in failure.traceback

    def canary_lines():
        found = [line for line in json_lines(worker.log()) if line.get("message") == "canary task ran"]
        return found if len(found) == 2 else None

    lines = {line["task_id"]: line for line in wait_until(canary_lines, timeout=TIMEOUT, message="both runs logged")}
    assert lines[failing]["request_id"] == "req-to-the-worker"
    assert lines[passing]["request_id"] is None  # nothing leaks from the run before
    assert lines[failing]["task_name"] == "council.ops.tasks.canary"

    # The outcomes the worker wrote are this process's counters on /metrics.
    settings.METRICS_TOKEN = ""
    from tests.test_metrics import samples, value

    def scraped():
        found = samples(client.get("/metrics"))
        succeeded = value(found, "council_celery_tasks_total", task="council.ops.tasks.canary", state="succeeded")
        return found if succeeded == 1 else None

    found = wait_until(scraped, timeout=TIMEOUT, message="the success to be counted")
    assert value(found, "council_celery_tasks_total", task="council.ops.tasks.canary", state="failed") == 1


def test_readiness_asks_the_running_worker(rig, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    # A worker listens for broadcasts a moment after it says it is ready.
    response = wait_until(lambda: (r := client.get("/readyz")).status_code == 200 and r, timeout=TIMEOUT,
                          message="the worker to answer the readiness ping")
    celery = response.json()["checks"]["celery"]
    assert celery["status"] == "ok" and celery["workers"] >= 1
