"""/metrics: Prometheus text with HTTP, Celery task and workload figures, for callers with the
token (METRICS_TOKEN) or, without one, on loopback and private addresses only."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from council import calendar
from council.ops import records
from council.ops.models import TaskState
from progress import actions
from progress.models import MeasureRequest, MeasureStatus, ProgressReport

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.django_db


def samples(response) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a scrape."""
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(found, name, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


@pytest.fixture(autouse=True)
def no_token(settings, monkeypatch):
    settings.METRICS_TOKEN = ""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def test_http_requests_are_counted_by_method_route_and_status(client):
    before = samples(client.get("/metrics"))
    client.get("/healthz")
    client.get("/healthz")
    client.post("/healthz")
    client.get("/no-such-page/")
    after = samples(client.get("/metrics"))

    def delta(**labels):
        name = "council_http_requests_total"
        return value(after, name, **labels) - (value(before, name, **labels) or 0)

    assert delta(method="GET", route="healthz", status="200") == 2
    assert delta(method="POST", route="healthz", status="405") == 1
    assert delta(method="GET", route="<unmatched>", status="404") == 1
    latency = "council_http_request_duration_seconds_count"
    before_count = value(before, latency, method="GET", route="healthz") or 0
    assert value(after, latency, method="GET", route="healthz") - before_count == 2
    assert value(after, "council_http_request_duration_seconds_bucket", method="GET", route="healthz", le="+Inf") >= 2


def test_task_outcomes_recorded_by_workers_are_counters(client):
    records.record_outcome("progress.tasks.send_reminder", TaskState.SUCCEEDED)
    records.record_outcome("progress.tasks.send_reminder", TaskState.SUCCEEDED)
    records.record_outcome("progress.tasks.send_reminder", TaskState.RETRIED)
    records.record_failure(task_id="t1", task_name="progress.tasks.send_reminder", exception=ValueError("x"))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(response)
    name = "council_celery_tasks_total"
    assert value(found, name, task="progress.tasks.send_reminder", state="succeeded") == 2
    assert value(found, name, task="progress.tasks.send_reminder", state="retried") == 1
    assert value(found, name, task="progress.tasks.send_reminder", state="failed") == 1
    assert value(found, "council_metrics_database_up") == 1


def test_workload_gauges_are_computed_at_scrape_time(client, consented_policy, user):
    secretariat = user("secretariat")
    policy = consented_policy()
    schedule = actions.set_schedule(policy, secretariat, frequency="quarterly", due_days_after_period=30)
    today = calendar.today()
    measure = actions.request_measures(secretariat, policy=policy, request="対応を", due_date=today + timedelta(days=9))
    actions.request_measures(secretariat, policy=policy, request="別の対応を", due_date=today + timedelta(days=9))
    found = samples(client.get("/metrics"))
    open_before = value(found, "council_measure_requests_open")
    overdue_before = value(found, "council_progress_reports_overdue")
    assert open_before == MeasureRequest.objects.filter(status=MeasureStatus.OPEN).count() >= 2

    ProgressReport.objects.filter(schedule=schedule).update(due_date=today - timedelta(days=1))
    MeasureRequest.objects.filter(pk=measure.pk).update(due_date=today - timedelta(days=2))
    found = samples(client.get("/metrics"))
    assert value(found, "council_progress_reports_overdue") == overdue_before + schedule.reports.count()
    overdue = ProgressReport.objects.with_overdue().filter(overdue=True).count()
    assert value(found, "council_progress_reports_overdue") == overdue
    assert value(found, "council_measure_requests_overdue") >= 1
    MeasureRequest.objects.filter(pk=measure.pk).update(status=MeasureStatus.CLOSED)
    found = samples(client.get("/metrics"))
    assert value(found, "council_measure_requests_open") == open_before - 1


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.1.2.3", "172.20.0.5", "192.168.1.5", "::ffff:192.168.1.5", "fd00::5"]
)
def test_without_a_token_loopback_and_private_callers_may_scrape(client, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "", "not-an-address"])
def test_without_a_token_other_callers_are_refused(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 403
    assert b"council_" not in response.content


def test_a_forwarded_for_header_does_not_make_a_caller_local(client):
    response = client.get("/metrics", REMOTE_ADDR="8.8.8.8", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 403


def test_with_a_token_only_the_bearer_of_it_may_scrape(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    refused = client.get("/metrics")  # from loopback, but no token
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token s3cret-metrics-token").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token-and-more").status_code == 401
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token", REMOTE_ADDR="8.8.8.8")
    assert allowed.status_code == 200
    assert b"council_http_requests_total" in allowed.content


def test_it_speaks_openmetrics_when_asked(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.content.endswith(b"# EOF\n")


def test_it_answers_only_get(client):
    assert client.post("/metrics").status_code == 405


def _serve_in_two_processes(multiproc_dir, db_path, path: str) -> subprocess.CompletedProcess:
    """One interpreter that forks: two processes, as two gunicorn workers would be, each answer
    one request (one start-up instead of two)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir), "DATABASE_URL": f"sqlite:///{db_path}",
        "DJANGO_SETTINGS_MODULE": "tests.settings", "SECURE_SSL_REDIRECT": "false", "PYTHONPATH": ROOT,
    })
    code = f"""
import os, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
from django.urls import get_resolver
client = Client()
client.handler.load_middleware()  # the slow imports once, before the fork
get_resolver().url_patterns
child = os.fork()
status = client.get({path!r}).status_code
if child == 0:
    os._exit(0 if status == 200 else 1)
assert status == 200, status
assert os.waitpid(child, 0)[1] == 0, "the child's request failed"
"""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_with_a_multiprocess_directory_a_scrape_adds_up_every_process(client, tmp_path, monkeypatch):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    served = _serve_in_two_processes(directory, tmp_path / "db.sqlite3", "/healthz")
    assert served.returncode == 0, served.stderr
    assert len(list(directory.glob("counter_*.db"))) == 2  # one file per process

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    found = samples(client.get("/metrics"))
    assert value(found, "council_http_requests_total", method="GET", route="healthz", status="200") == 2
    assert value(found, "council_http_request_duration_seconds_count", method="GET", route="healthz") == 2
    assert value(found, "council_metrics_database_up") == 1  # the database figures come along
