"""PDFs of stage 4: a progress report, and the council pack of a quarter."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date

from django.core.files.base import ContentFile
from django.db.models import Count
from django.utils import timezone
from pypdf import PdfReader

from council.pdf import render_pdf
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
        "overall": report.overall_progress(),
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


def run(document_id: int) -> bool:
    """Render a pending document once: claimed by a conditional update, so two workers (or a
    redelivered task) never both render it."""
    claimed = ProgressDocument.objects.filter(
        pk=document_id, status__in=[DocumentStatus.PENDING, DocumentStatus.FAILED]
    ).update(status=DocumentStatus.RENDERING, started_at=timezone.now(), error="")
    if not claimed:
        return False
    document = ProgressDocument.objects.get(pk=document_id)
    try:
        data = render_document(document)
    except Exception as exc:  # recorded on the row, shown on the page, and re-raised for Celery
        ProgressDocument.objects.filter(pk=document_id).update(
            status=DocumentStatus.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:500], finished_at=timezone.now()
        )
        raise
    pages = len(PdfReader(io.BytesIO(data)).pages)
    name = f"progress-{document.kind}-{document.pk}.pdf"
    document.file.save(name, ContentFile(data), save=False)
    ProgressDocument.objects.filter(pk=document_id).update(
        status=DocumentStatus.DONE, file=document.file.name, pages=pages, finished_at=timezone.now()
    )
    return True


def request_document(by, *, report: ProgressReport | None = None, fiscal_year: int | None = None,
                     quarter: int | None = None) -> ProgressDocument:
    """Queue a PDF (after commit); an identical request still pending or rendering is reused."""
    from django.db import transaction

    from progress import tasks

    kind = ProgressDocument.Kind.REPORT if report is not None else ProgressDocument.Kind.PACK
    existing = ProgressDocument.objects.filter(
        kind=kind, report=report, fiscal_year=fiscal_year, quarter=quarter,
        status__in=[DocumentStatus.PENDING, DocumentStatus.RENDERING],
    ).first()
    if existing is not None:
        return existing
    document = ProgressDocument.objects.create(kind=kind, report=report, fiscal_year=fiscal_year, quarter=quarter, requested_by=by)
    transaction.on_commit(lambda: tasks.render_progress_document.delay(document.pk))
    return document


def current_pdf(report: ProgressReport) -> ProgressDocument | None:
    """The newest rendered PDF requested since the report last changed (content or status)."""
    return (
        ProgressDocument.objects.filter(
            kind=ProgressDocument.Kind.REPORT, report=report, status=DocumentStatus.DONE,
            requested_at__gte=report.updated_at,
        )
        .order_by("-requested_at")
        .first()
    )


def latest_request(report: ProgressReport) -> ProgressDocument | None:
    """The newest PDF request for the report, whatever its status (shown on the page)."""
    return ProgressDocument.objects.filter(kind=ProgressDocument.Kind.REPORT, report=report).order_by("-requested_at").first()
