"""Operations tasks: the daily clean-up of task records, and a canary to test the pipeline."""

from __future__ import annotations

import logging

from celery import shared_task

from council.ops import records

logger = logging.getLogger(__name__)


class CanaryFailure(RuntimeError):
    """Raised on purpose by the canary."""


@shared_task
def prune_task_records() -> dict[str, int]:
    result = records.prune()
    logger.info("task records pruned", extra=result)
    return result


@shared_task
def canary(fail: bool = False) -> str:
    """Logs one line and, when asked, fails: an operator's end-to-end check that workers run
    tasks, that their logs carry the request id, and that failures reach the ops page.
    `celery -A council call council.ops.tasks.canary --kwargs '{"fail": true}'`"""
    logger.info("canary task ran")
    if fail:
        raise CanaryFailure("the canary failed on purpose")
    return "ok"
