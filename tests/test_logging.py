"""Log lines are JSON objects carrying the request id: in the web process, in the access log
line, and in the Celery tasks a request queues (council.ops)."""

import io
import json
import logging
import os
import subprocess
import sys
import uuid

import pytest
from django.http import HttpResponse
from django.urls import path

from council.celery import app as celery_app
from council.ops.context import TASK_HEADER, clean_request_id, request_id_var
from council.ops.logs import ContextFilter, JsonFormatter
from council.ops.tasks import canary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.django_db

view_logger = logging.getLogger("tests.view")


def logging_view(request):
    view_logger.info("inside the view")
    return HttpResponse("ok")


def queueing_view(request):
    canary.delay()  # eager in the suite: runs here, inside the request
    return HttpResponse("queued")


urlpatterns = [path("log/", logging_view, name="log"), path("queue/", queueing_view, name="queue")]


@pytest.fixture
def log_lines():
    """What the configured console handler (settings.LOGGING) writes, parsed line by line."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, ContextFilter) for f in h.filters))
    if "LOG_FORMAT" not in os.environ:  # the suite runs without DEBUG: JSON is the default
        assert isinstance(handler.formatter, JsonFormatter)
    formatter = handler.formatter
    handler.setFormatter(JsonFormatter())
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)
    handler.setFormatter(formatter)


def by_logger(lines, name):
    return [line for line in lines if line["logger"] == name]


@pytest.mark.urls(__name__)
def test_an_incoming_request_id_is_kept_in_every_line_and_the_response(client, log_lines):
    response = client.get("/log/", HTTP_X_REQUEST_ID="lb-7f3a.42:1")
    assert response["X-Request-ID"] == "lb-7f3a.42:1"
    lines = log_lines()
    (view_line,) = by_logger(lines, "tests.view")
    assert view_line["message"] == "inside the view"
    assert view_line["level"] == "INFO"
    assert view_line["request_id"] == "lb-7f3a.42:1"
    (access,) = by_logger(lines, "council.access")
    assert access["request_id"] == "lb-7f3a.42:1"


@pytest.mark.urls(__name__)
def test_without_one_a_uuid4_is_made_per_request(client, log_lines):
    first = client.get("/log/")["X-Request-ID"]
    second = client.get("/log/")["X-Request-ID"]
    assert first != second
    assert uuid.UUID(first).version == 4 and uuid.UUID(second).version == 4
    assert [line["request_id"] for line in by_logger(log_lines(), "tests.view")] == [first, second]
    assert request_id_var.get() is None  # nothing leaks past the request


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "incoming", ["", "a" * 129, "has space", 'quote"', "line\nbreak", "-leading-dash", "日本語", "x;drop"]
)
def test_an_unsafe_incoming_id_is_replaced(client, log_lines, incoming):
    response = client.get("/log/", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert uuid.UUID(response["X-Request-ID"]).version == 4
    assert by_logger(log_lines(), "tests.view")[0]["request_id"] == response["X-Request-ID"]


def test_ids_up_to_128_of_the_safe_characters_are_accepted():
    assert clean_request_id("a" * 128) == "a" * 128
    assert clean_request_id("0f8fad5b-d9cb-469f-a165-70867728950e") == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert clean_request_id("Root=1-67891233-abcdef012345678912345678") is None  # "=" is not in the set
    assert clean_request_id(None) is None


def test_one_access_line_per_request_with_user_route_status_and_duration(client, user, log_lines):
    secretariat = user("secretariat")
    client.force_login(secretariat)
    response = client.get("/ops/?page=2&token=secret")
    assert response.status_code == 200
    client.logout()
    client.get("/readyz")
    access = by_logger(log_lines(), "council.access")
    assert len(access) == 2
    page, probe = access
    assert page["message"] == "GET /ops/ 200"
    assert {k: page[k] for k in ("method", "path", "status", "route", "user_id")} == {
        "method": "GET", "path": "/ops/", "status": 200, "route": "ops:dashboard", "user_id": secretariat.pk,
    }
    assert isinstance(page["duration_ms"], float) and page["duration_ms"] >= 0
    assert page["request_id"] == response["X-Request-ID"]
    assert "secret" not in json.dumps(access)  # the query string is left out
    assert (probe["route"], probe["user_id"], probe["status"]) == ("readyz", None, 200)


def test_a_refused_request_is_logged_with_its_id_by_django_too(client, log_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    assert response.status_code == 404
    lines = log_lines()
    (not_found,) = by_logger(lines, "django.request")
    assert not_found["request_id"] == "req-404"  # logged after the middleware returned
    assert "request" not in not_found  # the request object itself is not dumped
    assert by_logger(lines, "council.access")[0]["route"] == "<unmatched>"


@pytest.mark.urls(__name__)
def test_a_task_queued_by_a_request_logs_with_the_requests_id(client, log_lines):
    # The suite runs tasks eagerly: the task runs inside the request, in its context. With a
    # real worker the id travels in the task message's headers (before_task_publish), and the
    # worker's task_prerun sets it again: test_ops_worker.py checks that path (CI).
    response = client.get("/queue/", HTTP_X_REQUEST_ID="req-with-task")
    assert response.status_code == 200
    (task_line,) = [line for line in log_lines() if line["message"] == "canary task ran"]
    assert task_line["request_id"] == "req-with-task"
    assert task_line["task_name"] == "council.ops.tasks.canary"
    assert task_line["task_id"]


def test_an_eager_task_takes_the_id_of_its_message_headers_first(log_lines):
    canary.apply(headers={TASK_HEADER: "from-the-header"})
    canary.apply(headers={TASK_HEADER: "bad id with spaces"})
    ran = [line for line in log_lines() if line["message"] == "canary task ran"]
    assert [line["request_id"] for line in ran] == ["from-the-header", None]
    assert request_id_var.get() is None


def test_publishing_a_task_puts_the_request_id_in_its_message_headers():
    token = request_id_var.set("req-published")
    try:
        with celery_app.connection_for_write(url="memory://") as connection:
            queue = f"ops-test-{uuid.uuid4().hex[:8]}"
            celery_app.send_task("council.ops.tasks.canary", connection=connection, queue=queue)
            message = connection.SimpleQueue(queue).get(timeout=5)
            message.ack()
    finally:
        request_id_var.reset(token)
    assert message.headers[TASK_HEADER] == "req-published"
    assert message.headers["task"] == "council.ops.tasks.canary"


def test_without_a_request_nothing_is_added_to_the_headers():
    with celery_app.connection_for_write(url="memory://") as connection:
        queue = f"ops-test-{uuid.uuid4().hex[:8]}"
        celery_app.send_task("council.ops.tasks.canary", connection=connection, queue=queue)
        message = connection.SimpleQueue(queue).get(timeout=5)
        message.ack()
    assert TASK_HEADER not in message.headers


def _settings_process(args: list[str], **env: str) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LOG_FORMAT", "DJANGO_SETTINGS_MODULE"}}
    environment.update({"DJANGO_SETTINGS_MODULE": "council.settings", "SECRET_KEY": "x" * 50, **env})
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_debug_logs_text_and_a_bad_format_is_refused_in_one_line():
    # Two fresh interpreters at once: settings are read once per process.
    code = "import django, logging; django.setup(); logging.getLogger('probe').warning('見えるか')"
    text = _settings_process(["-c", code], DEBUG="true")
    bad = _settings_process(["manage.py", "check"], LOG_FORMAT="xml")
    text_err = text.communicate(timeout=120)[1]
    bad_err = bad.communicate(timeout=120)[1]
    assert text.returncode == 0, text_err
    (probe_line,) = [line for line in text_err.splitlines() if "probe" in line]
    assert probe_line.endswith("WARNING [-] probe: 見えるか")
    assert bad.returncode == 2
    assert bad_err == "configuration error: LOG_FORMAT must be json or text, not 'xml'.\n"
