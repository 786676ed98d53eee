"""Demo progress for `load_demo`: two years of quarterly reports in every state for the
consented demo policy, adoption across all 1,788 local governments with a realistic spread,
usage reports, and measure requests in every state."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from council import calendar
from policies.models import Policy, PolicyStatus
from progress import actions
from progress.models import (
    Adoption,
    AdoptionChange,
    AdoptionStatus,
    MeasureRequest,
    ProgressReport,
    ReportingSchedule,
    UsageReport,
)
from progress.periods import Period

POLICY_TITLE = "児童手当の認定・支給事務に関する共通化推進方針"
QUARTERS_BACK = 8


def load_demo_progress() -> int:
    """Returns 1 when the demo progress was created, 0 when it already existed."""
    policy = Policy.objects.filter(title=POLICY_TITLE, status=PolicyStatus.CONSENTED).select_related("ministry").first()
    if policy is None or ReportingSchedule.objects.filter(policy=policy).exists():
        return 0
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["secretariat", "cfa", "soumu"])}
    with transaction.atomic():
        schedule = actions.set_schedule(policy, users["secretariat"], frequency="quarterly", due_days_after_period=30)
        first = Period.containing(calendar.today() - timedelta(days=91 * QUARTERS_BACK), "quarterly")
        ReportingSchedule.objects.filter(pk=schedule.pk).update(first_fiscal_year=first.fiscal_year, first_period=first.number)
        schedule.refresh_from_db()
        actions.ensure_reports(schedule)
        _fill_reports(schedule, users)
        _spread_adoption(policy, users["cfa"])
        _usage_reports(users)
        _measure_requests(policy, users)
    return 1


def _fill_reports(schedule, users) -> None:
    reports = list(ProgressReport.objects.filter(schedule=schedule).order_by("period_start"))
    officer, secretariat = users["cfa"], users["secretariat"]
    today = calendar.today()
    closed = [r for r in reports if r.due_date < today]
    for index, report in enumerate(reports):
        share = (index + 1) / len(reports)
        data = {
            "summary": f"{report.period_label}は、標準仕様の確定と先行団体での利用開始に向けた作業を進めた。",
            "milestones": [
                {"name": "標準仕様の確定", "status": "done" if share > 0.4 else "in_progress", "percent": min(100, round(share * 250)), "weight": 2},
                {"name": "先行団体での利用開始", "status": "in_progress" if share > 0.4 else "not_started", "percent": max(0, round((share - 0.4) * 160)), "weight": 2},
                {"name": "全団体の移行", "status": "not_started" if share < 0.7 else "in_progress", "percent": max(0, round((share - 0.7) * 100)), "weight": 1},
            ],
            "kpis": [
                {"name": "共通SaaSの利用団体数", "target": 300, "actual": round(420 * share ** 2), "unit": "団体"},
                {"name": "窓口処理時間の削減率", "target": 30, "actual": round(32 * share, 1), "unit": "%"},
            ],
            "risks": "既存システムの契約期間が団体ごとに異なる。",
        }
        if report not in closed:
            continue  # the current period's report: still due
        position = closed.index(report)
        remaining = len(closed) - position
        if remaining == 1:
            continue  # the last closed period: overdue, nothing submitted
        report = actions.save_report(report, officer, data)
        actions.move_report(report, officer, "submitted")
        if remaining == 2:
            continue  # submitted, awaiting the secretariat
        if remaining == 3:
            actions.move_report(report, secretariat, "returned", comment="KPIの実績値の集計方法を明記してください。")
            continue
        if position == 1:
            # An earlier report that was returned once, then accepted.
            actions.move_report(report, secretariat, "returned", comment="マイルストーンの進捗率の根拠を追記してください。")
            report = actions.save_report(report, officer, {"summary": data["summary"] + "進捗率の根拠を追記した。"})
            actions.move_report(report, officer, "submitted")
        actions.move_report(report, secretariat, "accepted", comment="受理します。")


def _spread_adoption(policy, officer) -> None:
    """A deterministic, realistic spread: prefectures differ, each government has a history."""
    statuses = [s.value for s in AdoptionStatus]
    now = timezone.now()
    adoptions = list(Adoption.objects.filter(policy=policy).select_related("organization"))
    history, changed = [], []
    for adoption in adoptions:
        code = adoption.organization.code
        prefecture_rng = random.Random(f"pref-{code[:2]}")
        eagerness = prefecture_rng.uniform(0.2, 0.9)
        rng = random.Random(f"adoption-{code}")
        roll = rng.random()
        if roll < eagerness * 0.45:
            path = ["considering", "planned", "migrating", "in_use"]
        elif roll < eagerness * 0.7:
            path = ["considering", "planned", "migrating"]
        elif roll < eagerness * 0.95:
            path = ["considering", "planned"]
        elif roll < 0.93:
            path = ["considering"]
        elif roll < 0.97:
            path = ["not_planned"]
        else:
            path = ["considering", "not_applicable"]
        previous, year = "not_planned", None
        for step, status in enumerate(path):
            year = rng.choice([2027, 2028, 2029, 2030]) if status == "planned" else (year if status in ("migrating", "in_use") else None)
            if status == previous:
                continue
            history.append(AdoptionChange(
                adoption=adoption, from_status=previous, to_status=status,
                target_fiscal_year=year if status == "planned" else None,
                changed_by=officer, changed_at=now - timedelta(days=30 * (len(path) - step)), source=AdoptionChange.Source.IMPORT,
            ))
            previous = status
        adoption.status = previous
        adoption.target_fiscal_year = year if previous == AdoptionStatus.PLANNED else None
        adoption.updated_by = officer
        changed.append(adoption)
    assert all(a.status in statuses for a in changed)
    Adoption.objects.bulk_update(changed, ["status", "target_fiscal_year", "updated_by"], batch_size=500)
    AdoptionChange.objects.bulk_create(history, batch_size=1000)


def _usage_reports(users) -> None:
    today = calendar.today()
    quarter = Period.containing(today - timedelta(days=92), "quarterly")
    for reporter, name, layer, metrics in (
        ("secretariat", "公的個人認証サービス（マイナンバーカードによる認証）", "dpi",
         [{"name": "利用団体数", "value": 1741, "unit": "団体"}, {"name": "認証件数", "value": 48_200_000, "unit": "件"},
          {"name": "稼働率", "value": 99.99, "unit": "%"}]),
        ("secretariat", "ガバメントクラウド", "infrastructure",
         [{"name": "利用団体数", "value": 1620, "unit": "団体"}, {"name": "稼働率", "value": 99.97, "unit": "%"}]),
        ("soumu", "eLTAX（地方税ポータルシステム）", "common_saas",
         [{"name": "利用団体数", "value": 1741, "unit": "団体"}, {"name": "電子申告件数", "value": 9_300_000, "unit": "件"}]),
    ):
        if not UsageReport.objects.filter(system_name=name, period_start=quarter.start).exists():
            actions.create_usage_report(users[reporter], system_name=name, layer=layer,
                                        period_start=quarter.start, period_end=quarter.end, metrics=metrics)


def _measure_requests(policy, users) -> None:
    secretariat, officer = users["secretariat"], users["cfa"]
    report = ProgressReport.objects.filter(policy=policy, status="accepted").order_by("-period_start").first()
    future = calendar.today() + timedelta(days=30)
    closed = actions.request_measures(secretariat, policy=policy, report=report, due_date=future,
                                      request="小規模町村向けの移行支援策を示してください。")
    actions.respond_to_measure(closed, officer, response="移行支援のための補助を令和9年度予算で拡充します。")
    actions.close_measure(closed, secretariat, comment="回答を確認しました。")
    responded = actions.request_measures(secretariat, policy=policy, report=report, due_date=future,
                                         request="KPIの集計方法を統一してください。")
    actions.respond_to_measure(responded, officer, response="集計要領を改定し、各団体に通知しました。")
    actions.request_measures(secretariat, policy=policy, due_date=future,
                             request="移行が遅れている都道府県の状況を次回報告で説明してください。")
    overdue = actions.request_measures(secretariat, policy=policy, due_date=future,
                                       request="先行団体での課題の整理を報告してください。")
    MeasureRequest.objects.filter(pk=overdue.pk).update(due_date=calendar.today() - timedelta(days=3))
