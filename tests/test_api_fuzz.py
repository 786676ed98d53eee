"""API fuzzing: every operation of the OpenAPI schema, called with data Schemathesis generates
from that schema, as four demo users with their tokens, over the demo world.

Checked for each call: no 5xx (`not_a_server_error`), the response's body matches the schema
for its status (`response_schema_conformance`), the status is one the schema documents
(`status_code_conformance`) and the Content-Type is the documented one
(`content_type_conformance`).

How it runs, and why:

* The schema is the one the application serves at /api/schema/ (drf-spectacular), loaded
  with Schemathesis' `openapi.from_dict`; the calls go through Schemathesis' WSGI transport
  to Django's WSGI handler, in this thread, on the test database.
* The world is the demo (`load_demo`'s candidates, studies, policies, consent rounds,
  progress, adoption, meetings), so path parameters can name real objects: each `{id}`,
  `{…_pk}`, `{number}`, `{sequence}` and `{kind}` is drawn from the real ones most of the
  time and from whatever Schemathesis generates otherwise (unknown ids, negative numbers…).
* Each call runs in a savepoint that is rolled back: every case sees the same world (a
  DELETE or a transition does not starve the cases after it), and a call that broke the
  transaction cannot hide later failures.
* PDFs are laid out by a stub of WeasyPrint's `write_pdf` (a real one-page PDF rendered
  once): the templates are still rendered, only the layout — a second per PDF — is skipped.
* Bounded: FUZZ_EXAMPLES cases per operation and user (default 50: 200 per operation, 20,000
  calls, about five minutes on one core, in CI on PostgreSQL); raise it for a deeper run, e.g.
  FUZZ_EXAMPLES=250 (100,000 calls), or lower it while working on one thing. Hypothesis
  is derandomized (the same cases each run) unless FUZZ_SEED is set. Failures are collected,
  not shrunk, and reported together at the end, the first few of each kind per operation.
  The figures of the run (cases, statuses) are printed and written to
  test-artifacts/api-fuzz.json.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.core import signals
from django.db import close_old_connections, transaction

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings, strategies as st  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402
from schemathesis.specs.openapi import checks as openapi_checks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
SEED = os.environ.get("FUZZ_SEED")
USERS = tuple(os.environ.get("FUZZ_USERS", "secretariat,soumu,chijikai,sapporo").split(","))
CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.response_schema_conformance,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
]
# The token endpoint is fuzzed too, but a right password is never generated: it answers 400.
REPORT = ROOT / "test-artifacts" / "api-fuzz.json"


def _real_values() -> dict[str, list]:
    """For each resource segment of a path, the identifiers of real objects of the world."""
    from candidates.models import Assessment, BusinessArea, Candidate, FeasibilityStudy
    from council.audit.models import AuditEvent
    from council.meetings.models import AgendaItem, Meeting, MeetingAttendee
    from council.trace.chain import KINDS
    from policies.models import ConsentRound, Policy, PolicyVersion
    from progress.models import Adoption, MeasureRequest, ProgressReport, ReportingSchedule, UsageReport
    from tenants.models import Organization

    def ids(model, field="pk", limit=40):
        return list(model.objects.order_by("-pk").values_list(field, flat=True)[:limit])

    return {
        "adoption": ids(Adoption),
        "audit-events": ids(AuditEvent, "sequence"),
        "business-areas": ids(BusinessArea),
        "candidates": ids(Candidate),
        "assessments": ids(Assessment),
        "consent-rounds": ids(ConsentRound),
        "feasibility-studies": ids(FeasibilityStudy),
        "measure-requests": ids(MeasureRequest),
        "meetings": ids(Meeting),
        "agenda-items": ids(AgendaItem),
        "attendees": ids(MeetingAttendee),
        "organizations": ids(Organization, limit=20) + list(
            Organization.objects.exclude(kind="municipality").values_list("pk", flat=True)
        ),
        "policies": ids(Policy),
        "versions": sorted(set(PolicyVersion.objects.values_list("number", flat=True))),
        "progress-reports": ids(ProgressReport),
        "reporting-schedules": ids(ReportingSchedule),
        "usage-reports": ids(UsageReport),
        "trace": sorted(KINDS),
    }


def _parameter_sources(path: str, real: dict[str, list]) -> dict[str, list]:
    """{path parameter: real values} for one path template: `{id}` takes the resource named
    by the segment before it, `{candidate_pk}` its own, the trace's `{kind}` the kinds."""
    segments = path.strip("/").split("/")
    parents = {"candidate_pk": "candidates", "policy_pk": "policies", "meeting_pk": "meetings"}
    sources = {}
    for index, segment in enumerate(segments):
        if not (segment.startswith("{") and segment.endswith("}")):
            continue
        name = segment[1:-1]
        if "trace" in segments:
            values = real["trace"] if name == "kind" else sorted(
                set(real["candidates"] + real["policies"] + real["progress-reports"])
            )
        elif name in parents:
            values = real[parents[name]]
        elif name == "number":
            values = real["versions"]
        elif name == "sequence":
            values = real["audit-events"]
        else:
            values = real.get(segments[index - 1], [])
        if values:
            sources[name] = values
    return sources


@pytest.fixture
def stub_pdf_layout(monkeypatch):
    import weasyprint

    one_page = weasyprint.HTML(string="<p>PDF</p>").write_pdf()
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", lambda self, *args, **kwargs: one_page)


@pytest.fixture
def demo_world(db):
    from django.conf import settings

    from candidates.demo import load_demo_candidates
    from council.demo import load_demo_meetings
    from policies.demo import load_demo_policies
    from progress.demo import load_demo_progress
    from tenants.demo import load_demo

    load_demo(settings.DEMO_PASSWORD)
    load_demo_candidates()
    load_demo_policies()
    load_demo_progress()
    load_demo_meetings()


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler as the test client uses it: the request signals must not close
    the test's connection (it is inside the test's transaction)."""
    from django.core.wsgi import get_wsgi_application

    handler = get_wsgi_application()

    def app(environ, start_response):
        # Disconnected on every call, not once: Django's test client (used by the test for the
        # schema) connects close_old_connections again after each of its own requests. Were it
        # connected, the first request would close the connection inside the test's transaction
        # (a no-op for SQLite's in-memory database, "the connection is closed" on PostgreSQL).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        return handler(environ, start_response)

    try:
        yield app
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _tokens() -> dict[str, str]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    User = get_user_model()
    return {name: Token.objects.get_or_create(user=User.objects.get(username=name))[0].key for name in USERS}


def _failure_summary(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:1500]


def test_every_operation_survives_generated_requests_from_four_roles(
    demo_world, stub_pdf_layout, wsgi_app, api, settings
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "testserver"]
    raw = api("secretariat").get("/api/schema/", {"format": "json"})
    assert raw.status_code == 200
    schema = schemathesis.openapi.from_dict(raw.json())
    real = _real_values()
    tokens = _tokens()

    started = time.monotonic()
    cases = 0
    statuses: Counter = Counter()
    per_operation: dict[str, Counter] = defaultdict(Counter)
    failures: dict[tuple[str, str], list[str]] = defaultdict(list)
    timings: Counter = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50

    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        sources = _parameter_sources(operation.path, real)
        overrides = st.fixed_dictionaries(
            {name: st.one_of(st.sampled_from(values), st.none()) for name, values in sources.items()}
        ) if sources else st.just({})

        for username in USERS:
            header = {"Authorization": f"Token {tokens[username]}"}

            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=SEED is None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],  # failures are collected, not shrunk
            )
            @given(case=operation.as_strategy(), chosen=overrides)
            def run(case, chosen):
                nonlocal cases
                for name, value in chosen.items():
                    if value is not None and case.path_parameters is not None:
                        case.path_parameters[name] = value
                cases += 1
                with transaction.atomic():
                    try:
                        response = case.call(app=wsgi_app, base_url="http://testserver", headers=header)
                        statuses[response.status_code] += 1
                        per_operation[label][response.status_code] += 1
                        try:
                            case.validate_response(response, checks=CHECKS, headers=header)
                        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — collected, reported below
                            key = (label, exc.__class__.__name__)
                            if len(failures[key]) < 3:
                                failures[key].append(
                                    f"{username}: {case.method} {case.formatted_path} "
                                    f"query={case.query} body={str(case.body)[:300]}\n{_failure_summary(exc)}"
                                )
                    finally:
                        transaction.set_rollback(True)

            if SEED is not None:
                from hypothesis import seed

                run = seed(int(SEED))(run)
            began = time.monotonic()
            run()
            timings[label] += time.monotonic() - began

    elapsed = time.monotonic() - started
    figures = {
        "operations": len(operations),
        "users": list(USERS),
        "examples_per_operation_and_user": EXAMPLES,
        "cases": cases,
        "seconds": round(elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "failures": len(failures),
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"\napi fuzz: {json.dumps(figures, ensure_ascii=False)}")
    print("slowest operations (s):", [(label, round(t, 1)) for label, t in timings.most_common(8)])
    never_ok = sorted(label for label, counter in per_operation.items() if not any(200 <= s < 300 for s in counter))
    print(f"operations never answered 2xx ({len(never_ok)}): {never_ok}")
    assert not failures, "\n\n".join(
        f"== {label} [{kind}] ==\n" + "\n--\n".join(items) for (label, kind), items in sorted(failures.items())
    )
    assert cases >= len(operations) * len(USERS)
    assert statuses[500] == 0
