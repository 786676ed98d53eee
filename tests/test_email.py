"""Every e-mail is bilingual: the subject in Japanese, " / ", then English; the body in
Japanese, a separator, then English, each rendered from templates/email/ through the catalogue."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from council import calendar
from council.mail import SEPARATOR
from policies import actions as policy_actions
from policies import tasks as policy_tasks
from progress import actions, reminders, tasks
from progress.models import ProgressReport, Reminder

pytestmark = pytest.mark.django_db
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


def halves(message, *data: str):
    """(Japanese subject, English subject, Japanese body, English body) with the data removed
    from the English halves, which must then contain no Japanese at all."""
    ja_subject, en_subject = message.subject.split(" / ")
    ja_body, en_body = message.body.split(f"\n\n{SEPARATOR}\n\n")
    english = en_subject + en_body
    for value in data:
        english = english.replace(value, "")
    assert not JAPANESE.search(english), english
    return ja_subject, en_subject, ja_body, en_body


def open_round(policy, user, days=7):
    return policy_actions.open_round(
        policy.versions.get(), user("secretariat"), closes_at=timezone.now() + timedelta(days=days)
    )


def test_the_round_opened_e_mail_is_japanese_then_english(submitted_policy, user, django_capture_on_commit_callbacks):
    policy = submitted_policy()
    with django_capture_on_commit_callbacks(execute=True):
        open_round(policy, user)
    message = mail.outbox[-1]
    ja_subject, en_subject, ja_body, en_body = halves(message, policy.title)
    assert ja_subject == f"【同意手続の開始】{policy.title}（第1版）"
    assert en_subject == f"[Consent round opened] {policy.title} (version 1)"
    assert f"共通化推進方針「{policy.title}」第1版について同意手続を開始しました。" in ja_body
    assert "締切: 令和" in ja_body  # officials read the deadline in the era
    assert f'commonization promotion policy "{policy.title}"' in en_body and "Closes: " in en_body


def test_the_outcome_e_mail_names_the_outcome_in_both_languages(submitted_policy, user, django_capture_on_commit_callbacks):
    round_ = open_round(submitted_policy(), user)
    for username in ("chijikai", "shichokai", "chosonkai"):
        policy_actions.cast_ballot(round_, user(username), choice="consent")
    with django_capture_on_commit_callbacks(execute=True):
        policy_actions.close_round(round_, user("secretariat"))
    ja_subject, en_subject, ja_body, en_body = halves(mail.outbox[-1], round_.policy.title)
    assert ja_subject.startswith("【同意手続の結果】") and ja_subject.endswith("：同意")
    assert en_subject.startswith("[Consent round outcome]") and en_subject.endswith(": Consent")
    assert "「同意」となりました" in ja_body and "has closed: Consent." in en_body


def test_the_closing_reminder_goes_to_those_who_have_not_voted_in_both_languages(submitted_policy, user):
    round_ = open_round(submitted_policy(), user, days=2)
    policy_actions.cast_ballot(round_, user("chijikai"), choice="consent")
    mail.outbox.clear()
    assert policy_tasks.send_consent_reminders() == 2
    assert sorted(address for m in mail.outbox for address in m.to) == ["chosonkai@example.jp", "shichokai@example.jp"]
    ja_subject, en_subject, ja_body, en_body = halves(mail.outbox[0], round_.policy.title)
    assert ja_subject.startswith("【同意手続の締切が近づいています】")
    assert en_subject.startswith("[Consent round closing soon]")
    assert "まだ意思表示がありません" in ja_body and "has not yet stated its position" in en_body


@pytest.fixture
def schedule(consented_policy, user):
    return actions.set_schedule(consented_policy(), user("secretariat"), frequency="quarterly", due_days_after_period=30)


@pytest.mark.parametrize(
    "days, ja, en",
    [(7, "【期限7日前】進捗報告：", "[Due in 7 days] Progress report: "),
     (0, "【期限前日】進捗報告：", "[Due tomorrow] Progress report: "),
     (-3, "【期限超過】進捗報告：", "[Overdue] Progress report: "),
     (-7, "【期限超過7日】進捗報告：", "[7 days overdue] Progress report: ")],
)
def test_due_date_reminders_are_stored_and_sent_in_both_languages(schedule, days, ja, en):
    report = ProgressReport.objects.get(schedule=schedule)
    due = calendar.today() + timedelta(days=days)
    ProgressReport.objects.filter(pk=report.pk).update(due_date=due)
    mail.outbox.clear()
    tasks.plan_and_send_reminders()
    reminder = Reminder.objects.get()
    message = mail.outbox[0]
    assert (message.subject, message.body) == (reminder.subject, reminder.body)  # the stored text is what is sent
    ja_subject, en_subject, ja_body, en_body = halves(message, report.policy.title)
    assert ja_subject.startswith(ja) and report.policy.title in ja_subject
    assert en_subject.startswith(en) and report.policy.title in en_subject
    # The period label follows each half's language.
    assert f"{report.fiscal_year}年度" in ja_subject or "令和" in ja_subject
    assert f"FY{report.fiscal_year}" in en_subject
    assert "の期限は令和" in ja_body and f"is due on {due:%b}" in en_body.replace(".", "")


def test_a_long_title_keeps_the_stored_subject_within_its_column(schedule):
    from policies.models import Policy

    Policy.objects.filter(pk=schedule.policy_id).update(title="長" * 200)
    report = ProgressReport.objects.get(schedule=schedule)
    ProgressReport.objects.filter(pk=report.pk).update(due_date=calendar.today() + timedelta(days=7))
    reminders.plan_reminders()
    reminder = Reminder.objects.get()
    assert len(reminder.subject) <= Reminder._meta.get_field("subject").max_length
    assert "[Due in 7 days]" in reminder.subject and "長" * 200 in reminder.body
