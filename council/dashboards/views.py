"""The dashboard pages: the home page of every signed-in user (the secretariat's working view;
everyone else reads the same figures), a prefecture's municipalities, the costs, and the
downloads of each table. Figures come from ``queries`` (pre-aggregated); only the short lists
of overdue and open items are read from the source tables, limited to what the user may see."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from council import calendar
from council.dashboards import charts, exports, queries, tables
from council.dashboards.forms import DashboardFilterForm
from council.japanmap import render_map
from policies.models import Policy, PolicyStatus
from progress.charts import adoption_bar
from tenants.access import access_for
from tenants.models import Membership, Organization, OrganizationKind

LIST_LIMIT = 8


def _context(request: HttpRequest) -> dict:
    """The visible policies, the filter form and the filters it gives."""
    policies = list(Policy.objects.visible_to(request.user).select_related("ministry").order_by("pk"))
    form = DashboardFilterForm(request.GET or None, policies=policies)
    ministry = form.value("ministry")
    fiscal_year = form.value("fiscal_year")
    policy_id = form.value("policy")
    if ministry is not None:
        policies = [p for p in policies if p.ministry_id == ministry.pk]
    filters = queries.Filters(ministry=ministry.pk if ministry else None, fiscal_year=fiscal_year, policy=policy_id)
    return {"form": form, "policies": policies, "filters": filters, "query": request.GET.urlencode()}


def _map_policy(policies: list[Policy], filters: queries.Filters) -> Policy | None:
    """The policy whose adoption the map shows: the chosen one, else the first consented one."""
    if filters.policy is not None:
        return next((p for p in policies if p.pk == filters.policy), None)
    return next((p for p in policies if p.status == PolicyStatus.CONSENTED), None)


def _rate_map(data: dict, policy: Policy):
    rates = {row["code"]: row["in_use_rate"] for row in data["results"]}
    top = max((r for r in rates.values() if r is not None), default=0)

    def link(code: str) -> str:
        return f"{reverse('dashboards:prefecture', args=[code])}?{urlencode({'policy': policy.pk})}"

    return render_map(
        rates,
        title=_("都道府県別の利用率：%(policy)s") % {"policy": policy.title},
        link=link,
        legend_label=_("利用率（%）"),
        scale=(0, max(10, math.ceil(top / 10) * 10)),
    )


def _attention(user, filters: queries.Filters) -> dict:
    """Short lists of what needs attention, among what the user may see."""
    from candidates.models import FeasibilityStudy, StudyStatus
    from progress.models import OPEN_REPORT_STATUSES, MeasureRequest, MeasureStatus, ProgressReport

    today = calendar.today()
    reports = ProgressReport.objects.visible_to(user).filter(status__in=OPEN_REPORT_STATUSES, due_date__lt=today)
    studies = FeasibilityStudy.objects.visible_to(user).filter(
        status__in=(StudyStatus.ASSIGNED, StudyStatus.RETURNED), due_date__lt=today
    )
    measures = MeasureRequest.objects.visible_to(user).filter(status=MeasureStatus.OPEN)
    if filters.ministry is not None:
        reports = reports.filter(policy__ministry_id=filters.ministry)
        studies = studies.filter(ministry_id=filters.ministry)
        measures = measures.filter(ministry_id=filters.ministry)
    if filters.policy is not None:
        reports = reports.filter(policy_id=filters.policy)
        studies = studies.filter(candidate__policy__pk=filters.policy)
        measures = measures.filter(policy_id=filters.policy)
    return {
        "overdue_reports": list(reports.select_related("policy").order_by("due_date", "pk")[:LIST_LIMIT]),
        "overdue_studies": list(studies.select_related("candidate").order_by("due_date", "pk")[:LIST_LIMIT]),
        "open_measures": list(measures.select_related("policy", "ministry").order_by("due_date", "pk")[:LIST_LIMIT]),
    }


def _stages(summary: dict) -> list[dict]:
    cards = []
    for stage, label in tables.stage_labels().items():
        figures = summary[stage]
        by_status = figures if stage == "consent_outcomes" else figures["by_status"]
        labels = tables.status_labels(stage)
        cards.append({
            "key": stage, "label": label, "total": sum(by_status.get(k, 0) for k in labels),
            "bar": charts.stage_bar(by_status, labels, label), "overdue": figures.get("overdue") if stage != "consent_outcomes" else None,
        })
    return cards


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    ctx = _context(request)
    filters = ctx["filters"]
    summary = queries.summary(filters)
    map_policy = _map_policy(ctx["policies"], filters)
    adoption = trend = None
    if map_policy is not None:
        adoption = queries.adoption_by_prefecture(map_policy.pk)
        points = queries.adoption_trend(map_policy.pk, filters.fiscal_year)
        trend = {"chart": charts.trend_chart(points), "points": points[-12:]}
    policy_rows = queries.adoption_by_policy(Policy.objects.filter(pk__in=[p.pk for p in ctx["policies"]]))
    access = access_for(request.user)
    costs = queries.costs_for(request.user, filters)
    return render(request, "dashboards/dashboard.html", ctx | _attention(request.user, filters) | {
        "stages": _stages(summary),
        "summary": summary,
        "map_policy": map_policy,
        "adoption": adoption,
        "map": _rate_map(adoption, map_policy) if adoption else None,
        "national_bar": adoption_bar(adoption["national"]["counts"], _("全国")) if adoption else None,
        "trend": trend,
        "policy_rows": policy_rows,
        "cost_totals": costs["totals"] if costs else None,
        "payer_labels": tables.payer_labels(),
        "adoption_labels": tables.status_labels("adoption"),
        "is_secretariat": access.is_secretariat,
        "memberships": Membership.objects.filter(user=request.user).select_related("organization"),
    })


def _require_costs(request: HttpRequest) -> None:
    if not queries.may_see_costs(request.user):
        raise Http404  # not for this user: the page is not there


def _visible_policy(request: HttpRequest) -> Policy:
    try:
        pk = int(request.GET.get("policy", ""))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(Policy.objects.visible_to(request.user), pk=pk)


@login_required
@require_GET
def prefecture(request: HttpRequest, code: str) -> HttpResponse:
    policy = _visible_policy(request)
    pref = get_object_or_404(Organization, kind=OrganizationKind.PREFECTURE, code=code)
    data = queries.adoption_by_municipality(policy.pk, pref)
    labels = tables.status_labels("adoption")
    for row in data["results"]:
        row["label"] = labels.get(row["status"], row["status"])
    return render(request, "dashboards/prefecture.html", {
        "policy": policy, "prefecture": pref, "data": data,
        "bar": adoption_bar(data["summary"]["counts"], pref.label),
        "own_ids": access_for(request.user).local_government_ids,
        "query": urlencode({"policy": policy.pk}),
    })


@login_required
@require_GET
def costs(request: HttpRequest) -> HttpResponse:
    _require_costs(request)
    ctx = _context(request)
    data = queries.costs_for(request.user, ctx["filters"])
    labels = tables.payer_labels()
    return render(request, "dashboards/costs.html", ctx | {
        "data": data,
        "payer_labels": labels,
        "annual_bars": charts.cost_bars(data["results"], "annual_split", labels),
        "initial_bars": charts.cost_bars(data["results"], "initial_split", labels),
    })


EXPORTS = ("summary", "adoption-prefectures", "adoption-municipalities", "adoption-trend", "adoption-policies", "costs")


@login_required
@require_GET
def export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    if table not in EXPORTS or fmt not in ("csv", "xlsx"):
        raise Http404
    ctx = _context(request)
    filters = ctx["filters"]
    if table == "summary":
        result = tables.summary_table(queries.summary(filters))
    elif table == "adoption-policies":
        result = tables.policies_table(queries.adoption_by_policy(Policy.objects.filter(pk__in=[p.pk for p in ctx["policies"]])))
    elif table == "costs":
        _require_costs(request)
        result = tables.costs_table(queries.costs_for(request.user, filters))
    else:
        policy = _visible_policy(request)
        if table == "adoption-prefectures":
            result = tables.prefectures_table(policy, queries.adoption_by_prefecture(policy.pk))
        elif table == "adoption-trend":
            result = tables.trend_table(policy, queries.adoption_trend(policy.pk, filters.fiscal_year))
        else:
            pref = get_object_or_404(Organization, kind=OrganizationKind.PREFECTURE, code=request.GET.get("prefecture", ""))
            result = tables.municipalities_table(policy, queries.adoption_by_municipality(policy.pk, pref))
    return exports.download(result, fmt, f"{table}-{calendar.today():%Y%m%d}")


@login_required
@require_GET
def open_data(request: HttpRequest) -> HttpResponse:
    from council import opendata

    # Each file's description is "Japanese / English" (as in the ZIP's README): the reader's half.
    half = 0 if (translation.get_language() or "ja").startswith("ja") else 1
    files = {name: text.split(" / ", 1)[half] if " / " in text else text for name, text in opendata.FILES.items()}
    return render(request, "dashboards/open_data.html", {"files": files})


@login_required
@require_GET
def open_data_zip(request: HttpRequest) -> HttpResponse:
    """Everything published, for every signed-in user alike (it holds only what a local
    official may see); built once per state of the data."""
    from django.http import FileResponse

    from council import opendata

    path = opendata.current_zip()
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"council-open-data-{calendar.today():%Y%m%d}.zip",
                        content_type="application/zip")
