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

Whether a model has such receivers is asked once per model, as Django's own `Signal.send()`
asks it (the signal's per-sender cache says "no receivers", else `has_listeners()`), and the
answer is kept until a receiver is connected to or disconnected from either signal: both
clear the signal's per-sender cache, which here also forgets the answers. Asked per instance,
the question was 7 µs (`has_listeners()`), then two weak-dictionary lookups (2 µs).

Django's own user model is not ours to give a mixin: `load_rows_without_init(User)` (at
start, council.apps) gives it the same `from_db`. tests/test_loading.py holds every model
loaded this way to what Django's path builds.
"""

from __future__ import annotations

import weakref

from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.dispatch.dispatcher import NO_RECEIVERS


# Models known to have no pre_init or post_init receivers; emptied whenever one is connected
# or disconnected (_ForgettingCache).
_without_receivers: set[type] = set()
_forgotten = [0]  # how many times it was emptied: an answer found meanwhile is not kept


class _ForgettingCache(weakref.WeakKeyDictionary):
    """A signal's per-sender receiver cache that, when the signal clears it (on every connect
    and disconnect), also forgets which models have no init receivers."""

    def clear(self) -> None:
        _forgotten[0] += 1
        _without_receivers.clear()
        super().clear()


for _signal in (pre_init, post_init):
    if not isinstance(_signal.sender_receivers_cache, _ForgettingCache):
        _signal.sender_receivers_cache = _ForgettingCache(_signal.sender_receivers_cache)


def _without_init_receivers(cls) -> bool:
    """Asked for a model not yet in `_without_receivers` (load_row looks there first)."""
    forgotten = _forgotten[0]
    for signal in (pre_init, post_init):
        if signal.sender_receivers_cache.get(cls) is not NO_RECEIVERS and signal.has_listeners(cls):
            return False
    if forgotten == _forgotten[0]:
        _without_receivers.add(cls)
    return True


def load_row(cls, db, field_names, values):
    """What `Model.from_db(db, field_names, values)` returns, built without `__init__`."""
    if cls not in _without_receivers and not _without_init_receivers(cls):
        return Model.from_db.__func__(cls, db, field_names, values)
    new = cls.__new__(cls)
    attributes = new.__dict__
    attributes.update(zip(field_names, values))
    state = attributes["_state"] = ModelState()
    state.adding = False
    state.db = db
    return new


class RowLoaded:
    """Model mixin (before models.Model in the bases): rows loaded without Model.__init__."""

    @classmethod
    def from_db(cls, db, field_names, values):
        return load_row(cls, db, field_names, values)


def load_rows_without_init(model: type[Model]) -> None:
    """Give a model that is not ours (Django's User) RowLoaded's `from_db`. Only for a model
    that does not override `from_db` itself."""
    if "from_db" in vars(model) and vars(model)["from_db"].__func__ is not load_row:
        raise TypeError(f"{model.__name__} has its own from_db")
    model.from_db = classmethod(load_row)
