"""Reads of related rows by id, compiled once (Prepared).

A page's related rows (a consent round's ballots and voters, a report's attachments, the
organizations they name) are read by queries that differ from one page to the next only in
the ids they ask for. Django builds and compiles such a query again on every page: a clone
and a WHERE clause, the select list walked through every select_related() relation, an IN
list compiled id by id. For a page of 50 that was 0.5–0.7 ms per query before the database
was asked anything (0.1–0.3 ms), on lists that read two or three of them.

`Prepared(build, column)` is such a read: `build()` gives the queryset (built from the code
alone, never from the request, the user or the database), `column` the column the ids are
matched against. On PostgreSQL its SQL is compiled once per database, with the ids as one
array parameter (`column = ANY(%s)`: the same statement for any number of ids, prepared once
by the connection), and each read runs that SQL and builds the instances as Django's
ModelIterable does (converters, `from_db`, select_related() populators, annotations). The
SQL is compiled twice, with two different placeholder lists, and kept only if the SQL is the
same and the parameters differ only where the placeholder is; a queryset this cannot read
the same way (prefetches, values(), a combinator, known related objects, a condition that
selects nothing), another database or `ENABLED = False` goes through Django's queryset, with
`column__in`.
tests/test_prepared.py holds the instances to those Django builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connections
from django.db.models import F, Lookup, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

from council.sql import compile_with_placeholders

ENABLED = True

# Placeholder ids no row has: the SQL is compiled once with each.
_PLACEHOLDERS = ([-(2**62) + 20261207], [-(2**62) + 20261208])


class AnyOf(Lookup):
    """`column = ANY(%s::<the column's type>[])` with the ids as one array parameter
    (PostgreSQL). The cast keeps the statement's parameter type the column's, whichever
    integer type the driver picks for the values."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.db_type(connection)
        cast = f"::{db_type}[]" if db_type else ""
        return f"{lhs} = ANY(%s{cast})", (*lhs_params, self.rhs)


class _Plan:
    __slots__ = ("sql", "params", "at", "select", "klass_info", "annotations", "converters")

    def __init__(self, sql, params, at, compiler) -> None:
        self.sql, self.params, self.at = sql, params, at
        self.select, self.klass_info = compiler.select, compiler.klass_info
        self.annotations = tuple(compiler.annotation_col_map.items())
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        self.converters = tuple(
            (position, tuple(functions), expression)
            for position, (functions, expression) in compiler.get_converters(fields).items()
        )


class Prepared:
    """The rows of `build()` whose `column` is one of some ids, compiled once per database."""

    def __init__(self, build: Callable[[], QuerySet], column: str) -> None:
        self.build, self.column = build, column
        self._plans: dict[str, _Plan | None] = {}

    def queryset(self, ids: list, using: str = "default") -> QuerySet:
        """Django's own read of the same rows."""
        return self.build().using(using).filter(**{f"{self.column}__in": ids})

    def rows(self, ids: Iterable, using: str = "default") -> list:
        ids = list(ids)
        if not ids:
            return []
        connection = connections[using]
        if not ENABLED or connection.vendor != "postgresql":
            return list(self.queryset(ids, using))
        try:
            plan = self._plans[using]
        except KeyError:
            plan = self._plans[using] = self._compile(using)
        if plan is None:
            return list(self.queryset(ids, using))
        params = list(plan.params)
        params[plan.at] = ids
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        return _instances(plan, rows, connection, using)

    def _compile(self, using: str) -> _Plan | None:
        queryset = self.build().using(using)
        query = queryset.query
        if (
            queryset._iterable_class is not ModelIterable
            or queryset._prefetch_related_lookups
            or queryset._known_related_objects
            or query.combinator
            or query.is_sliced
        ):
            return None
        compiled = compile_with_placeholders(
            lambda placeholder: queryset.filter(AnyOf(F(self.column), placeholder)), _PLACEHOLDERS, using
        )
        if compiled is None or len(compiled[2]) != 1:
            return None
        sql, params, at, compiler = compiled
        return _Plan(sql, params, next(iter(at)), compiler)


def _instances(plan: _Plan, rows: list, connection, db: str) -> list:
    """Model instances from the rows, as ModelIterable builds them."""
    if plan.converters:
        converted = []
        for row in rows:
            row = list(row)
            for position, functions, expression in plan.converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            converted.append(row)
        rows = converted
    klass_info, select = plan.klass_info, plan.select
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, db)
    from_db = model.from_db
    instances = []
    for row in rows:
        instance = from_db(db, names, row[start:end])
        for populator in populators:
            populator.populate(row, instance)
        for name, position in plan.annotations:
            setattr(instance, name, row[position])
        instances.append(instance)
    return instances
