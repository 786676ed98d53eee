"""The audit trail's pages, for the secretariat: the filtered list and its CSV export.

Other signed-in users get the 403 page, as on the platform's other secretariat-only pages
(e.g. the quarterly council packs); signed-out visitors are sent to the login page.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from council.audit import present
from council.audit.filters import AuditEventFilter
from council.audit.models import AuditEvent
from tenants.access import access_for

PAGE_SIZE = 50
CSV_COLUMNS = (
    "sequence", "at", "actor", "actor_id", "organization", "ip", "user_agent", "request_id", "action",
    "model", "object_id", "object", "changes", "details", "prev_hash", "hash",
)


def secretariat_only(user) -> None:
    if not access_for(user).is_secretariat:
        raise PermissionDenied(_("監査ログを閲覧できるのは事務局です。"))


def _filtered(request: HttpRequest) -> AuditEventFilter:
    return AuditEventFilter(
        request.GET or None,
        queryset=AuditEvent.objects.select_related("organization"),
        request=request,
    )


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    secretariat_only(request.user)
    filterset = _filtered(request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.elided_range = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    present.decorate(page.object_list)
    return render(
        request,
        "audit/event_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "events": page.object_list,
            "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
            "query": request.GET.urlencode(),
        },
    )


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab/CR) is
    prefixed with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)  # BOM: Excel opens UTF-8 Japanese correctly
    tokyo = timezone.get_default_timezone()
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow([_cell(v) for v in (
            event.sequence,
            event.at.astimezone(tokyo).isoformat(),
            event.actor_repr,
            event.actor_id,
            event.organization.name if event.organization_id and event.organization else "",
            event.ip,
            event.user_agent,
            event.request_id,
            event.action,
            event.model_label,
            event.object_id,
            event.object_repr,
            json.dumps(event.changes, ensure_ascii=False, sort_keys=True),
            json.dumps(event.details, ensure_ascii=False, sort_keys=True),
            event.prev_hash,
            event.hash,
        )])


@login_required
@require_GET
def event_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, streamed (any length, bounded memory)."""
    secretariat_only(request.user)
    filterset = _filtered(request)
    if filterset.is_bound and not filterset.form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in filterset.form.errors.items())
        return HttpResponse(_("絞り込み条件が正しくありません。") + " " + errors, status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(_csv_rows(filterset.qs), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
