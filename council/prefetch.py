"""A page's one-to-many and many-to-many relations read as plain lists.

`prefetch_related("attachments")` reads a page's attachments in one query, then, for each of
the page's 50 rows, builds a related manager and a queryset filtered to that row (a query
clone and a WHERE clause per row) only to hold the row's share of the results: on the
heaviest lists that was a fifth of the page. `Prefetch(…, to_attr=…)` stores each row's share
as a list instead. `listed(relation)` is the model attribute holding that list: filled by
`prefetch_list(relation)`, or read from the database on first use where nothing prefetched it
(a detail read another way, an object just created). Django checks a cached_property's
`__dict__` entry, not the attribute, to know whether it has been prefetched.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.functional import cached_property


def list_attribute(relation: str) -> str:
    return f"{relation}_list"


def listed(relation: str) -> cached_property:
    """`<relation>_list = listed("<relation>")` in a model: the related objects as a list."""

    def read(instance) -> list:
        return list(getattr(instance, relation).all())

    read.__name__ = list_attribute(relation)
    read.__doc__ = f"{relation} as a list (prefetched by council.prefetch.prefetch_list)"
    return cached_property(read)


def prefetch_list(relation: str, queryset=None) -> Prefetch:
    """Prefetch `relation` into the model's `listed(relation)` attribute."""
    return Prefetch(relation, queryset=queryset, to_attr=list_attribute(relation))
