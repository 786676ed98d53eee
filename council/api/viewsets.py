"""Base classes every API viewset starts from."""

from django.core.exceptions import PermissionDenied
from rest_framework import viewsets

from council.prefetch import fill_lists, fill_many_to_many


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


class PageListsMixin:
    """A list page's rows get their related lists from `council.prefetch` (fill_lists for
    one-to-many relations, fill_many_to_many for many-to-many ones), read by id through
    `council.prepared.Prepared` reads, instead of the queryset's prefetch_related() of those
    relations, which a list page drops (details and unpaginated reads keep them).
    `page_lists` maps relations to their reads, `page_shared` and `page_ordering` are
    fill_lists' `shared` and `ordering`, and `page_many` maps many-to-many relations to theirs."""

    page_lists: dict = {}
    page_shared: dict = {}
    page_ordering: dict = {}
    page_many: dict = {}

    def paginate_queryset(self, queryset):
        if self.action != "list" or self.paginator is None or not (self.page_lists or self.page_many):
            return super().paginate_queryset(queryset)
        page = super().paginate_queryset(_without_prefetches(queryset, {*self.page_lists, *self.page_many}))
        if page is not None:
            if self.page_lists:
                fill_lists(page, self.page_lists, self.page_shared, self.page_ordering)
            for relation, read in self.page_many.items():
                fill_many_to_many(page, relation, read)
        return page


def _without_prefetches(queryset, relations: set):
    """`queryset` without its prefetch_related() lookups of `relations` (any other kept)."""
    lookups = queryset._prefetch_related_lookups
    kept = [lookup for lookup in lookups if getattr(lookup, "prefetch_through", lookup) not in relations]
    if len(kept) == len(lookups):
        return queryset
    return queryset.prefetch_related(None).prefetch_related(*kept)


class VisibleReadOnlyViewSet(VisibleQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    pass
