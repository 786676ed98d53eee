"""/api/v1/reporting-schedules/: the secretariat sets a consented policy's schedule, which
creates this period's report and the policy's 1,788 adoption rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from council import calendar
from policies.models import Policy
from progress.models import Adoption, ProgressReport, ReportingSchedule
from progress.periods import Period
from tests.api_helpers import candidate_in, get_user
from tests.api_progress_helpers import (  # noqa: F401 (module-scoped fixtures)
    ROLES,
    consented_world,
    schedule,
    scheduled_world,
    snapshot,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/reporting-schedules/"


@pytest.fixture
def policy(consented_world, db) -> Policy:
    """A consented policy without a schedule (made once per module)."""
    return Policy.objects.get(pk=consented_world.policy_id)


def url(schedule=None) -> str:
    return URL if schedule is None else f"{URL}{schedule.pk}/"


def body(chosen, **changes) -> dict:
    return {"policy": chosen.pk, "frequency": "quarterly", "due_days_after_period": 30, **changes}


@pytest.mark.parametrize("method, detail", [("get", False), ("post", False), ("get", True)])
def test_anonymous_requests_get_401_and_change_nothing(api, schedule, method, detail):
    before = snapshot()
    response = getattr(api(), method)(url(schedule if detail else None), body(schedule.policy), format="json")
    assert response.status_code == 401
    assert snapshot() == before


def test_the_secretariat_sets_a_schedule_and_the_obligations_come_with_it(api, policy):
    response = api("secretariat").post(URL, body(policy, frequency="semiannual", due_days_after_period=45), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    current = Period.containing(calendar.today(), "semiannual")
    assert data["policy"] == {"id": policy.pk, "title": policy.title}
    assert (data["frequency"], data["due_days_after_period"]) == ("semiannual", 45)
    assert (data["first_fiscal_year"], data["first_period"], data["first_period_label"]) == (
        current.fiscal_year, current.number, current.label)
    assert data["created_by"]["username"] == "secretariat"
    [report] = ProgressReport.objects.filter(schedule_id=data["id"])
    assert (report.fiscal_year, report.period, report.status) == (current.fiscal_year, current.number, "due")
    assert report.due_date == current.due_date(45)
    assert Adoption.objects.filter(policy=policy).count() == 1788


@pytest.mark.parametrize("username", [u for u in ROLES if u != "secretariat"])
def test_only_the_secretariat_sets_schedules(api, policy, username):
    before = snapshot()
    response = api(username).post(URL, body(policy), format="json")
    assert response.status_code == 403
    assert snapshot() == before


def test_a_second_schedule_for_the_same_policy_is_a_409(api, schedule):
    before = snapshot()
    response = api("secretariat").post(URL, body(schedule.policy, frequency="annual"), format="json")
    assert response.status_code == 409
    assert response.json()["detail"]
    assert snapshot() == before


def test_a_policy_without_consent_gets_no_schedule(api, submitted_policy):
    policy = submitted_policy()
    before = snapshot()
    response = api("secretariat").post(URL, body(policy), format="json")
    assert response.status_code == 400
    assert "policy" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("changes, field", [
    ({"frequency": "monthly"}, "frequency"),
    ({"due_days_after_period": 181}, "due_days_after_period"),
    ({"due_days_after_period": -1}, "due_days_after_period"),
    ({"due_days_after_period": "三十"}, "due_days_after_period"),
    ({"policy": 999999}, "policy"),
    ({"policy": None}, "policy"),
])
def test_a_bad_schedule_is_a_400_naming_the_field(api, policy, changes, field):
    before = snapshot()
    response = api("secretariat").post(URL, body(policy, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
def test_everyone_who_sees_the_policy_sees_its_schedule(api, schedule, username):
    client = api(username)
    listed = client.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [schedule.pk]
    detail = client.get(url(schedule))
    assert detail.status_code == 200
    assert detail.json() == listed[0]


def test_schedules_cannot_be_changed_or_deleted(api, schedule):
    client = api("secretariat")
    before = snapshot()
    assert client.patch(url(schedule), {"frequency": "annual"}, format="json").status_code == 405
    assert client.put(url(schedule), body(schedule.policy), format="json").status_code == 405
    assert client.delete(url(schedule)).status_code == 405
    assert snapshot() == before


def test_it_filters_by_policy_and_frequency(api, schedule):
    client = api("secretariat")
    assert client.get(f"{URL}?policy={schedule.policy_id}").json()["count"] == 1
    assert client.get(f"{URL}?policy={schedule.policy_id + 1000}").json()["count"] == 0
    assert client.get(f"{URL}?frequency=annual").json()["count"] == 0
    assert client.get(f"{URL}?frequency=weekly").status_code == 400


def test_the_list_reads_in_constant_queries(api, schedule, django_assert_max_num_queries):
    def more_schedules(count: int) -> None:
        # Schedules of further (draft) policies, made directly: only the list's reading is tested here.
        for n in range(count):
            extra = Policy.objects.create(candidate=candidate_in("selected", f"追加の候補 {n}"), ministry=schedule.policy.ministry,
                                          title=f"追加の方針 {n}", created_by=get_user("soumu"))
            ReportingSchedule.objects.create(policy=extra, frequency="annual", due_days_after_period=60,
                                             first_fiscal_year=2026, first_period=1, created_by=get_user("secretariat"))

    client = api("secretariat")
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).json()["count"] == 1
    more_schedules(4)
    # token, memberships, count, page (policy and creator joined)
    with django_assert_max_num_queries(4):
        assert client.get(URL).json()["count"] == 5
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)
