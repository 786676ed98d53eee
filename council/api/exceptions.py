"""The API's one exception handler: model and action errors become HTTP answers.

Actions and model methods raise Django's ValidationError and PermissionDenied (they are
shared with pages, tasks and commands), and a request that conflicts with an object's
state raises council.workflow.Conflict (TransitionNotAllowed for a workflow move).
Turning them into responses here lets every view simply call the action; the action's
transaction has already rolled back by the time the exception reaches this handler, so
nothing is half-saved.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from council.workflow import Conflict, TransitionNotAllowed


def field_errors(exc: DjangoValidationError) -> dict[str, Any]:
    """{field: [messages]} as DRF writes them; Django's `__all__` becomes `non_field_errors`."""
    errors = as_serializer_error(exc)
    if NON_FIELD_ERRORS in errors:
        errors[api_settings.NON_FIELD_ERRORS_KEY] = [
            *errors.get(api_settings.NON_FIELD_ERRORS_KEY, []),
            *errors.pop(NON_FIELD_ERRORS),
        ]
    # A model's clean() and its named constraint may word the same rule twice: say it once.
    return {
        field: list(dict.fromkeys(messages)) if isinstance(messages, list) else messages
        for field, messages in errors.items()
    }


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, TransitionNotAllowed):
        set_rollback()
        return Response(
            {"detail": exc.reason, "from": exc.from_status, "to": exc.to_status},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Conflict):
        set_rollback()
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(field_errors(exc))
    # Django's PermissionDenied and Http404 (with their messages) are DRF's own business.
    return drf_exception_handler(exc, context)
