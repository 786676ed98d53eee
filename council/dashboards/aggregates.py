"""Rebuilding the pre-aggregated dashboard figures (see ``models``).

Each scope is rebuilt whole, inside one transaction that first locks the scope's ``Stamp`` row,
so two workers rebuilding at once run one after the other and the last to commit has read the
latest data. Counting happens here, in a background task or a command — never while a
dashboard request is answered.

* ``summary``: pipeline counts (candidates, studies, policies, consent rounds, reports, measure
  requests) per ministry × fiscal year and per policy, plus what is overdue today.
* ``adoption:<policy>``: adoption per prefecture and nationwide, and its history month by month.
* ``cost``: each policy's estimated costs split by payer, beside its expected effect.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from council import calendar
from council.dashboards.models import AdoptionFigure, AdoptionTrendPoint, CostFigure, Grain, Stamp, SummaryFigure

# --- Summary ---------------------------------------------------------------------------------

SUMMARY = "summary"
COST = "cost"
ADOPTION = "adoption"

# The metrics of the summary, in display order. Keys are the status (or outcome) values.
METRICS = (
    "candidates",
    "studies",
    "studies_overdue",
    "policies",
    "consent_rounds",
    "reports",
    "reports_overdue",
    "measure_requests",
    "measure_requests_overdue",
)


def _fy(moment: datetime | date | None) -> int | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment, calendar.TOKYO).date()
    return calendar.fiscal_year(moment)


@dataclass
class _Tally:
    """Counts keyed by (metric, key, ministry id, fiscal year, policy id)."""

    counts: Counter

    def add(self, metric: str, key: str, ministry: int | None, fy: int | None, policy: int | None) -> None:
        self.counts[(metric, key, ministry, fy, policy)] += 1


def _lock(scope: str) -> Stamp:
    stamp, _ = Stamp.objects.get_or_create(scope=scope, defaults={"updated_at": timezone.now()})
    return Stamp.objects.select_for_update().get(pk=stamp.pk)


def _bump(stamp: Stamp) -> None:
    stamp.version += 1
    stamp.updated_at = timezone.now()
    stamp.save(update_fields=["version", "updated_at"])


def summary_counts(today: date | None = None) -> Counter:
    """Every summary count, at the policy grain (policy may be None), from the source tables."""
    from candidates.models import Candidate, FeasibilityStudy, StudyStatus
    from policies.models import ConsentRound, Policy, RoundStatus
    from progress.models import OPEN_REPORT_STATUSES, MeasureRequest, MeasureStatus, ProgressReport

    today = today or calendar.today()
    tally = _Tally(Counter())
    policy_of_candidate = dict(Policy.objects.values_list("candidate_id", "pk"))
    for ministry, status, created, pk in Candidate.objects.values_list(
        "owning_ministry_id", "status", "created_at", "pk"
    ).order_by():
        tally.add("candidates", status, ministry, _fy(created), policy_of_candidate.get(pk))
    for ministry, status, due, candidate in FeasibilityStudy.objects.values_list(
        "ministry_id", "status", "due_date", "candidate_id"
    ).order_by():
        policy = policy_of_candidate.get(candidate)
        tally.add("studies", status, ministry, _fy(due), policy)
        if status in (StudyStatus.ASSIGNED, StudyStatus.RETURNED) and due < today:
            tally.add("studies_overdue", "", ministry, _fy(due), policy)
    for ministry, status, created, pk in Policy.objects.values_list("ministry_id", "status", "created_at", "pk").order_by():
        tally.add("policies", status, ministry, _fy(created), pk)
    for ministry, status, outcome, closes, policy in ConsentRound.objects.values_list(
        "policy__ministry_id", "status", "outcome", "closes_at", "policy_id"
    ).order_by():
        tally.add("consent_rounds", outcome if status == RoundStatus.CLOSED else RoundStatus.OPEN, ministry, _fy(closes), policy)
    for ministry, status, fy, due, policy in ProgressReport.objects.values_list(
        "policy__ministry_id", "status", "fiscal_year", "due_date", "policy_id"
    ).order_by():
        tally.add("reports", status, ministry, fy, policy)
        if status in OPEN_REPORT_STATUSES and due < today:
            tally.add("reports_overdue", "", ministry, fy, policy)
    for ministry, status, requested, due, policy in MeasureRequest.objects.values_list(
        "ministry_id", "status", "requested_at", "due_date", "policy_id"
    ).order_by():
        tally.add("measure_requests", status, ministry, _fy(requested), policy)
        if status == MeasureStatus.OPEN and due < today:
            tally.add("measure_requests_overdue", "", ministry, _fy(requested), policy)
    return tally.counts


def rebuild_summary(today: date | None = None) -> int:
    """Replace every summary figure; returns the number of rows written."""
    with transaction.atomic():
        stamp = _lock(SUMMARY)
        counts = summary_counts(today)
        by_ministry: Counter = Counter()
        rows = []
        for (metric, key, ministry, fy, policy), n in counts.items():
            by_ministry[(metric, key, ministry, fy)] += n
            if policy is not None:
                rows.append(SummaryFigure(
                    grain=Grain.POLICY, metric=metric, key=key, ministry_id=ministry, fiscal_year=fy, policy_id=policy, value=n
                ))
        rows += [
            SummaryFigure(grain=Grain.MINISTRY, metric=metric, key=key, ministry_id=ministry, fiscal_year=fy, value=n)
            for (metric, key, ministry, fy), n in by_ministry.items()
        ]
        SummaryFigure.objects.all().delete()
        SummaryFigure.objects.bulk_create(rows, batch_size=2000)
        _bump(stamp)
    return len(rows)


# --- Adoption --------------------------------------------------------------------------------


def adoption_scope(policy_id: int) -> str:
    return f"{ADOPTION}:{policy_id}"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def trend_from_deltas(current: Counter, deltas: dict[date, Counter], today: date) -> list[tuple[date, str, int]]:
    """(month, status, count) at the end of each month from the first month with a change to
    this month, replaying the history backwards from today's counts.

    ``current`` counts the rows by their status now; ``deltas[month][status]`` is how many rows
    entered (+) or left (−) that status during the month. The counts before the first change
    are today's minus every change since; each month end adds that month's changes."""
    state = Counter(current)
    for month_deltas in deltas.values():
        state.subtract(month_deltas)
    points: list[tuple[date, str, int]] = []
    month = min(deltas, default=_month_start(today))
    last = _month_start(today)
    while month <= last:
        state.update(deltas.get(month, Counter()))
        points += [(month, status, n) for status, n in sorted(state.items()) if n]
        month = _next_month(month)
    return points


def _entered(before: str | None) -> str:
    """A change with no recorded previous status started from "not planned"."""
    from progress.models import AdoptionStatus

    return before or AdoptionStatus.NOT_PLANNED


def trend_points(statuses: dict[int, str], changes: Iterable[tuple[int, datetime, str, str]], today: date) -> list[tuple[date, str, int]]:
    """The same points from rows in memory: ``statuses`` is each adoption row's current status;
    ``changes`` its history (adoption id, changed_at, from_status, to_status)."""
    deltas: dict[date, Counter] = defaultdict(Counter)
    for adoption, at, before, after in changes:
        if adoption in statuses:
            month = _month_start(timezone.localtime(at, calendar.TOKYO).date())
            deltas[month][_entered(before)] -= 1
            deltas[month][after] += 1
    return trend_from_deltas(Counter(statuses.values()), deltas, today)


def rebuild_adoption(policy_ids: Iterable[int] | None = None, today: date | None = None) -> int:
    """Replace the adoption figures and trend of the given policies (all when None).

    Counted in the database, whatever the number of rows: adoption per policy, prefecture and
    status from the adoption tally, and the history grouped by policy, month (Tokyo time) and
    the pair of statuses of each change — two queries for all the policies, a few thousand rows
    back at national scale instead of the million history rows."""
    from policies.models import Policy
    from progress import tally
    from progress.models import AdoptionChange, AdoptionTally

    today = today or calendar.today()
    with transaction.atomic():
        adoption_stamp = _lock(ADOPTION)
        existing = set(Policy.objects.values_list("pk", flat=True))
        ids = sorted(set(policy_ids) if policy_ids is not None else existing)
        if not ids:
            return 0
        stamps = {}
        for policy_id in ids:
            stamps[policy_id] = _lock(adoption_scope(policy_id))
        AdoptionFigure.objects.filter(policy_id__in=ids).delete()
        AdoptionTrendPoint.objects.filter(policy_id__in=ids).delete()

        current: dict[int, Counter] = defaultdict(Counter)
        figures = []
        national: dict[int, Counter] = defaultdict(Counter)
        # The adoption tally already counts the rows per policy, prefecture and status (kept
        # exact by triggers in the rows' own transactions): read it instead of counting again.
        grouped = (
            AdoptionTally.objects.filter(policy_id__in=ids, n__gt=0)
            .exclude(prefecture_id=tally.NATIONAL)
            .values_list("policy_id", "prefecture_id", "status", "n")
        )
        for policy_id, prefecture, status, n in grouped:
            national[policy_id][status] += n
            figures.append(AdoptionFigure(policy_id=policy_id, prefecture_id=prefecture, status=status, count=n))
        for policy_id, counts in national.items():
            figures += [AdoptionFigure(policy_id=policy_id, prefecture=None, status=s, count=n) for s, n in counts.items()]
            current[policy_id] = counts

        deltas: dict[int, dict[date, Counter]] = defaultdict(lambda: defaultdict(Counter))
        history = (
            AdoptionChange.objects.filter(adoption__policy_id__in=ids)
            .annotate(month=TruncMonth("changed_at", tzinfo=calendar.TOKYO))
            .values_list("adoption__policy_id", "month", "from_status", "to_status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for policy_id, month, before, after, n in history:
            month = timezone.localtime(month, calendar.TOKYO).date() if isinstance(month, datetime) else month
            deltas[policy_id][month][_entered(before)] -= n
            deltas[policy_id][month][after] += n

        points = []
        for policy_id in ids:
            if policy_id in current:
                points += [
                    AdoptionTrendPoint(policy_id=policy_id, month=m, status=s, count=n)
                    for m, s, n in trend_from_deltas(current[policy_id], deltas.get(policy_id, {}), today)
                ]
        AdoptionFigure.objects.bulk_create(figures, batch_size=2000)
        AdoptionTrendPoint.objects.bulk_create(points, batch_size=2000)
        for policy_id, stamp in stamps.items():
            if policy_id in existing:
                _bump(stamp)
            else:
                stamp.delete()
        _bump(adoption_stamp)  # the "all policies" views change too
    return len(figures) + len(points)


# --- Cost --------------------------------------------------------------------------------------

PAYERS = ("state", "local", "shared", "manager", "unallocated")
INITIAL_ITEMS = ("survey", "specification", "development", "initial_support")
ANNUAL_ITEMS = ("operation", "maintenance", "usage_fee")


def split_cost(total: int, rows: list[dict], items: tuple[str, ...]) -> dict[str, int]:
    """Divide ``total`` yen among the payers of the cost-sharing rows of one phase, each row of
    that phase bearing an equal share; with no such row the whole is "unallocated". The parts
    add up to ``total`` exactly (the remainder of the division goes to the first payers)."""
    payers = [row["payer"] for row in rows if row.get("item") in items]
    split = dict.fromkeys(PAYERS, 0)
    if not total:
        return split
    if not payers:
        split["unallocated"] = total
        return split
    share, remainder = divmod(total, len(payers))
    for i, payer in enumerate(payers):
        split[payer if payer in split else "unallocated"] += share + (1 if i < remainder else 0)
    return split


def rebuild_cost() -> int:
    """One cost figure per policy: the costs of its candidate's accepted feasibility study, split
    under the cost-sharing table of its consented version (else its latest submitted version,
    else its latest draft), and the staff hours saved scaled by the share of the affected local
    governments that use it."""
    from candidates.models import FeasibilityStudy, StudyStatus
    from policies.models import ConsentRound, Outcome, Policy, PolicyVersion
    from progress.models import AdoptionStatus
    from tenants.models import Organization

    with transaction.atomic():
        stamp = _lock(COST)
        studies = {
            s["candidate_id"]: s
            for s in FeasibilityStudy.objects.filter(status=StudyStatus.ACCEPTED).values(
                "candidate_id", "cost_initial_yen", "cost_annual_yen", "staff_hours_saved_per_year", "affected_local_governments"
            ).order_by()
        }
        consented = dict(
            ConsentRound.objects.filter(outcome=Outcome.CONSENTED).values_list("policy_id", "version__number").order_by("opened_at")
        )
        versions: dict[int, dict] = defaultdict(dict)
        for policy_id, number, submitted, sharing in PolicyVersion.objects.values_list(
            "policy_id", "number", "submitted_at", "cost_sharing"
        ).order_by("policy_id", "number"):
            versions[policy_id][number] = (submitted, sharing or [])
        in_use = dict(
            AdoptionFigure.objects.filter(prefecture=None, status=AdoptionStatus.IN_USE).values_list("policy_id", "count")
        )
        local_governments = Organization.objects.local_governments().count()
        rows = []
        for policy_id, candidate_id, ministry, created in Policy.objects.values_list(
            "pk", "candidate_id", "ministry_id", "created_at"
        ).order_by("pk"):
            study = studies.get(candidate_id) or {}
            chosen = versions.get(policy_id, {})
            number = consented.get(policy_id)
            if number is None:
                submitted = [n for n, (at, _) in chosen.items() if at is not None]
                number = max(submitted) if submitted else max(chosen, default=None)
            sharing = chosen[number][1] if number in chosen else []
            initial, annual = study.get("cost_initial_yen") or 0, study.get("cost_annual_yen") or 0
            hours = study.get("staff_hours_saved_per_year") or 0
            affected = study.get("affected_local_governments") or local_governments
            using = in_use.get(policy_id, 0)
            rows.append(CostFigure(
                policy_id=policy_id, ministry_id=ministry, fiscal_year=_fy(created), version_number=number,
                cost_initial_yen=initial, cost_annual_yen=annual,
                initial_split=split_cost(initial, sharing, INITIAL_ITEMS),
                annual_split=split_cost(annual, sharing, ANNUAL_ITEMS),
                staff_hours_full=hours, affected_local_governments=affected, in_use=using,
                staff_hours_current=hours * min(using, affected) // affected if affected else 0,
            ))
        CostFigure.objects.all().delete()
        CostFigure.objects.bulk_create(rows, batch_size=2000)
        _bump(stamp)
    return len(rows)


def refresh(*, summary: bool = False, cost: bool = False, policies: Iterable[int] | None = ()) -> None:
    """Rebuild what changed: ``policies`` are the policies whose adoption changed (None: all)."""
    if policies is None or policies:
        rebuild_adoption(policies)
        cost = True  # the effect scales with adoption
    if summary:
        rebuild_summary()
    if cost:
        rebuild_cost()


def rebuild_all() -> None:
    refresh(summary=True, cost=True, policies=None)
