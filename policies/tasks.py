"""Consent-round jobs: notifications, reminders, and closing rounds at their closing time.

Tasks take ids, do nothing when the row is gone, and claim each message with a conditional
update (or a unique insert) before sending, so a task or beat that runs twice sends once.
"""

from datetime import timedelta

from celery import shared_task
from django.core.mail import send_mass_mail
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from council.mail import addresses, render_bilingual
from policies import actions
from policies.models import ConsentRound, ReminderLog, RoundStatus
from tenants.models import Role

REMINDERS = (("3d", timedelta(days=3)), ("1d", timedelta(days=1)))


def _send(messages) -> int:
    return send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, recipients) for subject, body, recipients in messages if recipients]
    )


VOTER_ROLES = (Role.ASSOCIATION_REPRESENTATIVE, Role.SECRETARIAT_STAFF)


def _round_mail(name: str, round_: ConsentRound) -> tuple[str, str]:
    """(subject, body) of a consent-round e-mail, Japanese then English (templates/email/)."""
    return render_bilingual(name, {"round": round_, "policy": round_.policy, "version": round_.version})


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_round_opened(round_id: int) -> int:
    claimed = ConsentRound.objects.filter(pk=round_id, opening_notified_at=None).update(opening_notified_at=timezone.now())
    if not claimed:
        return 0
    round_ = ConsentRound.objects.select_related("policy", "version").get(pk=round_id)
    subject, body = _round_mail("consent_opened", round_)
    return _send([(subject, body, addresses(round_.voter_ids(), VOTER_ROLES))])


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_outcome(round_id: int) -> int:
    claimed = ConsentRound.objects.filter(pk=round_id, outcome_notified_at=None, status=RoundStatus.CLOSED).update(
        outcome_notified_at=timezone.now()
    )
    if not claimed:
        return 0
    round_ = ConsentRound.objects.select_related("policy", "version").get(pk=round_id)
    from tenants.models import Organization, OrganizationKind

    secretariat = Organization.objects.filter(kind=OrganizationKind.SECRETARIAT).values_list("pk", flat=True)
    recipients = addresses([round_.policy.ministry_id], (Role.MINISTRY_OFFICER,)) + addresses(
        list(secretariat), (Role.SECRETARIAT_STAFF,)
    )
    subject, body = _round_mail("consent_outcome", round_)
    return _send([(subject, body, sorted(set(recipients)))])


@shared_task
def close_due_rounds() -> int:
    """Close every open round whose closing time has passed (run by beat every minute)."""
    closed = 0
    for round_id in ConsentRound.objects.filter(status=RoundStatus.OPEN, closes_at__lte=timezone.now()).values_list("pk", flat=True):
        round_ = ConsentRound.objects.get(pk=round_id)
        try:
            actions.close_round(round_, by=None)
        except actions.Conflict:
            continue  # closed meanwhile by the secretariat or another beat run
        closed += 1
    return closed


@shared_task
def send_consent_reminders() -> int:
    """Remind voting bodies that have not voted, 3 days and 1 day before closing, once each."""
    now = timezone.now()
    sent = 0
    for round_ in ConsentRound.objects.filter(status=RoundStatus.OPEN, closes_at__gt=now).select_related("policy", "version"):
        remaining = round_.closes_at - now
        voted = set(round_.ballots.values_list("organization_id", flat=True))
        for kind, before in REMINDERS:
            if remaining > before:
                continue
            for organization_id in sorted(round_.voter_ids() - voted):
                if not _claim_reminder(round_, organization_id, kind, now):
                    continue  # sent, or being sent by another run inside its lease
                subject, body = _round_mail("consent_reminder", round_)
                sent += _send([(subject, body, addresses([organization_id], VOTER_ROLES))])
                ReminderLog.objects.filter(round=round_, organization_id=organization_id, kind=kind).update(
                    sent_at=timezone.now()
                )
    return sent


def _claim_reminder(round_: ConsentRound, organization_id: int, kind: str, now) -> bool:
    """The row is inserted once (unique), then claimed by one conditional update: never sent,
    and unclaimed or claimed longer ago than REMINDER_CLAIM_LEASE_SECONDS (its worker died
    before sending; the next beat, 15 minutes later, sends it)."""
    try:
        with transaction.atomic():
            ReminderLog.objects.get_or_create(round=round_, organization_id=organization_id, kind=kind)
    except IntegrityError:
        pass  # inserted at the same moment by another run
    lease = timedelta(seconds=settings.REMINDER_CLAIM_LEASE_SECONDS)
    return bool(
        ReminderLog.objects.filter(round=round_, organization_id=organization_id, kind=kind, sent_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - lease))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def render_version_pdf(version_id: int, language: str = "ja") -> int | None:
    from policies.models import PolicyVersion
    from policies.pdf import ensure_version_pdf

    version = PolicyVersion.objects.filter(pk=version_id, submitted_at__isnull=False).first()
    if version is None:
        return None
    pdf = ensure_version_pdf(version, language)
    return pdf.pk if pdf is not None else None  # None: being rendered by another worker
