"""Lists of SQL statements run as they are: the database triggers the progress app installs
(progress/tally.py, progress/report_tally.py, progress/orgcode.py), written once per database
vendor; constants written into a query's SQL (Constant); and id subqueries compiled once
(per_user_subquery)."""

from __future__ import annotations

import re

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import CharField, Expression, IntegerField
from django.db.models.expressions import RawSQL

_CODE = re.compile(r"[a-z0-9_]+")


def _connection(schema_editor):
    # In a migration, the migration's connection; otherwise the default one.
    return schema_editor.connection if schema_editor is not None else connection


def for_vendor(by_vendor: dict[str, list[str]], schema_editor=None) -> list[str]:
    """The statements written for the connection's database (none for another database)."""
    return by_vendor.get(_connection(schema_editor).vendor, [])


def run(statements: list[str], schema_editor=None) -> None:
    with _connection(schema_editor).cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class Triggers:
    """Database triggers that keep a table of counts: the statements that install them (per
    vendor), drop them, and recount the table from the rows (run after installing them, and
    for writers that bypass triggers)."""

    def __init__(self, install: dict[str, list[str]], drop: dict[str, list[str]], recount: list[str]) -> None:
        self.statements, self.drop, self.recount = install, drop, recount

    def install(self, schema_editor=None) -> None:
        run(for_vendor(self.statements, schema_editor) + self.recount, schema_editor)

    def uninstall(self, schema_editor=None) -> None:
        run(for_vendor(self.drop, schema_editor), schema_editor)

    def rebuild(self) -> None:
        """Recount (in the caller's transaction)."""
        run(self.recount)


class Constant(Expression):
    """A constant of the code (a status a visibility rule names), written into the SQL as a
    literal instead of sent as a parameter.

    PostgreSQL plans a prepared statement with its parameters' values for its first five
    runs, then keeps a generic plan unless that plan's estimated cost is higher. A page
    under LIMIT 50 filtered on a status sent as a parameter is estimated with an average
    status's number of rows: dearer than the custom plans, though it is the same plan, so
    the statement is planned again on every request (a municipal official's progress
    reports at scale 10: 3.4 ms of planning for 0.7 ms of execution; candidates: 1.9 ms for
    1.5 ms). With the status in the SQL, the generic plan knows it. Only lowercase codes and
    integers, which need no quoting beyond the quotes."""

    def __init__(self, value: str | int, output_field=None) -> None:
        if not (isinstance(value, int) and not isinstance(value, bool)) and not (
            isinstance(value, str) and _CODE.fullmatch(value)
        ):
            raise ValueError(f"not a code or an integer: {value!r}")
        super().__init__(output_field=output_field)
        self.value = value

    def as_sql(self, compiler, connection):
        return (f"'{self.value}'" if isinstance(self.value, str) else str(self.value)), []

    def _resolve_output_field(self):
        return CharField() if isinstance(self.value, str) else IntegerField()


# Placeholder user ids no row has: a subquery is compiled once with each (per_user_subquery).
_SOMEONE = (-(2**62) + 20261206, -(2**62) + 20261207)
# (database, key) → (SQL, its parameters, the positions of the user's id), or None: not reusable.
_per_user: dict[tuple, tuple[str, tuple, frozenset] | None] = {}


def per_user_subquery(key: tuple, build, user_pk: int, using: str = "default"):
    """`build(user_pk)` (a queryset of ids, for `__in`) as SQL compiled once per database and
    `key`, with `user_pk` put where the user's id goes.

    Building and compiling an id subquery (the object permissions a user holds, the policies a
    user may see) was a fifth of some lists' time, on every request, for SQL that differs only
    in the user's id. `key` must name everything else `build` depends on, ids of other rows
    included (a content type's: a test database flushed and filled again renumbers them). The first call
    compiles `build` twice, with two placeholder ids: the SQL must be the same and the
    parameters differ only where each placeholder is; otherwise the query depends on the id in
    some other way and `build(user_pk)` is used as it is, every time."""
    cache_key = (using, *key)
    try:
        entry = _per_user[cache_key]
    except KeyError:
        entry = _per_user[cache_key] = _template(build, using)
    if entry is None:
        return build(user_pk)
    sql, params, at = entry
    return RawSQL(sql, tuple(user_pk if index in at else value for index, value in enumerate(params)))


def _template(build, using: str):
    compiled = compile_with_placeholders(build, _SOMEONE, using)
    if compiled is None:
        return None
    sql, params, at, _compiler = compiled
    return sql, params, at


def compile_with_placeholders(make, placeholders: tuple, using: str):
    """`make(placeholder)` (a queryset) compiled with each of two placeholder values, to keep its
    SQL and give it other values later: (SQL, parameters, the positions of the placeholder,
    the compiler), or None unless the SQL is the same both times and the parameters differ
    only where each placeholder is, and hold neither anywhere else (per_user_subquery,
    council.prepared.Prepared)."""
    compiled = []
    for placeholder in placeholders:
        compiler = make(placeholder).query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet):
            return None  # a condition that selects nothing or everything: Django writes it its own way
        compiled.append((sql, tuple(params), compiler))
    (first, first_params, _), (second, second_params, compiler) = compiled
    if first != second or len(first_params) != len(second_params):
        return None
    at = frozenset(index for index, (a, b) in enumerate(zip(first_params, second_params)) if a != b)
    if not all(first_params[index] == placeholders[0] and second_params[index] == placeholders[1] for index in at):
        return None
    if any(value in placeholders for index, value in enumerate(first_params) if index not in at):
        return None
    return first, first_params, at, compiler


def counting_triggers(name: str, source: str, remove: str, add: str, columns: tuple, recount: list[str]) -> Triggers:
    """The triggers of a table of counts kept from `source`'s rows (PostgreSQL and SQLite):
    on insert `add` (SQL naming NEW), on delete `remove` (naming OLD), on an update that
    changes one of `columns` both; an update that changes none of them writes nothing."""
    moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    of = ", ".join(columns)
    postgresql = [
        f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {remove}
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {add}
    END IF;
    RETURN NULL;
END
$$;
""",
        f"DROP TRIGGER IF EXISTS {name} ON {source};",
        f"DROP TRIGGER IF EXISTS {name}_update ON {source};",
        f"CREATE TRIGGER {name} AFTER INSERT OR DELETE ON {source} FOR EACH ROW EXECUTE FUNCTION {name}();",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {of} ON {source} "
        f"FOR EACH ROW WHEN ({moved.replace(' IS NOT ', ' IS DISTINCT FROM ')}) EXECUTE FUNCTION {name}();",
    ]
    postgresql_drop = [
        f"DROP TRIGGER IF EXISTS {name} ON {source};",
        f"DROP TRIGGER IF EXISTS {name}_update ON {source};",
        f"DROP FUNCTION IF EXISTS {name}();",
    ]
    sqlite_drop = [f"DROP TRIGGER IF EXISTS {name}_{event};" for event in ("insert", "delete", "update")]
    sqlite = [
        *sqlite_drop,
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {source} BEGIN {add} END;",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {source} BEGIN {remove} END;",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {of} ON {source} WHEN {moved} BEGIN {remove} {add} END;",
    ]
    return Triggers(
        {"postgresql": postgresql, "sqlite": sqlite}, {"postgresql": postgresql_drop, "sqlite": sqlite_drop}, recount
    )
