"""Scale-out: two gunicorn web processes and two Celery workers share one PostgreSQL and one
Redis, as in the production stack with `--scale worker=2` behind a load balancer.

A policy goes through its whole life over the REST API with token auth, every request
alternating between web 1 and web 2: candidate → assessment → under review → selected →
feasibility study → submitted → accepted → policy → version filled and submitted → consent
round → three ballots → closed; then a reporting schedule, its report filled and submitted,
and the PDFs of the report and of the policy version asked for on both web processes. The
test plays beat (it publishes the periodic tasks, each twice, as two beats would) and counts
what the workers did: each PDF is rendered and stored once, each notification and reminder
is mailed once. A browser-style session signed in on web 1 is used, and signed out, on web 2
(sessions live in the database, not in a process).

Every process runs council.settings, as in production (DEBUG off), with two changes made by a
settings module this test writes: static files are served from the finders, since no
collectstatic has run, and passwords are checked with the suite's fast hasher, which the
test database's users were given. Runs only on PostgreSQL with REDIS_URL set (CI); the Redis is a
redis-server of the test's own when the binary is there, else REDIS_URL's with a queue and
cache prefix of the test's own. Locally:

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE council_scale"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/council_scale REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python -m pytest -q tests/test_scale_out.py
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from council import calendar
from policies.models import PolicyVersion, VersionPdf
from progress.models import DocumentStatus, ProgressDocument, ProgressReport, Reminder
from tests.api_helpers import FILLED_STUDY
from tests.api_progress_helpers import FILLED_REPORT
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE
from tests.worker import (
    MAIL_DIR_ENV,
    ROOT,
    RedisServer,
    SharedRedis,
    Worker,
    _die_with_the_test,
    database_url,
    free_port,
    read_mailbox,
    wait_until,
)

POSTGRES = connection.vendor == "postgresql"

pytestmark = [
    pytest.mark.skipif(
        not (POSTGRES and settings.REDIS_URL), reason="scale-out needs PostgreSQL (DATABASE_URL) and REDIS_URL"
    ),
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 60

SETTINGS_MODULE = '''\
"""Written by tests/test_scale_out.py: production settings, static files from the finders."""
from council.settings import *  # noqa: F401,F403

STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# The test database's users were given their passwords with the suite's hasher (tests/settings.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
'''


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    content: bytes

    def json(self):
        return json.loads(self.content)


class Client:
    """One API client or browser: a token, or cookies kept across both web processes."""

    def __init__(self, token: str | None = None):
        self.token = token
        self.cookies: dict[str, str] = {}

    def request(self, web: "Web", method: str, path: str, *, json_body=None, form=None, headers=None) -> Response:
        sent = {"Host": "127.0.0.1", "Accept": "application/json"}
        data = None
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        if json_body is not None:
            data, sent["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data, sent["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=TIMEOUT)
        try:
            conn.request(method, path, body=data, headers=sent)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, web, path, **kw):
        return self.request(web, "GET", path, **kw)

    def post(self, web, path, body=None, **kw):
        return self.request(web, "POST", path, json_body=body if body is not None else {}, **kw)

    def patch(self, web, path, body, **kw):
        return self.request(web, "PATCH", path, json_body=body, **kw)


def ok(response: Response, *codes: int):
    assert response.status in (codes or (200, 201)), f"{response.status}: {response.content[:1000]!r}"
    return response.json() if response.headers.get("Content-Type", "").startswith("application/json") else response


class Web:
    """`gunicorn -c deploy/gunicorn.conf.py council.wsgi:application` on a port of its own."""

    def __init__(self, name: str, env: dict[str, str], logdir: Path):
        self.name = name
        self.port = free_port()
        self.log_path = logdir / f"web-{name}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "council.wsgi:application"],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_the_test,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self) -> None:
        def healthy():
            if self.process.poll() is not None:
                raise AssertionError(f"web {self.name} exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            try:
                return Client().get(self, "/healthz").status == 200
            except OSError:
                return False

        wait_until(healthy, timeout=TIMEOUT, interval=0.3, message=f"web {self.name} to answer /healthz")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class Stack:
    def __init__(self, broker, tmp_path: Path):
        self.broker = broker
        self.tmp_path = tmp_path
        self.queue = f"council-scale-{uuid.uuid4().hex[:12]}"
        self.mailbox = tmp_path / "mail"
        self.media = tmp_path / "media"
        for directory in (self.mailbox, self.media, tmp_path / "settings"):
            directory.mkdir()
        (tmp_path / "settings" / "scale_out_settings.py").write_text(SETTINGS_MODULE)
        self.webs: list[Web] = []
        self.workers: list[Worker] = []
        self._client = None

    def env(self) -> dict[str, str]:
        env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("CELERY_", "EMAIL_", "DJANGO_", "PYTEST_", "COUNCIL_TEST_", "SECURE_", "AWS_"))
            and key not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "PYTHONPATH", "MEDIA_ROOT", "ALLOWED_HOSTS",
                            "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY"}
        }
        env.update({
            "DJANGO_SETTINGS_MODULE": "scale_out_settings",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{self.tmp_path / 'settings'}",
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "DEBUG": "false",
            "DATABASE_URL": database_url(connection.settings_dict),  # the test database
            "REDIS_URL": self.broker.url,
            "CACHE_KEY_PREFIX": self.queue,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on the loopback: no TLS in front here.
            "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "MEDIA_ROOT": str(self.media),  # the shared media volume
            "EMAIL_BACKEND": "tests.worker.RecordingEmailBackend",
            MAIL_DIR_ENV: str(self.mailbox),
        })
        return env

    def start(self) -> None:
        env = self.env()
        self.webs = [Web(name, env, self.tmp_path) for name in ("1", "2")]
        self.workers = [Worker(name, env=env, queue=self.queue, logdir=self.tmp_path) for name in ("w1", "w2")]
        for web in self.webs:
            web.wait_ready()
        for worker in self.workers:
            worker.wait_ready()

    def publish(self, task_name: str) -> str:
        """What beat does: one message of a periodic task on the queue."""
        if self._client is None:
            from celery import Celery

            self._client = Celery("council-scale-client", broker=self.broker.url, set_as_current=False)
            self._client.conf.update(task_serializer="json", accept_content=["json"],
                                     broker_connection_retry_on_startup=True)
        return self._client.send_task(task_name, queue=self.queue).id

    def logs(self) -> str:
        parts = [f"--- web {w.name} ---\n{w.log()[-3000:]}" for w in self.webs]
        parts += [f"--- worker {w.name} ---\n{w.log()[-3000:]}" for w in self.workers]
        return "\n".join(parts)

    def close(self) -> None:
        print(self.logs())  # shown by pytest when the test failed
        try:
            for worker in self.workers:
                worker.terminate()
            for web in self.webs:
                web.stop()
            for worker in self.workers:
                worker.stop()
        finally:
            if self._client is not None:
                self._client.close()
            if isinstance(self.broker, SharedRedis):
                import redis

                client = redis.Redis.from_url(self.broker.url)
                try:
                    client.delete(self.queue)
                    for key in client.scan_iter(f"{self.queue}:*"):
                        client.delete(key)
                finally:
                    client.close()


@pytest.fixture
def stack(world, tmp_path):
    """The processes of one test. Not shared between tests: the database is flushed after
    each, and a long-lived process's caches (content type ids) would outlive its rows."""
    if shutil.which("redis-server"):
        broker = RedisServer(tmp_path)
    else:
        broker = SharedRedis(settings.REDIS_URL)
    broker.start()
    stack = Stack(broker, tmp_path)
    try:
        stack.start()
        yield stack
    finally:
        try:
            stack.close()
        finally:
            broker.stop()


def token(web: Web, username: str) -> Client:
    body = {"username": username, "password": settings.DEMO_PASSWORD}
    return Client(ok(Client().post(web, "/api/v1/auth/token/", body))["token"])


def mails(stack: Stack) -> Counter:
    return Counter(str(m["Subject"]).strip() for m in read_mailbox(stack.mailbox))


def check_a_browser_session_signed_in_on_one_web_process_works_on_the_other(stack):
    web1, web2 = stack.webs
    browser = Client()
    assert browser.get(web1, "/accounts/login/").status == 200
    signed_in = browser.request(web1, "POST", "/accounts/login/", form={
        "username": "soumu", "password": settings.DEMO_PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"],
    }, headers={"Accept": "text/html"})
    assert signed_in.status == 302 and signed_in.headers["Location"] == "/", signed_in.content[:500]
    assert "sessionid" in browser.cookies

    # The other process knows the session: the page, and the API through the session.
    page = browser.get(web2, "/", headers={"Accept": "text/html"})
    assert page.status == 200
    assert "総務省 担当者" in page.content.decode()
    assert ok(browser.get(web2, "/api/v1/candidates/"))["count"] == 0

    # Signed out on web 2, the session is gone on web 1 too.
    token_before = browser.cookies["csrftoken"]
    out = browser.request(web2, "POST", "/accounts/logout/", form={"csrfmiddlewaretoken": token_before},
                          headers={"Accept": "text/html"})
    assert out.status == 302
    again = browser.get(web1, "/", headers={"Accept": "text/html"})
    assert again.status == 302 and again.headers["Location"].startswith("/accounts/login/")

    # Liveness as the container checks it (deploy/healthcheck.py), against both processes.
    for web in stack.webs:
        env = {"PATH": os.environ["PATH"], "PORT": str(web.port), "ALLOWED_HOSTS": "127.0.0.1"}
        check = subprocess.run([sys.executable, "deploy/healthcheck.py", "web", "/healthz"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=30)
        assert (check.returncode, check.stdout.strip()) == (0, "healthy: /healthz answered 200")
    env["ALLOWED_HOSTS"] = "council.example.go.jp"  # a Host the site refuses: unhealthy, said why
    check = subprocess.run([sys.executable, "deploy/healthcheck.py", "web", "/healthz"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=30)
    assert (check.returncode, check.stdout.strip()) == (1, "unhealthy: /healthz answered 400")


def test_two_web_processes_and_two_workers_share_sessions_and_render_and_mail_once(stack):
    started = time.monotonic()
    timings = {}

    def mark(phase):
        timings[phase] = round(time.monotonic() - started, 1)

    check_a_browser_session_signed_in_on_one_web_process_works_on_the_other(stack)
    mark("sessions")

    web1, web2 = stack.webs
    webs = [web1, web2]
    turn = iter(range(10_000))

    def web():  # every call the other process
        return webs[next(turn) % 2]

    secretariat, soumu = token(web(), "secretariat"), token(web(), "soumu")
    associations = [token(web(), name) for name in ("chijikai", "shichokai", "chosonkai")]
    soumu_org = ok(secretariat.get(web(), "/api/v1/organizations/?kind=ministry&page_size=100"))["results"]
    soumu_id = next(o["id"] for o in soumu_org if o["code"] == "soumu")

    # Stage 1–2: candidate, assessment, decision, feasibility study.
    candidate = ok(secretariat.post(web(), "/api/v1/candidates/", {
        "title": "スケールアウト確認用の候補", "description": "二つのwebプロセスで進める。", "owning_ministry": soumu_id,
    }))["id"]
    ok(secretariat.post(web(), f"/api/v1/candidates/{candidate}/assessments/", {
        "user_need": 4, "expected_effect": 4, "feasibility": 5, "rationale": "全国共通の需要", "viewpoints": ["i"],
    }))
    ok(secretariat.post(web(), f"/api/v1/candidates/{candidate}/transition/", {"to": "under_review"}))
    ok(secretariat.post(web(), f"/api/v1/candidates/{candidate}/transition/", {"to": "selected", "track": "commonization"}))
    due = calendar.next_business_day(calendar.today() + timedelta(days=30)).isoformat()
    study = ok(secretariat.post(web(), "/api/v1/feasibility-studies/", {"candidate": candidate, "due_date": due}))["id"]
    ok(soumu.patch(web(), f"/api/v1/feasibility-studies/{study}/", FILLED_STUDY))
    ok(soumu.post(web(), f"/api/v1/feasibility-studies/{study}/transition/", {"to": "submitted"}))
    ok(secretariat.post(web(), f"/api/v1/feasibility-studies/{study}/transition/", {"to": "accepted", "comment": "受理"}))
    mark("stage 1-2")

    # Stage 3: policy, version, consent.
    policy = ok(soumu.post(web(), "/api/v1/policies/", {"candidate": candidate, "title": "スケールアウト確認用の方針"}))["id"]
    versions = f"/api/v1/policies/{policy}/versions"
    ok(soumu.patch(web(), f"{versions}/1/", {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE}))
    submitted = ok(soumu.post(web(), f"{versions}/1/submit/"))
    version = PolicyVersion.objects.get(policy_id=policy, number=1)
    assert submitted["content_hash"] == version.content_hash
    closes_at = (timezone.now() + timedelta(days=2)).isoformat()
    round_ = ok(secretariat.post(web(), "/api/v1/consent-rounds/", {"policy_version": version.pk, "closes_at": closes_at}))["id"]
    # Two beats' consent reminders (the round closes within 3 days, nobody has voted yet).
    for _ in range(2):
        stack.publish("policies.tasks.send_consent_reminders")
    wait_until(lambda: sum(n for s, n in mails(stack).items() if s.startswith("【同意手続の締切")) >= 3,
               timeout=TIMEOUT, message="the consent reminders")
    for client in associations:
        ok(client.post(web(), f"/api/v1/consent-rounds/{round_}/ballots/", {"choice": "consent", "comment": ""}))
    closed = ok(secretariat.post(web(), f"/api/v1/consent-rounds/{round_}/transition/", {"to": "closed", "comment": "締切"}))
    assert (closed["status"], closed["outcome"]) == ("closed", "consented")
    mark("stage 3")

    # Stage 4: a reporting schedule; its report due in 7 days is reminded (two beats), then filled and submitted.
    ok(secretariat.post(web(), "/api/v1/reporting-schedules/", {"policy": policy, "frequency": "quarterly", "due_days_after_period": 30}))
    report = ok(soumu.get(web(), f"/api/v1/progress-reports/?policy={policy}"))["results"][0]["id"]
    ProgressReport.objects.filter(pk=report).update(due_date=calendar.today() + timedelta(days=7))
    for _ in range(2):
        stack.publish("progress.tasks.plan_and_send_reminders")
    wait_until(lambda: Reminder.objects.filter(sent_at__isnull=False).exists(), timeout=TIMEOUT, message="the reminder")
    ok(soumu.patch(web(), f"/api/v1/progress-reports/{report}/", FILLED_REPORT))
    ok(soumu.post(web(), f"/api/v1/progress-reports/{report}/transition/", {"to": "submitted"}))
    mark("stage 4")

    # PDFs, asked for on both processes: the report's, then the consented version's.
    report_pdf = f"/api/v1/progress-reports/{report}/pdf/"
    version_pdf = f"{versions}/1/pdf/"
    for path in (report_pdf, version_pdf):
        for web_ in webs:
            assert ok(soumu.post(web_, path), 202)["status"] in ("rendering", "ready")

    def fetched(path):
        def ready():
            response = soumu.get(web(), path, headers={"Accept": "application/pdf"})
            return response if response.status == 200 else None

        response = wait_until(ready, timeout=TIMEOUT, interval=0.5, message=f"{path} to be rendered")
        assert response.headers["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
        return response.content

    report_bytes, version_bytes = fetched(report_pdf), fetched(version_pdf)
    assert fetched(report_pdf) == report_bytes and fetched(version_pdf) == version_bytes  # both processes, same file
    mark("pdfs")

    # Once each: one progress document rendered (claimed once), one stored version PDF, one file each.
    documents = ProgressDocument.objects.filter(report_id=report)
    assert [(d.status, d.pages > 0) for d in documents] == [(DocumentStatus.DONE, True)]
    assert VersionPdf.objects.filter(version=version).count() == 1
    stored = sorted(p.relative_to(stack.media).as_posix() for p in stack.media.rglob("*.pdf"))
    assert stored == sorted([documents.get().file.name, VersionPdf.objects.get(version=version).file.name])
    renders = [
        len(re.findall(r"render_progress_document\[[^\]]+\] succeeded in [0-9.e-]+s: True", w.log())) for w in stack.workers
    ]
    assert sum(renders) == 1, renders
    # A version's PDF is not claimed before rendering (policies.pdf.ensure_version_pdf): two
    # requests may both render, and the unique key keeps one row and one file (checked above).
    version_renders = sum(len(re.findall(r"render_version_pdf\[[^\]]+\] succeeded", w.log())) for w in stack.workers)

    # Once each: every notification and reminder reached each of its recipients in one message.
    def sent() -> Counter:
        return Counter((str(m["Subject"]).strip(), str(m["To"]).strip()) for m in read_mailbox(stack.mailbox))

    wait_until(lambda: any(s.startswith("【同意手続の結果】") for s, _ in sent()), timeout=TIMEOUT,
               message="the outcome notification")
    time.sleep(1)  # a duplicate, if any, would arrive by now
    messages = sent()
    assert all(count == 1 for count in messages.values()), messages
    kinds = Counter(re.match(r"【([^】]+)】", subject)[1] for subject, _ in messages)
    assert kinds == {"同意手続の開始": 1, "同意手続の締切が近づいています": 3, "期限7日前": 1, "同意手続の結果": 1}, kinds
    reminded = sorted(to for subject, to in messages if subject.startswith("【同意手続の締切"))
    assert reminded == ["chijikai@example.jp", "chosonkai@example.jp", "shichokai@example.jp"]
    assert Reminder.objects.get().attempts == 1

    # Both processes served the lifecycle, and both workers took tasks.
    for web_ in webs:
        assert web_.log().count('"POST /api/v1/') >= 8, web_.log()[-2000:]
    per_worker = [w.log().count("] succeeded in ") for w in stack.workers]
    assert all(n > 0 for n in per_worker), per_worker
    mark("checked")
    print(f"\ntasks per worker: {per_worker}; version PDF render tasks: {version_renders}; timings (s): {timings}")
