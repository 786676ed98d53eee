"""Login lockout (django-axes): repeated failures for one username from one address lock that
pair out, on the login page and the API token endpoint, with a Japanese message."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
MESSAGE = "ログインの失敗が続いたため、このユーザー名でのログインを一時的に停止しています。"


@pytest.fixture(autouse=True)
def lockout(settings):
    # tests/settings.py switches django-axes off for the rest of the suite.
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)


def login(client: Client, username: str, password: str, address: str = "203.0.113.10", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def fail(client: Client, times: int, username: str = "sapporo", address: str = "203.0.113.10"):
    return [login(client, username, "wrong-password-123", address) for _ in range(times)]


def test_four_failures_still_show_the_usual_error(client):
    responses = fail(client, 4)
    assert [r.status_code for r in responses] == [200] * 4
    assert "正しいユーザー名とパスワードを入力してください" in responses[-1].content.decode()


def test_the_fifth_failure_locks_the_username_from_that_address_with_a_japanese_page(client, demo_password):
    fifth = fail(client, 5)[-1]
    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert MESSAGE in html and "30分後にもう一度お試しください" in html
    assert 'role="alert"' in html and "Traceback" not in html
    assert 'name="username"' in html and 'value="sapporo"' in html  # the login page itself, not an error page
    assert 1700 <= int(fifth["Retry-After"]) <= 1800
    # Now even the right password is refused, and nobody is signed in.
    right = login(client, "sapporo", demo_password)
    assert right.status_code == 429 and MESSAGE in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_the_lockout_is_per_username_and_address(client, demo_password):
    fail(client, 5)
    # Another address, or another user from the same address, may still sign in.
    assert login(Client(), "sapporo", demo_password, address="203.0.113.99").status_code == 302
    assert login(Client(), "hokkaido", demo_password).status_code == 302


def test_attempts_during_a_lockout_do_not_extend_it_and_it_ends(client, demo_password):
    fail(client, 5)
    fail(client, 3)  # refused, not counted
    attempt = AccessAttempt.objects.get(username="sapporo")
    assert attempt.failures_since_start == 5
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert login(client, "sapporo", demo_password).status_code == 302
    assert client.get("/").status_code == 200


def test_a_success_before_the_limit_starts_the_count_again(client, demo_password):
    fail(client, 4)
    assert login(client, "sapporo", demo_password).status_code == 302
    client.post("/accounts/logout/")
    assert [r.status_code for r in fail(client, 4)] == [200] * 4


def test_the_limit_and_period_come_from_the_settings(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=10)
    responses = fail(client, 2)
    assert [r.status_code for r in responses] == [200, 429]
    assert "10分後にもう一度お試しください" in responses[-1].content.decode()


def test_the_api_token_endpoint_counts_and_locks_the_same_way(demo_password):
    api = APIClient(REMOTE_ADDR="203.0.113.20")
    answers = [api.post(TOKEN, {"username": "soumu", "password": "wrong-password-123"}, format="json") for _ in range(5)]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    assert answers[-1].json()["detail"].startswith(MESSAGE)
    assert 1700 <= int(answers[-1]["Retry-After"]) <= 1800
    # The right password is refused during the lockout: no token.
    right = api.post(TOKEN, {"username": "soumu", "password": demo_password}, format="json")
    assert right.status_code == 429 and "token" not in right.json()
    assert APIClient(REMOTE_ADDR="203.0.113.21").post(
        TOKEN, {"username": "soumu", "password": demo_password}, format="json"
    ).status_code == 200


def test_page_and_api_failures_add_up(client, demo_password):
    fail(client, 3, username="soumu", address="203.0.113.30")
    api = APIClient(REMOTE_ADDR="203.0.113.30")
    first = api.post(TOKEN, {"username": "soumu", "password": "nope-nope-nope"}, format="json")
    second = api.post(TOKEN, {"username": "soumu", "password": "nope-nope-nope"}, format="json")
    assert (first.status_code, second.status_code) == (400, 429)
    assert login(client, "soumu", demo_password, address="203.0.113.30").status_code == 429


def test_a_forwarded_address_is_ignored_without_trusted_proxies(client, demo_password):
    # A client cannot escape the lockout by writing its own X-Forwarded-For.
    fail(client, 5)
    response = login(client, "sapporo", demo_password, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(client, settings, demo_password):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.5"
    for _ in range(5):
        login(client, "sapporo", "wrong-password-123", proxy, HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.1")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.1"
    # Another client behind the same proxy is not locked out.
    other = login(Client(), "sapporo", demo_password, proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.status_code == 302


def test_the_attempts_are_rows_every_web_process_reads(client):
    fail(client, 5)
    # A second process sees the same database: a fresh client (no shared memory) is refused.
    assert login(Client(), "sapporo", "whatever-password").status_code == 429
    assert AccessAttempt.objects.filter(username="sapporo", ip_address="203.0.113.10").exists()
