"""Rows made into model instances without Model.__init__ (RowLoaded.from_db).

Django turns each row a query returns into an instance through `Model.__init__`: every
column is assigned through its descriptor, deferred columns are matched by name, and the
pre_init and post_init signals are sent. None of that does anything for a row fresh from the
database, and a page of 50 consent rounds builds about 900 instances (rounds, policies,
ministries, ballots, voters, users): Model.__init__ was a third of that page.

`Model.from_db()` is Django's documented hook for customizing loading. RowLoaded's fills the
instance's `__dict__` from the row and marks it as loaded from `db`, which is what
`Model.__init__` leaves behind for such a row: columns left out by only()/defer() are absent
from `__dict__`, so they stay deferred and load on first use. A model with pre_init or
post_init receivers is loaded by Django's own path, so they still run.
tests/test_loading.py holds every model using it to what Django's path builds.
"""

from __future__ import annotations

from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


class RowLoaded:
    """Model mixin (before models.Model in the bases): rows loaded without Model.__init__."""

    @classmethod
    def from_db(cls, db, field_names, values):
        if pre_init.has_listeners(cls) or post_init.has_listeners(cls):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        attributes = new.__dict__
        attributes.update(zip(field_names, values))
        state = attributes["_state"] = ModelState()
        state.adding = False
        state.db = db
        return new
