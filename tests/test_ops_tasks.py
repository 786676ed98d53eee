"""Celery task outcomes are recorded by the task signals (council.ops.signals) into the ops
tables, which the ops page and /metrics read. Tasks run eagerly here, through the same
signals a worker sends; tests/test_ops_worker.py runs them in a real worker (CI)."""

from datetime import timedelta

import pytest
from celery import shared_task
from django.utils import timezone

from council.celery import app as celery_app
from council.ops import records
from council.ops.context import request_id_var
from council.ops.models import FOLDED_HOUR, TaskCount, TaskFailure
from council.ops.tasks import CanaryFailure, canary, prune_task_records

pytestmark = pytest.mark.django_db


@shared_task(bind=True, max_retries=2, default_retry_delay=0)
def flaky(self, attempts_to_fail: int) -> str:
    if self.request.retries < attempts_to_fail:
        raise self.retry(exc=ConnectionError("smtp down"))
    return "sent"


@pytest.fixture
def worker_like(monkeypatch):
    """Eager tasks whose errors stay in their result, as in a worker, instead of propagating."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)


def counts() -> dict[tuple[str, str], int]:
    return {(name, state): total for name, state, total in records.totals()}


def test_a_failing_task_is_recorded_with_its_request_id_args_and_traceback():
    token = request_id_var.set("req-failing")
    try:
        with pytest.raises(CanaryFailure):
            canary.delay(fail=True)
    finally:
        request_id_var.reset(token)
    failure = TaskFailure.objects.get()
    assert failure.task_name == "council.ops.tasks.canary"
    assert failure.exception == "CanaryFailure: the canary failed on purpose"
    assert failure.args_summary == "fail=True"
    assert failure.request_id == "req-failing"
    assert failure.task_id
    assert "Traceback" in failure.traceback
    assert 'raise CanaryFailure("the canary failed on purpose")' in failure.traceback
    assert timezone.now() - failure.failed_at < timedelta(minutes=1)
    assert counts() == {("council.ops.tasks.canary", "failed"): 1}


def test_a_failure_is_recorded_once_when_it_does_not_propagate_as_in_a_worker(worker_like):
    # A worker's tracer does not propagate: the failure comes through task_failure (and
    # task_internal_error is not sent), so it is recorded exactly once.
    result = canary.delay(fail=True)
    assert result.failed()
    failure = TaskFailure.objects.get()
    assert (failure.task_id, failure.exception) == (result.id, "CanaryFailure: the canary failed on purpose")
    assert counts() == {("council.ops.tasks.canary", "failed"): 1}


def test_successes_are_counted_and_record_no_failure():
    canary.delay()
    canary.delay()
    assert counts() == {("council.ops.tasks.canary", "succeeded"): 2}
    assert not TaskFailure.objects.exists()


def test_retries_are_counted_and_a_final_failure_recorded(worker_like):
    # (An eager task whose errors propagate cannot retry: Celery raises Retry to the caller.)
    assert flaky.delay(1).get() == "sent"
    name = flaky.name
    assert counts() == {(name, "retried"): 1, (name, "succeeded"): 1}
    assert flaky.delay(5).failed()  # two retries, then the error for good
    assert counts() == {(name, "retried"): 3, (name, "succeeded"): 1, (name, "failed"): 1}
    failure = TaskFailure.objects.get()
    assert failure.exception == "ConnectionError: smtp down"
    assert failure.args_summary == "5"
    assert failure.retries == 2


def test_long_arguments_are_summarized():
    summary = records.summarize_args(["x" * 5000, list(range(100))], {"body": {"k": "v" * 1000}})
    assert len(summary) <= 500
    assert summary.startswith("'xxxxxxxx") and "..." in summary


def test_pruning_folds_old_hours_and_keeps_every_total():
    now = timezone.now()
    for days, amount in ((0, 2), (9, 3), (20, 4)):
        for _ in range(amount):
            records.record_outcome("progress.tasks.send_reminder", "succeeded", at=now - timedelta(days=days))
    old_failure = records.record_failure(task_id="old", task_name="t", exception=ValueError("old"))
    TaskFailure.objects.filter(pk=old_failure.pk).update(failed_at=now - timedelta(days=91))
    records.record_failure(task_id="new", task_name="t", exception=ValueError("new"))
    before = counts()

    assert prune_task_records.delay().get() == {"folded_rows": 2, "deleted_failures": 1}
    assert counts() == {**before, ("council.ops.tasks.prune_task_records", "succeeded"): 1}
    rows = TaskCount.objects.filter(task_name="progress.tasks.send_reminder")
    assert sorted((r.hour == FOLDED_HOUR, r.count) for r in rows) == [(False, 2), (True, 7)]
    assert list(TaskFailure.objects.values_list("task_id", flat=True)) == ["new"]
    # Again: nothing more to fold, and the folded row grows rather than duplicates.
    records.record_outcome("progress.tasks.send_reminder", "succeeded", at=now - timedelta(days=10))
    records.prune()
    assert TaskCount.objects.get(task_name="progress.tasks.send_reminder", hour=FOLDED_HOUR).count == 8
    assert records.counts_since(now - timedelta(hours=24))["progress.tasks.send_reminder"]["succeeded"] == 2
