"""The Celery application. Settings come from Django's settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")

app = Celery("council")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """Workers and beat log through settings.LOGGING (JSON lines with the request id that
    queued each task), not Celery's own format; LOG_LEVEL applies, not `-l`."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
