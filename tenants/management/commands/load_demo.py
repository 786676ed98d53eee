from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from candidates.demo import load_demo_candidates
from council.demo import load_demo_meetings
from policies.demo import load_demo_policies
from progress.demo import load_demo_progress
from tenants.demo import DEMO_USERS, DemoError, load_demo


class Command(BaseCommand):
    help = "Create the demo users of shared/API.md with their memberships, and demo candidates. Safe to run again."

    def handle(self, *args, **options) -> None:
        try:
            with transaction.atomic():
                created, updated = load_demo(settings.DEMO_PASSWORD)
                candidates = load_demo_candidates()
                policies = load_demo_policies()
                progress = load_demo_progress()
                meetings = load_demo_meetings()
        except DemoError as exc:
            raise CommandError(f"demo not loaded: {exc}") from None
        if created or updated or candidates or policies or progress or meetings:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo users: {created} created, {updated} updated; demo candidates: {candidates} created; "
                    f"demo policies: {policies} created; demo progress: {'created' if progress else 'unchanged'}; "
                    f"demo meetings: {meetings} created."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS("Demo already up to date: nothing changed."))
        self.stdout.write("Demo logins (password: the DEMO_PASSWORD environment variable, default demo-pass-2026):")
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.username:<12} {demo.organization_code:<10} {demo.role}")
