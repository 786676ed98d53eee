"""Base classes every API viewset starts from."""

from django.core.exceptions import PermissionDenied
from rest_framework import viewsets


def refuse_unless(allowed: bool, message) -> None:
    """403 with `message` unless `allowed`: views ask the model's rule before reading the body."""
    if not allowed:
        raise PermissionDenied(message)


class VisibleQuerysetMixin:
    """Start every list and detail from the model's `visible_to(user)` queryset.

    A list can then never show what the detail refuses, and an object outside the user's
    scope is a 404, never a 403.
    """

    queryset = None

    def get_queryset(self):
        # .all() first: visible_to() may hand back the queryset it was given, and the
        # class attribute must never be evaluated (and cached) across requests.
        return self.queryset.all().visible_to(self.request.user)


class VisibleReadOnlyViewSet(VisibleQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    pass
