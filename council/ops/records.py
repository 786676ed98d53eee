"""Writing and reading task outcomes (council.ops.models). Called from Celery's signals in
the worker, from /metrics, the ops page and the daily clean-up task."""

from __future__ import annotations

import reprlib
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from council.ops.models import FOLDED_HOUR, TaskCount, TaskFailure, TaskState

# Hourly rows kept as they are; older ones are folded into FOLDED_HOUR.
HOURLY_RETENTION = timedelta(days=8)
FAILURE_RETENTION = timedelta(days=90)

_summary = reprlib.Repr()
_summary.maxstring = 60
_summary.maxother = 60
_summary.maxlist = _summary.maxtuple = _summary.maxdict = 6
_summary.maxlevel = 2


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _add(task_name: str, state: str, hour: datetime, amount: int) -> None:
    """Add `amount` to one bucket, whichever worker gets there first (no lost increments)."""
    bucket = TaskCount.objects.filter(task_name=task_name, state=state, hour=hour)
    with transaction.atomic():
        if bucket.update(count=F("count") + amount):
            return
        try:
            with transaction.atomic():  # a savepoint: a lost insert race leaves the outer block usable
                TaskCount.objects.create(task_name=task_name, state=state, hour=hour, count=amount)
        except IntegrityError:
            bucket.update(count=F("count") + amount)


def record_outcome(task_name: str, state: TaskState | str, at: datetime | None = None) -> None:
    _add(task_name[:200], str(state), hour_of(at or timezone.now()), 1)


def summarize_args(args, kwargs) -> str:
    """A short, bounded rendering of a task's arguments (tasks take ids, so this is enough)."""
    parts = [_summary.repr(value) for value in (args or ())]
    parts += [f"{key}={_summary.repr(value)}" for key, value in (kwargs or {}).items()]
    text = ", ".join(parts)
    return text if len(text) <= 500 else text[:499] + "…"


def record_failure(
    *, task_id: str | None, task_name: str, exception: BaseException, args=None, kwargs=None,
    traceback: str = "", request_id: str | None = None, hostname: str | None = None, retries: int = 0,
) -> TaskFailure:
    text = f"{exception.__class__.__name__}: {exception}".strip().rstrip(":")
    with transaction.atomic():
        failure = TaskFailure.objects.create(
            task_id=(task_id or "")[:255],
            task_name=task_name[:200],
            exception=text[:1000],
            args_summary=summarize_args(args, kwargs),
            request_id=request_id or "",
            hostname=(hostname or "")[:255],
            retries=retries or 0,
            traceback=(traceback or "")[-20_000:],  # the end of a traceback says most
        )
        _add(failure.task_name, TaskState.FAILED, hour_of(failure.failed_at), 1)
    return failure


def totals() -> list[tuple[str, str, int]]:
    """(task, state, count) since records began: the Prometheus counters."""
    rows = TaskCount.objects.values("task_name", "state").annotate(total=Sum("count")).order_by("task_name", "state")
    return [(row["task_name"], row["state"], row["total"]) for row in rows]


def counts_since(since: datetime) -> dict[str, dict[str, int]]:
    """{task: {state: count}} over the hourly buckets from `since`'s hour on."""
    rows = (
        TaskCount.objects.filter(hour__gte=hour_of(since))
        .values("task_name", "state")
        .annotate(total=Sum("count"))
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TaskState.values, 0))
    for row in rows:
        counts[row["task_name"]][row["state"]] = row["total"]
    return dict(sorted(counts.items()))


def prune(now: datetime | None = None) -> dict[str, int]:
    """Fold hourly counts older than HOURLY_RETENTION into one row per task and state, and
    delete failures older than FAILURE_RETENTION. Totals are unchanged."""
    now = now or timezone.now()
    cutoff = hour_of(now - HOURLY_RETENTION)
    # Buckets this old are no longer written to (a bucket is the hour a task ended in).
    with transaction.atomic():
        old = TaskCount.objects.filter(hour__lt=cutoff).exclude(hour=FOLDED_HOUR)
        rows = list(old.values_list("pk", "task_name", "state", "count"))
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for _pk, task_name, state, count in rows:
            sums[task_name, state] += count
        for (task_name, state), total in sums.items():
            _add(task_name, state, FOLDED_HOUR, total)
        folded, _by_model = TaskCount.objects.filter(pk__in=[row[0] for row in rows]).delete()
    deleted, _by_model = TaskFailure.objects.filter(failed_at__lt=now - FAILURE_RETENTION).delete()
    return {"folded_rows": folded, "deleted_failures": deleted}
