"""The dashboard's tables as (title, headers, rows), shared by the pages' exports (CSV, XLSX)
and built only from ``queries`` — so an export holds exactly what the page shows."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from council.dashboards import queries
from council.dashboards.aggregates import PAYERS


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list]


def payer_labels() -> dict[str, str]:
    from policies.models import Payer

    labels = {str(p.value): str(p.label) for p in Payer}
    return {p: labels.get(p, _("未配分")) for p in PAYERS}


def status_labels(metric: str) -> dict[str, str]:
    from candidates.models import CandidateStatus, StudyStatus
    from policies.models import Outcome, PolicyStatus, RoundStatus
    from progress.models import AdoptionStatus, MeasureStatus, ReportStatus

    choices = {
        "candidates": CandidateStatus, "feasibility_studies": StudyStatus, "policies": PolicyStatus,
        "progress_reports": ReportStatus, "measure_requests": MeasureStatus, "adoption": AdoptionStatus,
    }
    if metric == "consent_outcomes":
        return {RoundStatus.OPEN.value: str(RoundStatus.OPEN.label), Outcome.CONSENTED.value: str(Outcome.CONSENTED.label),
                Outcome.NOT_CONSENTED.value: str(Outcome.NOT_CONSENTED.label)}
    return {str(c.value): str(c.label) for c in choices[metric]}


def stage_labels() -> dict[str, str]:
    return {
        "candidates": _("対象候補"),
        "feasibility_studies": _("実現可能性調査"),
        "policies": _("共通化推進方針"),
        "consent_outcomes": _("同意手続"),
        "progress_reports": _("進捗報告"),
        "measure_requests": _("措置の依頼"),
    }


def summary_table(summary: dict) -> Table:
    rows = []
    for stage, stage_label in stage_labels().items():
        figures = summary[stage]
        by_status = figures if stage == "consent_outcomes" else figures["by_status"]
        for key, label in status_labels(stage).items():
            rows.append([stage_label, label, by_status.get(key, 0)])
        if "overdue" in figures:
            rows.append([stage_label, _("期限超過"), figures["overdue"]])
    return Table("summary", _("段階別の件数"), [_("段階"), _("状態"), _("件数")], rows)


def _adoption_headers() -> list[str]:
    return list(status_labels("adoption").values()) + [_("合計"), _("利用率（%）")]


def _adoption_cells(row: dict) -> list:
    return [row["counts"].get(k, 0) for k in status_labels("adoption")] + [row["total"], row["in_use_rate"]]


def prefectures_table(policy, data: dict) -> Table:
    rows = [[r["code"], r["name"], *_adoption_cells(r)] for r in data["results"]]
    rows.append(["", _("全国"), *_adoption_cells(data["national"])])
    return Table("adoption-prefectures", _("都道府県別の導入状況：%(policy)s") % {"policy": policy.title},
                 [_("団体コード"), _("都道府県"), *_adoption_headers()], rows)


def municipalities_table(policy, data: dict) -> Table:
    labels = status_labels("adoption")
    rows = [[r["code"], r["name"], labels.get(r["status"], r["status"]), r["target_fiscal_year"] or ""] for r in data["results"]]
    return Table(
        "adoption-municipalities",
        _("%(prefecture)sの団体別の導入状況：%(policy)s") % {"prefecture": data["prefecture"]["name"], "policy": policy.title},
        [_("団体コード"), _("団体名"), _("導入状況"), _("導入予定年度")], rows,
    )


def trend_table(policy, points: list[dict]) -> Table:
    return Table("adoption-trend", _("導入状況の推移（月末）：%(policy)s") % {"policy": policy.title},
                 [_("月"), *_adoption_headers()], [[p["month"], *_adoption_cells(p)] for p in points])


def policies_table(rows: list[dict]) -> Table:
    return Table("adoption-policies", _("方針別の導入状況"), [_("方針ID"), _("方針"), _("府省庁"), *_adoption_headers()],
                 [[r["policy"]["id"], r["policy"]["title"], r["policy"]["ministry"], *_adoption_cells(r)] for r in rows])


def costs_table(data: dict) -> Table:
    payers = payer_labels()
    headers = [_("方針ID"), _("方針"), _("府省庁"), _("年度"), _("費用負担の版"), _("初期費用（円）")]
    headers += [_("初期費用：%(payer)s") % {"payer": label} for label in payers.values()]
    headers += [_("年間運用費用（円）")]
    headers += [_("年間運用費用：%(payer)s") % {"payer": label} for label in payers.values()]
    headers += [_("削減時間（全団体導入時、時間／年）"), _("対象団体数"), _("利用中の団体数"), _("削減時間（現在、時間／年）")]
    rows = []
    for r in data["results"]:
        rows.append([
            r["policy"]["id"], r["policy"]["title"], r["ministry"]["name"], r["fiscal_year"], r["version"] or "",
            r["cost_initial_yen"], *[r["initial_split"][p] for p in payers], r["cost_annual_yen"],
            *[r["annual_split"][p] for p in payers], r["staff_hours_full"], r["affected_local_governments"], r["in_use"],
            r["staff_hours_current"],
        ])
    t = data["totals"]
    rows.append([
        "", _("合計"), "", "", "", t["cost_initial_yen"], *[t["initial_split"][p] for p in payers], t["cost_annual_yen"],
        *[t["annual_split"][p] for p in payers], t["staff_hours_full"], "", "", t["staff_hours_current"],
    ])
    return Table("costs", _("コストの可視化"), headers, rows)


__all__ = ["Table", "summary_table", "prefectures_table", "municipalities_table", "trend_table", "policies_table",
           "costs_table", "queries"]
