"""A page's one-to-many and many-to-many relations read as plain lists.

`prefetch_related("attachments")` reads a page's attachments in one query, then, for each of
the page's 50 rows, builds a related manager and a queryset filtered to that row (a query
clone and a WHERE clause per row) only to hold the row's share of the results: on the
heaviest lists that was a fifth of the page. `Prefetch(…, to_attr=…)` stores each row's share
as a list instead. `listed(relation)` is the model attribute holding that list: filled by
`prefetch_list(relation)`, or for a list page by `fill_lists` / `fill_many_to_many` (reads
compiled once, council.prepared), or read from the database on first use where nothing
prefetched it (a detail read another way, an object just created). Django checks a cached_property's
`__dict__` entry, not the attribute, to know whether it has been prefetched.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
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


# A row's attribute where reference serializers keep what they rendered of it
# (council.api.serializers.PlainRefSerializer): set on the objects fill_lists shares.
RENDERED = "_rendered_refs"


def fill_lists(instances: list, lists: dict, shared: dict | None = None, ordering: dict | None = None) -> None:
    """Fill `listed(relation)` of a page's `instances` for each relation in `lists` (one query
    each, a `council.prepared.Prepared` read of the related rows by the instances' ids),
    without Django's prefetching of one related manager and one filtered queryset per
    instance.

    `shared` names foreign keys of those rows that point at few objects (the three
    associations every consent round's ballots and voters name), each with the Prepared read
    of those objects by id: each is read once for all the rows, in one query per relation,
    and every row pointing at an object gets that same instance (marked so that reference
    serializers render it once). `ordering` sorts a relation's list for each instance
    afterwards (by a key of the shared objects)."""
    shared = shared or {}
    by_pk = {instance.pk: instance for instance in instances}
    using = instances[0]._state.db if instances else None
    rows: list = []
    for relation, read in lists.items():
        attribute = list_attribute(relation)
        for instance in instances:
            instance.__dict__[attribute] = []
        if not instances:
            continue
        remote = instances[0]._meta.get_field(relation).field  # the related rows' foreign key
        for row in read.rows(by_pk, using):
            owner = by_pk[getattr(row, remote.attname)]
            remote.set_cached_value(row, owner)
            owner.__dict__[attribute].append(row)
            rows.append(row)
    for name, read in shared.items():
        fields = {model: _field(model, name) for model in {type(row) for row in rows}}
        pointing = [(row, fields[type(row)]) for row in rows if fields[type(row)] is not None]
        wanted = {getattr(row, field.attname) for row, field in pointing} - {None}
        objects = {obj.pk: obj for obj in read.rows(sorted(wanted), using)}
        for obj in objects.values():
            obj.__dict__[RENDERED] = {}
        for row, field in pointing:
            field.set_cached_value(row, objects.get(getattr(row, field.attname)))
    for relation, key in (ordering or {}).items():
        attribute = list_attribute(relation)
        for instance in instances:
            instance.__dict__[attribute].sort(key=key)


def fill_many_to_many(instances: list, relation: str, read) -> None:
    """Fill `listed(relation)`, a many-to-many relation of the instances, from `read`: a
    `council.prepared.Prepared` read of the related objects annotated with their owner's id
    (its column), in the order Django's prefetching gives them. An object that several
    instances share is one instance, rendered once by the reference serializers."""
    attribute = list_attribute(relation)
    for instance in instances:
        instance.__dict__[attribute] = []
    if not instances:
        return
    by_pk = {instance.pk: instance for instance in instances}
    one: dict = {}
    for row in read.rows(by_pk, instances[0]._state.db):
        owner = by_pk[row.__dict__.pop(read.column)]  # the annotation: the row's, not the object's
        obj = one.get(row.pk)
        if obj is None:
            obj = one[row.pk] = row
            obj.__dict__[RENDERED] = {}
        owner.__dict__[attribute].append(obj)


def _field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
