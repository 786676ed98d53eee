"""Module-scoped database fixtures: objects built once per test module, inside one outer
transaction that is rolled back when the module is done.

Such a fixture cannot rely on the `db` fixture's ordering: pytest-django runs transactional
tests (which flush the database) before tests it does not see as database tests, so the
reference world is loaded again here when a flush has removed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from tenants.models import Organization


@contextmanager
def module_transaction(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            if not Organization.objects.exists():
                from tests.conftest import load_world

                load_world()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
