import io

import pytest
from django.db.models import Count
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from tenants.models import Membership, Organization

pytestmark = pytest.mark.django_db

EXPECTED = {
    "secretariat": ("digital", "secretariat_staff", "secretariat"),
    "soumu": ("soumu", "ministry_officer", "ministry"),
    "mhlw": ("mhlw", "ministry_officer", "ministry"),
    "cfa": ("cfa", "ministry_officer", "ministry"),
    "chijikai": ("chijikai", "association_representative", "association"),
    "shichokai": ("shichokai", "association_representative", "association"),
    "chosonkai": ("chosonkai", "association_representative", "association"),
    "hokkaido": ("010006", "local_official", "prefecture"),
    "sapporo": ("011002", "local_official", "municipality"),
}


@pytest.fixture(autouse=True)
def development(settings):
    """As `make run` loads it: DEBUG on (the published default password is refused otherwise)."""
    settings.DEBUG = True


def run() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_it_creates_the_users_of_the_api_contract(demo_password):
    rows = Membership.objects.select_related("user", "organization").filter(user__username__in=EXPECTED)
    found = {m.user.username: (m.organization.code, m.role, m.organization.kind) for m in rows}
    assert found == EXPECTED
    for username in EXPECTED:
        assert authenticate(username=username, password=demo_password) is not None
    assert Organization.objects.get(code="digital").name == "デジタル庁"


def test_only_the_secretariat_user_reaches_the_admin():
    staff = set(get_user_model().objects.filter(is_staff=True).values_list("username", flat=True))
    assert staff == {"secretariat"}


def test_a_second_run_changes_nothing_and_says_so():
    run()
    output = run()
    assert "nothing changed" in output
    assert "sapporo" in output  # the logins are printed each time


def test_it_restores_a_changed_password_and_role(user, settings, demo_password):
    sapporo = user("sapporo")
    sapporo.set_password("something-else-entirely")
    sapporo.save()
    Membership.objects.filter(user=sapporo).update(role="viewer")
    assert "1 updated" in run()
    assert authenticate(username="sapporo", password=demo_password) is not None
    assert Membership.objects.get(user=sapporo).role == "local_official"


def test_it_uses_the_demo_password_from_the_environment(settings):
    settings.DEMO_PASSWORD = "another-demo-password-1"
    run()
    assert authenticate(username="soumu", password="another-demo-password-1") is not None


@pytest.mark.parametrize("password", ["short", "12345678901", "password123"])
def test_a_weak_demo_password_is_refused_with_the_reason_and_nothing_is_created(settings, password):
    settings.DEMO_PASSWORD = password
    get_user_model().objects.filter(username="sapporo").delete()
    with pytest.raises(CommandError, match="^demo not loaded: DEMO_PASSWORD is refused: "):
        run()
    assert not get_user_model().objects.filter(username="sapporo").exists()


def test_the_published_default_password_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    settings.DEMO_PASSWORD = settings.DEFAULT_DEMO_PASSWORD
    with pytest.raises(CommandError, match="published default"):
        run()
    settings.DEMO_PASSWORD = "a-password-of-our-own-2026"
    run()
    assert authenticate(username="soumu", password="a-password-of-our-own-2026") is not None


def test_without_reference_data_it_says_what_to_run():
    Membership.objects.all().delete()
    Organization.objects.filter(code="011002").delete()
    with pytest.raises(CommandError, match="011002 are missing: run load_reference_data first"):
        run()


def test_it_creates_a_living_pipeline_once():
    from candidates.models import Candidate, FeasibilityStudy

    assert Candidate.objects.count() == 0  # the test world itself has no candidates
    output = run()
    assert "demo candidates: 14 created; demo policies: 4 created; demo progress: created" in output
    statuses = set(Candidate.objects.values_list("status", flat=True))
    assert statuses == {"proposed", "under_review", "selected", "not_selected", "withdrawn"}
    assert set(FeasibilityStudy.objects.values_list("status", flat=True)) == {"assigned", "submitted", "accepted", "returned"}
    assert FeasibilityStudy.objects.with_overdue().filter(is_overdue=True).count() == 1
    assert "nothing changed" in run()
    assert Candidate.objects.count() == 14
    from policies.models import Policy

    assert set(Policy.objects.values_list("status", flat=True)) == {"drafting", "in_consent", "consented", "withdrawn"}
    consented = Policy.objects.get(status="consented")
    assert list(consented.rounds.order_by("opened_at").values_list("outcome", flat=True)) == ["not_consented", "consented"]
    from progress.models import Adoption, MeasureRequest, ProgressReport

    reports = ProgressReport.objects.with_overdue().filter(policy=consented)
    assert reports.count() >= 8
    assert {"accepted", "submitted", "returned", "due"} <= set(reports.values_list("status", flat=True))
    assert reports.filter(overdue=True).exists()
    adoption = dict(Adoption.objects.filter(policy=consented).values_list("status").annotate(n=Count("pk")).order_by())
    assert sum(adoption.values()) == 1788 and len(adoption) == 6
    assert set(MeasureRequest.objects.values_list("status", flat=True)) == {"open", "responded", "closed"}
