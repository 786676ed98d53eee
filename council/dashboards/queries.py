"""Reading the dashboard figures: one function per dashboard table, used by the pages, the
REST API and the exports alike. Each reads the pre-aggregated tables with a fixed number of
queries, whatever the size of the data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import BigIntegerField, Count, Q, QuerySet, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from council.dashboards.models import AdoptionFigure, AdoptionTrendPoint, CostFigure, Grain, Stamp, SummaryFigure
from council.dashboards.aggregates import PAYERS


@dataclass(frozen=True)
class Filters:
    ministry: int | None = None
    fiscal_year: int | None = None
    policy: int | None = None


def _statuses():
    from candidates.models import CandidateStatus, StudyStatus
    from policies.models import Outcome, PolicyStatus, RoundStatus
    from progress.models import MeasureStatus, ReportStatus

    return {
        "candidates": CandidateStatus,
        "studies": StudyStatus,
        "policies": PolicyStatus,
        "consent_rounds": (RoundStatus.OPEN, Outcome.CONSENTED, Outcome.NOT_CONSENTED),
        "reports": ReportStatus,
        "measure_requests": MeasureStatus,
    }


def _values(choices) -> list[str]:
    return [str(c.value) if hasattr(c, "value") else str(c) for c in choices]


def stamps(*scopes: str) -> list[Stamp]:
    """The stamps of the given scopes (missing ones as version 0), for ETag / Last-Modified."""
    found = {s.scope: s for s in Stamp.objects.filter(scope__in=scopes)}
    epoch = timezone.make_aware(timezone.datetime(2000, 1, 1))
    return [found.get(scope) or Stamp(scope=scope, version=0, updated_at=epoch) for scope in scopes]


def summary(filters: Filters) -> dict:
    """Pipeline counts per stage with every status present, consent outcomes, what is overdue
    and open."""
    rows = SummaryFigure.objects.all()
    if filters.policy is not None:
        rows = rows.filter(grain=Grain.POLICY, policy_id=filters.policy)
    else:
        rows = rows.filter(grain=Grain.MINISTRY)
    if filters.ministry is not None:
        rows = rows.filter(ministry_id=filters.ministry)
    if filters.fiscal_year is not None:
        rows = rows.filter(fiscal_year=filters.fiscal_year)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for metric, key, n in rows.values_list("metric", "key").annotate(n=Sum("value")).order_by():
        counts[metric][key] = n
    statuses = _statuses()

    def stage(metric: str) -> dict:
        by_status = {s: counts[metric].get(s, 0) for s in _values(statuses[metric])}
        return {"total": sum(by_status.values()), "by_status": by_status}

    result = {
        "candidates": stage("candidates"),
        "feasibility_studies": stage("studies") | {"overdue": counts["studies_overdue"].get("", 0)},
        "policies": stage("policies"),
        "consent_outcomes": stage("consent_rounds")["by_status"],
        "progress_reports": stage("reports") | {"overdue": counts["reports_overdue"].get("", 0)},
        "measure_requests": stage("measure_requests") | {
            "open": counts["measure_requests"].get("open", 0),
            "overdue": counts["measure_requests_overdue"].get("", 0),
        },
    }
    return result


def rate(counts: dict[str, int]) -> float | None:
    """Share of local governments using the system, in percent, among those it applies to."""
    from progress.models import AdoptionStatus

    applicable = sum(counts.values()) - counts.get(AdoptionStatus.NOT_APPLICABLE, 0)
    return round(counts.get(AdoptionStatus.IN_USE, 0) / applicable * 100, 1) if applicable else None


def _status_counts(pairs) -> dict[str, int]:
    from progress.models import AdoptionStatus

    counts = dict.fromkeys(AdoptionStatus.values, 0)
    for status, n in pairs:
        counts[status] = counts.get(status, 0) + n
    return counts


def _adoption_row(counts: dict[str, int]) -> dict:
    return {"counts": counts, "total": sum(counts.values()), "in_use_rate": rate(counts)}


def adoption_by_prefecture(policy_id: int) -> dict:
    """National counts and one row per prefecture (北海道 first), the prefecture itself and its
    municipalities together."""
    from tenants.models import Organization, OrganizationKind

    per_prefecture: dict[int | None, list] = defaultdict(list)
    for prefecture, status, n in AdoptionFigure.objects.filter(policy_id=policy_id).values_list("prefecture_id", "status", "count"):
        per_prefecture[prefecture].append((status, n))
    results = []
    for pk, code, name, name_en in Organization.objects.filter(kind=OrganizationKind.PREFECTURE).order_by("code").values_list(
        "pk", "code", "name", "name_en"
    ):
        results.append({"id": pk, "code": code, "name": name, "name_en": name_en} | _adoption_row(_status_counts(per_prefecture[pk])))
    return {"national": _adoption_row(_status_counts(per_prefecture[None])), "results": results}


def adoption_by_municipality(policy_id: int, prefecture) -> dict:
    """Each local government of one prefecture (the prefecture first), with its status: at most
    a few hundred rows, read through the (policy, organization) index."""
    from progress.models import Adoption

    rows = (
        Adoption.objects.filter(policy_id=policy_id)
        .filter(Q(organization=prefecture) | Q(organization__parent=prefecture))
        .order_by("organization_code")
        .values_list("organization_id", "organization__code", "organization__name", "organization__name_en", "status", "target_fiscal_year", "updated_at")
    )
    results = [
        {"id": pk, "code": code, "name": name, "name_en": name_en, "status": status, "target_fiscal_year": year, "updated_at": updated}
        for pk, code, name, name_en, status, year, updated in rows
    ]
    counts = _status_counts((r["status"], 1) for r in results)
    return {"prefecture": {"id": prefecture.pk, "code": prefecture.code, "name": prefecture.name, "name_en": prefecture.name_en},
            "summary": _adoption_row(counts), "results": results}


def adoption_by_policy(policies: QuerySet) -> list[dict]:
    """National counts per policy, for the given (visible, filtered) policies."""
    per_policy: dict[int, list] = defaultdict(list)
    for policy, status, n in AdoptionFigure.objects.filter(prefecture=None, policy__in=policies.values("pk")).values_list(
        "policy_id", "status", "count"
    ):
        per_policy[policy].append((status, n))
    return [
        {"policy": {"id": pk, "title": title, "ministry": ministry}} | _adoption_row(_status_counts(per_policy[pk]))
        for pk, title, ministry in policies.order_by("pk").values_list("pk", "title", "ministry__name")
    ]


def adoption_trend(policy_id: int, fiscal_year: int | None = None) -> list[dict]:
    """Counts per status at the end of each month (YYYY-MM), optionally within one fiscal year."""
    points = AdoptionTrendPoint.objects.filter(policy_id=policy_id)
    if fiscal_year is not None:
        points = points.filter(month__gte=date(fiscal_year, 4, 1), month__lt=date(fiscal_year + 1, 4, 1))
    months: dict[date, list] = defaultdict(list)
    for month, status, n in points.order_by("month").values_list("month", "status", "count"):
        months[month].append((status, n))
    return [{"month": m.strftime("%Y-%m")} | _adoption_row(_status_counts(pairs)) for m, pairs in months.items()]


def may_see_costs(user) -> bool:
    """Cost figures come from feasibility studies' details, which only council members may see
    (candidates.FeasibilityStudy.may_see_details): to anyone else they are not there — on the
    dashboard, the costs page, its export and the REST dashboard alike."""
    from tenants.access import is_council_member

    return is_council_member(user)


def costs_for(user, filters: Filters) -> dict | None:
    """The costs of the policies `user` may see, or None when costs are not for them."""
    from policies.models import Policy

    if not may_see_costs(user):
        return None
    return costs(Policy.objects.visible_to(user), filters)


def costs(policies: QuerySet, filters: Filters) -> dict:
    """Every policy's row and the totals: initial and annual cost split by payer, and the staff
    hours saved per year (at full adoption, and now)."""
    figures = cost_figures(policies, filters)
    count, totals = cost_totals(figures)
    return {"count": count, "results": [cost_row(figure) for figure in figures], "totals": totals}


def cost_figures(policies: QuerySet, filters: Filters) -> QuerySet:
    """The cost figures of `policies` under `filters`, in policy order (one per policy)."""
    rows = CostFigure.objects.filter(policy__in=policies.values("pk"))
    if filters.ministry is not None:
        rows = rows.filter(ministry_id=filters.ministry)
    if filters.fiscal_year is not None:
        rows = rows.filter(fiscal_year=filters.fiscal_year)
    if filters.policy is not None:
        rows = rows.filter(policy_id=filters.policy)
    return rows.select_related("policy", "ministry").order_by("policy_id")


def cost_totals(figures: QuerySet) -> tuple[int, dict]:
    """How many figures, and their totals, summed by the database: a page of rows costs the
    same however many policies there are."""
    sums = figures.order_by().aggregate(count=Count("pk"), **_cost_sums())
    return sums["count"], {
        "cost_initial_yen": sums["cost_initial_yen"], "cost_annual_yen": sums["cost_annual_yen"],
        "initial_split": {p: sums[f"initial_split__{p}"] for p in PAYERS},
        "annual_split": {p: sums[f"annual_split__{p}"] for p in PAYERS},
        "staff_hours_full": sums["staff_hours_full"], "staff_hours_current": sums["staff_hours_current"],
    }


def cost_row(figure: CostFigure) -> dict:
    return {
        "policy": {"id": figure.policy_id, "title": figure.policy.title},
        "ministry": {"id": figure.ministry_id, "name": figure.ministry.name},
        "fiscal_year": figure.fiscal_year,
        "version": figure.version_number,
        "cost_initial_yen": figure.cost_initial_yen,
        "cost_annual_yen": figure.cost_annual_yen,
        "initial_split": {p: figure.initial_split.get(p, 0) for p in PAYERS},
        "annual_split": {p: figure.annual_split.get(p, 0) for p in PAYERS},
        "staff_hours_full": figure.staff_hours_full,
        "affected_local_governments": figure.affected_local_governments,
        "in_use": figure.in_use,
        "staff_hours_current": figure.staff_hours_current,
    }


def _cost_sums() -> dict:
    """Sum() of each total, 0 over no rows; a payer missing from a split counts 0."""

    def total(expression):
        return Coalesce(Sum(expression), Value(0), output_field=BigIntegerField())

    sums = {name: total(name) for name in ("cost_initial_yen", "cost_annual_yen", "staff_hours_full", "staff_hours_current")}
    for phase in ("initial_split", "annual_split"):
        for payer in PAYERS:
            sums[f"{phase}__{payer}"] = total(Cast(KeyTextTransform(payer, phase), BigIntegerField()))
    return sums

