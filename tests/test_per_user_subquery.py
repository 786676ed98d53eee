"""council.sql.per_user_subquery: an id subquery compiled once, then given each user's id; the
same SQL and rows as the queryset it stands for, and the queryset itself wherever the SQL
depends on the id in any other way."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection

import council.sql
from council.sql import per_user_subquery
from tenants.access import HOLDERS, _holders_ids, grant, permitted
from tenants.models import Membership, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_templates(monkeypatch):
    monkeypatch.setattr(council.sql, "_per_user", {})


def sql_of(queryset_or_raw):
    if hasattr(queryset_or_raw, "query"):
        return queryset_or_raw.query.get_compiler(connection=connection).as_sql()
    return queryset_or_raw.sql, tuple(queryset_or_raw.params)


def test_each_user_gets_the_querysets_own_sql_with_their_id(user):
    content_type = ContentType.objects.get_for_model(Organization)
    for username in ("sapporo", "hokkaido", "soumu", "sapporo"):
        pk = user(username).pk
        for permission_model, holder in HOLDERS:

            def build(user_pk):
                return _holders_ids(permission_model, holder, "view_organization", content_type, user_pk)

            compiled = per_user_subquery(("test", permission_model, holder), build, pk)
            sql, params = sql_of(build(pk))
            assert sql_of(compiled) == (sql, tuple(params))
            assert pk in compiled.params


def test_the_rows_are_each_users_own(user, org):
    target = org("012025")
    grant(org("011002"), "change_organization", target)
    everyone = Organization.objects.all()
    # The first user compiles the template; the others get it with their own id.
    assert list(permitted(everyone, user("hokkaido"), "change_organization")) == []
    assert list(permitted(everyone, user("sapporo"), "change_organization")) == [target]
    assert list(permitted(everyone, user("soumu"), "change_organization")) == []


def test_a_query_that_ignores_the_id_is_reused_as_it_is():
    compiled = per_user_subquery(("test", "all"), lambda _pk: Organization.objects.filter(kind="ministry").values("pk"), 5)
    assert sql_of(compiled) == sql_of(Organization.objects.filter(kind="ministry").values("pk"))


@pytest.mark.parametrize(
    "build",
    [
        # The id used in another way than as a parameter of its own: no template, the queryset.
        lambda pk: Membership.objects.filter(user_id__in=[pk, pk % 7]).values("organization_id"),
        lambda pk: Membership.objects.filter(user_id=pk).values("organization_id")[: abs(pk) % 5 + 1],
        lambda pk: (Membership.objects.filter(user_id=pk) if pk % 2 else Membership.objects.filter(role=pk)).values("pk"),
    ],
)
def test_anything_else_that_depends_on_the_id_is_built_every_time(build, user):
    pk = user("sapporo").pk
    got = per_user_subquery(("test", "odd"), build, pk)
    assert hasattr(got, "query")  # the queryset, not a template
    assert sql_of(got) == sql_of(build(pk))
    assert council.sql._per_user[("default", "test", "odd")] is None


def test_a_placeholder_equal_to_another_parameter_is_not_trusted(user, monkeypatch):
    content_type = ContentType.objects.get_for_model(Organization)
    monkeypatch.setattr(council.sql, "_SOMEONE", (content_type.pk, content_type.pk + 1))
    pk = get_user_model().objects.get(username="sapporo").pk

    def build(user_pk):
        return _holders_ids(*HOLDERS[1], "view_organization", content_type, user_pk)

    got = per_user_subquery(("test", "clash"), build, pk)
    assert hasattr(got, "query")
    assert sql_of(got) == sql_of(build(pk))


def test_a_condition_that_selects_nothing_is_left_to_django():
    got = per_user_subquery(("test", "empty"), lambda pk: Membership.objects.filter(pk__in=[]).values("pk"), 3)
    assert hasattr(got, "query") and list(got) == []
    assert council.sql._per_user[("default", "test", "empty")] is None


def test_a_renumbered_content_type_is_compiled_again(user, monkeypatch):
    """A database flushed and filled again (tests) renumbers the content types: the compiled
    subquery of the policies a council member may see names the policy content type's id (the
    object permissions branch), so its key names it too, and a new id compiles it again."""
    from policies.models import Policy, visible_policy_ids
    from tests.api_policy_helpers import draft_policy

    policy = draft_policy("総務省だけが見る下書きの方針")  # neither submitted nor put to consent
    soumu = user("soumu")
    assert Policy.objects.filter(pk__in=visible_policy_ids(soumu), pk=policy.pk).exists()  # its object permission
    real = ContentType.objects.get_for_model(Policy)
    assert real.pk in visible_policy_ids(soumu).params
    renumbered = ContentType(pk=real.pk + 1000, app_label=real.app_label, model=real.model)
    get_for_model = ContentType.objects.get_for_model
    monkeypatch.setattr(
        ContentType.objects, "get_for_model", lambda model, **kw: renumbered if model is Policy else get_for_model(model, **kw)
    )
    params = visible_policy_ids(soumu).params
    assert renumbered.pk in params and real.pk not in params
    # With no permission rows under the new id, the draft is out of sight: the SQL is the new one.
    assert not Policy.objects.filter(pk__in=visible_policy_ids(soumu), pk=policy.pk).exists()


def test_the_policy_ids_each_reader_gets_are_the_policies_they_may_see(user):
    """visible_policy_ids (what the lists of rounds, schedules, reports and adoption filter by)
    names exactly the policies PolicyQuerySet.visible_to gives, at every point of a policy's
    life: a municipal official's ids are read from the consent rounds, a council member's and
    the secretariat's from the policies, and the two must never part."""
    from policies.models import Policy, visible_policy_ids
    from tests.api_policy_helpers import policy_in

    stages = ("draft", "withdrawn", "submitted", "in_consent", "consented", "not_consented")
    made = {stage: policy_in(stage, title=f"{stage} の方針").pk for stage in stages}
    seen = {}
    for username in ("sapporo", "hokkaido", "chijikai", "soumu", "mhlw", "secretariat"):
        reader = user(username)
        expected = set(Policy.objects.visible_to(reader).values_list("pk", flat=True))
        assert set(Policy.objects.filter(pk__in=visible_policy_ids(reader)).values_list("pk", flat=True)) == expected, username
        seen[username] = {stage for stage, pk in made.items() if pk in expected}
    # What the rule gives (so that the comparison above is not of two empty sets).
    assert seen["sapporo"] == seen["hokkaido"] == {"in_consent", "consented", "not_consented"}
    assert seen["soumu"] >= {"draft", "submitted", "in_consent", "consented", "not_consented"}
    assert seen["secretariat"] == set(stages)
