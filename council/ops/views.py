"""/metrics for Prometheus, and the secretariat's operations page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from council import health
from council.ops import metrics as ops_metrics
from council.ops import records
from council.ops.access import Refused, check_metrics_access
from council.ops.models import TaskFailure, TaskState
from tenants.access import access_for

RECENT_FAILURES = 50

CHECK_LABELS = {
    "database": gettext_lazy("データベース"),
    "redis": gettext_lazy("Redis"),
    "migrations": gettext_lazy("マイグレーション"),
    "celery": gettext_lazy("Celeryワーカー"),
}


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    try:
        check_metrics_access(request)
    except Refused as refused:
        response = HttpResponse(f"{refused.reason}\n", status=refused.status, content_type="text/plain; charset=utf-8")
        if refused.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = ops_metrics.exposition(request.headers.get("Accept"))
    return HttpResponse(body, content_type=content_type)


@login_required
@never_cache
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).is_secretariat:
        raise PermissionDenied(_("運用状況を閲覧できるのは事務局です。"))
    now = timezone.now()
    since = now - timedelta(hours=24)
    ready, checks = health.readiness()
    counts = records.counts_since(since)
    return render(
        request,
        "ops/dashboard.html",
        {
            "ready": ready,
            "checks": [(CHECK_LABELS.get(name, name), result) for name, result in checks.items()],
            "counts": counts,
            "states": TaskState,
            "failures": TaskFailure.objects.all()[:RECENT_FAILURES],
            "failures_24h": TaskFailure.objects.filter(failed_at__gte=since).count(),
            "since": records.hour_of(since),
            "recent_limit": RECENT_FAILURES,
        },
    )
