from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilConfig(AppConfig):
    name = "council"
    verbose_name = _("連絡協議会")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from council import pgtime
        from council.loading import load_rows_without_init

        pgtime.install()
        # Users are on every page of rows (who cast a ballot, who closed a round): loaded
        # as our own models' rows are (council.loading).
        load_rows_without_init(get_user_model())
