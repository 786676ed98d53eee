from django.core.management.base import BaseCommand

from council.dashboards import aggregates


class Command(BaseCommand):
    help = "Rebuild every pre-aggregated dashboard figure from the data (after bulk loads or restores)."

    def handle(self, *args, **options) -> None:
        aggregates.rebuild_all()
        self.stdout.write(self.style.SUCCESS("Dashboard figures rebuilt."))
