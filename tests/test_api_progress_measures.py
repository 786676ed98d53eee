"""/api/v1/measure-requests/: the secretariat asks a ministry to take measures, the ministry
answers by the `responded` transition (with its `response`), the secretariat closes it.
Council members see them; local government officials do not."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from council import calendar
from council.models import TransitionLog
from progress.models import MeasureRequest
from tests.api_helpers import org
from tests.api_progress_helpers import (  # noqa: F401 (module-scoped fixtures)
    COUNCIL,
    ROLES,
    current_report,
    request_measures,
    schedule,
    scheduled_world,
    snapshot,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/measure-requests/"
STATUSES = ("open", "responded", "closed")
MOVES = {("open", "responded"), ("responded", "closed")}
MOVER = {"responded": "soumu", "closed": "secretariat", "open": "secretariat"}
FIELDS = {
    "id", "policy", "ministry", "report", "request", "due_date", "status", "overdue", "response",
    "requested_by", "requested_at", "responded_at", "closed_at", "updated_at",
}


def url(measure=None, suffix: str = "") -> str:
    return URL if measure is None else f"{URL}{measure.pk}/{suffix}"


def measure_in(schedule, status: str = "open", **fields) -> MeasureRequest:
    measure = request_measures(schedule.policy, **fields)
    stamps = {"open": {}, "responded": {"response": "支援策を拡充します。"},
              "closed": {"response": "支援策を拡充します。"}}[status]
    MeasureRequest.objects.filter(pk=measure.pk).update(status=status, **stamps)
    measure.refresh_from_db()
    return measure


def move(client, measure, to, **body):
    return client.post(url(measure, "transition/"), {"to": to, **body}, format="json")


def body(schedule, **changes) -> dict:
    due = calendar.next_business_day(calendar.today() + timedelta(days=30))
    return {"policy": schedule.policy_id, "request": "移行が遅れている団体への支援策を示してください。",
            "due_date": due.isoformat(), **changes}


# --- who gets in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method, suffix, detail", [
    ("get", "", False), ("post", "", False), ("get", "", True), ("post", "transition/", True), ("get", "history/", True),
])
def test_anonymous_requests_get_401_and_change_nothing(api, schedule, method, suffix, detail):
    measure = measure_in(schedule)
    before = snapshot()
    response = getattr(api(), method)(url(measure, suffix) if detail else URL, {"to": "responded", **body(schedule)},
                                      format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("status", STATUSES)
def test_measure_requests_are_for_council_members(api, schedule, username, status):
    measure = measure_in(schedule, status)
    client = api(username)
    member = username in COUNCIL
    listed = client.get(URL).json()
    assert [row["id"] for row in listed["results"]] == ([measure.pk] if member else [])
    detail = client.get(url(measure))
    assert detail.status_code == (200 if member else 404)
    assert client.get(url(measure, "history/")).status_code == (200 if member else 404)
    if member:
        assert set(detail.json()) == FIELDS
        assert detail.json() == listed["results"][0]


@pytest.mark.parametrize("username", ["hokkaido", "sapporo"])
def test_local_officials_cannot_even_find_a_request_to_answer(api, schedule, username):
    measure = measure_in(schedule)
    before = snapshot()
    assert move(api(username), measure, "responded", response="回答").status_code == 404
    assert snapshot() == before


# --- asking ------------------------------------------------------------------------------------


def test_the_secretariat_asks_the_owning_ministry(api, schedule):
    report = current_report(schedule)
    response = api("secretariat").post(URL, body(schedule, report=report.pk), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["overdue"], data["response"]) == ("open", False, "")
    assert data["ministry"] == {"id": org("soumu").pk, "code": "soumu", "name": "総務省"}
    assert data["policy"] == {"id": schedule.policy_id, "title": schedule.policy.title}
    assert data["report"] == {"id": report.pk, "fiscal_year": report.fiscal_year, "period": report.period,
                              "label": report.period_label}
    assert data["requested_by"]["username"] == "secretariat"
    [created] = api("soumu").get(url(MeasureRequest.objects.get(pk=data["id"]), "history/")).json()
    assert (created["from"], created["to"]) == (None, "open")


def test_a_request_may_go_to_another_ministry(api, schedule):
    response = api("secretariat").post(URL, body(schedule, ministry=org("mhlw").pk), format="json")
    assert response.status_code == 201
    measure = MeasureRequest.objects.get(pk=response.json()["id"])
    assert measure.ministry.code == "mhlw"
    before = snapshot()
    assert move(api("soumu"), measure, "responded", response="回答").status_code == 403
    assert snapshot() == before
    assert move(api("mhlw"), measure, "responded", response="厚労省として対応します。").status_code == 200


def test_a_due_date_on_a_holiday_moves_to_the_next_business_day(api, schedule):
    day = calendar.today() + timedelta(days=14)
    while calendar.is_business_day(day):
        day += timedelta(days=1)
    response = api("secretariat").post(URL, body(schedule, due_date=day.isoformat()), format="json")
    assert response.status_code == 201
    assert response.json()["due_date"] == calendar.next_business_day(day).isoformat()


@pytest.mark.parametrize("username", [u for u in ROLES if u != "secretariat"])
def test_only_the_secretariat_asks(api, schedule, username):
    before = snapshot()
    response = api(username).post(URL, body(schedule), format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("changes, field", [
    ({"due_date": "{today}"}, "due_date"),
    ({"due_date": "{yesterday}"}, "due_date"),
    ({"due_date": "来月"}, "due_date"),
    ({"ministry": "{sapporo}"}, "ministry"),
    ({"ministry": 999999}, "ministry"),
    ({"report": 999999}, "report"),
    ({"policy": 999999}, "policy"),
    ({"request": ""}, "request"),
    ({"request": "あ" * 10_001}, "request"),
])
def test_a_bad_request_is_a_400_naming_the_field(api, schedule, changes, field):
    values = {"{today}": calendar.today().isoformat(), "{yesterday}": (calendar.today() - timedelta(days=1)).isoformat(),
              "{sapporo}": org("011002").pk}
    changes = {k: values.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    before = snapshot()
    response = api("secretariat").post(URL, body(schedule, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


# --- answering and closing ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_every_measure_move_is_allowed_exactly_as_the_table_says(api, schedule, source, target):
    measure = measure_in(schedule, source)
    logs = TransitionLog.objects.count()
    before = snapshot()
    response = move(api(MOVER[target]), measure, target, response="対応します。", comment="確認")
    measure.refresh_from_db()
    if (source, target) in MOVES:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == target == measure.status
        assert TransitionLog.objects.count() == logs + 1
        last = api("secretariat").get(url(measure, "history/")).json()[-1]
        assert (last["from"], last["to"], last["comment"], last["by"]["username"]) == (source, target, "確認", MOVER[target])
    else:
        assert response.status_code == 409
        assert (response.json()["from"], response.json()["to"]) == (source, target)
        assert measure.status == source
        assert snapshot() == before  # no history row, nothing else changed


@pytest.mark.parametrize("username, status, to", [
    ("secretariat", "open", "responded"),   # the secretariat does not answer for the ministry
    ("soumu", "responded", "closed"),       # the ministry does not close its own request
    ("mhlw", "open", "responded"),          # another ministry
    ("mhlw", "responded", "closed"),
    ("chijikai", "open", "responded"),
    ("chijikai", "responded", "closed"),
])
def test_nobody_else_answers_or_closes(api, schedule, username, status, to):
    measure = measure_in(schedule, status)
    before = snapshot()
    assert move(api(username), measure, to, response="回答").status_code == 403
    assert snapshot() == before


def test_the_ministry_answers_with_its_response_and_the_secretariat_closes(api, schedule):
    measure = measure_in(schedule)
    answered = move(api("soumu"), measure, "responded", response="移行支援の補助を拡充します。", comment="回答します")
    assert answered.status_code == 200, answered.content
    data = answered.json()
    assert (data["status"], data["response"]) == ("responded", "移行支援の補助を拡充します。")
    assert data["responded_at"] and data["closed_at"] is None
    closed = move(api("secretariat"), measure, "closed", response="無視される", comment="対応を確認")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["response"]) == ("closed", "移行支援の補助を拡充します。")
    assert closed.json()["closed_at"]
    rows = api("chijikai").get(url(measure, "history/")).json()
    assert [(r["from"], r["to"], r["comment"]) for r in rows] == [
        (None, "open", ""), ("open", "responded", "回答します"), ("responded", "closed", "対応を確認")]


@pytest.mark.parametrize("extra", [{}, {"response": ""}, {"response": "   "}])
def test_an_answer_needs_a_response(api, schedule, extra):
    measure = measure_in(schedule)
    before = snapshot()
    response = move(api("soumu"), measure, "responded", **extra)
    assert response.status_code == 400
    assert "response" in response.json()
    assert snapshot() == before


def test_the_response_is_written_only_by_the_transition(api, schedule):
    measure = measure_in(schedule)
    before = snapshot()
    assert api("soumu").patch(url(measure), {"response": "下書き"}, format="json").status_code == 405
    assert api("secretariat").put(url(measure), body(schedule), format="json").status_code == 405
    assert api("secretariat").delete(url(measure)).status_code == 405
    assert snapshot() == before


def test_a_too_long_response_is_a_400(api, schedule):
    measure = measure_in(schedule)
    before = snapshot()
    response = move(api("soumu"), measure, "responded", response="あ" * 10_001)
    assert response.status_code == 400
    assert "response" in response.json()
    assert snapshot() == before


# --- overdue and filters --------------------------------------------------------------------------------


def test_an_open_request_past_its_due_date_is_overdue(api, schedule):
    late = measure_in(schedule, "open")
    answered = measure_in(schedule, "responded")
    on_time = measure_in(schedule, "open")
    MeasureRequest.objects.filter(pk__in=[late.pk, answered.pk]).update(due_date=calendar.today() - timedelta(days=2))
    client = api("mhlw")
    assert [client.get(url(m)).json()["overdue"] for m in (late, answered, on_time)] == [True, False, False]
    assert [r["id"] for r in client.get(URL + "?overdue=true").json()["results"]] == [late.pk]
    assert {r["id"] for r in client.get(URL + "?overdue=false").json()["results"]} == {answered.pk, on_time.pk}


def test_it_filters_by_status_policy_and_ministry(api, schedule):
    to_soumu = measure_in(schedule, "open")
    to_mhlw = measure_in(schedule, "responded", ministry=org("mhlw"))
    client = api("chijikai")

    def found(query):
        response = client.get(URL + query)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert found("?status=open") == {to_soumu.pk}
    assert found(f"?ministry={org('mhlw').pk}") == {to_mhlw.pk}
    assert found(f"?policy={schedule.policy_id}") == {to_soumu.pk, to_mhlw.pk}
    assert found(f"?policy={schedule.policy_id + 1000}") == set()
    assert api("sapporo").get(URL + "?status=open").json()["results"] == []


@pytest.mark.parametrize("query, field", [("?status=answered", "status"), ("?policy=x", "policy"),
                                          ("?ministry=1.5", "ministry"), ("?ordering=request", "ordering")])
def test_a_bad_filter_is_a_400_naming_it(api, schedule, query, field):
    response = api("secretariat").get(URL + query)
    assert response.status_code == 400
    assert field in response.json()


# --- query counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["secretariat", "soumu", "chijikai"])
def test_the_list_reads_in_constant_queries(api, schedule, username, django_assert_max_num_queries):
    client = api(username)
    report = current_report(schedule)
    measure_in(schedule, report=report)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(6):
        measure_in(schedule, STATUSES[n % 3], report=report if n % 2 else None, ministry=org("mhlw") if n % 3 else None)
    # token, memberships, count, page (policy, ministry, report, schedule, requester joined)
    with django_assert_max_num_queries(4):
        assert client.get(URL).json()["count"] == 7
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)
