"""Log records with context, as JSON lines or plain text (settings.LOGGING, LOG_FORMAT).

Loaded by logging.config while Django starts, before any app is ready: it must not import
models or settings.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from council.ops.context import request_id_var, task_var


class ContextFilter(logging.Filter):
    """Puts the current request id on every record (None outside a request and outside a task
    that a request queued), and the task's id and name while a Celery task runs. Attached to the
    handler, so records of every logger get it."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id is None:
            # django.request logs a 4xx/5xx after the middleware chain has returned (and reset
            # the contextvar), but passes the request along: take the id the middleware put on it.
            request_id = getattr(getattr(record, "request", None), "request_id", None)
        record.request_id = request_id
        task = task_var.get()
        if task is not None:
            record.task_id = task.id
            record.task_name = task.name
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, request_id, and whatever
    the call passed in `extra` (the access log's method, path, status, duration_ms ...)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        # Django's loggers attach the request object itself; its repr says nothing useful.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        kwargs.setdefault("json_ensure_ascii", False)  # Japanese stays readable
        super().__init__(*args, **kwargs)


class TextFormatter(logging.Formatter):
    """For development (LOG_FORMAT=text): the request id in brackets, "-" when there is none."""

    def __init__(self, fmt: str | None = None, **kwargs) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s", **kwargs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return self._fmt % (record.__dict__ | {"request_id": getattr(record, "request_id", None) or "-"})
