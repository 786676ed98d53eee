"""/api/v1/feasibility-studies/: assigning, the ministry's draft and attachments, who sees what.

Moves between states (submit, accept, return) are in test_api_workflow.py too; here they
are followed from the ministry's and the secretariat's side.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from candidates import actions
from candidates.models import FeasibilityStudy, StudyAttachment
from council import calendar
from tests.api_helpers import (
    EXE,
    FILLED_STUDY,
    PNG,
    ROLES,
    TINY_PDF,
    candidate_in,
    future,
    get_user,
    org,
    put_in,
    snapshot,
    study_in,
    upload,
)

pytestmark = pytest.mark.django_db

DRAFTS = ("assigned", "submitted", "returned")
SUMMARY_FIELDS = {"id", "candidate", "ministry", "status", "conclusion", "submitted_at", "decided_at"}
DETAIL_FIELDS = SUMMARY_FIELDS | {
    "overdue", "due_date", "findings", "affected_local_governments", "cost_initial_yen", "cost_annual_yen",
    "expected_effect", "staff_hours_saved_per_year", "risks", "assigned_by", "assigned_at", "updated_at", "attachments",
}
# Who sees a study in each state: drafts are the secretariat's and the owning ministry's.
DRAFT_READERS = frozenset({"secretariat", "soumu"})
DETAIL_READERS_WHEN_ACCEPTED = frozenset({"secretariat", "soumu", "mhlw", "chijikai"})


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(study=None, suffix: str = "") -> str:
    return "/api/v1/feasibility-studies/" if study is None else f"/api/v1/feasibility-studies/{study.pk}/{suffix}"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def next_weekday(weekday: int):
    day = calendar.today() + timedelta(days=14)
    while day.weekday() != weekday or not (calendar.is_business_day(day) or weekday >= 5):
        day += timedelta(days=1)
    return day


# --- who gets in ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, suffix, detail",
    [
        ("get", "", False),
        ("post", "", False),
        ("get", "", True),
        ("patch", "", True),
        ("post", "transition/", True),
        ("get", "history/", True),
        ("post", "attachments/", True),
    ],
)
def test_anonymous_requests_get_401_and_change_nothing(api, method, suffix, detail):
    study = study_in("assigned")
    before = snapshot()
    response = getattr(api(), method)(url(study if detail else None, suffix), {}, format="json")
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("status", DRAFTS)
def test_a_draft_is_the_secretariats_and_the_owning_ministrys(api, username, status):
    study = study_in(status, filled=True)
    client = api(username)
    visible = username in DRAFT_READERS
    assert client.get(url(study)).status_code == (200 if visible else 404)
    assert ids(client.get(url())) == ({study.pk} if visible else set())
    if visible:
        assert set(client.get(url(study)).json()) == DETAIL_FIELDS


@pytest.mark.parametrize("username", ROLES)
def test_an_accepted_study_is_whole_for_council_members_and_its_conclusion_for_local_officials(api, username):
    study = study_in("accepted")
    client = api(username)
    detail = client.get(url(study))
    assert detail.status_code == 200
    [row] = client.get(url()).json()["results"]
    expected = DETAIL_FIELDS if username in DETAIL_READERS_WHEN_ACCEPTED else SUMMARY_FIELDS
    assert set(detail.json()) == set(row) == expected
    assert detail.json()["conclusion"] == "feasible"
    assert detail.json()["candidate"] == {"id": study.candidate_id, "title": study.candidate.title}
    assert detail.json()["ministry"] == {"id": org("soumu").pk, "code": "soumu", "name": "総務省"}


@pytest.mark.parametrize("username", ROLES)
def test_the_list_and_the_detail_never_disagree(api, username):
    studies = [study_in(status, filled=True, title=f"候補 {status}") for status in (*DRAFTS, "accepted")]
    client = api(username)
    listed = {row["id"]: row for row in client.get(url()).json()["results"]}
    for study in studies:
        detail = client.get(url(study))
        assert detail.status_code == (200 if study.pk in listed else 404)
        if study.pk in listed:
            assert detail.json() == listed[study.pk]


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("status", (*DRAFTS, "accepted"))
def test_the_annotated_details_rule_agrees_with_the_model(username, status):
    study = study_in(status, filled=True)
    user = get_user(username)
    annotated = FeasibilityStudy.objects.with_details_visible(user).get(pk=study.pk)
    assert annotated.details_visible == study.may_see_details(user)


def test_a_missing_study_is_404(api):
    assert api("secretariat").get("/api/v1/feasibility-studies/999999/").status_code == 404


def test_studies_cannot_be_replaced_or_deleted(api):
    study = study_in("assigned")
    client = api("secretariat")
    assert client.put(url(study), FILLED_STUDY, format="json").status_code == 405
    assert client.delete(url(study)).status_code == 405
    assert FeasibilityStudy.objects.filter(pk=study.pk).exists()


# --- assigning -------------------------------------------------------------------------------


def test_the_secretariat_assigns_a_study_to_the_owning_ministry(api):
    candidate = candidate_in("selected", ministry="mhlw")
    due = next_weekday(2)  # a Wednesday that is a business day
    response = api("secretariat").post(url(), {"candidate": candidate.pk, "due_date": due.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["due_date"], body["due_date_moved"]) == ("assigned", due.isoformat(), False)
    assert body["ministry"]["code"] == "mhlw"
    assert body["overdue"] is False
    study = FeasibilityStudy.objects.get(pk=body["id"])
    assert get_user("mhlw").has_perm("candidates.change_feasibilitystudy", study)
    assert api("mhlw").get(url(study)).status_code == 200
    assert api("soumu").get(url(study)).status_code == 404


def test_a_due_date_on_a_holiday_moves_to_the_next_business_day(api):
    candidate = candidate_in("selected")
    saturday = next_weekday(5)
    response = api("secretariat").post(url(), {"candidate": candidate.pk, "due_date": saturday.isoformat()}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["due_date_moved"] is True
    assert body["due_date"] == calendar.next_business_day(saturday).isoformat()


@pytest.mark.parametrize("username", [u for u in ROLES if u != "secretariat"])
def test_only_the_secretariat_assigns_studies(api, username):
    candidate = candidate_in("selected")
    before = snapshot()
    response = api(username).post(url(), {"candidate": candidate.pk, "due_date": future().isoformat()}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("days", [0, -1, -30])
def test_a_due_date_not_in_the_future_is_a_400(api, days):
    candidate = candidate_in("selected")
    before = snapshot()
    due = calendar.today() + timedelta(days=days)
    response = api("secretariat").post(url(), {"candidate": candidate.pk, "due_date": due.isoformat()}, format="json")
    assert response.status_code == 400
    assert "due_date" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("status", ["proposed", "under_review", "not_selected", "withdrawn"])
def test_a_study_is_only_for_a_selected_candidate(api, status):
    candidate = candidate_in(status)
    before = snapshot()
    response = api("secretariat").post(url(), {"candidate": candidate.pk, "due_date": future().isoformat()}, format="json")
    assert response.status_code == 400
    assert "candidate" in response.json()
    assert snapshot() == before


def test_a_candidate_gets_one_study(api):
    study = study_in("assigned")
    before = snapshot()
    response = api("secretariat").post(url(), {"candidate": study.candidate_id, "due_date": future().isoformat()}, format="json")
    assert response.status_code == 400
    assert "candidate" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("body, field", [
    ({"due_date": "2030-01-10"}, "candidate"),
    ({"candidate": 999999, "due_date": "2030-01-10"}, "candidate"),
    ({"candidate": "{pk}"}, "due_date"),
    ({"candidate": "{pk}", "due_date": "来月"}, "due_date"),
])
def test_a_bad_assignment_is_a_400_naming_the_field(api, body, field):
    candidate = candidate_in("selected")
    body = {k: (candidate.pk if v == "{pk}" else v) for k, v in body.items()}
    before = snapshot()
    response = api("secretariat").post(url(), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


# --- the ministry's draft ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["assigned", "returned"])
def test_the_owning_ministry_saves_its_draft(api, status):
    study = study_in(status)
    response = api("soumu").patch(url(study), {**FILLED_STUDY, "risks": "移行時期の調整", "staff_hours_saved_per_year": 50000},
                                  format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["findings"] == FILLED_STUDY["findings"]
    assert (body["cost_initial_yen"], body["staff_hours_saved_per_year"], body["conclusion"]) == (1_200_000_000, 50000, "feasible")
    study.refresh_from_db()
    assert (study.risks, study.status) == ("移行時期の調整", status)


def test_a_draft_can_be_saved_a_field_at_a_time(api):
    study = study_in("assigned")
    client = api("soumu")
    assert client.patch(url(study), {"findings": "途中まで"}, format="json").status_code == 200
    assert client.patch(url(study), {"conclusion": "not_feasible"}, format="json").status_code == 200
    study.refresh_from_db()
    assert (study.findings, study.conclusion) == ("途中まで", "not_feasible")


@pytest.mark.parametrize("status", ["submitted", "accepted"])
def test_a_submitted_or_accepted_study_is_not_editable(api, status):
    study = study_in(status)
    before = snapshot()
    assert api("soumu").patch(url(study), {"risks": "追記"}, format="json").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username, status, code", [
    ("secretariat", "assigned", 403),   # the secretariat reads drafts but the ministry writes them
    ("mhlw", "assigned", 404),
    ("chijikai", "assigned", 404),
    ("sapporo", "assigned", 404),
    ("mhlw", "accepted", 403),
    ("chijikai", "accepted", 403),
    ("hokkaido", "accepted", 403),
    ("sapporo", "accepted", 403),
])
def test_nobody_else_edits_a_study(api, username, status, code):
    study = study_in(status, filled=True)
    before = snapshot()
    assert api(username).patch(url(study), {"risks": "追記"}, format="json").status_code == code
    assert snapshot() == before


@pytest.mark.parametrize("username", ["mhlw", "chijikai", "sapporo", "hokkaido"])
@pytest.mark.parametrize("to", ["submitted", "accepted", "returned"])
def test_nobody_else_moves_an_accepted_study(api, username, to):
    study = study_in("accepted")
    before = snapshot()
    response = api(username).post(url(study, "transition/"), {"to": to, "comment": "理由"}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("username", ["mhlw", "chijikai", "hokkaido", "sapporo"])
@pytest.mark.parametrize("status, to", [("assigned", "submitted"), ("submitted", "accepted"), ("submitted", "returned"),
                                        ("returned", "submitted")])
def test_a_draft_cannot_even_be_found_to_be_moved_by_outsiders(api, username, status, to):
    study = study_in(status, filled=True)
    before = snapshot()
    response = api(username).post(url(study, "transition/"), {"to": to, "comment": "理由"}, format="json")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"affected_local_governments": 1789}, "affected_local_governments"),
        ({"affected_local_governments": -1}, "affected_local_governments"),
        ({"cost_initial_yen": -5}, "cost_initial_yen"),
        ({"cost_annual_yen": "高い"}, "cost_annual_yen"),
        ({"conclusion": "maybe"}, "conclusion"),
        ({"findings": "あ" * 20_001}, "findings"),
        ({"risks": "あ" * 10_001}, "risks"),
    ],
)
def test_a_bad_draft_is_a_400_naming_the_field_and_saves_nothing(api, changes, field):
    study = study_in("assigned")
    before = snapshot()
    response = api("soumu").patch(url(study), changes, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_fields_outside_the_ministrys_are_ignored(api):
    study = study_in("assigned")
    due = study.due_date
    response = api("soumu").patch(url(study), {"status": "accepted", "due_date": "2099-01-01", "findings": "所見"}, format="json")
    assert response.status_code == 200
    study.refresh_from_db()
    assert (study.status, study.due_date, study.findings) == ("assigned", due, "所見")


def test_the_whole_round_trip_through_the_api(api):
    secretariat, soumu = api("secretariat"), api("soumu")
    candidate = candidate_in("selected")
    created = secretariat.post(url(), {"candidate": candidate.pk, "due_date": future().isoformat()}, format="json").json()
    study = FeasibilityStudy.objects.get(pk=created["id"])
    incomplete = soumu.post(url(study, "transition/"), {"to": "submitted"}, format="json")
    assert incomplete.status_code == 400
    assert set(FeasibilityStudy.REQUIRED_TO_SUBMIT) <= set(incomplete.json())
    assert soumu.patch(url(study), FILLED_STUDY, format="json").status_code == 200
    submitted = soumu.post(url(study, "transition/"), {"to": "submitted", "comment": "提出します"}, format="json")
    assert submitted.status_code == 200
    assert submitted.json()["submitted_at"]
    assert secretariat.post(url(study, "transition/"), {"to": "returned"}, format="json").status_code == 400
    assert secretariat.post(url(study, "transition/"), {"to": "returned", "comment": "費用の内訳を"}, format="json").status_code == 200
    assert soumu.patch(url(study), {"risks": "内訳を追記"}, format="json").status_code == 200
    assert soumu.post(url(study, "transition/"), {"to": "submitted"}, format="json").status_code == 200
    accepted = secretariat.post(url(study, "transition/"), {"to": "accepted", "comment": "受理"}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["decided_at"]
    assert api("sapporo").get(url(study)).json()["status"] == "accepted"
    assert [row["to"] for row in secretariat.get(url(study, "history/")).json()] == [
        "assigned", "submitted", "returned", "submitted", "accepted"]


# --- history -------------------------------------------------------------------------------------


@pytest.mark.parametrize("username, code", [
    ("secretariat", 200), ("soumu", 200), ("mhlw", 200), ("chijikai", 200), ("hokkaido", 403), ("sapporo", 403),
])
def test_an_accepted_studys_history_is_for_those_who_see_its_details(api, username, code):
    study = study_in("accepted")
    assert api(username).get(url(study, "history/")).status_code == code


@pytest.mark.parametrize("username", ["mhlw", "chijikai", "sapporo"])
def test_a_drafts_history_is_404_for_those_who_cannot_see_it(api, username):
    study = study_in("returned")
    assert api(username).get(url(study, "history/")).status_code == 404


# --- attachments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["assigned", "returned"])
def test_the_ministry_attaches_a_file_to_its_draft(api, status):
    study = study_in(status)
    response = api("soumu").post(url(study, "attachments/"), {"file": upload("試算.pdf", TINY_PDF)}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["content_type"], body["size"]) == ("試算.pdf", "application/pdf", len(TINY_PDF))
    assert body["url"] == f"/studies/attachments/{body['id']}/"
    detail = api("secretariat").get(url(study)).json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]
    study.refresh_from_db()
    assert study.status == status


def test_a_list_page_gives_each_study_its_own_attachments_as_its_detail_does(api):
    """The list reads a page's attachments in one query by the studies' ids (PageListsMixin),
    not through prefetch_related: each row still has its own, in the detail's order."""
    first, second, bare = (study_in("assigned", title=f"添付 {n}") for n in range(3))
    for study, names in ((first, ["a.pdf", "b.pdf"]), (second, ["c.pdf"])):
        for name in names:
            response = api("soumu").post(url(study, "attachments/"), {"file": upload(name, TINY_PDF)}, format="multipart")
            assert response.status_code == 201, response.content
    rows = {row["id"]: row for row in api("secretariat").get(url(), {"page_size": 500}).json()["results"]}
    for study in (first, second, bare):
        detail = api("secretariat").get(url(study)).json()
        assert rows[study.pk]["attachments"] == detail["attachments"]
    assert [a["name"] for a in rows[first.pk]["attachments"]] == ["a.pdf", "b.pdf"]
    assert [a["name"] for a in rows[second.pk]["attachments"]] == ["c.pdf"]
    assert rows[bare.pk]["attachments"] == []


@pytest.mark.parametrize("name, content", [
    ("setup.exe", EXE),
    ("renamed.pdf", PNG),
    ("empty.pdf", b""),
    ("too-big.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024)),
])
def test_a_refused_attachment_is_a_400_naming_file_and_saves_nothing(api, name, content):
    study = study_in("assigned")
    before = snapshot()
    response = api("soumu").post(url(study, "attachments/"), {"file": upload(name, content)}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
    assert snapshot() == before


def test_an_attachment_needs_a_file(api):
    study = study_in("assigned")
    response = api("soumu").post(url(study, "attachments/"), {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize("username, status, code", [
    ("secretariat", "assigned", 403),
    ("soumu", "submitted", 403),
    ("soumu", "accepted", 403),
    ("mhlw", "assigned", 404),
    ("mhlw", "accepted", 403),
    ("chijikai", "accepted", 403),
    ("sapporo", "assigned", 404),
    ("sapporo", "accepted", 403),
])
def test_nobody_else_attaches_files(api, username, status, code):
    study = study_in(status, filled=True)
    before = snapshot()
    response = api(username).post(url(study, "attachments/"), {"file": upload("x.exe", EXE)}, format="multipart")
    assert response.status_code == code  # refused before the file is even looked at
    assert snapshot() == before


# --- overdue, filters, ordering ---------------------------------------------------------------------


def test_an_open_study_past_its_due_date_is_overdue(api):
    assigned = study_in("assigned", title="期限切れ")
    submitted = study_in("submitted", title="提出済み")
    on_time = study_in("assigned", title="期限内")
    past = calendar.today() - timedelta(days=3)
    FeasibilityStudy.objects.filter(pk__in=[assigned.pk, submitted.pk]).update(due_date=past)
    client = api("secretariat")
    assert client.get(url(assigned)).json()["overdue"] is True
    assert client.get(url(submitted)).json()["overdue"] is False
    assert client.get(url(on_time)).json()["overdue"] is False
    assert ids(client.get(url() + "?overdue=true")) == {assigned.pk}
    assert ids(client.get(url() + "?overdue=false")) == {submitted.pk, on_time.pk}
    put_in(assigned, "returned")
    assert client.get(url(assigned)).json()["overdue"] is True


def test_a_study_moved_by_the_api_reports_overdue_from_its_new_status(api):
    study = study_in("assigned", filled=True)
    FeasibilityStudy.objects.filter(pk=study.pk).update(due_date=calendar.today() - timedelta(days=1))
    response = api("soumu").post(url(study, "transition/"), {"to": "submitted"}, format="json")
    assert response.status_code == 200
    assert response.json()["overdue"] is False


def test_it_filters_by_status_ministry_candidate_and_conclusion(api):
    soumu_study = study_in("assigned", title="総務省の調査")
    mhlw_candidate = candidate_in("selected", "厚労省の候補", ministry="mhlw")
    mhlw_study, _ = actions.assign_study(mhlw_candidate, get_user("secretariat"), due_date=future(40))
    accepted = study_in("accepted", title="受理済み")
    client = api("secretariat")
    assert ids(client.get(url() + "?status=accepted")) == {accepted.pk}
    assert ids(client.get(url() + f"?ministry={org('mhlw').pk}")) == {mhlw_study.pk}
    assert ids(client.get(url() + f"?candidate={soumu_study.candidate_id}")) == {soumu_study.pk}
    assert ids(client.get(url() + "?conclusion=feasible")) == {accepted.pk}
    # Filters narrow what the user may see; they never widen it.
    assert ids(api("mhlw").get(url() + f"?ministry={org('soumu').pk}")) == {accepted.pk}


def test_it_orders_by_due_date(api):
    later = study_in("assigned", title="後")
    sooner = study_in("assigned", title="先")
    FeasibilityStudy.objects.filter(pk=sooner.pk).update(due_date=future(10))
    FeasibilityStudy.objects.filter(pk=later.pk).update(due_date=future(60))
    client = api("secretariat")
    assert [r["id"] for r in client.get(url()).json()["results"]] == [sooner.pk, later.pk]
    assert [r["id"] for r in client.get(url() + "?ordering=-due_date").json()["results"]] == [later.pk, sooner.pk]


@pytest.mark.parametrize("query, field", [("?status=draft", "status"), ("?ministry=x", "ministry"),
                                          ("?candidate=1.5", "candidate"), ("?ordering=findings", "ordering")])
def test_a_bad_filter_is_a_400_naming_it(api, query, field):
    response = api("secretariat").get(url() + query)
    assert response.status_code == 400
    assert field in response.json()


# --- query counts --------------------------------------------------------------------------------------


def make_studies(count: int) -> None:
    for n in range(count):
        status = ("assigned", "submitted", "accepted", "returned")[n % 4]
        study = study_in(status, filled=True, title=f"候補 {n:02d}")
        StudyAttachment.objects.create(
            study=study, file=upload("a.pdf", TINY_PDF), original_name="a.pdf", content_type="application/pdf",
            size=len(TINY_PDF), uploaded_by=get_user("soumu"),
        )


@pytest.mark.parametrize("username", ["secretariat", "soumu", "chijikai", "sapporo"])
def test_the_list_reads_in_constant_queries(api, username, django_assert_max_num_queries):
    client = api(username)
    make_studies(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url()).status_code == 200
    make_studies(12)
    # token, memberships, count, page (candidate, ministry, assigner joined), attachments
    with django_assert_max_num_queries(5):
        response = client.get(url())
    assert response.json()["count"] == {"secretariat": 15, "soumu": 15}.get(username, 4)  # 4 accepted
    with CaptureQueriesContext(connection) as many:
        client.get(url())
    assert len(many) == len(few)
