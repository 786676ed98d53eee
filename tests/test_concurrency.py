"""Races, for real: two threads, each with its own database connection and its own API
client, released together by a threading.Barrier against PostgreSQL (SQLite serialises
writers, so it cannot show a race; these tests skip on it and run in CI).

What each proves: one of two simultaneous transitions of one object wins and the other
gets 409; simultaneous ballots of one association leave one ballot row; two edits of one
draft from the same revision give one 200 and one 409 (no silent overwrite); two requests
of the same progress PDF create one document; two renderings of the same policy PDF render
it once; two beats of the consent reminders mail each association once.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import COMPLETE_BODY

POSTGRES = connections["default"].vendor == "postgresql"

pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="real concurrency needs PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def client_for(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def together(*calls):
    """Run each call in its own thread, released at the same moment; their results in order
    (an exception is returned, not raised, so both outcomes are seen)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 — returned for the assertions
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def draft_policy(world, accepted_candidate):
    from policies import actions

    soumu = get_user_model().objects.get(username="soumu")
    return actions.create_policy(accepted_candidate(), soumu, title="並行編集の方針")


def test_two_simultaneous_transitions_of_one_candidate_one_wins_the_other_gets_409(world):
    from candidates import actions
    from candidates.models import Candidate
    from council.models import TransitionLog
    from tenants.models import Organization

    secretariat = get_user_model().objects.get(username="secretariat")
    candidate = actions.propose_candidate(
        secretariat, title="並行遷移", description="d", owning_ministry=Organization.objects.get(code="soumu")
    )
    url = f"/api/v1/candidates/{candidate.pk}/transition/"
    clients = [client_for("secretariat"), client_for("secretariat")]
    responses = together(
        *[lambda c=c: c.post(url, {"to": "under_review", "comment": "審査へ"}, format="json") for c in clients]
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [getattr(r, "content", r) for r in responses]
    assert Candidate.objects.get(pk=candidate.pk).status == "under_review"
    assert TransitionLog.objects.filter(object_id=candidate.pk, to_status="under_review").count() == 1


def test_simultaneous_ballots_of_one_association_through_the_api_leave_one_row(world, submitted_policy):
    from policies import actions
    from policies.models import Ballot

    policy = submitted_policy()
    round_ = actions.open_round(
        policy.versions.get(), get_user_model().objects.get(username="secretariat"),
        closes_at=timezone.now() + timedelta(days=3),
    )
    url = f"/api/v1/consent-rounds/{round_.pk}/ballots/"
    clients = [client_for("chijikai"), client_for("chijikai")]
    responses = together(*[
        lambda c=c, choice=choice: c.post(url, {"choice": choice, "comment": "理由"}, format="json")
        for c, choice in zip(clients, ("consent", "objection"))
    ])
    assert all(r.status_code in (200, 201) for r in responses), [getattr(r, "content", r) for r in responses]
    ballots = Ballot.objects.filter(round=round_)
    assert ballots.count() == 1
    assert ballots.get().choice in ("consent", "objection")


def test_two_edits_of_one_draft_from_the_same_revision_one_200_one_409_no_overwrite(draft_policy):
    from policies.models import PolicyVersion

    url = f"/api/v1/policies/{draft_policy.pk}/versions/1/"
    clients = [client_for("soumu"), client_for("soumu")]
    bodies = [COMPLETE_BODY + "\n甲の編集", COMPLETE_BODY + "\n乙の編集"]
    responses = together(*[
        lambda c=c, body=body: c.patch(url, {"body": body, "revision": 1}, format="json")
        for c, body in zip(clients, bodies)
    ])
    codes = [r.status_code for r in responses]
    assert sorted(codes) == [200, 409], [getattr(r, "content", r) for r in responses]
    winner = bodies[codes.index(200)]
    version = PolicyVersion.objects.get(policy=draft_policy, number=1)
    assert (version.body, version.revision) == (winner, 2)
    loser = responses[codes.index(409)].json()
    assert "detail" in loser


def test_two_simultaneous_requests_of_one_progress_pdf_create_one_document(world, consented_policy, monkeypatch):
    from progress import actions, tasks
    from progress.models import ProgressDocument, ProgressReport
    from progress.pdf import request_document

    secretariat = get_user_model().objects.get(username="secretariat")
    schedule = actions.set_schedule(consented_policy(), secretariat, frequency="quarterly", due_days_after_period=30)
    report = ProgressReport.objects.filter(schedule=schedule).first()
    queued = []
    # The rendering is not the point here (tests/test_celery_worker.py renders for real).
    monkeypatch.setattr(tasks.render_progress_document, "delay_on_commit", lambda pk: queued.append(pk))
    soumu = get_user_model().objects.get(username="soumu")
    documents = together(*[lambda: request_document(soumu, report=report, language="ja")] * 2)
    assert all(isinstance(d, ProgressDocument) for d in documents), documents
    assert ProgressDocument.objects.filter(report=report).count() == 1
    assert documents[0].pk == documents[1].pk
    assert queued == [documents[0].pk]


def test_two_simultaneous_renderings_of_one_policy_pdf_render_it_once(world, submitted_policy, monkeypatch):
    from policies import pdf as policy_pdf
    from policies.models import VersionPdf, VersionPdfClaim

    version = submitted_policy().versions.get()
    rendered = []
    real = policy_pdf.render_version_pdf_bytes

    def slow_render(version, language=None):
        rendered.append(threading.get_ident())
        time.sleep(1.0)  # long enough for the other thread to ask meanwhile
        return real(version, language)

    monkeypatch.setattr(policy_pdf, "render_version_pdf_bytes", slow_render)
    results = together(*[lambda: policy_pdf.ensure_version_pdf(version, "ja")] * 2)
    assert len(rendered) == 1
    pdfs = [r for r in results if r is not None]
    assert [type(r) for r in pdfs] == [VersionPdf]  # the other was told someone renders it (None)
    assert VersionPdf.objects.filter(version=version).count() == 1
    assert VersionPdfClaim.objects.get().attempts == 1
    # Asked again later, it is there: no second rendering.
    assert policy_pdf.ensure_version_pdf(version, "ja").pk == pdfs[0].pk
    assert len(rendered) == 1


def test_two_simultaneous_beats_of_consent_reminders_mail_each_association_once(world, submitted_policy, settings):
    from policies import actions, tasks
    from policies.models import ReminderLog

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    round_ = actions.open_round(
        submitted_policy().versions.get(), get_user_model().objects.get(username="secretariat"),
        closes_at=timezone.now() + timedelta(days=2),
    )
    mail.outbox = []  # the opening notification
    results = together(tasks.send_consent_reminders, tasks.send_consent_reminders)
    assert sum(results) == 3, results
    recipients = sorted(to for message in mail.outbox for to in message.to)
    assert recipients == ["chijikai@example.jp", "chosonkai@example.jp", "shichokai@example.jp"]
    logs = ReminderLog.objects.filter(round=round_, kind="3d")
    assert logs.count() == 3
    assert all(log.sent_at is not None and log.attempts == 1 for log in logs)
