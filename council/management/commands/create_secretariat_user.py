"""`manage.py create_secretariat_user USERNAME EMAIL`: the first (or another) secretariat user.

The user gets a secretariat_staff seat in a secretariat body (default デジタル庁, code
`digital`) — the same Membership the demo's `secretariat` has, which puts them in that
organization's group and the role's group — and reaches the admin (is_staff). The password
is asked twice at the prompt, or read from an environment variable (--password-from-env),
and must pass the password validators. Every refusal is one line; nothing is saved.
"""

from __future__ import annotations

import getpass
import os
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from tenants.models import Membership, Organization, OrganizationKind, Role


def _one_line(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


class Command(BaseCommand):
    help = (
        "Create a user with a secretariat_staff membership of a secretariat body (default: digital, "
        "デジタル庁). The password is prompted for, or read from --password-from-env VAR."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("email")
        parser.add_argument(
            "--organization", default="digital", metavar="CODE",
            help="code of the secretariat body (default: digital)",
        )
        parser.add_argument(
            "--password-from-env", metavar="VAR",
            help="read the password from this environment variable instead of prompting",
        )
        parser.add_argument("--display-name", default="", help="the person's name, shown in the pages")

    def handle(self, *args, username: str, email: str, **options) -> None:
        User = get_user_model()
        username = username.strip()
        try:
            User._meta.get_field("username").run_validators(username)
            if not username:
                raise ValidationError("the username is empty")
        except ValidationError as exc:
            raise CommandError(f"invalid username {username!r}: {_one_line(exc)}") from None
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"user {username!r} already exists: nothing created")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"invalid e-mail address {email!r}") from None

        code = options["organization"]
        organization = Organization.objects.filter(code=code).first()
        if organization is None:
            raise CommandError(
                f"no organization with code {code!r} (secretariat bodies: {self._secretariat_codes()}; "
                "run load_reference_data first if there are none)"
            )
        if organization.kind != OrganizationKind.SECRETARIAT:
            raise CommandError(
                f"organization {code!r} ({organization.name}) is a {organization.get_kind_display()} "
                f"({organization.kind}), not a secretariat body: use one of {self._secretariat_codes()}"
            )

        password = self._password(options["password_from_env"])
        user = User(username=username, email=email, last_name=options["display_name"], is_staff=True, is_active=True)
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise CommandError(f"password refused: {_one_line(exc)}") from None
        user.set_password(password)

        with transaction.atomic():
            user.save()
            Membership(user=user, organization=organization, role=Role.SECRETARIAT_STAFF).save()
        self.stdout.write(self.style.SUCCESS(
            f"Created secretariat user {username!r} ({email}) with a secretariat_staff seat in "
            f"{organization.name} ({organization.code}); they can sign in at /accounts/login/ and /admin/."
        ))

    def _secretariat_codes(self) -> str:
        codes = Organization.objects.filter(kind=OrganizationKind.SECRETARIAT).order_by("code").values_list("code", flat=True)
        return ", ".join(codes) or "none loaded"

    def _password(self, variable: str | None) -> str:
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"environment variable {variable} is not set or empty: no password")
            return password
        if not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password: give --password-from-env VAR")
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("cancelled: nothing created") from None
        if password != again:
            raise CommandError("the two passwords differ: nothing created")
        return password
