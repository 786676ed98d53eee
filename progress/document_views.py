"""Pages for stage 4 PDFs: a report's PDF, and the quarterly council packs (secretariat)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from council import calendar
from progress.models import DocumentStatus, ProgressDocument, ProgressReport
from progress.pdf import current_pdf, request_document
from progress.periods import Period
from tenants.access import access_for


def _pdf_response(document: ProgressDocument, filename: str) -> FileResponse:
    response = FileResponse(document.file.open("rb"), content_type="application/pdf", as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """GET downloads the report's current PDF; POST asks for it to be rendered."""
    report = get_object_or_404(ProgressReport.objects.visible_to(request.user), pk=pk)
    if request.method == "POST":
        if current_pdf(report) is None:
            request_document(request.user, report=report)
            messages.info(request, _("PDFの作成を受け付けました。作成状況はこのページに表示されます。"))
        return redirect(report.get_absolute_url() + "#pdf")
    document = current_pdf(report)
    if document is None:
        raise Http404(_("PDFはまだ作成されていません。"))
    return _pdf_response(document, f"progress-report-{report.pk}.pdf")


def _secretariat_only(user) -> None:
    if not access_for(user).is_secretariat:
        raise PermissionDenied(_("協議会資料を作成・閲覧できるのは事務局です。"))


@login_required
@require_http_methods(["GET", "POST"])
def packs(request: HttpRequest) -> HttpResponse:
    """The quarterly council packs: every policy's report of the quarter, with KPIs and adoption."""
    _secretariat_only(request.user)
    if request.method == "POST":
        try:
            fiscal_year, quarter = (int(part) for part in request.POST.get("period", "").split("-"))
        except ValueError:
            fiscal_year = quarter = 0
        if not (2000 <= fiscal_year <= 2100 and 1 <= quarter <= 4):
            messages.error(request, _("年度と四半期を正しく選んでください。"))
            return redirect("progress:packs")
        request_document(request.user, fiscal_year=fiscal_year, quarter=quarter)
        messages.info(request, _("協議会資料の作成を受け付けました。"))
        return redirect("progress:packs")
    current = Period.containing(calendar.today(), "quarterly")
    quarters, period = [], current
    for _step in range(8):  # this quarter and the seven before it
        quarters.append(period)
        previous_number = period.number - 1 or 4
        period = Period(period.fiscal_year - (period.number == 1), previous_number, "quarterly")
    documents = ProgressDocument.objects.filter(kind=ProgressDocument.Kind.PACK).select_related("requested_by")[:20]
    return render(request, "progress/packs.html", {"quarters": quarters, "documents": documents})


@login_required
def pack_download(request: HttpRequest, pk: int) -> HttpResponse:
    _secretariat_only(request.user)
    document = get_object_or_404(ProgressDocument, pk=pk, kind=ProgressDocument.Kind.PACK, status=DocumentStatus.DONE)
    return _pdf_response(document, f"council-pack-FY{document.fiscal_year}-Q{document.quarter}.pdf")
