"""PDFs of stage 4: a progress report, and the council pack of a quarter."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from pypdf import PdfReader

from council.pdf import pdf_language, render_pdf
from progress.models import (
    Adoption,
    AdoptionStatus,
    DocumentStatus,
    MilestoneStatus,
    ProgressDocument,
    ProgressReport,
)
from progress.periods import Period

ADOPTION_ORDER = [s.value for s in AdoptionStatus]
# A request still pending after this long is queued again when asked for (its task message may
# have been lost with a Redis restart); the claim in run() keeps a duplicate message harmless.
REQUEUE_AFTER = timedelta(seconds=60)


def adoption_figures(policy_ids) -> dict[int, dict]:
    """Per policy: counts per adoption status and the share already in use."""
    counts: dict[int, Counter] = {}
    for policy_id, status, n in (
        Adoption.objects.filter(policy_id__in=policy_ids).values_list("policy_id", "status").annotate(n=Count("pk")).order_by()
    ):
        counts.setdefault(policy_id, Counter())[status] = n
    labels = dict(AdoptionStatus.choices)
    figures = {}
    for policy_id, counter in counts.items():
        total = sum(counter.values())
        figures[policy_id] = {
            "rows": [(labels[s], counter.get(s, 0)) for s in ADOPTION_ORDER],
            "total": total,
            "in_use_rate": round(100 * counter.get(AdoptionStatus.IN_USE, 0) / total, 1) if total else None,
        }
    return figures


def _report_context(report: ProgressReport) -> dict:
    statuses = dict(MilestoneStatus.choices)
    return {
        "report": report,
        "milestones": [{**m, "status_label": statuses.get(m.get("status"), "")} for m in report.milestones],
        "overall": report.overall_progress,
    }


def quarter_range(fiscal_year: int, quarter: int) -> tuple[date, date]:
    period = Period(fiscal_year, quarter, "quarterly")
    return period.start, period.end


def pack_reports(fiscal_year: int, quarter: int):
    start, end = quarter_range(fiscal_year, quarter)
    return (
        ProgressReport.objects.filter(period_end__gte=start, period_end__lte=end)
        .select_related("policy", "policy__ministry", "schedule")
        .order_by("policy__ministry__code", "policy_id")
    )


def render_document(document: ProgressDocument) -> bytes:
    if document.kind == ProgressDocument.Kind.REPORT:
        report = ProgressReport.objects.select_related("policy", "policy__ministry", "schedule").get(pk=document.report_id)
        context = {**_report_context(report), "adoption": adoption_figures([report.policy_id]).get(report.policy_id)}
        return render_pdf("progress/report_pdf.html", context)
    reports = list(pack_reports(document.fiscal_year, document.quarter))
    figures = adoption_figures([r.policy_id for r in reports])
    entries = [{**_report_context(r), "adoption": figures.get(r.policy_id)} for r in reports]
    start, end = quarter_range(document.fiscal_year, document.quarter)
    return render_pdf(
        "progress/pack_pdf.html",
        {"entries": entries, "fiscal_year": document.fiscal_year, "quarter": document.quarter, "start": start, "end": end},
    )


def render_lease() -> timedelta:
    """How long a rendering claim holds: past it, the worker rendering is taken to have died."""
    return timedelta(seconds=getattr(settings, "PDF_RENDER_LEASE_SECONDS", 600))


def _stale_rendering() -> Q:
    return Q(status=DocumentStatus.RENDERING, started_at__lt=timezone.now() - render_lease())


def run(document_id: int) -> bool:
    """Render a pending document once: claimed by a conditional update, so two workers (or a
    redelivered task) never both render it; a rendering whose claim is older than the lease
    (its worker died) is claimed again."""
    claimed = (
        ProgressDocument.objects.filter(pk=document_id)
        .filter(Q(status__in=[DocumentStatus.PENDING, DocumentStatus.FAILED]) | _stale_rendering())
        .update(status=DocumentStatus.RENDERING, started_at=timezone.now(), error="")
    )
    if not claimed:
        return False
    document = ProgressDocument.objects.get(pk=document_id)
    try:
        with translation.override(pdf_language(document.language)):
            data = render_document(document)
    except Exception as exc:  # recorded on the row, shown on the page, and re-raised for Celery
        ProgressDocument.objects.filter(pk=document_id).update(
            status=DocumentStatus.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:500], finished_at=timezone.now()
        )
        raise
    pages = len(PdfReader(io.BytesIO(data)).pages)
    name = f"progress-{document.kind}-{document.pk}-{document.language}.pdf"
    document.file.save(name, ContentFile(data), save=False)
    ProgressDocument.objects.filter(pk=document_id).update(
        status=DocumentStatus.DONE, file=document.file.name, pages=pages, finished_at=timezone.now()
    )
    return True


def request_document(by, *, report: ProgressReport | None = None, fiscal_year: int | None = None,
                     quarter: int | None = None, language: str | None = None) -> ProgressDocument:
    """Queue a PDF (after commit) with its labels in `language` (by default the requester's,
    i.e. the active language); an identical request still pending or rendering is reused."""
    from progress import tasks

    language = pdf_language(language)
    kind = ProgressDocument.Kind.REPORT if report is not None else ProgressDocument.Kind.PACK
    subject = {"kind": kind, "report": report, "fiscal_year": fiscal_year, "quarter": quarter, "language": language}
    active = ProgressDocument.objects.filter(**subject, status__in=[DocumentStatus.PENDING, DocumentStatus.RENDERING])
    for _attempt in range(2):
        existing = active.first()
        if existing is None:
            try:
                # One active request per PDF (a partial unique constraint): of two simultaneous
                # requests one inserts, the other waits for its commit and reuses its row.
                with transaction.atomic():
                    document = ProgressDocument.objects.create(**subject, requested_by=by)
            except IntegrityError:
                continue
            tasks.render_progress_document.delay_on_commit(document.pk)
            return document
        # Pending for a while (its message may have been lost with Redis) or abandoned mid-render
        # (its worker died): queue it again; the claim in run() makes a second message harmless.
        if (existing.status == DocumentStatus.PENDING and existing.requested_at < timezone.now() - REQUEUE_AFTER) or (
            existing.status == DocumentStatus.RENDERING and existing.started_at < timezone.now() - render_lease()
        ):
            tasks.render_progress_document.delay_on_commit(existing.pk)
        return existing
    return active.get()


def current_pdf(report: ProgressReport, language: str | None = None) -> ProgressDocument | None:
    """The newest rendered PDF in a language (the reader's by default) requested since the
    report last changed (content or status)."""
    return (
        ProgressDocument.objects.filter(
            kind=ProgressDocument.Kind.REPORT, report=report, status=DocumentStatus.DONE,
            language=pdf_language(language), requested_at__gte=report.updated_at,
        )
        .order_by("-requested_at")
        .first()
    )


def latest_request(report: ProgressReport, language: str | None = None) -> ProgressDocument | None:
    """The newest PDF request for the report in a language (the reader's by default), whatever
    its status (shown on the page)."""
    return (
        ProgressDocument.objects.filter(kind=ProgressDocument.Kind.REPORT, report=report, language=pdf_language(language))
        .order_by("-requested_at")
        .first()
    )
