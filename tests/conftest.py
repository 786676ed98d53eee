"""Shared fixtures: the reference data and demo world, loaded once per test database."""

import io
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from tenants.models import Organization

# Playwright's sync API runs an event loop in the test thread; Django's ORM must allow it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DEMO_USERNAMES = (
    "secretariat",
    "soumu",
    "mhlw",
    "cfa",
    "chijikai",
    "shichokai",
    "chosonkai",
    "hokkaido",
    "sapporo",
)


def load_world() -> None:
    """Reference data and the demo users; no demo candidates, so tests start from an empty pipeline."""
    from django.conf import settings

    from tenants.demo import load_demo

    call_command("load_reference_data", stdout=io.StringIO())
    load_demo(settings.DEMO_PASSWORD)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Every test that uses the database starts from the real reference data and demo users.
    with django_db_blocker.unblock():
        load_world()


@pytest.fixture
def world(transactional_db):
    """For transactional tests (live server): each one's database was flushed after the last."""
    if not Organization.objects.exists():
        load_world()


@pytest.fixture
def demo_password(settings) -> str:
    return settings.DEMO_PASSWORD


@pytest.fixture
def user(db):
    def get(username: str):
        return get_user_model().objects.get(username=username)

    return get


@pytest.fixture
def api():
    """An APIClient logged in (by token) as a given demo user, or anonymous with no argument."""

    def make(username: str | None = None) -> APIClient:
        client = APIClient()
        if username is not None:
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username=username))
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def org():
    def get(code: str) -> Organization:
        return Organization.objects.get(code=code)

    return get


# --- Browser tests: Debian's Chromium, since Playwright cannot download its own here. ---
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}
