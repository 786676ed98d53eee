"""Base classes every API viewset starts from."""

from rest_framework import viewsets


class VisibleQuerysetMixin:
    """Start every list and detail from the model's `visible_to(user)` queryset.

    A list can then never show what the detail refuses, and an object outside the user's
    scope is a 404, never a 403.
    """

    queryset = None

    def get_queryset(self):
        return self.queryset.visible_to(self.request.user)


class VisibleReadOnlyViewSet(VisibleQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    pass
