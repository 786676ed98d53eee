"""Meeting jobs: rendering a meeting's PDFs (registered through CELERY_IMPORTS)."""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3,
             soft_time_limit=120, time_limit=150)
def render_meeting_pdf(pdf_id: int) -> bool:
    """Render a requested meeting PDF once (see council.meetings.pdf.run); a render over two
    minutes is stopped and the row marked failed, to be asked for again."""
    from council.meetings.pdf import run

    return run(pdf_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_meeting(meeting_id: int, kind: str) -> int:
    """Send a meeting's notice (announced, cancelled, minutes) to its attendees, once."""
    from council.meetings.notices import send_notice

    return send_notice(meeting_id, kind)
