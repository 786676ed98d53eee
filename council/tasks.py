"""Platform-wide periodic jobs (the apps' own jobs live in their tasks modules)."""

from celery import shared_task
from django.conf import settings


@shared_task
def purge_old_pdfs() -> int:
    """Daily (beat): delete superseded PDFs older than PDF_RETENTION_DAYS; 0 turns it off."""
    from council import retention

    days = settings.PDF_RETENTION_DAYS
    if days <= 0:
        return 0
    return retention.purge(days).deleted
