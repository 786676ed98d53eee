"""Where the current request id (and, in a worker, the current task) is kept.

A contextvar rather than a thread-local: it is right for threads and for asyncio alike, and
a task run eagerly inside a request simply sees the request's id.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

request_id_var: ContextVar[str | None] = ContextVar("council_request_id", default=None)


@dataclass(frozen=True)
class TaskInfo:
    id: str | None
    name: str


task_var: ContextVar[TaskInfo | None] = ContextVar("council_task", default=None)

# An incoming X-Request-ID is taken only if it looks like an id: it ends up in every log
# line, so anything longer or with other characters (spaces, quotes, newlines) is replaced.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
REQUEST_ID_HEADER = "X-Request-ID"
# The name under which the id travels in a Celery task message's headers.
TASK_HEADER = "council_request_id"


def clean_request_id(value: object) -> str | None:
    """`value` if it is a sane request id (1–128 of A–Z a–z 0–9 . _ : -), else None."""
    if isinstance(value, str) and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return str(uuid.uuid4())


def current_request_id() -> str | None:
    return request_id_var.get()
