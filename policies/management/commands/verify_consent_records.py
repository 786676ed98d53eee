from django.core.management.base import BaseCommand, CommandError

from policies.integrity import first_broken_link
from policies.models import ConsentRound


class Command(BaseCommand):
    help = "Verify every consent round's hash-chained records against each other and the live ballots."

    def handle(self, *args, **options) -> None:
        checked = 0
        for round_ in ConsentRound.objects.select_related("version").order_by("pk"):
            problem = first_broken_link(round_)
            if problem:
                raise CommandError(f"consent records broken: {problem}")
            checked += 1
        self.stdout.write(self.style.SUCCESS(f"Consent records intact: {checked} rounds verified."))
