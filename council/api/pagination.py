from functools import cached_property, partial

from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination

from council.counting import count_rows


# From this many rows skipped, a page is read by its ids (Paginator.page).
DEFERRED_FROM = 1_000


def deferrable(queryset) -> bool:
    """Whether a page of `queryset` may be read as `pk IN (its ordered ids, sliced)`: the same
    rows in the same order. Not for GROUP BY, DISTINCT, set operations or an unordered list."""
    if not isinstance(queryset, QuerySet):
        return False
    query = queryset.query
    return (
        queryset.ordered and query.group_by is None and not query.distinct
        and query.combinator is None and not query.is_sliced
    )


class Paginator(DjangoPaginator):
    """Django's paginator, counting a queryset without the annotations that only add columns
    to its rows (council.counting), and reading a deep page by its ids first.

    OFFSET builds every row it skips before dropping it: at page 20,000 of the unfiltered
    adoption list (scale 10), a million rows, each joined to its policy and organization
    (0.8 s in the database). Past DEFERRED_FROM rows, the page's ids are taken from the
    ordering's index alone (`SELECT id … ORDER BY … LIMIT 50 OFFSET n`) and only those rows
    are read whole; the outer query keeps the list's filters and ordering, so it is the same
    page. Shallow pages keep the one plain query."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return count_rows(self.object_list)
        return super().count

    def page(self, number):
        page = super().page(number)  # its rows: the list sliced, not yet read
        rows = self.object_list
        if deferrable(rows) and page.object_list.query.low_mark >= DEFERRED_FROM:
            query = page.object_list.query
            page.object_list = rows.filter(pk__in=rows.values("pk")[query.low_mark:query.high_mark])
        return page


class CountedPaginator(Paginator):
    """A paginator told its count instead of counting the rows."""

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


class Pagination(PageNumberPagination):
    """Pages of 50 (up to 500 with ?page_size=). A view may offer `known_count(request)`: the
    list's exact count from somewhere cheaper than COUNT(*) over its rows, or None to count."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        known = getattr(view, "known_count", None)
        count = known(request) if known is not None else None
        self.django_paginator_class = Paginator if count is None else partial(CountedPaginator, count=count)
        return super().paginate_queryset(queryset, request, view)
