"""/ops/: the secretariat's operations page — readiness, task counts of the last 24 hours,
recent task failures — and its link in the main menu."""

import traceback
from datetime import timedelta

import pytest
from django.utils import timezone

from council.ops import records
from council.ops.models import TaskFailure, TaskState

pytestmark = pytest.mark.django_db

URL = "/ops/"


@pytest.fixture
def signed_in(client, user):
    def login(username: str):
        client.logout()
        client.force_login(user(username))
        return client

    return login


def test_anonymous_callers_are_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


@pytest.mark.parametrize(
    ("username", "status"),
    [("secretariat", 200), ("soumu", 403), ("mhlw", 403), ("chijikai", 403), ("sapporo", 403), ("hokkaido", 403)],
)
def test_only_the_secretariat_sees_the_page(signed_in, username, status):
    records.record_failure(task_id="t-1", task_name="progress.tasks.send_reminder", exception=ValueError("秘密の中身"))
    response = signed_in(username).get(URL)
    assert response.status_code == status
    assert ("秘密の中身" in response.content.decode()) == (status == 200)


@pytest.mark.parametrize(
    ("username", "shown"),
    [("secretariat", True), ("soumu", False), ("chijikai", False), ("sapporo", False), ("hokkaido", False)],
)
def test_the_menu_links_to_it_for_the_secretariat_only(signed_in, username, shown):
    page = signed_in(username).get("/").content.decode()
    assert (f'href="{URL}"' in page) == shown


def test_it_shows_readiness_counts_failures_and_the_metrics_link(signed_in):
    now = timezone.now()
    records.record_outcome("progress.tasks.send_reminder", TaskState.SUCCEEDED)
    records.record_outcome("progress.tasks.send_reminder", TaskState.SUCCEEDED)
    records.record_outcome("progress.tasks.send_reminder", TaskState.RETRIED)
    records.record_outcome("policies.tasks.close_due_rounds", TaskState.SUCCEEDED, at=now - timedelta(hours=30))
    try:
        raise KeyError("reminder 42")
    except KeyError as exc:
        failure = records.record_failure(
            task_id="0f8fad5b-d9cb-469f-a165-70867728950e", task_name="progress.tasks.send_reminder",
            exception=exc, args=[42], kwargs={"force": True}, traceback=traceback.format_exc(),
            request_id="req-abc", hostname="w1@host",
        )
    old = TaskFailure.objects.create(  # as a worker recorded it three days ago
        task_id="old", task_name="progress.tasks.old_task", exception="ValueError: old",
        failed_at=now - timedelta(days=3),
    )

    response = signed_in("secretariat").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    ctx = response.context
    assert ctx["ready"] is True
    assert [label for label, _result in ctx["checks"]][:1] == ["データベース"]
    # Counts of the last 24 hours: the run of 30 hours ago is not among them.
    assert ctx["counts"] == {"progress.tasks.send_reminder": {"succeeded": 2, "failed": 1, "retried": 1}}
    assert "policies.tasks.close_due_rounds" not in html
    assert ctx["failures_24h"] == 1
    assert list(ctx["failures"]) == [failure, old]
    assert "KeyError: &#x27;reminder 42&#x27;" in html
    assert "42, force=True" in html
    assert "req-abc" in html and "w1@host" in html
    assert "<details>" in html and "Traceback (most recent call last)" in html  # collapsed
    assert 'href="/metrics"' in html and 'href="/readyz"' in html
    assert "タスクはウェブのプロセス内で実行されます" in html  # eager: no worker to ask


def test_a_failing_check_shows_on_the_page(signed_in, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = signed_in("secretariat").get(URL)
    assert response.status_code == 200
    assert response.context["ready"] is False
    assert dict(response.context["checks"])["Redis"] == {"status": "error", "error": "ConnectionError"}
    assert "異常あり" in response.content.decode()



def test_the_secretariat_reads_failures_in_the_admin_too_without_changing_them(signed_in):
    failure = records.record_failure(task_id="t-9", task_name="progress.tasks.send_reminder", exception=ValueError("v"))
    client = signed_in("secretariat")
    for url in ("/admin/ops/taskfailure/", "/admin/ops/taskcount/", f"/admin/ops/taskfailure/{failure.pk}/change/"):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/ops/taskfailure/?q=t-9").context["cl"].result_count == 1
    assert client.post(f"/admin/ops/taskfailure/{failure.pk}/delete/", {"post": "yes"}).status_code == 403
    assert TaskFailure.objects.filter(pk=failure.pk).exists()
