"""Meeting notices: announcing a meeting, cancelling it and publishing its minutes e-mail the
people of its attendees' organizations, Japanese then English, once each, blind-copied."""

import pytest
from django.core import mail

from council.meetings import actions
from council.meetings.models import MeetingNotice
from council.meetings.notices import send_notice
from tests.test_meetings_support import get_user, meeting, org

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(django_capture_on_commit_callbacks):
    secretariat = get_user("secretariat")
    made = meeting(venue="中央合同庁舎第4号館 共用第1特別会議室")
    actions.add_agenda_item(made, secretariat, kind="other", title="協議会の運営について")
    for code in ("chijikai", "soumu"):
        actions.add_attendee(made, secretariat, organization=org(code))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_meeting(made, secretariat, "scheduled")
    made.refresh_from_db()
    return made


def test_announcing_mails_the_attendees_organizations_once_in_both_languages(announced):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [] and sorted(message.bcc) == ["chijikai@example.jp", "soumu@example.jp"]
    assert message.subject.startswith("【開催のお知らせ】第1回 国・地方デジタル共通基盤推進連絡協議会")
    assert " / [Meeting notice] " in message.subject
    japanese, english = message.body.split("-" * 60)
    assert "を次のとおり開催します。" in japanese and "中央合同庁舎第4号館" in japanese and "1. 協議会の運営について" in japanese
    assert "will be held as follows." in english and "Venue: " in english and "Agenda:" in english
    assert MeetingNotice.objects.get(meeting=announced).recipients == 2
    # The same notice again (a retried or repeated task) sends nothing.
    assert send_notice(announced.pk, "announced") == 0
    assert len(mail.outbox) == 1


def test_cancelling_and_publishing_minutes_send_their_own_notices(announced, django_capture_on_commit_callbacks):
    secretariat = get_user("secretariat")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_meeting(announced, secretariat, "cancelled", comment="会場の都合により中止します。")
    assert [m.subject.split(" / ")[0][:10] for m in mail.outbox] == ["【開催中止のお知らせ"]
    assert "is cancelled." in mail.outbox[0].body
    assert "会場の都合により中止します。" in mail.outbox[0].body  # the reason given

    other = meeting(venue="第2会議室")
    actions.add_agenda_item(other, secretariat, kind="other", title="運営について")
    actions.add_attendee(other, secretariat, organization=org("shichokai"))
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_meeting(other, secretariat, "scheduled")
        actions.move_meeting(other, secretariat, "held")
    mail.outbox.clear()
    actions.save_minutes(other, secretariat, "## 議事\n審議した。")
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_meeting(other, secretariat, "minutes_published")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("【議事録の公開】") and mail.outbox[0].bcc == ["shichokai@example.jp"]
    assert set(MeetingNotice.objects.filter(meeting=other).values_list("kind", flat=True)) == {"announced", "minutes"}


def test_holding_a_meeting_sends_nothing_and_a_meeting_without_attendees_mails_nobody(
    announced, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_meeting(announced, get_user("secretariat"), "held")
    assert mail.outbox == []
    empty = meeting(venue="第3会議室")
    actions.add_agenda_item(empty, get_user("secretariat"), kind="other", title="運営について")
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_meeting(empty, get_user("secretariat"), "scheduled")
    assert mail.outbox == []
    assert MeetingNotice.objects.get(meeting=empty, kind="announced").recipients == 0


def test_a_failed_send_leaves_no_claim_so_the_retry_sends(announced, monkeypatch):
    from django.core.mail import EmailMessage

    other = meeting(venue="第4会議室")
    actions.add_attendee(other, get_user("secretariat"), organization=org("chosonkai"))

    def refuse(self, *args, **kwargs):
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    with pytest.raises(OSError):
        send_notice(other.pk, "cancelled")
    assert not MeetingNotice.objects.filter(meeting=other).exists()
    monkeypatch.undo()
    mail.outbox.clear()
    assert send_notice(other.pk, "cancelled") == 1
    assert len(mail.outbox) == 1
