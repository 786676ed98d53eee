from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
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
        password = settings.DEMO_PASSWORD
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(f"demo not loaded: DEMO_PASSWORD is refused: {' '.join(exc.messages)}") from None
        if not settings.DEBUG and password == settings.DEFAULT_DEMO_PASSWORD:
            raise CommandError(
                "demo not loaded: DEMO_PASSWORD is the published default; with DEBUG off, set a password of your own"
            )
        try:
            with transaction.atomic():
                created, updated = load_demo(password)
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
