"""A meeting's two PDFs: the meeting pack (agenda plus the documents of each item) and the
minutes (attendees, agenda with the decisions, and the minutes text). A4, Japanese by
default (English when asked for), rendered by council.pdf.render_pdf in a Celery task.

One PDF per content: a PDF row is keyed by the SHA-256 of the HTML it is rendered from.
Asking again for unchanged content returns the row already made; any change to the meeting
or to a document on its agenda changes the HTML, hence the key, and needs a new rendering.
A row is claimed (pending/failed → rendering, by a conditional update) before rendering,
so two workers, or a redelivered task, never both render it.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from pypdf import PdfReader

from council.meetings.models import (
    AgendaItem,
    AgendaKind,
    Meeting,
    MeetingPdf,
    PdfStatus,
)
from council.pdf import render_pdf

TEMPLATES = {MeetingPdf.Kind.PACK: "pdf/meeting_pack.html", MeetingPdf.Kind.MINUTES: "pdf/meeting_minutes.html"}
LANGUAGES = ("ja", "en")
# A row left "rendering" longer than this by a worker that died is taken over.
RENDER_LEASE = timedelta(minutes=10)


def language_of(value: str | None) -> str:
    """The PDF language for a request's language code (Japanese unless English)."""
    return "en" if (value or "").lower().startswith("en") else "ja"


# --- What goes into each PDF --------------------------------------------------------------------


def _candidate_document(candidate, weights) -> dict:
    from candidates.models import Criterion, ScoreSummary

    summary = ScoreSummary(list(candidate.assessments.all()), weights).as_dict()
    scores = [
        {"label": Criterion(row["criterion"]).label, "mean": row["mean"], "count": row["count"]}
        for row in summary["criteria"]
    ]
    return {
        "candidate": candidate,
        "business_areas": list(candidate.business_areas.all()),
        "scores": scores,
        "weighted_total": summary["weighted_total"],
        "assessor_count": summary["assessor_count"],
        "study": getattr(candidate, "study", None),
    }


def _round_document(round_, weights=None) -> dict:
    from policies.actions import outcome_of
    from policies.models import Outcome

    ballots = list(round_.ballots.all())
    voters = sorted(round_.voters.all(), key=lambda v: v.organization.code)
    voter_ids = {v.organization_id for v in voters}
    expected = round_.outcome or outcome_of(voter_ids, {b.organization_id: b.choice for b in ballots})
    return {
        "round": round_,
        "version": round_.version,
        "policy": round_.policy,
        "ballots": ballots,
        "voters": [v.organization for v in voters],
        "expected": Outcome(expected).label if expected else "",
    }


def _policy_document(policy, weights=None) -> dict:
    version = policy.versions.filter(submitted_at__isnull=False).order_by("-number").first()
    return {"policy": policy, "version": version}


def _report_document(report, weights=None) -> dict:
    from progress.models import MilestoneStatus

    statuses = dict(MilestoneStatus.choices)
    return {
        "report": report,
        "milestones": [{**m, "status_label": statuses.get(m.get("status"), "")} for m in report.milestones],
        "overall": report.overall_progress,
    }


DOCUMENTS = {
    AgendaKind.SELECTION: _candidate_document,
    AgendaKind.CONSENT: _round_document,
    AgendaKind.POLICY: _policy_document,
    AgendaKind.PROGRESS_REPORT: _report_document,
    AgendaKind.MEASURE_REQUEST: lambda measure, weights=None: {"measure": measure},
}


def _items(meeting: Meeting, kind: str):
    from django.db.models import Prefetch

    from policies.models import Ballot, ConsentVoter

    items = AgendaItem.objects.filter(meeting=meeting)
    if kind == MeetingPdf.Kind.MINUTES:
        # Published minutes are everyone's: only the items every signed-in user may see.
        return items.public().select_related("decision").order_by("order", "pk")
    return items.select_related(
        "candidate", "candidate__owning_ministry", "candidate__study", "consent_round", "consent_round__policy",
        "consent_round__policy__ministry", "consent_round__version", "policy", "policy__ministry", "progress_report",
        "progress_report__policy", "progress_report__policy__ministry", "progress_report__schedule",
        "measure_request", "measure_request__policy", "measure_request__ministry",
    ).prefetch_related(
        "candidate__assessments", "candidate__business_areas",
        Prefetch("consent_round__ballots", queryset=Ballot.objects.select_related("organization")),
        Prefetch("consent_round__voters", queryset=ConsentVoter.objects.select_related("organization")),
    ).order_by("order", "pk")


def context_for(meeting: Meeting, kind: str) -> dict:
    from candidates.models import CriteriaWeights

    items = list(_items(meeting, kind))
    if kind == MeetingPdf.Kind.PACK:
        weights = CriteriaWeights.current()
        for item in items:
            make = DOCUMENTS.get(item.kind)
            item.document = make(item.target, weights) if make else None
    return {
        "meeting": meeting,
        "attendees": list(meeting.attendees.select_related("organization")),
        "items": items,
        "kind": kind,
    }


def render_html(meeting: Meeting, kind: str, language: str) -> str:
    with translation.override(language):
        return render_to_string(TEMPLATES[kind], context_for(meeting, kind))


def content_hash(meeting: Meeting, kind: str, language: str) -> str:
    return hashlib.sha256(render_html(meeting, kind, language).encode()).hexdigest()


# --- Requests and their state -------------------------------------------------------------------


def current_pdf(meeting: Meeting, kind: str, language: str, key: str | None = None) -> MeetingPdf | None:
    """The rendered PDF of the meeting's current content, if any."""
    key = key or content_hash(meeting, kind, language)
    return MeetingPdf.objects.filter(
        meeting=meeting, kind=kind, language=language, content_hash=key, status=PdfStatus.DONE
    ).first()


def pdf_state(meeting: Meeting, kind: str, language: str) -> dict:
    """For a page: the current PDF (if rendered) and the request for the current content."""
    key = content_hash(meeting, kind, language)
    row = MeetingPdf.objects.filter(meeting=meeting, kind=kind, language=language, content_hash=key).first()
    return {"kind": kind, "ready": row if row and row.status == PdfStatus.DONE else None, "request": row}


def _stale_rendering() -> Q:
    return Q(status=PdfStatus.RENDERING, started_at__lt=timezone.now() - RENDER_LEASE)


def request_pdf(meeting: Meeting, kind: str, language: str, by) -> MeetingPdf:
    """Ask for the PDF of the meeting's current content; queues a rendering (after commit)
    unless that content is rendered or being rendered. The caller checks `may_read_pdf`."""
    from council.meetings import tasks

    if kind not in TEMPLATES:
        raise ValueError(kind)
    language = language_of(language)
    key = content_hash(meeting, kind, language)
    row = MeetingPdf.objects.filter(meeting=meeting, kind=kind, language=language, content_hash=key).first()
    if row is None:
        try:
            with transaction.atomic():
                row = MeetingPdf.objects.create(
                    meeting=meeting, kind=kind, language=language, content_hash=key, requested_by=by
                )
        except IntegrityError:  # asked for at the same moment by someone else: theirs will do
            return MeetingPdf.objects.get(meeting=meeting, kind=kind, language=language, content_hash=key)
    elif row.status == PdfStatus.DONE or (row.status == PdfStatus.RENDERING and not _is_stale(row)):
        return row
    # New, failed, abandoned mid-render, or pending (its message may have been lost): queue
    # it; the claim in run() makes a second message harmless.
    pk = row.pk
    transaction.on_commit(lambda: tasks.render_meeting_pdf.delay(pk))
    return row


def _is_stale(row: MeetingPdf) -> bool:
    return row.started_at is not None and row.started_at < timezone.now() - RENDER_LEASE


class ContentChanged(Exception):
    """The meeting changed between the request and the rendering: that content is gone."""


def run(pdf_id: int) -> bool:
    """Render one requested PDF; True when this call rendered it."""
    claimed = (
        MeetingPdf.objects.filter(pk=pdf_id)
        .filter(Q(status__in=[PdfStatus.PENDING, PdfStatus.FAILED]) | _stale_rendering())
        .update(status=PdfStatus.RENDERING, started_at=timezone.now(), error="")
    )
    if not claimed:
        return False
    row = MeetingPdf.objects.select_related("meeting").get(pk=pdf_id)
    try:
        with translation.override(row.language):
            context = context_for(row.meeting, row.kind)
            html = render_to_string(TEMPLATES[row.kind], context)
            if hashlib.sha256(html.encode()).hexdigest() != row.content_hash:
                raise ContentChanged(gettext("内容が変更されました。もう一度PDFを作成してください。"))
            data = render_pdf(TEMPLATES[row.kind], context)
    except ContentChanged as exc:
        MeetingPdf.objects.filter(pk=pdf_id).update(status=PdfStatus.FAILED, error=str(exc), finished_at=timezone.now())
        return False
    except Exception as exc:  # recorded on the row, shown on the page, and re-raised for Celery's retry
        MeetingPdf.objects.filter(pk=pdf_id).update(
            status=PdfStatus.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:500], finished_at=timezone.now()
        )
        raise
    pages = len(PdfReader(io.BytesIO(data)).pages)
    name = f"meeting-{row.meeting.number}-{row.kind}-{row.language}-{row.content_hash[:12]}.pdf"
    row.file.save(name, ContentFile(data), save=False)
    MeetingPdf.objects.filter(pk=pdf_id).update(
        status=PdfStatus.DONE, file=row.file.name, size=len(data), pages=pages, finished_at=timezone.now()
    )
    return True


def download_name(meeting: Meeting, kind: str, language: str) -> str:
    return f"council-meeting-{meeting.number}-{kind}{'-en' if language == 'en' else ''}.pdf"
