from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "council.ops"
    label = "ops"
    verbose_name = _("運用")

    def ready(self) -> None:
        # Celery's signals are process-wide: connecting them here makes the web processes
        # stamp the request id on what they queue, and the workers record task outcomes.
        from council.ops import signals  # noqa: F401
