"""The meeting pages: every page for every demo role (and the signed-out visitor), the
secretariat's forms with their errors (nothing saved), the decision recording path, and the
decision line on the candidate and consent-round pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from candidates.models import Candidate
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


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str | None):
        client.logout()
        if username is not None:
            assert client.login(username=username, password=demo_password)
        return client

    return login


def url(name, *args):
    return reverse(f"meetings:{name}", args=args)


# --- Reading -------------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_the_login_page(signed_in):
    made = scheduled()
    client = signed_in(None)
    for path in (url("list"), url("detail", made.pk), url("create"), url("pdf", made.pk, "pack")):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_list_shows_upcoming_and_past_meetings_to_every_role(signed_in):
    past = published(minutes="## 議事\n了承")
    Meeting.objects.filter(pk=past.pk).update(date=calendar.today() - timedelta(days=40))
    upcoming = scheduled(day=calendar.today() + timedelta(days=10))
    draft = meeting(day=calendar.today() + timedelta(days=60), title="準備中の臨時会議")
    for username in ROLES:
        response = signed_in(username).get(url("list"))
        assert response.status_code == 200
        assert [m.pk for m in response.context["upcoming"]] == ([upcoming.pk, draft.pk] if username == "secretariat" else [upcoming.pk])
        assert [m.pk for m in response.context["past"]] == [past.pk]
        assert ("準備中の臨時会議" in response.content.decode()) == (username == "secretariat")
        assert "会議を登録" in response.content.decode() if username == "secretariat" else "会議を登録" not in response.content.decode()


def test_the_list_filters_by_fiscal_year(signed_in):
    this_year = calendar.fiscal_year(calendar.today())
    old = meeting(day=calendar.today().replace(year=calendar.today().year - 2))
    new = meeting()
    client = signed_in("secretariat")
    response = client.get(url("list"), {"fiscal_year": this_year - 2})
    shown = [m.pk for m in response.context["upcoming"] + response.context["past"]]
    assert shown == [old.pk]
    options = [value for value, _label in response.context["filter_form"].fields["fiscal_year"].choices]
    assert this_year in options and this_year - 2 in options
    with translation.override("ja"):
        assert "年度" in response.content.decode()
    response = client.get(url("list"), {"fiscal_year": "1999"})  # not a year with meetings: ignored
    assert {m.pk for m in response.context["upcoming"] + response.context["past"]} == {old.pk, new.pk}


def test_the_detail_page_for_every_role(signed_in):
    reviewed = candidate("審議中の候補（地方には非公開）")
    announced = scheduled(reviewed)
    draft = meeting(title="準備中の会議")
    for username in ROLES:
        client = signed_in(username)
        assert client.get(url("detail", draft.pk)).status_code == (200 if username == "secretariat" else 404)
        response = client.get(url("detail", announced.pk))
        assert response.status_code == 200
        page = response.content.decode()
        assert "運営について" in page
        council = username not in ("hokkaido", "sapporo")
        # An item whose object the reader may not see is not shown at all.
        assert ("審議中の候補（地方には非公開）" in page) == council
        assert (reviewed.get_absolute_url() in page) == council
        assert ("議題を追加" in page) == (username == "secretariat")
        assert ("会議資料のPDFを作成" in page) == council
        assert ("履歴" in page) == (username == "secretariat")


def test_minutes_are_shown_once_published(signed_in):
    made = held()
    actions.save_minutes(made, get_user("secretariat"), "## 議事\n下書きの議事録です。")
    for username in ("secretariat", "soumu", "sapporo"):
        page = signed_in(username).get(url("detail", made.pk)).content.decode()
        assert ("下書きの議事録です。" in page) == (username == "secretariat")
    actions.move_meeting(made, get_user("secretariat"), "minutes_published")
    for username in ("secretariat", "soumu", "sapporo"):
        page = signed_in(username).get(url("detail", made.pk)).content.decode()
        assert "下書きの議事録です。" in page and "<h2>議事</h2>" in page


def test_forms_are_the_secretariats(signed_in):
    made = held()
    item = item_for(made)
    attendee = actions.add_attendee(made, get_user("secretariat"), organization=org("soumu"))
    pages = [url("create"), url("edit", made.pk), url("minutes", made.pk), url("attendees", made.pk),
             url("item-create", made.pk), url("item-edit", made.pk, item.pk), url("decision", made.pk, item.pk)]
    posts = [url("delete", made.pk), url("transition", made.pk), url("attendee-remove", made.pk, attendee.pk),
             url("item-delete", made.pk, item.pk), url("item-move", made.pk, item.pk)]
    before = snapshot()
    for username in ROLES:
        client = signed_in(username)
        for path in pages:
            assert client.get(path).status_code == (200 if username == "secretariat" else 403), (username, path)
        if username == "secretariat":
            continue
        for path in pages + posts:
            data = {"to": "minutes_published", "direction": "up", "minutes": "x", "outcome": "noted", "text": "x",
                    "date": "2026-01-01", "number": "9", "format": "online", "organization": org("mhlw").pk,
                    "title": "x"}
            assert client.post(path, data).status_code == 403, (username, path)
    assert snapshot() == before


# --- The secretariat's forms --------------------------------------------------------------------------


def test_creating_a_meeting_with_errors_then_correctly(signed_in):
    client = signed_in("secretariat")
    response = client.post(url("create"), {"number": "1", "date": "", "format": "in_person", "venue": ""})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "date" in errors and "開催日を入力してください。" in response.content.decode()
    assert not Meeting.objects.exists()
    response = client.post(url("create"), {"number": "1", "date": "2026-12-01", "format": "in_person", "venue": "",
                                           "start_time": "12:00", "end_time": "10:00"})
    assert {"venue", "end_time"} <= set(response.context["form"].errors) and not Meeting.objects.exists()
    response = client.post(url("create"), {"number": "1", "date": "2026-12-01", "format": "hybrid", "venue": "第1会議室",
                                           "start_time": "10:00", "end_time": "12:00", "standing_members": "on"})
    made = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()
    from tenants.models import Organization

    standing = Organization.objects.filter(kind__in=["secretariat", "association"]).count()
    assert made.attendees.count() == standing >= 4 and made.status == "draft"
    response = client.post(url("create"), {"number": "1", "date": "2026-12-02", "format": "online"})
    assert "この回次の会議は既に登録されています。" in response.content.decode()
    assert Meeting.objects.count() == 1


def test_editing_a_meeting(signed_in):
    made = meeting(number=2)
    client = signed_in("secretariat")
    data = {"number": "2", "date": "2027-01-15", "format": "online", "venue": "", "title": "臨時会"}
    assert client.post(url("edit", made.pk), data).status_code == 302
    made.refresh_from_db()
    assert (made.title, str(made.date), made.format) == ("臨時会", "2027-01-15", "online")
    response = client.post(url("edit", made.pk), {**data, "date": "not a date"})
    assert "日付を正しく入力してください。" in response.content.decode()


def test_adding_agenda_items_through_the_form(signed_in):
    made = meeting()
    subject = candidate("公共施設予約の共通化")
    client = signed_in("secretariat")
    form = client.get(url("item-create", made.pk)).context["form"]
    choices = {value for _group, options in form.fields["target"].choices[1:] for value, _label in options}
    assert f"candidate:{subject.pk}" in choices
    response = client.post(url("item-create", made.pk), {"target": "", "title": ""})
    assert "「その他」の議題には議題名を入力してください。" in response.content.decode()
    response = client.post(url("item-create", made.pk), {"target": "candidate:999999", "title": ""})
    assert response.status_code == 200 and "target" in response.context["form"].errors
    assert not AgendaItem.objects.exists()
    assert client.post(url("item-create", made.pk), {"target": f"candidate:{subject.pk}", "notes": "資料1"}).status_code == 302
    response = client.post(url("item-create", made.pk), {"target": f"candidate:{subject.pk}"})
    assert "既にこの会議の議題になっています。" in response.content.decode()
    client.post(url("item-create", made.pk), {"target": "", "title": "閉会"})
    first, second = made.agenda_items.order_by("order")
    assert first.title == "対象候補「公共施設予約の共通化」の選定について" and second.title == "閉会"
    client.post(url("item-move", made.pk, second.pk), {"direction": "up"})
    assert list(made.agenda_items.order_by("order").values_list("title", flat=True)) == ["閉会", first.title]
    client.post(url("item-edit", made.pk, second.pk), {"target": "", "title": "閉会の挨拶", "notes": ""})
    assert AgendaItem.objects.get(pk=second.pk).title == "閉会の挨拶"
    client.post(url("item-delete", made.pk, second.pk))
    assert list(made.agenda_items.values_list("pk", flat=True)) == [first.pk]


def test_attendees_page(signed_in):
    made = meeting()
    client = signed_in("secretariat")
    assert client.post(url("attendees", made.pk), {"organization": org("chijikai").pk, "title": "会長"}).status_code == 302
    response = client.post(url("attendees", made.pk), {"organization": org("chijikai").pk, "title": "会長"})
    assert "この出席者は既に登録されています。" in response.content.decode()
    response = client.post(url("attendees", made.pk), {"organization": ""})
    assert "団体を選んでください。" in response.content.decode()
    attendee = MeetingAttendee.objects.get()
    client.post(url("attendee-remove", made.pk, attendee.pk))
    assert not MeetingAttendee.objects.exists()


def test_the_workflow_buttons(signed_in):
    made = meeting(day=calendar.today() + timedelta(days=1))
    client = signed_in("secretariat")
    response = client.post(url("transition", made.pk), {"to": "scheduled"})
    assert response.status_code == 400 and "議題を1件以上登録してから" in response.content.decode()
    actions.add_agenda_item(made, get_user("secretariat"), kind="other", title="議題")
    assert client.post(url("transition", made.pk), {"to": "scheduled"}).status_code == 302
    response = client.post(url("transition", made.pk), {"to": "held"})
    assert response.status_code == 409 and "開催日より前に開催済みにはできません。" in response.content.decode()
    response = client.post(url("transition", made.pk), {"to": "cancelled", "comment": ""})
    assert response.status_code == 400 and "中止の理由" in response.content.decode()
    assert client.post(url("transition", made.pk), {"to": "cancelled", "comment": "延期"}).status_code == 302
    made.refresh_from_db()
    assert made.status == "cancelled"
    assert client.post(url("delete", made.pk)).status_code == 403  # only drafts are deleted
    draft = meeting()
    assert client.post(url("delete", draft.pk)).status_code == 302
    assert not Meeting.objects.filter(pk=draft.pk).exists()


def test_writing_and_publishing_minutes(signed_in):
    made = held()
    client = signed_in("secretariat")
    response = client.post(url("transition", made.pk), {"to": "minutes_published"})
    assert response.status_code == 400 and "議事録を入力してから公開してください。" in response.content.decode()
    assert client.post(url("minutes", made.pk), {"minutes": "## 議事\n了承した。"}).status_code == 302
    assert client.post(url("transition", made.pk), {"to": "minutes_published"}).status_code == 302
    assert client.get(url("minutes", made.pk)).status_code == 403  # published minutes are final


# --- Recording decisions ------------------------------------------------------------------------------------


def test_recording_a_selection_decision_on_the_meeting_page(signed_in):
    subject = candidate("児童手当の認定事務の共通化")
    made = held(subject)
    item = item_for(made, subject)
    client = signed_in("secretariat")
    form = client.get(url("decision", made.pk, item.pk)).context["form"]
    assert [value for value, _label in form.fields["outcome"].choices] == ["selected", "not_selected", "deferred"]
    response = client.post(url("decision", made.pk, item.pk), {"outcome": "selected", "track": "", "text": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert "決定内容を入力してください。" in page and "区分" in page
    assert not Decision.objects.exists() and Candidate.objects.get(pk=subject.pk).status == "under_review"
    response = client.post(url("decision", made.pk, item.pk),
                           {"outcome": "selected", "track": "commonization", "text": "原案のとおり選定する。"})
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.status == "selected" and subject.track == "commonization"
    # The candidate's page says at which meeting it was decided, with a link to it.
    page = client.get(subject.get_absolute_url()).content.decode()
    with translation.override("ja"):
        from council.templatetags.council_tags import wareki

        assert f"{made.get_absolute_url()}#item-{item.pk}" in page
        assert "第1回連絡協議会" in page and wareki(made.date) in page
    # The meeting page shows the decision to every reader who sees the item.
    for username in ("soumu", "sapporo"):
        assert "原案のとおり選定する。" in signed_in(username).get(url("detail", made.pk)).content.decode()
    response = signed_in("secretariat").get(url("decision", made.pk, item.pk))
    assert response.status_code == 302  # already decided


def test_a_decision_on_a_candidate_not_under_review_is_409(signed_in):
    proposed = candidate("提案のみの候補", review=False)
    made = held(proposed)
    response = signed_in("secretariat").post(
        url("decision", made.pk, item_for(made, proposed).pk),
        {"outcome": "selected", "track": "commonization", "text": "選定"},
    )
    assert response.status_code == 409 and not Decision.objects.exists()


def test_recording_a_consent_outcome_closes_the_round_and_shows_on_its_page(signed_in, submitted_policy):
    round_ = open_round(submitted_policy())
    vote(round_)
    made = held(round_)
    item = item_for(made, round_)
    client = signed_in("secretariat")
    page = client.get(url("detail", made.pk)).content.decode()
    assert "現在の投票による同意手続の結果：同意" in page
    response = client.get(url("decision", made.pk, item.pk))
    assert response.context["form"].initial["outcome"] == "consented"
    response = client.post(url("decision", made.pk, item.pk), {"outcome": "not_consented", "text": "不同意とする。"})
    assert response.status_code == 200 and "投票による同意手続の結果は「同意」です。" in response.content.decode()
    round_.refresh_from_db()
    assert round_.status == "open"
    assert client.post(url("decision", made.pk, item.pk), {"outcome": "consented", "text": "同意を得た。"}).status_code == 302
    round_.refresh_from_db()
    assert round_.outcome == "consented"
    for username in ("secretariat", "sapporo"):
        page = signed_in(username).get(round_.get_absolute_url()).content.decode()
        assert f"{made.get_absolute_url()}#item-{item.pk}" in page and "第1回連絡協議会" in page


def test_decisions_wait_for_the_meeting_to_be_held(signed_in):
    made = scheduled()
    client = signed_in("secretariat")
    assert client.get(url("decision", made.pk, item_for(made).pk)).status_code == 403


def test_the_pages_in_english_show_plain_dates_and_fiscal_years(signed_in, settings):
    made = scheduled(day=calendar.today())
    client = signed_in("soumu")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    fiscal_year = calendar.fiscal_year(made.date)
    for path in (url("list"), url("detail", made.pk)):
        page = client.get(path).content.decode()
        assert '<html lang="en">' in page
        with translation.override("en"):
            from django.utils.formats import date_format

            assert date_format(made.date, "DATE_FORMAT") in page
        assert "令和" not in page
    assert f"FY{fiscal_year}" in client.get(url("detail", made.pk)).content.decode()
