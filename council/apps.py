from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilConfig(AppConfig):
    name = "council"
    verbose_name = _("連絡協議会")

    def ready(self) -> None:
        from council import pgtime

        pgtime.install()
