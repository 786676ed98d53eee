"""Who is acting and from where: a context variable set per request (middleware) and per
Celery task; outside both, the platform itself ("system", with the command that runs).

The request is kept, not its user: API requests authenticate in the view (DRF sets the
user on the underlying request then), so the actor is read when an event is recorded.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest

USER_AGENT_MAX = 255


@dataclass(frozen=True)
class Origin:
    request: HttpRequest | None = None
    ip: str = ""
    user_agent: str = ""
    system: str = ""  # where the platform acts by itself: "manage.py load_demo", "celery <task>"

    def user(self):
        user = getattr(self.request, "user", None) if self.request is not None else None
        return user if user is not None and user.is_authenticated else None


_origin: ContextVar[Origin | None] = ContextVar("council_audit_origin", default=None)


def _command_line() -> str:
    argv = sys.argv or [""]
    parts = argv[0].rsplit("/", 2)
    program = parts[-2] if parts[-1] == "__main__.py" and len(parts) > 1 else parts[-1]  # python -m x
    if program in ("manage.py", "django-admin") and len(argv) > 1:
        return f"{program} {argv[1]}"
    return program


COMMAND_LINE = _command_line()


def current() -> Origin:
    """The origin of what happens now. A Celery task is the platform acting ("system"), even
    when run eagerly inside a request; it keeps that request's id (council.ops)."""
    task = _task_var.get() if _task_var is not None else None
    if task is not None:
        return Origin(system=f"celery {task.name}")
    return _origin.get() or Origin(system=COMMAND_LINE)


@contextmanager
def acting(origin: Origin) -> Iterator[Origin]:
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


def client_ip(request: HttpRequest) -> str:
    """The client address by the platform's one rule (council.security.client_ip: REMOTE_ADDR,
    or X-Forwarded-For only as far as settings.TRUSTED_PROXY_COUNT trusts proxies), kept only
    if it is an IP address."""
    from council.security import client_ip as trusted_client_ip

    try:
        return str(ipaddress.ip_address((trusted_client_ip(request) or "").strip()))
    except ValueError:
        return ""


def from_request(request: HttpRequest) -> Origin:
    return Origin(
        request=request,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
    )


# --- Request id and task: council.ops keeps them in context variables. -------------------------
# Looked up once, at import: without council.ops (or before it existed) events simply carry no
# request id, and tasks are told apart from commands only by the command line.
try:
    from council.ops.context import request_id_var as _request_id_var
    from council.ops.context import task_var as _task_var
except ImportError:  # pragma: no cover - council.ops is part of the platform
    _request_id_var = _task_var = None


def request_id() -> str:
    value = _request_id_var.get() if _request_id_var is not None else None
    return str(value)[:64] if value else ""


class AuditContextMiddleware:
    """Put the request (who, from where) in the audit context for the length of the request.
    Goes after AuthenticationMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        with acting(from_request(request)):
            return self.get_response(request)
