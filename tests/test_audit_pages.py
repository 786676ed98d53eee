"""The audit trail's pages: /audit/ and its CSV for the secretariat only, with filters; and each
object's own history on its page, for whoever may see the page."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates import actions as candidate_actions
from council import calendar
from council.audit.models import AuditEvent
from progress import actions as progress_actions
from progress.models import ProgressReport

pytestmark = pytest.mark.django_db

ROLES = ("secretariat", "soumu", "chijikai", "hokkaido", "sapporo")
CLIENT_IP = "198.51.100.23"


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


# --- Who reaches /audit/ -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("username, status", [("secretariat", 200), ("soumu", 403), ("chijikai", 403), ("hokkaido", 403), ("sapporo", 403)])
def test_only_the_secretariat_reads_the_audit_trail(signed_in, username, status):
    client = signed_in(username)
    assert client.get("/audit/").status_code == status
    assert client.get("/audit/export.csv").status_code == status
    nav = client.get(reverse("home")).content.decode()
    assert ('href="/audit/"' in nav) == (status == 200)


# --- The list ---------------------------------------------------------------------------------------------


def test_the_list_is_newest_first_and_paginated(signed_in):
    client = signed_in("secretariat")
    page = client.get("/audit/")
    events = list(page.context["events"])
    assert [e.sequence for e in events] == sorted((e.sequence for e in events), reverse=True)
    assert events[0].sequence == AuditEvent.objects.order_by("-sequence").first().sequence
    assert len(events) == min(50, AuditEvent.objects.count())
    if AuditEvent.objects.count() > 50:
        second = client.get("/audit/", {"page": 2}).context["events"]
        assert second[0].sequence < events[-1].sequence


def test_the_list_shows_who_what_and_where(client, signed_in, demo_password):
    client.post(reverse("login"), {"username": "soumu", "password": "wrong-password-0"}, REMOTE_ADDR=CLIENT_IP,
                HTTP_USER_AGENT="Probe/1.0")
    html = signed_in("secretariat").get("/audit/", {"action": "login_failed"}).content.decode()
    assert "ログイン失敗" in html and "soumu" in html and CLIENT_IP in html and "Probe/1.0" in html
    assert "入力されたユーザー名" in html


def test_the_filters(client, signed_in, org, user):
    client.post(reverse("login"), {"username": "chijikai", "password": "wrong-password-1"}, REMOTE_ADDR=CLIENT_IP)
    candidate = candidate_actions.propose_candidate(
        user("secretariat"), title="監査の絞り込み用", description="説明", owning_ministry=org("soumu")
    )
    client = signed_in("secretariat")  # a login by secretariat, from 127.0.0.1

    def listed(**params):
        return list(client.get("/audit/", params).context["events"])

    assert {e.action for e in listed(action="login_failed")} == {"login_failed"}
    assert {e.actor_repr for e in listed(actor="chijik")} == {"chijikai"}
    assert {e.ip for e in listed(ip=CLIENT_IP)} == {CLIENT_IP}
    secretariat_events = listed(organization=org("digital").pk)
    assert secretariat_events and {e.organization_id for e in secretariat_events} == {org("digital").pk}
    by_model = listed(model="candidates.candidate")
    assert by_model and {e.model_label for e in by_model} == {"candidates.candidate"}
    by_object = listed(model="candidates.candidate", object=str(candidate.pk))
    assert by_object and {e.object_id for e in by_object} == {str(candidate.pk)}
    assert {e.object_id for e in listed(object="絞り込み用")} == {str(candidate.pk)}
    today = timezone.localdate()
    assert len(listed(since=today.isoformat(), action="login")) >= 1
    assert listed(until=(today - timedelta(days=1)).isoformat(), action="login_failed") == []
    assert listed(since=(today + timedelta(days=1)).isoformat()) == []


def test_a_bad_filter_value_is_reported_on_the_form_and_refused_for_csv(signed_in):
    client = signed_in("secretariat")
    response = client.get("/audit/", {"since": "not-a-date", "action": "explode"})
    assert response.status_code == 200
    assert {"since", "action"} <= set(response.context["filterset"].form.errors)
    export = client.get("/audit/export.csv", {"since": "not-a-date"})
    assert export.status_code == 400 and "絞り込み条件が正しくありません" in export.content.decode()


def test_the_csv_has_the_filtered_rows_and_defuses_formulas(client, signed_in):
    client.post(reverse("login"), {"username": "=HYPERLINK(\"http://x\")", "password": "wrong-password-2"}, REMOTE_ADDR=CLIENT_IP)
    response = signed_in("secretariat").get("/audit/export.csv", {"action": "login_failed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows and {r["action"] for r in rows} == {"login_failed"}
    assert len(rows) == AuditEvent.objects.filter(action="login_failed").count()
    forged = [r for r in rows if "HYPERLINK" in r["actor"]]
    assert forged and forged[0]["actor"].startswith("'=")
    newest = AuditEvent.objects.filter(action="login_failed").order_by("-sequence").first()
    assert rows[0]["sequence"] == str(newest.sequence) and rows[0]["hash"] == newest.hash
    assert rows[0]["at"].endswith("+09:00")  # Tokyo time


# --- Each object's history on its page -----------------------------------------------------------------


@pytest.fixture
def stage4(consented_policy, user):
    """One of each object with a detail page, each with events of its own."""
    secretariat = user("secretariat")
    policy = consented_policy()
    schedule = progress_actions.set_schedule(policy, secretariat, frequency="quarterly", due_days_after_period=30)
    report = ProgressReport.objects.filter(schedule=schedule).order_by("-fiscal_year", "-period").first()
    measure = progress_actions.request_measures(
        secretariat, policy=policy, request="監査ログの確認のための依頼", due_date=calendar.today() + timedelta(days=30)
    )
    progress_actions.save_report(report, user("soumu"), {"summary": "進捗の概要"})
    round_ = policy.rounds.get()
    candidate = policy.candidate
    return {
        "candidate": candidate, "study": candidate.study, "policy": policy, "round": round_,
        "report": report, "measure": measure,
    }


# The page's own history section, next to which the audit history sits.
OWN_SECTION = {
    "candidate": 'id="history-heading"', "study": 'id="history-heading"', "policy": 'id="history-heading"',
    "round": 'id="records-heading"', "report": 'id="history-heading"', "measure": 'id="history-heading"',
}


def test_each_detail_page_shows_its_objects_audit_history_to_whoever_sees_it(stage4, signed_in, demo_password):
    from django.test import Client

    ministry = Client()
    assert ministry.login(username="soumu", password=demo_password)
    response = ministry.post(
        reverse("progress:measure-transition", args=[stage4["measure"].pk]),
        {"to": "responded", "response": "対応しました。"}, REMOTE_ADDR=CLIENT_IP,
    )
    assert response.status_code == 302
    seen: dict[str, set[str]] = {}
    for username in ROLES:
        client = signed_in(username)
        for name, obj in stage4.items():
            response = client.get(obj.get_absolute_url())
            html = response.content.decode()
            anchor = f'id="audit-{obj._meta.model_name}-{obj.pk}"'
            if response.status_code != 200 or OWN_SECTION[name] not in html:
                assert anchor not in html, (username, name)
                continue
            seen.setdefault(name, set()).add(username)
            assert anchor in html, (username, name)
            section = html[html.index(anchor):]
            assert "監査ログはありません" not in section, (username, name)
            if username == "secretariat":
                assert "アクセス元" in section
            else:
                assert "アクセス元" not in section and CLIENT_IP not in html, (username, name)
    assert set(seen) == set(stage4) and all("secretariat" in users for users in seen.values())
    assert {"soumu"} <= seen["report"] & seen["policy"] & seen["measure"]
    measure_page = signed_in("secretariat").get(stage4["measure"].get_absolute_url()).content.decode()
    assert CLIENT_IP in measure_page and "対応しました。" in measure_page


def test_the_history_lists_that_objects_events_only(stage4, signed_in, user, org):
    other = candidate_actions.propose_candidate(
        user("secretariat"), title="別の候補（監査）", description="説明", owning_ministry=org("soumu")
    )
    html = signed_in("secretariat").get(stage4["candidate"].get_absolute_url()).content.decode()
    section = html[html.index(f'id="audit-candidate-{stage4["candidate"].pk}"'):]
    assert "別の候補（監査）" not in section
    assert "状態遷移" in section and "選定" in section  # the decision, with the status label
    assert other.pk != stage4["candidate"].pk


def test_a_rounds_history_includes_its_ballots(stage4, signed_in):
    html = signed_in("chijikai").get(stage4["round"].get_absolute_url()).content.decode()
    section = html[html.index(f'id="audit-consentround-{stage4["round"].pk}"'):]
    assert section.count("投票") >= 3  # the three associations' ballots
    assert "全国知事会" in section


def test_a_hidden_object_shows_no_history(signed_in, user, org):
    """A proposed candidate is not for local officials: 404, and so no history either."""
    candidate = candidate_actions.propose_candidate(
        user("secretariat"), title="非公開の候補", description="説明", owning_ministry=org("soumu")
    )
    response = signed_in("sapporo").get(candidate.get_absolute_url())
    assert response.status_code == 404 and "非公開の候補" not in response.content.decode()


def test_a_meetings_page_shows_its_audit_history_to_the_secretariat(signed_in):
    from tests.test_meetings_support import meeting

    made = meeting()
    html = signed_in("secretariat").get(f"/meetings/{made.pk}/").content.decode()
    section = html[html.index(f'id="audit-meeting-{made.pk}"'):]
    assert "作成" in section  # the meeting's creation, recorded with its actor
