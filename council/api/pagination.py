from functools import cached_property, partial

from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination

from council.counting import count_rows


class Paginator(DjangoPaginator):
    """Django's paginator, counting a queryset without the annotations that only add columns
    to its rows (council.counting)."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return count_rows(self.object_list)
        return super().count


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
