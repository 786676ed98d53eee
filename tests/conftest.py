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


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in Japanese: a page asked for in English activates English for the
    thread (LocaleMiddleware does not deactivate it), which would leak into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


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


# --- Lifecycle builders: real objects made through the actions, as users would make them. ---
@pytest.fixture
def accepted_candidate(db):
    """A selected candidate whose feasibility study the secretariat accepted."""
    from datetime import timedelta

    from candidates import actions
    from council import calendar

    def make(ministry: str = "soumu", officer: str | None = None, title: str = "共通化の対象候補"):
        User = get_user_model()
        secretariat = User.objects.get(username="secretariat")
        owner = User.objects.get(username=officer or ministry)
        candidate = actions.propose_candidate(
            secretariat, title=title, description="概要", owning_ministry=Organization.objects.get(code=ministry)
        )
        actions.assess(candidate, secretariat, user_need=4, expected_effect=4, feasibility=4, rationale="理由")
        actions.decide(candidate, secretariat, "under_review")
        actions.decide(candidate, secretariat, "selected", track="commonization")
        study, _moved = actions.assign_study(candidate, secretariat, due_date=calendar.today() + timedelta(days=30))
        actions.save_study(study, owner, {
            "findings": "結果", "affected_local_governments": 1741, "cost_initial_yen": 100_000_000,
            "cost_annual_yen": 10_000_000, "expected_effect": "効果", "conclusion": "feasible",
        })
        actions.move_study(study, owner, "submitted")
        actions.move_study(study, secretariat, "accepted")
        candidate.refresh_from_db()
        return candidate

    return make


COMPLETE_BODY = "\n".join(
    f"## {title}\n{title}の内容。"
    for title in ("目的と範囲", "対象システムと業務", "スケジュールとマイルストーン", "移行の考え方", "KPI")
)
COST_SHARING = [
    {"layer": "common_saas", "item": "usage_fee", "payer": "local"},
    {"layer": "common_saas", "item": "specification", "payer": "state"},
    {"layer": "common_saas", "item": "initial_support", "payer": "state", "until": 2030},
]
SCHEDULE = [{"milestone": "標準仕様の策定", "target_date": "2027-03-31"}]


@pytest.fixture
def submitted_policy(accepted_candidate):
    """A policy of 総務省 whose first version is submitted (frozen)."""
    from policies import actions

    def make(ministry: str = "soumu"):
        owner = get_user_model().objects.get(username=ministry)
        policy = actions.create_policy(accepted_candidate(ministry), owner, title="共通化推進方針")
        version = policy.versions.get()
        actions.update_version(version, owner, {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
        actions.submit_version(version, owner)
        policy.refresh_from_db()
        return policy

    return make


@pytest.fixture
def consented_policy(submitted_policy):
    """A policy of 総務省 consented by the three associations."""
    from datetime import timedelta

    from django.utils import timezone

    from policies import actions

    def make(ministry: str = "soumu"):
        User = get_user_model()
        policy = submitted_policy(ministry)
        round_ = actions.open_round(
            policy.versions.get(), User.objects.get(username="secretariat"), closes_at=timezone.now() + timedelta(days=7)
        )
        for username in ("chijikai", "shichokai", "chosonkai"):
            actions.cast_ballot(round_, User.objects.get(username=username), choice="consent")
        actions.close_round(round_, User.objects.get(username="secretariat"))
        policy.refresh_from_db()
        return policy

    return make
