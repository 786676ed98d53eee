"""`POST /api/v1/progress-reports/{id}/transition/` and `…/history/`: every move the table
allows and refuses, who may make it, and what a move needs (a return's reason, a complete
report to submit)."""

import pytest

from council.models import TransitionLog
from progress.models import ProgressReport
from tests.api_progress_helpers import (  # noqa: F401 (module-scoped fixtures)
    REPORT_STATUSES,
    current_report,
    report_in,
    schedule,
    scheduled_world,
    snapshot,
)

pytestmark = pytest.mark.django_db

MOVES = {
    ("due", "submitted"),
    ("submitted", "accepted"),
    ("submitted", "returned"),
    ("returned", "submitted"),
}
# Who makes a move to each state: the owning ministry submits, the secretariat decides.
MOVER = {"submitted": "soumu", "accepted": "secretariat", "returned": "secretariat", "due": "secretariat"}


def move(client, report, to, **body):
    return client.post(f"/api/v1/progress-reports/{report.pk}/transition/", {"to": to, **body}, format="json")


def history(client, report):
    return client.get(f"/api/v1/progress-reports/{report.pk}/history/")


@pytest.mark.parametrize("source", REPORT_STATUSES)
@pytest.mark.parametrize("target", REPORT_STATUSES)
def test_every_report_move_is_allowed_exactly_as_the_table_says(api, schedule, source, target):
    report = report_in(schedule, source)
    logs = TransitionLog.objects.count()
    before = snapshot()
    response = move(api(MOVER[target]), report, target, comment="確認しました")
    report.refresh_from_db()
    if (source, target) in MOVES:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == target == report.status
        assert TransitionLog.objects.count() == logs + 1
        last = history(api("secretariat"), report).json()[-1]
        assert (last["from"], last["to"], last["comment"], last["by"]["username"]) == (
            source, target, "確認しました", MOVER[target])
    else:
        assert response.status_code == 409
        assert (response.json()["from"], response.json()["to"]) == (source, target)
        assert response.json()["detail"]
        assert report.status == source
        assert snapshot() == before  # no history row, nothing else changed


@pytest.mark.parametrize("username, status, to, code", [
    # The secretariat does not submit for the ministry; the ministry does not decide on its own report.
    ("secretariat", "due", "submitted", 403),
    ("secretariat", "returned", "submitted", 403),
    ("soumu", "submitted", "accepted", 403),
    ("soumu", "submitted", "returned", 403),
    # Others do not even find an unaccepted report…
    ("mhlw", "due", "submitted", 404),
    ("mhlw", "submitted", "accepted", 404),
    ("chijikai", "submitted", "returned", 404),
    ("hokkaido", "returned", "submitted", 404),
    ("sapporo", "due", "submitted", 404),
    # …and may not move an accepted one.
    ("mhlw", "accepted", "submitted", 403),
    ("mhlw", "accepted", "returned", 403),
    ("chijikai", "accepted", "returned", 403),
    ("hokkaido", "accepted", "submitted", 403),
    ("sapporo", "accepted", "returned", 403),
])
def test_nobody_else_moves_a_report(api, schedule, username, status, to, code):
    report = report_in(schedule, status)
    before = snapshot()
    response = move(api(username), report, to, comment="理由")
    assert response.status_code == code
    assert snapshot() == before


def test_a_return_needs_a_reason(api, schedule):
    report = report_in(schedule, "submitted")
    before = snapshot()
    for body in ({}, {"comment": ""}, {"comment": "   "}):
        response = move(api("secretariat"), report, "returned", **body)
        assert response.status_code == 400
        assert "comment" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("status", ["due", "returned"])
def test_an_incomplete_report_cannot_be_submitted(api, schedule, status):
    report = report_in(schedule, status, filled=False)
    before = snapshot()
    response = move(api("soumu"), report, "submitted")
    assert response.status_code == 400
    assert {"summary", "milestones"} <= set(response.json())
    assert snapshot() == before


@pytest.mark.parametrize("body, field", [({"to": "archived"}, "to"), ({}, "to"), ({"to": "accepted", "comment": "あ" * 4001}, "comment")])
def test_a_bad_transition_body_is_a_400(api, schedule, body, field):
    report = report_in(schedule, "submitted")
    before = snapshot()
    response = api("secretariat").post(f"/api/v1/progress-reports/{report.pk}/transition/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_the_whole_round_trip_through_the_api(api, schedule):
    secretariat, soumu = api("secretariat"), api("soumu")
    report = current_report(schedule)
    assert move(soumu, report, "submitted").status_code == 400
    assert soumu.patch(f"/api/v1/progress-reports/{report.pk}/", {
        "summary": "仕様を策定中。", "milestones": [{"name": "標準仕様", "percent": 60}],
        "kpis": [{"name": "利用団体数", "target": 100, "actual": 5, "unit": "団体"}],
    }, format="json").status_code == 200
    submitted = move(soumu, report, "submitted", comment="提出します")
    assert submitted.status_code == 200
    assert submitted.json()["submitted_at"]
    assert api("sapporo").get(f"/api/v1/progress-reports/{report.pk}/").status_code == 404
    returned = move(secretariat, report, "returned", comment="KPIの根拠を追記してください。")
    assert returned.status_code == 200
    assert returned.json()["decided_at"]
    assert soumu.patch(f"/api/v1/progress-reports/{report.pk}/", {"risks": "根拠を追記"}, format="json").status_code == 200
    assert move(soumu, report, "submitted").status_code == 200
    accepted = move(secretariat, report, "accepted", comment="受理")
    assert accepted.status_code == 200
    assert api("sapporo").get(f"/api/v1/progress-reports/{report.pk}/").json()["status"] == "accepted"
    rows = api("sapporo").get(f"/api/v1/progress-reports/{report.pk}/history/").json()
    assert [(row["from"], row["to"]) for row in rows] == [
        ("due", "submitted"), ("submitted", "returned"), ("returned", "submitted"), ("submitted", "accepted")]
    assert rows[1]["comment"] == "KPIの根拠を追記してください。"
    assert set(rows[0]) == {"id", "from", "to", "by", "at", "comment"}
    assert ProgressReport.objects.get(pk=report.pk).status == "accepted"
