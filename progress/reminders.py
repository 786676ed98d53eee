"""Due-date reminders for progress reports, feasibility studies and measure requests.

To the ministry 7 days and 1 day before the due date and on the day it becomes overdue;
to the secretariat when it is 7 days overdue. Each reminder is a row keyed by
(object, due date, kind): planning inserts it once however often it runs, and sending
claims it with a conditional update first (see progress.models.Reminder).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import pgettext_lazy

from candidates.models import OPEN_STUDY_STATUSES, FeasibilityStudy
from council import calendar
from council.mail import addresses, render_bilingual
from progress.models import OPEN_REPORT_STATUSES, MeasureRequest, MeasureStatus, ProgressReport, Reminder
from tenants.models import Organization, OrganizationKind, Role

# A worker that claimed a reminder and has not marked it sent within this time is taken
# to have died; the reconcile job queues the reminder again. settings.REMINDER_CLAIM_LEASE_SECONDS
# overrides it, read at each call (tests/test_celery_worker.py shortens it for a real worker).
CLAIM_LEASE = timedelta(minutes=10)


def claim_lease() -> timedelta:
    seconds = getattr(settings, "REMINDER_CLAIM_LEASE_SECONDS", None)
    return CLAIM_LEASE if seconds is None else timedelta(seconds=seconds)


@dataclass(frozen=True)
class Window:
    kind: str
    starts: int  # days relative to the due date (negative: before)
    ends: int | None  # exclusive; None: open-ended
    to_secretariat: bool = False


WINDOWS = (
    Window("7d", -7, -1),
    Window("1d", -1, 1),
    Window("overdue", 1, 7),
    Window("overdue_7d", 7, None, to_secretariat=True),
)

LABELS = {
    "report": pgettext_lazy("reminder", "進捗報告"),
    "study": pgettext_lazy("reminder", "実現可能性調査"),
    "measure": pgettext_lazy("reminder", "措置依頼への回答"),
}


def window_for(due: date, today: date) -> Window | None:
    offset = (today - due).days
    for window in WINDOWS:
        if offset >= window.starts and (window.ends is None or offset < window.ends):
            return window
    return None


def _report_title(report: ProgressReport):
    return lazy(lambda: f"{report.policy.title} {report.period_label}", str)()


def _open_subjects(today: date):
    """(type, object, ministry id, due date, title) of every open obligation near its due date."""
    horizon = today + timedelta(days=7)
    for report in ProgressReport.objects.filter(status__in=OPEN_REPORT_STATUSES, due_date__lte=horizon).select_related("policy", "schedule"):
        # The period label follows the language the e-mail is rendered in.
        yield "report", report, report.policy.ministry_id, report.due_date, _report_title(report)
    for study in FeasibilityStudy.objects.filter(status__in=OPEN_STUDY_STATUSES, due_date__lte=horizon).select_related("candidate"):
        yield "study", study, study.ministry_id, study.due_date, study.candidate.title
    for measure in MeasureRequest.objects.filter(status=MeasureStatus.OPEN, due_date__lte=horizon).select_related("policy"):
        yield "measure", measure, measure.ministry_id, measure.due_date, measure.policy.title


def plan_reminders(today: date | None = None) -> int:
    """Insert the reminder rows due today (at most once each); returns how many are new."""
    today = today or calendar.today()
    secretariat = list(Organization.objects.filter(kind=OrganizationKind.SECRETARIAT).values_list("pk", flat=True))
    rows = []
    for subject_type, obj, ministry_id, due, title in _open_subjects(today):
        window = window_for(due, today)
        if window is None:
            continue
        if window.to_secretariat:
            recipients = addresses(secretariat, (Role.SECRETARIAT_STAFF,))
        else:
            recipients = addresses([ministry_id], (Role.MINISTRY_OFFICER,))
        # Rendered once, in Japanese then English, and stored: what is sent is the stored text.
        subject, body = render_bilingual(
            "due_reminder", {"kind": window.kind, "label": LABELS[subject_type], "title": title, "due": due}
        )
        rows.append(Reminder(
            key=f"{subject_type}:{obj.pk}:{due.isoformat()}:{window.kind}", kind=window.kind,
            subject_type=subject_type, subject_id=obj.pk, due_date=due, recipients=recipients,
            subject=subject, body=body,
        ))
    before = Reminder.objects.count()
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return Reminder.objects.count() - before


def pending_ids(now=None) -> list[int]:
    """Reminders never sent whose claim is absent or has expired (a worker died)."""
    now = now or timezone.now()
    return list(
        Reminder.objects.filter(sent_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - claim_lease()))
        .values_list("pk", flat=True)
    )


def send(reminder_id: int, now=None) -> bool:
    """Claim, send and mark one reminder; False when another worker has it or it was sent."""
    now = now or timezone.now()
    claimed = (
        Reminder.objects.filter(pk=reminder_id, sent_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - claim_lease()))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    reminder = Reminder.objects.get(pk=reminder_id)
    if reminder.recipients:
        send_mail(reminder.subject, reminder.body, settings.DEFAULT_FROM_EMAIL, reminder.recipients)
    Reminder.objects.filter(pk=reminder_id).update(sent_at=timezone.now())
    return True
