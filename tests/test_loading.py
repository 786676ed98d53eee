"""council.loading.RowLoaded: an instance loaded from a row without Model.__init__ is what
Django's own loading builds: the same values, the same deferred columns, the same state."""

from contextlib import contextmanager
from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.signals import post_init

from council.loading import RowLoaded, load_row, load_rows_without_init
from council.national_data import Plan, generate
from policies.models import Ballot, ConsentRound

pytestmark = pytest.mark.django_db

OUR_APPS = {"candidates", "policies", "progress", "tenants", "council", "meetings", "audit", "dashboards", "ops"}


def our_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]


def row_loaded_models() -> list[type[models.Model]]:
    """Ours, and Django's user model, which council.apps gives the same loading."""
    return [*our_models(), get_user_model()]


def django_loaded(model, db, field_names, values):
    return models.Model.from_db.__func__(model, db, field_names, values)


def same(one, other) -> None:
    assert type(one) is type(other)
    for field in type(one)._meta.concrete_fields:
        assert (field.attname in one.__dict__) == (field.attname in other.__dict__), field.attname
        if field.attname in one.__dict__:
            assert one.__dict__[field.attname] == other.__dict__[field.attname], field.attname
    assert one.get_deferred_fields() == other.get_deferred_fields()
    assert (one._state.adding, one._state.db) == (other._state.adding, other._state.db) == (False, "default")
    assert one.pk == other.pk
    assert one == other


def test_every_model_of_ours_loads_rows_without_init():
    loaded_here = our_models()
    assert len(loaded_here) > 30
    assert all(issubclass(model, RowLoaded) for model in loaded_here), [
        model.__name__ for model in loaded_here if not issubclass(model, RowLoaded)
    ]
    assert get_user_model().from_db.__func__ is load_row


def test_each_rows_instance_is_what_djangos_loading_builds():
    generate(Plan.for_scale(1, seed=3, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    compared = 0
    for model in row_loaded_models():
        names = [field.attname for field in model._meta.concrete_fields]
        for row in model.objects.values_list(*names)[:20]:
            same(model.from_db("default", names, row), django_loaded(model, "default", names, row))
            compared += 1
    assert compared > 300


def test_deferred_columns_stay_deferred_and_load_on_use():
    generate(Plan.for_scale(1, seed=3, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    round_ = ConsentRound.objects.only("id", "status").select_related(None).first()
    assert round_.get_deferred_fields() >= {"version_hash", "closes_at", "policy_id"}
    full = ConsentRound.objects.get(pk=round_.pk)
    assert round_.version_hash == full.version_hash  # read on use
    assert "version_hash" not in round_.get_deferred_fields()
    assert round_.policy == full.policy
    # A loaded instance saves as an update of its row, not an insert.
    before = ConsentRound.objects.count()
    round_.status = full.status
    round_.save()
    assert ConsentRound.objects.count() == before


def test_select_related_objects_are_loaded_the_same_way():
    generate(Plan.for_scale(1, seed=3, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    ballot = Ballot.objects.select_related("round__policy", "organization").first()
    assert ballot.round.policy.pk == ballot.round.policy_id
    assert ballot.organization.pk == ballot.organization_id
    assert not ballot.round._state.adding and ballot.round._state.db == "default"


@contextmanager
def post_init_seen(model):
    """The pks of the `model` instances post_init is sent for while the block runs."""
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=model)
    try:
        yield seen
    finally:
        post_init.disconnect(receiver, sender=model)


def test_a_model_with_init_receivers_is_loaded_by_django(monkeypatch):
    generate(Plan.for_scale(1, seed=3, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    with post_init_seen(Ballot) as seen:
        pks = [ballot.pk for ballot in Ballot.objects.all()[:5]]
    assert pks and seen == pks


def test_a_receiver_connected_later_is_still_sent_and_the_fast_path_returns_after():
    # The per-sender cache that says "no receivers" is cleared on connect and disconnect.
    generate(Plan.for_scale(1, seed=3, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    list(Ballot.objects.all()[:3])  # the cache now says: no receivers for Ballot
    with post_init_seen(Ballot) as seen:
        pks = [ballot.pk for ballot in Ballot.objects.all()[:3]]
    assert pks and seen == pks
    seen.clear()
    assert [ballot.pk for ballot in Ballot.objects.all()[:3]] == pks and seen == []


def test_users_are_loaded_the_same_way_and_save_as_updates():
    generate(Plan.for_scale(1, seed=3, as_of=date(2026, 11, 28), policies=2, changes_per_adoption=1))
    User = get_user_model()
    user = User.objects.only("id", "username").order_by("pk").first()
    assert "password" in user.get_deferred_fields()
    assert user.password == User.objects.get(pk=user.pk).password  # read on use
    before = User.objects.count()
    user.first_name = "更新"
    user.save()
    assert User.objects.count() == before and User.objects.get(pk=user.pk).first_name == "更新"


def test_a_model_with_its_own_from_db_is_refused():
    # A plain class stands for such a model: a model class made here would join the registry.
    class Own:
        @classmethod
        def from_db(cls, db, field_names, values):
            return None

    with pytest.raises(TypeError):
        load_rows_without_init(Own)
    load_rows_without_init(get_user_model())  # installing it again is harmless
    assert get_user_model().from_db.__func__ is load_row
