"""The trace page (/trace/<kind>/<pk>/) and its API (/api/v1/trace/<kind>/<pk>/): the chain
of council.trace as a timeline and as JSON, for each role, in Japanese and in English, and
the "経緯をたどる" link on every object's own page. The chains are those of tests/test_trace.py."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import FeasibilityStudy
from council.models import AgendaItem
from council.trace import build_trace
from policies.models import PolicyVersion
from tests.test_trace import (
    DECISION_TEXT,
    DRAFT_MARKER,
    OBJECTION,
    REPORT_RETURN_REASON,
    STUDY_RETURN_REASON,
    ids_by_stage,
    worlds_fixture,
)

worlds = worlds_fixture(small=False, unsubmitted=False)

# Each test in its own savepoint inside the module's world (and ordered with the database tests).
pytestmark = pytest.mark.django_db

ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "hokkaido", "sapporo")
LOCAL = frozenset({"hokkaido", "sapporo"})


def page(kind: str, pk) -> str:
    return reverse("trace", args=[kind, pk])


def api_url(kind: str, pk) -> str:
    return reverse("api-trace", args=[kind, pk])


@pytest.fixture
def as_user(client, user):
    def login(username: str):
        client.force_login(user(username))
        return client

    return login


def api_ids(data: dict) -> dict[str, list]:
    return {stage["key"]: [step["id"] for step in stage["steps"]] for stage in data["stages"]}


def without_focus(data: dict) -> list:
    """The API's stages with every `is_focus` (and the row an adoption trace adds) removed."""
    def clean(step: dict) -> dict:
        children = [clean(c) for c in step.get("children", []) if not (c["kind"] == "adoption" and c["id"])]
        return {**step, "is_focus": None, **({"children": children} if "children" in step else {})}

    return [{**stage, "steps": [clean(s) for s in stage["steps"]]} for stage in data["stages"]]


# --- The page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ROLES)
def test_the_page_shows_the_chain_each_role_may_see_with_links_to_each_object(worlds, as_user, user, username):
    rich = worlds.rich
    response = as_user(username).get(page("candidate", rich.candidate))
    assert response.status_code == 200
    html = response.content.decode()
    trace = build_trace(user(username), "candidate", rich.candidate)
    for step in trace.steps():
        assert f'href="{step.url}"' in html.replace("&amp;", "&"), step.kind
    assert len(re.findall(r'<li class="trace__stage[ "]', html)) == len(trace.stages)
    # Reports not yet accepted, and measure requests for a local government, are left out.
    report_url = reverse("progress:report-detail", args=[rich.reports[1]])
    measure_url = reverse("progress:measure-detail", args=[rich.measures[0]])
    assert (report_url in html) == (username in ("secretariat", "soumu"))
    assert (measure_url in html) == (username not in LOCAL)
    # A study's history (its return's reason) is a detail: not for local governments.
    assert (STUDY_RETURN_REASON in html) == (username not in LOCAL)
    assert OBJECTION in html  # ballots are public with their round
    assert DECISION_TEXT in html


@pytest.mark.parametrize(("username", "sees_draft"), [("secretariat", True), ("soumu", True), ("mhlw", False),
                                                      ("chijikai", False)])
def test_the_page_omits_a_policys_draft_version_for_other_than_its_ministry_and_the_secretariat(
    worlds, as_user, username, sees_draft
):
    drafting = worlds.drafting
    draft = PolicyVersion.objects.get(pk=drafting.versions[1])
    html = as_user(username).get(page("policy", drafting.policy)).content.decode()
    draft_url = reverse("policies:version", args=[drafting.policy, draft.number])
    assert (draft_url in html) == sees_draft
    assert reverse("policies:version", args=[drafting.policy, 1]) in html
    assert DRAFT_MARKER not in html  # a trace never shows a version's body
    expected = 200 if sees_draft else 404
    assert as_user(username).get(page("policy-version", draft.pk)).status_code == expected


@pytest.mark.parametrize("username", sorted(LOCAL))
def test_a_policy_not_yet_put_to_consent_is_not_found_for_a_local_government(worlds, as_user, username):
    drafting = worlds.drafting
    client = as_user(username)
    assert client.get(page("policy", drafting.policy)).status_code == 404
    html = client.get(page("candidate", drafting.candidate)).content.decode()
    assert reverse("policies:detail", args=[drafting.policy]) not in html


def test_the_page_marks_the_object_it_was_opened_from(worlds, as_user):
    rich = worlds.rich
    html = as_user("secretariat").get(page("progress-report", rich.reports[0])).content.decode()
    focused = re.findall(r'<li class="trace-step trace-step--focus" id="([^"]+)" aria-current="true">', html)
    assert focused == [f"progress-report-{rich.reports[0]}"]
    assert REPORT_RETURN_REASON in html
    ballot = as_user("secretariat").get(page("ballot", rich.ballots[0])).content.decode()
    assert re.findall(r'class="trace-child trace-child--focus" id="([^"]+)"', ballot) == [f"ballot-{rich.ballots[0]}"]


def test_the_page_gives_times_in_asia_tokyo_and_names_who_acted(worlds, as_user):
    rich = worlds.rich
    study = FeasibilityStudy.objects.get(pk=rich.study)
    html = as_user("chijikai").get(page("feasibility-study", rich.study)).content.decode()
    tokyo = timezone.localtime(study.assigned_at, timezone.get_fixed_timezone(9 * 60))
    assert f"{tokyo.year}年{tokyo.month}月{tokyo.day}日 {tokyo:%H:%M}" in html
    assert f'datetime="{tokyo.isoformat()}"' in html
    assert "総務省 担当者" in html and "デジタル庁 事務局" in html  # the people who acted
    assert '<span class="trace-event__org">総務省</span>' in html  # and whom for


def test_the_page_has_no_inline_script_style_or_event_handler(worlds, as_user):
    html = as_user("secretariat").get(page("candidate", worlds.rich.candidate)).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<style", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert 'href="/static/css/trace.css"' in html


def test_the_page_is_in_english_when_the_reader_chooses_english(worlds, as_user):
    rich = worlds.rich
    client = as_user("secretariat")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(page("candidate", rich.candidate)).content.decode()
    assert '<html lang="en">' in html
    for label in ("Trace the history", "Candidates", "Feasibility studies", "Commonization policies",
                  "Consent round", "Progress reports", "Measure requests", "Deliberation at council meetings"):
        assert label in html, label
    assert ">No consent<" in html and ">Consent<" in html  # the two rounds' outcomes
    assert ">Consented<" in html  # the policy's status
    assert "経緯をたどる" not in html and "実現可能性調査" not in html


@pytest.mark.parametrize(("kind", "pk"), [("unknown", 1), ("candidate", 999_999_999), ("policy-version", 0)])
def test_the_page_is_404_for_an_unknown_kind_or_id(worlds, as_user, kind, pk):
    assert as_user("secretariat").get(page(kind, pk)).status_code == 404


@pytest.mark.parametrize(("username", "kind"), [("sapporo", "measure-request"), ("hokkaido", "measure-request"),
                                                ("mhlw", "progress-report"), ("sapporo", "progress-report")])
def test_the_page_is_404_for_an_object_outside_the_users_scope(worlds, as_user, username, kind):
    rich = worlds.rich
    pk = rich.measures[0] if kind == "measure-request" else rich.reports[1]  # the report is not accepted
    assert as_user(username).get(page(kind, pk)).status_code == 404


def test_a_signed_out_visitor_is_sent_to_the_login_page(worlds, client):
    response = client.get(page("candidate", worlds.rich.candidate))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_pages_queries_do_not_grow_with_the_chain(worlds, as_user, django_assert_max_num_queries):
    client = as_user("soumu")
    client.get(page("candidate", worlds.drafting.candidate))  # warm caches (URLconf, content types)
    for candidate in (worlds.drafting.candidate, worlds.rich.candidate):
        with django_assert_max_num_queries(25):
            assert client.get(page("candidate", candidate)).status_code == 200


# --- The link on every object's page ----------------------------------------------------------------


def test_every_objects_page_links_to_its_trace(worlds, as_user):
    rich = worlds.rich
    client = as_user("secretariat")
    version = PolicyVersion.objects.get(pk=rich.versions[-1])
    pages = {
        ("candidate", rich.candidate): reverse("candidates:detail", args=[rich.candidate]),
        ("feasibility-study", rich.study): reverse("candidates:study-detail", args=[rich.study]),
        ("policy", rich.policy): reverse("policies:detail", args=[rich.policy]),
        ("policy-version", version.pk): reverse("policies:version", args=[rich.policy, version.number]),
        ("consent-round", rich.rounds[-1]): reverse("policies:round-detail", args=[rich.rounds[-1]]),
        ("progress-report", rich.reports[0]): reverse("progress:report-detail", args=[rich.reports[0]]),
        ("measure-request", rich.measures[0]): reverse("progress:measure-detail", args=[rich.measures[0]]),
    }
    for (kind, pk), url in pages.items():
        html = client.get(url).content.decode()
        assert f'href="{page(kind, pk)}"' in html, url
        assert "経緯をたどる" in html
    item = AgendaItem.objects.get(pk=rich.agenda["consent"])
    meeting_page = client.get(reverse("meetings:detail", args=[item.meeting_id])).content.decode()
    assert f'href="{page("agenda-item", item.pk)}"' in meeting_page


# --- The API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ROLES)
def test_the_api_gives_the_same_chain_as_the_page(worlds, api, user, username):
    rich = worlds.rich
    response = api(username).get(api_url("candidate", rich.candidate))
    assert response.status_code == 200
    assert api_ids(response.json()) == ids_by_stage(build_trace(user(username), "candidate", rich.candidate))


def test_the_api_gives_the_same_chain_from_every_kind_of_object(worlds, api):
    rich = worlds.rich
    client = api("secretariat")
    reference = without_focus(client.get(api_url("candidate", rich.candidate)).json())
    for kind, pk in rich.objects():
        data = client.get(api_url(kind, pk)).json()
        assert (data["kind"], data["id"]) == (kind, pk)
        assert without_focus(data) == reference, kind
        focused = [(s["kind"], s["id"]) for st in data["stages"] for s in st["steps"] + sum(
            (x["children"] for x in st["steps"]), []) if s["is_focus"]]
        assert focused == [(kind, pk)], kind


def test_the_api_describes_events_with_who_acted_and_times_in_asia_tokyo(worlds, api):
    rich = worlds.rich
    data = api("mhlw").get(api_url("feasibility-study", rich.study)).json()
    study = next(s for st in data["stages"] for s in st["steps"] if s["kind"] == "feasibility-study")
    assert study["is_focus"]
    returned = next(e for e in study["events"] if e["to_status"] == "returned")
    assert returned["comment"] == STUDY_RETURN_REASON
    assert returned["actor"]["username"] == "secretariat"
    assert returned["actor"]["organizations"][0]["name"] == "デジタル庁"
    assert returned["at"].endswith("+09:00")
    assert all(d["value"].endswith("+09:00") for d in study["dates"] if d["has_time"])
    adoption = next(s for st in data["stages"] for s in st["steps"] if s["kind"] == "adoption")
    assert adoption["total"] == 1788 and len(adoption["counts"]) == 6


def test_the_api_hides_a_studys_history_from_a_local_government(worlds, api):
    data = api("sapporo").get(api_url("feasibility-study", worlds.rich.study)).json()
    study = next(s for st in data["stages"] for s in st["steps"] if s["kind"] == "feasibility-study")
    assert study["events"] == [] and study["dates"] == []
    assert STUDY_RETURN_REASON not in str(data)


def test_the_api_speaks_english_when_asked(worlds, api):
    data = api("secretariat").get(api_url("candidate", worlds.rich.candidate), HTTP_ACCEPT_LANGUAGE="en").json()
    labels = {stage["key"]: stage["label"] for stage in data["stages"]}
    assert labels["candidate"] == "Candidates" and labels["study"] == "Feasibility studies"
    candidate = data["stages"][0]["steps"][0]
    assert candidate["status_label"] == "Selected"
    assert candidate["events"][0]["action"] == "Created"


@pytest.mark.parametrize(("username", "kind", "status"), [
    ("secretariat", "unknown", 404),
    ("sapporo", "measure-request", 404),
    ("mhlw", "progress-report", 404),
])
def test_the_api_is_404_for_unknown_kinds_and_objects_outside_scope(worlds, api, username, kind, status):
    rich = worlds.rich
    pk = {"unknown": 1, "measure-request": rich.measures[0], "progress-report": rich.reports[1]}[kind]
    assert api(username).get(api_url(kind, pk)).status_code == status


def test_the_api_refuses_a_client_without_credentials(worlds, api):
    assert api().get(api_url("candidate", worlds.rich.candidate)).status_code == 401


def test_the_schema_documents_the_trace_endpoint(worlds, api):
    schema = api("secretariat").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/trace/{kind}/{id}/"]["get"]
    assert set(operation["responses"]) >= {"200", "404"}
    kinds = next(p for p in operation["parameters"] if p["name"] == "kind")["schema"]["enum"]
    assert {"candidate", "policy-version", "consent-round", "ballot", "adoption", "measure-request"} <= set(kinds)
    assert "TraceStep" in schema["components"]["schemas"]
