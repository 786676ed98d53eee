"""E-mails about a meeting to the people of its attendees' organizations: when it is announced
(開催のお知らせ: date, time, place, agenda), when it is cancelled, and when its minutes are
published. Japanese then English (council.mail).

Each notice is claimed by inserting its MeetingNotice row (unique per meeting and kind) in the
transaction that sends it: a second task for the same notice finds the row and sends nothing,
and a send that fails rolls the claim back, so the task's retry sends it. Recipients are
blind-copied: the officials of one organization do not see another's addresses.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction

from council.mail import addresses, render_bilingual
from council.meetings.models import Meeting, MeetingNotice, MeetingStatus

# The notice a move of the meeting calls for.
FOR_STATUS = {
    MeetingStatus.SCHEDULED: MeetingNotice.Kind.ANNOUNCED,
    MeetingStatus.CANCELLED: MeetingNotice.Kind.CANCELLED,
    MeetingStatus.MINUTES_PUBLISHED: MeetingNotice.Kind.MINUTES,
}


def recipients(meeting: Meeting) -> list[str]:
    return addresses(meeting.attendees.values_list("organization_id", flat=True))


def send_notice(meeting_id: int, kind: str) -> int:
    """Send one notice once; the number of recipients (0 when already sent or nobody to tell)."""
    with transaction.atomic():
        meeting = Meeting.objects.filter(pk=meeting_id).first()
        if meeting is None:
            return 0
        try:
            with transaction.atomic():
                notice = MeetingNotice.objects.create(meeting=meeting, kind=kind)
        except IntegrityError:
            return 0
        emails = recipients(meeting)
        if emails:
            items = list(meeting.agenda_items.order_by("order", "pk").values_list("title", flat=True))
            move = meeting.history().filter(to_status=meeting.status).order_by("-pk").first()
            reason = move.comment if move is not None else ""
            subject, body = render_bilingual(
                f"meeting_{kind}", {"meeting": meeting, "items": items, "reason": reason}
            )
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to=[], bcc=emails).send()
        notice.recipients = len(emails)
        notice.save(update_fields=["recipients"])
    return len(emails)
