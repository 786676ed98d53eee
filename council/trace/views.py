"""The trace page: the chain of one commonization effort as a vertical timeline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from council.trace.chain import build_trace
from progress.charts import adoption_bar


@login_required
@require_GET
def trace_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    # build_trace answers 404 for an unknown kind and for an object outside the user's scope.
    trace = build_trace(request.user, kind, pk)
    for step in trace.steps():
        if step.counts:
            # The same stacked bar and legend as the adoption page's nationwide view.
            step.bar = adoption_bar({c.status: c.count for c in step.counts}, _("全国"))
    return render(request, "trace/trace.html", {"trace": trace, "focus": trace.focus})
