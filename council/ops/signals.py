"""Celery signal receivers: the request id travels with a task, and workers record outcomes.

Publishing side (web process): before_task_publish copies the current request id into the
message headers. Worker side: task_prerun sets it (and the task) as the context of the run,
so the task's log lines carry the id of the request that queued it; task_postrun resets it.
A task run eagerly (no message) runs inside the caller's context and keeps its id.
"""

from __future__ import annotations

import logging

from celery import signals
from celery.exceptions import Retry

from council.ops import records
from council.ops.context import TASK_HEADER, TaskInfo, clean_request_id, request_id_var, task_var
from council.ops.models import TaskState

logger = logging.getLogger(__name__)

# task id → the tokens to reset the context with, one per run that prerun started (a stack:
# an eager retry runs the same task id again inside the first run).
_tokens: dict[str, list[tuple]] = {}


@signals.before_task_publish.connect(dispatch_uid="council.ops.request_id_header")
def _stamp_request_id(headers=None, **kwargs) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def _header_request_id(task) -> str | None:
    request = task.request
    value = getattr(request, TASK_HEADER, None)  # protocol 2: custom headers become request attributes
    if value is None and isinstance(getattr(request, "headers", None), dict):
        value = request.headers.get(TASK_HEADER)
    return clean_request_id(value)


@signals.task_prerun.connect(dispatch_uid="council.ops.task_context")
def _enter_task(task_id=None, task=None, **kwargs) -> None:
    if task is None:
        return
    request_id = _header_request_id(task)
    if request_id is None and task.request.is_eager:
        request_id = request_id_var.get()  # run inside the caller: keep its id
    _tokens.setdefault(task_id, []).append((request_id_var.set(request_id), task_var.set(TaskInfo(task_id, task.name))))


@signals.task_postrun.connect(dispatch_uid="council.ops.task_context_end")
def _leave_task(task_id=None, **kwargs) -> None:
    stack = _tokens.get(task_id)
    if not stack:
        return
    request_token, task_token = stack.pop()
    if not stack:
        del _tokens[task_id]
    task_var.reset(task_token)
    request_id_var.reset(request_token)


# Recording must never turn a task's success into a failure, nor hide its real error.
@signals.task_success.connect(dispatch_uid="council.ops.task_success")
def _succeeded(sender=None, **kwargs) -> None:
    try:
        records.record_outcome(sender.name, TaskState.SUCCEEDED)
    except Exception:
        logger.exception("could not record the success of %s", getattr(sender, "name", sender))


@signals.task_retry.connect(dispatch_uid="council.ops.task_retry")
def _retried(sender=None, request=None, **kwargs) -> None:
    try:
        records.record_outcome(sender.name, TaskState.RETRIED)
    except Exception:
        logger.exception("could not record the retry of %s", getattr(sender, "name", sender))


def _record_failure(task, task_id, exception, args, kwargs, einfo, hostname, retries) -> None:
    try:
        records.record_failure(
            task_id=task_id,
            task_name=task.name,
            exception=exception,
            args=args,
            kwargs=kwargs,
            traceback=getattr(einfo, "traceback", "") or "",
            request_id=request_id_var.get(),
            hostname=hostname,
            retries=retries or 0,
        )
    except Exception:
        logger.exception("could not record the failure of %s[%s]", getattr(task, "name", task), task_id)


@signals.task_failure.connect(dispatch_uid="council.ops.task_failure")
def _failed(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra) -> None:
    request = sender.request
    _record_failure(sender, task_id, exception, args, kwargs, einfo, request.hostname, request.retries)


@signals.task_internal_error.connect(dispatch_uid="council.ops.task_internal_error")
def _failed_eagerly(sender=None, task_id=None, args=None, kwargs=None, request=None, exception=None, einfo=None,
                    **extra) -> None:
    """A task run eagerly whose error propagates to its caller (CELERY_TASK_EAGER_PROPAGATES,
    as without REDIS_URL) gets no task_failure: Celery sends only this signal. In a worker,
    task_failure follows for the same error, so only eager runs are recorded here."""
    request = request or {}
    if not request.get("is_eager") or isinstance(exception, Retry):
        return
    _record_failure(sender, task_id, exception, args, kwargs, einfo, request.get("hostname"), request.get("retries"))
