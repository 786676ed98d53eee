"""Building blocks of the stage 4 API tests (tests/test_api_progress_*.py).

Tests start from one consented policy of 総務省 with a quarterly schedule (made through the
actions, as users would make them): setting it creates the current period's report and
the 1,788 adoption rows, which takes a second or two. So it is made once per test module
(`scheduled_world`) inside a transaction rolled back after the module, and every test
runs in a savepoint of it as usual: what a test changes is gone for the next one.

`report_in` forces a report's status for a test's starting point (bypassing the workflow
on purpose), `later_reports` adds the reports of following periods, and `snapshot()`
reads every row a stage 4 write could touch, so a test can show that a refused request
changed nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db.models import Model
from django.utils import timezone

from candidates import actions as candidate_actions
from council import calendar
from council.models import TransitionLog
from policies import actions as policy_actions
from policies.models import Policy
from progress import actions
from progress.models import (
    Adoption,
    AdoptionChange,
    MeasureRequest,
    ProgressReport,
    ReportAttachment,
    ReportingSchedule,
    UsageReport,
)
from tests.api_helpers import FILLED_STUDY, candidate_in, future, get_user, put_in
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE
from tests.module_scope import module_transaction
from tenants.models import Organization

# One user per kind of seat: the secretariat, the owning ministry (soumu owns the policies
# made here), another ministry, an association, a prefecture and a municipality.
ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "hokkaido", "sapporo")
COUNCIL = frozenset({"secretariat", "soumu", "mhlw", "chijikai"})
REPORT_STATUSES = ("due", "submitted", "accepted", "returned")
# Until accepted, a report is the secretariat's and the owning ministry's.
DRAFT_READERS = frozenset({"secretariat", "soumu"})

SAPPORO, ASAHIKAWA, HOKKAIDO = "011002", "012041", "010006"

FILLED_REPORT = {
    "summary": "標準仕様の検討を進め、先行団体を選定した。",
    "milestones": [
        {"name": "標準仕様の策定", "status": "in_progress", "percent": 80, "weight": 2},
        {"name": "先行団体の選定", "status": "done", "percent": 100, "weight": 1},
    ],
    "kpis": [
        {"name": "利用団体数", "target": 100, "actual": 12, "unit": "団体"},
        {"name": "手続のオンライン化率", "target": 60, "actual": 35.5, "unit": "%"},
    ],
    "risks": "ベンダーの対応時期",
}


def consented_policy(title: str = "公金受取口座の共通化推進方針") -> Policy:
    """A policy of 総務省 whose first version the three associations consented to."""
    secretariat, soumu = get_user("secretariat"), get_user("soumu")
    candidate = candidate_in("selected", f"{title}の候補")
    study, _moved = candidate_actions.assign_study(candidate, secretariat, due_date=future())
    candidate_actions.save_study(study, soumu, dict(FILLED_STUDY))
    now = timezone.now()
    put_in(study, "accepted", submitted_at=now, decided_at=now)
    policy = policy_actions.create_policy(candidate, soumu, title=title)
    version = policy.versions.get()
    policy_actions.update_version(version, soumu, {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
    policy_actions.submit_version(version, soumu)
    round_ = policy_actions.open_round(version, secretariat, closes_at=now + timedelta(days=7))
    for username in ("chijikai", "shichokai", "chosonkai"):
        policy_actions.cast_ballot(round_, get_user(username), choice="consent")
    policy_actions.close_round(round_, secretariat)
    policy.refresh_from_db()
    return policy


@dataclass(frozen=True)
class World:
    policy_id: int
    schedule_id: int | None


def _module_world(with_schedule: bool, django_db_blocker) -> Iterator[World]:
    with module_transaction(django_db_blocker):
        policy = consented_policy()
        schedule = set_schedule(policy) if with_schedule else None
        yield World(policy.pk, schedule.pk if schedule else None)


@pytest.fixture(scope="module")
def consented_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """A consented policy without a schedule, made once per module (import into the module)."""
    yield from _module_world(False, django_db_blocker)


@pytest.fixture(scope="module")
def scheduled_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """A consented policy with its quarterly schedule, made once per module (import into the module)."""
    yield from _module_world(True, django_db_blocker)


def set_schedule(policy, frequency: str = "quarterly") -> ReportingSchedule:
    return actions.set_schedule(policy, get_user("secretariat"), frequency=frequency, due_days_after_period=30)


def current_report(schedule: ReportingSchedule) -> ProgressReport:
    return ProgressReport.objects.filter(schedule=schedule).order_by("period_start").first()


def fill(report: ProgressReport, **changes) -> ProgressReport:
    return actions.save_report(report, get_user("soumu"), {**FILLED_REPORT, **changes})


def report_in(schedule_or_report, status: str, *, filled: bool = True) -> ProgressReport:
    """The schedule's current report (or the given one), filled by soumu, forced into `status`."""
    report = schedule_or_report if isinstance(schedule_or_report, ProgressReport) else current_report(schedule_or_report)
    if filled:
        report = fill(report)
    now = timezone.now()
    stamps = {
        "due": {},
        "submitted": {"submitted_at": now},
        "accepted": {"submitted_at": now, "decided_at": now},
        "returned": {"submitted_at": now, "decided_at": now},
    }[status]
    ProgressReport.objects.filter(pk=report.pk).update(status=status, **stamps)
    report.refresh_from_db()
    return report


def later_reports(schedule: ReportingSchedule, count: int) -> list[ProgressReport]:
    """The reports of the `count` periods after the first, oldest first (as the beat would make them)."""
    period = schedule.first
    for _ in range(count):
        period = period.next()
    actions.ensure_reports(schedule, today=period.start)
    return list(ProgressReport.objects.filter(schedule=schedule).order_by("period_start")[1:])


def make_overdue(report: ProgressReport, days: int = 3) -> ProgressReport:
    ProgressReport.objects.filter(pk=report.pk).update(due_date=calendar.today() - timedelta(days=days))
    report.refresh_from_db()
    return report


def adoption_of(policy, code: str) -> Adoption:
    return Adoption.objects.get(policy=policy, organization__code=code)


def municipality_codes() -> list[str]:
    return list(Organization.objects.filter(kind="municipality").order_by("code").values_list("code", flat=True))


def all_municipalities_csv(bad_line: int | None = None, bad_row: str = "999999,in_use,") -> str:
    """Every municipality (1,741 rows after the header): in_use and planned for 2029 in turn."""
    lines = ["code,status,target_fiscal_year"]
    for i, code in enumerate(municipality_codes()):
        lines.append(f"{code},planned,2029" if i % 2 else f"{code},in_use,")
    if bad_line is not None:
        lines[bad_line - 1] = bad_row
    return "\n".join(lines) + "\n"


def request_measures(policy, **fields) -> MeasureRequest:
    return actions.request_measures(
        get_user("secretariat"), policy=policy, request=fields.pop("request", "移行の遅れへの対応策を示してください。"),
        due_date=fields.pop("due_date", calendar.today() + timedelta(days=30)), **fields,
    )


SNAPSHOT_MODELS: tuple[type[Model], ...] = (
    ReportingSchedule,
    ProgressReport,
    ReportAttachment,
    Adoption,
    AdoptionChange,
    UsageReport,
    MeasureRequest,
    TransitionLog,
)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table a stage 4 write touches, to compare before and after."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS}


@pytest.fixture
def schedule(scheduled_world, db) -> ReportingSchedule:
    """The module's scheduled policy, read afresh by each test."""
    return ReportingSchedule.objects.select_related("policy").get(pk=scheduled_world.schedule_id)
