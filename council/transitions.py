"""How a detail page carries out a posted workflow move, the same way on every page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from candidates.forms import add_action_errors
from council.workflow import Conflict


def perform_move(
    request: HttpRequest,
    form,
    move: Callable[[dict], object],
    render: Callable[..., HttpResponse],
    *,
    labels: dict[str, str] | None = None,
    form_arg: str = "transition_form",
    invalid_status: int = 200,
) -> HttpResponse | None:
    """Validate `form` and call `move(cleaned_data)` (an app's action).

    An invalid form, or the action's field errors (shown next to their fields, or at the top
    prefixed with `labels`' name for them), render the page again with the form
    (`render(**{form_arg: form}, status=invalid_status)`). A move the state no longer allows
    (someone moved it first, a rule of the workflow) renders it with the reason as a message
    and 409. None when the move is done: the caller says what was done and redirects."""
    if not form.is_valid():
        return render(**{form_arg: form}, status=invalid_status)
    try:
        move(form.cleaned_data)
    except Conflict as exc:
        messages.error(request, str(exc))
        return render(status=409)
    except ValidationError as exc:
        add_action_errors(form, exc, labels)
        return render(**{form_arg: form}, status=invalid_status)
    return None
