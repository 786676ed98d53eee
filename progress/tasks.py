"""Stage 4 jobs: report obligations, reminders (planned, sent, reconciled)."""

from celery import shared_task

from progress import actions, reminders
from progress.models import ReportingSchedule


@shared_task
def create_report_obligations() -> int:
    """Each schedule's report of the current period (beat, daily; safe to run twice)."""
    return sum(actions.ensure_reports(schedule) for schedule in ReportingSchedule.objects.select_related("policy"))


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_reminder(reminder_id: int) -> bool:
    return reminders.send(reminder_id)


@shared_task
def plan_and_send_reminders() -> int:
    """Insert today's reminders (once each) and queue every one not yet sent (beat)."""
    reminders.plan_reminders()
    pending = reminders.pending_ids()
    for reminder_id in pending:
        send_reminder.delay(reminder_id)
    return len(pending)


@shared_task
def reconcile_reminders() -> int:
    """Daily: re-queue reminders that were missed — never queued, or claimed by a worker
    that died before sending (claim older than the lease)."""
    return plan_and_send_reminders()


@shared_task(soft_time_limit=120, time_limit=150)
def render_progress_document(document_id: int) -> bool:
    """Render a progress PDF; a render over two minutes is stopped and marked failed."""
    from progress.pdf import run

    return run(document_id)
