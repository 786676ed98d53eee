"""What the audit trail records, seen from outside: requests through the test client (pages
and the API), and who, when, what and from where each event says."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidates.models import BusinessArea, Candidate
from council.audit.models import AuditEvent
from policies import actions as policy_actions
from policies.models import Ballot, ConsentRound
from progress import actions as progress_actions
from tenants.models import Membership

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"
BROWSER = "Mozilla/5.0 (audit test)"


@pytest.fixture
def since():
    """Events recorded from now on (the demo world loaded before the test has its own)."""
    mark = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0

    def events(**filters):
        return list(AuditEvent.objects.filter(sequence__gt=mark, **filters).order_by("sequence"))

    return events


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        response = client.post(
            reverse("login"), {"username": username, "password": demo_password},
            REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=BROWSER,
        )
        assert response.status_code == 302, response.content[:500]
        return client

    return login


def candidate_data(org, **overrides):
    return {
        "title": "窓口予約の共通化",
        "description": "来庁予約を共通の仕組みで受け付ける。",
        "owning_ministry": org("soumu").pk,
        "business_areas": [BusinessArea.objects.get(code="resident-registry").pk],
        "proposed_by": org("digital").pk,
        **overrides,
    }


def post(client, path, data=None, **extra):
    return client.post(path, data or {}, REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT=BROWSER, **extra)


def assert_from_the_browser(event, username, organization_code):
    assert event.actor.username == username and event.actor_repr == username
    assert event.organization.code == organization_code
    assert (event.ip, event.user_agent) == (CLIENT_IP, BROWSER)
    assert timezone.now() - event.at < timedelta(minutes=1)


# --- Logins ---------------------------------------------------------------------------------------


def test_a_login_is_recorded_with_the_address_and_browser(client, since, demo_password):
    response = post(client, reverse("login"), {"username": "secretariat", "password": demo_password})
    assert response.status_code == 302
    [event] = since(action="login")
    assert_from_the_browser(event, "secretariat", "digital")
    assert (event.model_label, event.object_id) == ("auth.user", str(event.actor_id))


def test_a_failed_login_records_the_username_tried_and_never_the_password(client, since):
    response = post(client, reverse("login"), {"username": "soumu", "password": "wrong-password-123"})
    assert response.status_code == 200
    [event] = since()
    assert event.action == "login_failed"
    assert event.actor is None and event.actor_repr == "soumu"
    assert event.details["username"] == "soumu"
    assert (event.ip, event.user_agent) == (CLIENT_IP, BROWSER)
    stored = str(event.changes) + str(event.details) + event.object_repr
    assert "wrong-password-123" not in stored and "****" not in stored


def test_a_failed_login_for_an_unknown_name_is_recorded_too(client, since):
    post(client, reverse("login"), {"username": "nobody-here", "password": "whatever-it-is"})
    [event] = since(action="login_failed")
    assert event.actor_repr == "nobody-here"


def test_a_logout_is_recorded(signed_in, since):
    client = signed_in("chijikai")
    post(client, reverse("logout"))
    [event] = since(action="logout")
    assert_from_the_browser(event, "chijikai", "chijikai")


def test_a_failed_api_token_request_is_a_failed_login(api, since):
    response = api().post("/api/v1/auth/token/", {"username": "sapporo", "password": "not-the-password"},
                          format="json", REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 400
    [event] = since(action="login_failed")
    assert (event.actor_repr, event.ip) == ("sapporo", CLIENT_IP)


def test_a_new_api_token_is_recorded_without_its_key(api, since, demo_password):
    response = api().post("/api/v1/auth/token/", {"username": "hokkaido", "password": demo_password}, format="json")
    key = response.json()["token"]
    [event] = since(action="token_issued")
    assert event.object_repr == "hokkaido"
    assert key not in str(event.changes) + str(event.details) + event.object_id


# --- Creates, updates, deletes ---------------------------------------------------------------------


def test_proposing_and_editing_a_candidate_on_the_pages(signed_in, since, org):
    client = signed_in("secretariat")
    assert post(client, reverse("candidates:create"), candidate_data(org)).status_code == 302
    candidate = Candidate.objects.get(title="窓口予約の共通化")
    created = since(action="create", object_id=str(candidate.pk), content_type__model="candidate")
    assert len(created) == 1
    assert_from_the_browser(created[0], "secretariat", "digital")
    assert created[0].changes["title"] == [None, "窓口予約の共通化"]
    assert created[0].changes["owning_ministry"] == [None, org("soumu").pk]
    # The many-to-many field is an update of its own, after the row exists.
    [areas] = since(action="update", object_id=str(candidate.pk))
    assert areas.changes == {"business_areas": [[], ["住民基本台帳"]]}

    mark = since()[-1].sequence
    response = post(client, reverse("candidates:edit", args=[candidate.pk]),
                    candidate_data(org, title="窓口予約の共通化（改）", business_areas=[]))
    assert response.status_code == 302
    updates = [e for e in since(object_id=str(candidate.pk)) if e.sequence > mark]
    assert [e.action for e in updates] == ["update", "update"]
    assert updates[0].changes == {"title": ["窓口予約の共通化", "窓口予約の共通化（改）"]}
    assert updates[1].changes == {"business_areas": [["住民基本台帳"], []]}
    assert all(e.actor.username == "secretariat" and e.ip == CLIENT_IP for e in updates)


def test_a_save_that_changes_nothing_records_nothing(signed_in, since, org):
    client = signed_in("secretariat")
    post(client, reverse("candidates:create"), candidate_data(org))
    candidate = Candidate.objects.get(title="窓口予約の共通化")
    mark = since()[-1].sequence
    post(client, reverse("candidates:edit", args=[candidate.pk]), candidate_data(org))
    assert [e for e in since() if e.sequence > mark] == []


def test_api_writes_name_the_token_user(api, since, org):
    response = api("secretariat").post(
        "/api/v1/candidates/",
        {"title": "API経由の候補", "description": "説明", "owning_ministry": org("soumu").pk, "business_areas": []},
        format="json", REMOTE_ADDR=CLIENT_IP, HTTP_USER_AGENT="council-client/1.0",
    )
    assert response.status_code == 201, response.content
    [event] = since(action="create", content_type__model="candidate")
    assert (event.actor.username, event.organization.code) == ("secretariat", "digital")
    assert (event.ip, event.user_agent, event.object_id) == (CLIENT_IP, "council-client/1.0", str(response.json()["id"]))


def test_the_address_is_remote_addr_unless_a_proxy_is_trusted(api, since, org, settings):
    body = {"title": "経路の確認", "description": "説明", "owning_ministry": org("soumu").pk, "business_areas": []}
    forged = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "198.51.100.66, 192.0.2.9"}
    settings.TRUSTED_PROXY_COUNT = 0
    api("secretariat").post("/api/v1/candidates/", body, format="json", **forged)
    settings.TRUSTED_PROXY_COUNT = 1
    api("secretariat").post("/api/v1/candidates/", {**body, "title": "経路の確認2"}, format="json", **forged)
    first, second = since(action="create", content_type__model="candidate")
    assert first.ip == "10.0.0.5"  # the header is a client's claim without a trusted proxy
    assert second.ip == "192.0.2.9"  # the one trusted proxy saw 192.0.2.9; 198.51.100.66 is a claim


def test_membership_and_group_changes_and_user_deletion(since, org):
    """Done outside a request (a shell, a command): the platform itself is the actor."""
    User = get_user_model()
    person = User.objects.create_user("audit-person", password="a-long-password-2026")
    Membership.objects.create(user=person, organization=org("soumu"), role="ministry_officer")
    person.set_password("another-long-password-2026")
    person.save()
    person_id = person.pk
    person.delete()
    events = since()
    actions = [(e.model_label, e.action) for e in events]
    assert ("auth.user", "create") in actions and ("tenants.membership", "create") in actions
    groups = [e for e in events if e.model_label == "auth.user" and "groups" in e.changes]
    assert groups and org("soumu").group.name in groups[0].changes["groups"][1]
    password_change = [e for e in events if e.action == "update" and "password" in e.changes]
    assert password_change[0].changes["password"] == ["[redacted]", "[redacted]"]
    assert all("pbkdf2" not in str(e.changes) and "md5$" not in str(e.changes) for e in events)
    deleted = [e for e in events if e.action == "delete" and e.model_label == "auth.user"]
    assert deleted[0].object_id == str(person_id) and deleted[0].changes["username"] == ["audit-person", None]
    assert all(e.actor is None and e.actor_repr.startswith("system") for e in events)
    # The user is gone; events that named them stay as they were.
    assert AuditEvent.objects.filter(object_id=str(person_id), content_type__model="user").count() >= 3


# --- Transitions, ballots, imports -----------------------------------------------------------------


def test_a_transition_on_the_page_is_one_transition_event_with_the_comment(signed_in, since, org):
    client = signed_in("secretariat")
    post(client, reverse("candidates:create"), candidate_data(org))
    candidate = Candidate.objects.get(title="窓口予約の共通化")
    mark = since()[-1].sequence
    response = post(client, reverse("candidates:transition", args=[candidate.pk]), {"to": "under_review", "comment": "審議に付す"})
    assert response.status_code == 302
    events = [e for e in since() if e.sequence > mark]
    assert [e.action for e in events] == ["transition"]
    assert events[0].changes == {"status": ["proposed", "under_review"]}
    assert events[0].details == {"comment": "審議に付す"}
    assert_from_the_browser(events[0], "secretariat", "digital")


def test_a_ballot_cast_and_changed_on_the_page(signed_in, since, submitted_policy, user):
    policy = submitted_policy()
    round_ = policy_actions.open_round(policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=7))
    client = signed_in("chijikai")
    path = reverse("policies:ballot", args=[round_.pk])
    assert post(client, path, {"choice": "consent"}).status_code == 302
    assert post(client, path, {"choice": "objection", "comment": "財源の説明が不足"}).status_code == 302
    ballot = Ballot.objects.get(round=round_)
    cast, changed = since(action="ballot")
    assert (cast.model_label, cast.object_id, changed.object_id) == ("policies.ballot", str(ballot.pk), str(ballot.pk))
    assert cast.changes["choice"] == [None, "consent"]
    assert changed.changes["choice"] == ["consent", "objection"]
    assert changed.changes["comment"] == ["", "財源の説明が不足"]
    assert changed.details["round"] == round_.pk
    assert_from_the_browser(changed, "chijikai", "chijikai")


def test_an_adoption_import_is_one_event_with_the_file_and_counts(signed_in, since, consented_policy, user):
    policy = consented_policy()
    progress_actions.set_schedule(policy, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    bulk = since(action="bulk_create")
    assert {e.details["model"] for e in bulk} == {"progress.adoption", "progress.progressreport"}
    assert [e.details["created"] for e in bulk if e.details["model"] == "progress.adoption"] == [1788]
    client = signed_in("soumu")
    text = "code,status,target_fiscal_year\n011002,in_use,\n012041,planned,2029\n130001,not_planned,\n"
    upload = SimpleUploadedFile("導入状況.csv", text.encode(), content_type="text/csv")
    response = post(client, reverse("progress:adoption-import", args=[policy.pk]), {"file": upload})
    assert response.status_code == 302
    [event] = since(action="import")
    assert event.details == {"file": "導入状況.csv", "rows": 3, "changed": 2, "unchanged": 1}
    assert (event.model_label, event.object_id) == ("policies.policy", str(policy.pk))
    assert_from_the_browser(event, "soumu", "soumu")
    # The bulk update itself is the import event, not 1,788 row events.
    assert since(content_type__model="adoption") == []


def test_a_rejected_import_records_nothing(signed_in, since, consented_policy, user):
    policy = consented_policy()
    progress_actions.set_schedule(policy, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    mark = since()[-1].sequence
    upload = SimpleUploadedFile("bad.csv", b"code,status,target_fiscal_year\n999999,in_use,\n", content_type="text/csv")
    assert post(signed_in("soumu"), reverse("progress:adoption-import", args=[policy.pk]), {"file": upload}).status_code == 200
    assert [e.action for e in since() if e.sequence > mark] == ["login"]


def test_a_refused_write_leaves_no_event(signed_in, since, org):
    client = signed_in("soumu")
    mark = since()[-1].sequence
    assert post(client, reverse("candidates:create"), candidate_data(org)).status_code == 403
    assert [e for e in since() if e.sequence > mark] == []


def test_outside_a_request_the_platform_is_the_actor(since):
    Group.objects.create(name="audit-test-group")
    [event] = since(content_type__model="group")
    assert event.actor is None and event.actor_repr.startswith("system")
    assert (event.ip, event.user_agent) == ("", "")


def test_a_task_is_the_system(since, submitted_policy, user):
    """A consent round closed by the beat task is recorded as the platform, naming the task."""
    from policies import tasks

    policy = submitted_policy()
    round_ = policy_actions.open_round(policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=7))
    ConsentRound.objects.filter(pk=round_.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    mark = since()[-1].sequence
    tasks.close_due_rounds.delay()
    events = [e for e in since() if e.sequence > mark]
    assert events and all(e.actor is None and e.actor_repr == "system: celery policies.tasks.close_due_rounds" for e in events)
    assert {e.action for e in events} >= {"update", "transition"}
