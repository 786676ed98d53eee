from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "council.dashboards"
    label = "dashboards"
    verbose_name = _("ダッシュボード")

    def ready(self) -> None:
        from council.dashboards import changes

        changes.connect()
