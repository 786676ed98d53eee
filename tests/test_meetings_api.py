"""`/api/v1/meetings/`: every endpoint for every demo role and the signed-out client, bad
input (400 with field errors, nothing saved), 409s of the workflow, and the decision path."""

from datetime import timedelta

import pytest

from council import calendar
from council.meetings import actions
from council.meetings.models import AgendaItem, Decision, Meeting, MeetingAttendee
from tests.test_meetings_support import (
    ROLES,
    candidate,
    get_user,
    held,
    item_for,
    meeting,
    open_round,
    org,
    published,
    scheduled,
    snapshot,
    vote,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/meetings/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_signed_out_clients_get_401(api):
    made = scheduled()
    client = api()
    for method, path in (("get", BASE), ("post", BASE), ("get", f"{BASE}{made.pk}/"),
                         ("get", f"{BASE}{made.pk}/agenda-items/"), ("get", f"{BASE}{made.pk}/attendees/"),
                         ("get", f"{BASE}{made.pk}/history/"), ("post", f"{BASE}{made.pk}/pdf/")):
        assert getattr(client, method)(path).status_code == 401, path


def test_reading_meetings_for_every_role(api):
    reviewed = candidate("審議中の候補")
    announced = scheduled(reviewed)
    draft = meeting()
    for username in ROLES:
        client = api(username)
        listed = client.get(BASE).json()
        ids = [m["id"] for m in listed["results"]]
        assert ids == ([draft.pk, announced.pk] if username == "secretariat" else [announced.pk])
        assert client.get(f"{BASE}{draft.pk}/").status_code == (200 if username == "secretariat" else 404)
        assert client.get(f"{BASE}{draft.pk}/agenda-items/").status_code == (200 if username == "secretariat" else 404)
        body = client.get(f"{BASE}{announced.pk}/").json()
        kinds = [item["kind"] for item in body["agenda_items"]]
        council = username not in ("hokkaido", "sapporo")
        assert kinds == (["other", "selection"] if council else ["other"])
        nested = client.get(f"{BASE}{announced.pk}/agenda-items/").json()["results"]
        assert [item["kind"] for item in nested] == kinds  # the list never shows what the detail hides
        hidden = item_for(announced, reviewed)
        assert client.get(f"{BASE}{announced.pk}/agenda-items/{hidden.pk}/").status_code == (200 if council else 404)
        assert body["minutes"] is None
        history = client.get(f"{BASE}{announced.pk}/history/")
        assert history.status_code == (200 if username == "secretariat" else 403)
    body = api("secretariat").get(f"{BASE}{announced.pk}/").json()
    selection = next(item for item in body["agenda_items"] if item["kind"] == "selection")
    assert selection["candidate"] == {"id": reviewed.pk, "title": reviewed.title, "url": reviewed.get_absolute_url()}
    assert selection["decision"] is None and body["fiscal_year"] == calendar.fiscal_year(announced.date)


def test_filters(api):
    past = published()
    Meeting.objects.filter(pk=past.pk).update(date=calendar.today() - timedelta(days=400))
    upcoming = scheduled(day=calendar.today() + timedelta(days=5))
    client = api("soumu")
    fiscal_year = calendar.fiscal_year(calendar.today() - timedelta(days=400))
    assert [m["id"] for m in client.get(BASE, {"fiscal_year": fiscal_year}).json()["results"]] == [past.pk]
    assert [m["id"] for m in client.get(BASE, {"upcoming": "true"}).json()["results"]] == [upcoming.pk]
    assert [m["id"] for m in client.get(BASE, {"upcoming": "false"}).json()["results"]] == [past.pk]
    assert [m["id"] for m in client.get(BASE, {"status": "scheduled"}).json()["results"]] == [upcoming.pk]
    assert client.get(BASE, {"status": "nonsense"}).status_code == 400


def test_minutes_are_returned_once_published(api):
    made = held()
    actions.save_minutes(made, get_user("secretariat"), "下書き")
    assert api("secretariat").get(f"{BASE}{made.pk}/").json()["minutes"] == "下書き"
    assert api("chijikai").get(f"{BASE}{made.pk}/").json()["minutes"] is None
    actions.move_meeting(made, get_user("secretariat"), "minutes_published")
    assert api("sapporo").get(f"{BASE}{made.pk}/").json()["minutes"] == "下書き"


def test_only_the_secretariat_writes(api):
    made = held()
    item = item_for(made)
    attendee = actions.add_attendee(made, get_user("secretariat"), organization=org("soumu"))
    before = snapshot()
    for username in ROLES:
        if username == "secretariat":
            continue
        client = api(username)
        writes = [
            client.post(BASE, {"date": "2027-01-01", "venue": "室"}, format="json"),
            client.patch(f"{BASE}{made.pk}/", {"venue": "別室"}, format="json"),
            client.delete(f"{BASE}{made.pk}/"),
            client.post(f"{BASE}{made.pk}/transition/", {"to": "minutes_published"}, format="json"),
            client.post(f"{BASE}{made.pk}/agenda-items/", {"kind": "other", "title": "x"}, format="json"),
            client.patch(f"{BASE}{made.pk}/agenda-items/{item.pk}/", {"title": "x"}, format="json"),
            client.delete(f"{BASE}{made.pk}/agenda-items/{item.pk}/"),
            client.post(f"{BASE}{made.pk}/agenda-items/{item.pk}/decision/", {"outcome": "noted", "text": "x"}, format="json"),
            client.post(f"{BASE}{made.pk}/attendees/", {"organization": org("mhlw").pk}, format="json"),
            client.delete(f"{BASE}{made.pk}/attendees/{attendee.pk}/"),
        ]
        assert [r.status_code for r in writes] == [403] * len(writes), username
    assert snapshot() == before


def test_the_secretariat_runs_a_meeting_through_the_api(api, submitted_policy):
    client = api("secretariat")
    subject = candidate("公金受取口座の登録支援")
    round_ = open_round(submitted_policy())
    vote(round_, ("consent", "objection", "consent"))
    response = client.post(BASE, {"date": str(calendar.today()), "venue": "第1会議室", "format": "hybrid",
                                  "start_time": "10:00", "end_time": "12:00", "standing_members": True}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    meeting_id = body["id"]
    assert body["status"] == "draft" and body["number"] == 1 and len(body["attendees"]) >= 4
    items = f"{BASE}{meeting_id}/agenda-items/"
    created = client.post(items, {"kind": "selection", "candidate": subject.pk}, format="json")
    assert created.status_code == 201 and created.json()["title"] == "対象候補「公金受取口座の登録支援」の選定について"
    consent = client.post(items, {"kind": "consent", "consent_round": round_.pk, "title": "同意について"}, format="json")
    assert consent.status_code == 201 and consent.json()["order"] == 2
    extra = client.post(items, {"kind": "other", "title": "冒頭", "order": 1}, format="json").json()
    assert [i["title"] for i in client.get(items).json()["results"]][0] == "冒頭"
    assert client.patch(f"{items}{extra['id']}/", {"order": 3}, format="json").json()["order"] == 3
    assert client.delete(f"{items}{extra['id']}/").status_code == 204
    assert client.post(f"{BASE}{meeting_id}/transition/", {"to": "scheduled"}, format="json").status_code == 200
    moved = client.post(f"{BASE}{meeting_id}/transition/", {"to": "held"}, format="json")
    assert moved.status_code == 200 and moved.json()["status"] == "held"
    decided = client.post(f"{items}{created.json()['id']}/decision/",
                          {"outcome": "selected", "track": "commonization", "text": "選定する。"}, format="json")
    assert decided.status_code == 201
    assert decided.json()["decision"]["outcome"] == "selected" and decided.json()["decision"]["track"] == "commonization"
    subject.refresh_from_db()
    assert subject.status == "selected"
    wrong = client.post(f"{items}{consent.json()['id']}/decision/", {"outcome": "consented", "text": "同意"}, format="json")
    assert wrong.status_code == 400 and "outcome" in wrong.json()
    round_.refresh_from_db()
    assert round_.status == "open"
    right = client.post(f"{items}{consent.json()['id']}/decision/", {"outcome": "not_consented", "text": "異議あり"}, format="json")
    assert right.status_code == 201
    round_.refresh_from_db()
    assert round_.outcome == "not_consented"
    again = client.post(f"{items}{consent.json()['id']}/decision/", {"outcome": "deferred", "text": "x"}, format="json")
    assert again.status_code == 409
    assert client.patch(f"{BASE}{meeting_id}/", {"minutes": "## 議事\n審議した。"}, format="json").status_code == 200
    published_ = client.post(f"{BASE}{meeting_id}/transition/", {"to": "minutes_published"}, format="json")
    assert published_.status_code == 200 and published_.json()["minutes_published_at"]
    assert client.patch(f"{BASE}{meeting_id}/", {"venue": "別室"}, format="json").status_code == 409
    history = client.get(f"{BASE}{meeting_id}/history/").json()
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "draft"), ("draft", "scheduled"), ("scheduled", "held"), ("held", "minutes_published")]


def test_bad_input_is_400_with_field_errors_and_nothing_saved(api):
    client = api("secretariat")
    made = meeting()
    subject = candidate()
    before = snapshot()
    cases = [
        (BASE, {"venue": "室"}, "date"),
        (BASE, {"date": "2027-02-30", "venue": "室"}, "date"),
        (BASE, {"date": "2027-01-01", "format": "in_person", "venue": ""}, "venue"),
        (BASE, {"date": "2027-01-01", "venue": "室", "number": made.number}, "number"),
        (BASE, {"date": "2027-01-01", "venue": "室", "start_time": "12:00", "end_time": "09:00"}, "end_time"),
        (BASE, {"date": "2027-01-01", "venue": "室", "format": "zoom"}, "format"),
        (BASE, {"date": "2027-01-01", "venue": "室", "minutes": "早い"}, "minutes"),
        (f"{BASE}{made.pk}/agenda-items/", {"title": "x"}, "kind"),
        (f"{BASE}{made.pk}/agenda-items/", {"kind": "selection"}, "candidate"),
        (f"{BASE}{made.pk}/agenda-items/", {"kind": "other", "candidate": subject.pk, "title": "x"}, "candidate"),
        (f"{BASE}{made.pk}/agenda-items/", {"kind": "selection", "candidate": 999999}, "candidate"),
        (f"{BASE}{made.pk}/agenda-items/", {"kind": "other", "title": ""}, "title"),
        (f"{BASE}{made.pk}/attendees/", {"organization": 999999}, "organization"),
        (f"{BASE}{made.pk}/transition/", {"to": "nonsense"}, "to"),
        (f"{BASE}{made.pk}/transition/", {"to": "scheduled"}, "agenda_items"),
    ]
    for path, data, field in cases:
        response = client.post(path, data, format="json")
        assert response.status_code == 400, (path, data, response.content)
        assert field in response.json(), (path, data, response.json())
    assert snapshot() == before


def test_workflow_conflicts_are_409(api):
    client = api("secretariat")
    made = scheduled(day=calendar.today() + timedelta(days=2))
    response = client.post(f"{BASE}{made.pk}/transition/", {"to": "held"}, format="json")
    assert response.status_code == 409 and response.json()["from"] == "scheduled"
    assert client.post(f"{BASE}{made.pk}/transition/", {"to": "minutes_published"}, format="json").status_code == 409
    assert client.patch(f"{BASE}{made.pk}/", {"minutes": "早い"}, format="json").status_code == 409
    assert client.delete(f"{BASE}{made.pk}/").status_code == 409
    item = item_for(made)
    assert client.post(f"{BASE}{made.pk}/agenda-items/{item.pk}/decision/", {"outcome": "noted", "text": "x"},
                       format="json").status_code == 409
    proposed = candidate("提案中", review=False)
    now = held(proposed)
    response = client.post(f"{BASE}{now.pk}/agenda-items/{item_for(now, proposed).pk}/decision/",
                           {"outcome": "selected", "track": "commonization", "text": "x"}, format="json")
    assert response.status_code == 409 and not Decision.objects.exists()
    draft = meeting()
    assert client.delete(f"{BASE}{draft.pk}/").status_code == 204


def test_attendees_endpoint(api):
    made = meeting()
    client = api("secretariat")
    path = f"{BASE}{made.pk}/attendees/"
    created = client.post(path, {"organization": org("chijikai").pk, "title": "会長", "name": "知事 花子"}, format="json")
    assert created.status_code == 201 and created.json()["organization"]["name"] == "全国知事会"
    duplicate = client.post(path, {"organization": org("chijikai").pk, "title": "会長", "name": "知事 花子"}, format="json")
    assert duplicate.status_code == 400 and "organization" in duplicate.json()
    assert api("sapporo").get(path).status_code == 404  # a meeting in preparation
    assert client.delete(f"{path}{created.json()['id']}/").status_code == 204
    assert not MeetingAttendee.objects.exists()


def test_a_draft_meetings_children_are_404_for_others(api):
    made = meeting()
    actions.add_attendee(made, get_user("secretariat"), organization=org("soumu"))
    item = actions.add_agenda_item(made, get_user("secretariat"), kind="other", title="x")
    for username in ("soumu", "chijikai", "sapporo"):
        client = api(username)
        assert client.get(f"{BASE}{made.pk}/attendees/").status_code == 404
        assert client.get(f"{BASE}{made.pk}/agenda-items/{item.pk}/").status_code == 404
        assert client.post(f"{BASE}{made.pk}/pdf/").status_code == 404
    assert AgendaItem.objects.count() == 1


def test_the_schema_describes_the_meetings(api):
    schema = api("secretariat").get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in ("/api/v1/meetings/", "/api/v1/meetings/{id}/", "/api/v1/meetings/{id}/transition/",
                 "/api/v1/meetings/{id}/history/", "/api/v1/meetings/{id}/pdf/",
                 "/api/v1/meetings/{meeting_pk}/agenda-items/", "/api/v1/meetings/{meeting_pk}/agenda-items/{id}/decision/",
                 "/api/v1/meetings/{meeting_pk}/attendees/"):
        assert path in paths, path
    assert "202" in paths["/api/v1/meetings/{id}/pdf/"]["post"]["responses"]
    outcome = schema["components"]["schemas"]["DecisionWriteRequest"]["properties"]["outcome"]
    assert outcome
