from functools import cached_property, partial

from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections, transaction
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
    page. Shallow pages keep the one plain query.

    The index still walks every entry it skips (page 20,000: 0.2 s). A list ordered first by
    a column whose groups' sizes are kept elsewhere (the adoption list: by policy, its rows
    per policy in the adoption tally) is given `groups`: a callable answering (that column,
    its (value, rows) pairs in ascending order) or None. A deep page then starts at the group
    its first row is in (`column >= value`) and skips only the rows of that group before it
    (seek). The sizes, the ids and the rows are read in one transaction, REPEATABLE READ on
    PostgreSQL, so all three see the same rows: the page is the one OFFSET would give."""

    def __init__(self, *args, groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._groups = groups

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
            sought = self.seek(rows, query.low_mark, query.high_mark)
            if sought is not None:
                page.object_list = sought
            else:
                page.object_list = rows.filter(pk__in=rows.values("pk")[query.low_mark:query.high_mark])
        return page

    def seek(self, rows: QuerySet, low: int, high: int) -> list | None:
        """Rows `low` to `high` of `rows`, read from the group the first of them is in; None
        unless the list is in its model's own order and that order starts with the groups'
        column, ascending."""
        if self._groups is None or rows.query.order_by or not rows.query.default_ordering:
            return None
        found = self._groups()
        if found is None:
            return None
        column, sizes = found
        ordering = rows.model._meta.ordering
        if not ordering or ordering[0] != column:
            return None
        connection = connections[rows.db]
        outermost = not connection.in_atomic_block
        with transaction.atomic(using=rows.db, savepoint=False):
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            before = 0
            for value, size in sizes:
                if before + size > low:
                    break
                before += size
            else:
                return []  # fewer rows than the count said: written since
            start = rows.filter(**{f"{column}__gte": value})
            ids = list(start.values_list("pk", flat=True)[low - before : high - before])
            return list(rows.filter(pk__in=ids))


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
    list's exact count from somewhere cheaper than COUNT(*) over its rows, or None to count;
    and `group_sizes(request)`: Paginator's `groups`, for deep pages."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        known = getattr(view, "known_count", None)
        count = known(request) if known is not None else None
        sizes = getattr(view, "group_sizes", None)
        groups = partial(sizes, request) if sizes is not None else None
        self.django_paginator_class = (
            partial(Paginator, groups=groups) if count is None else partial(CountedPaginator, count=count, groups=groups)
        )
        return super().paginate_queryset(queryset, request, view)
