"""The open-data ZIP: CSV files (UTF-8 with BOM) of everything the council publishes — what a
municipal or prefectural official may see — for anyone who wants the data rather than pages.

"Published" follows the visibility rules of the models (DOMAIN.md), written here as filters
that need no viewer, and tests check each against the models' own ``visible_to`` for a
municipal official:

* candidates: selected ones; feasibility studies: accepted ones, conclusion only (their
  details are for council members);
* policies that were put to consent, the versions put to consent, their rounds, and the
  ballots of closed rounds; reporting schedules; accepted progress reports;
* adoption of those policies by every local government; usage reports;
* never: drafts, measure requests (council members only), users, audit records.

The file is built once per state of the data (keyed by the dashboards' stamps, which move
whenever the published tables change) and served from MEDIA_ROOT afterwards.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

README = """国・地方デジタル共通基盤推進連絡協議会 オープンデータ
Open data of the national–local digital common-infrastructure liaison council

作成日時 / generated at: {generated}
文字コード: UTF-8（BOM付き） / encoding: UTF-8 with BOM; 日時は日本時間 / times in Asia/Tokyo.

{files}
"""

FILES = {
    "organizations.csv": "団体（府省庁・地方三団体・都道府県・市区町村） / organizations",
    "business_areas.csv": "標準化対象20業務 / the 20 standardized business areas",
    "candidates.csv": "選定された共通化の対象候補 / selected candidates",
    "feasibility_studies.csv": "受理された実現可能性調査の結論 / conclusions of accepted feasibility studies",
    "policies.csv": "同意手続に付された共通化推進方針 / policies put to consent",
    "policy_versions.csv": "同意手続に付された版 / versions put to consent",
    "consent_rounds.csv": "同意手続と結果 / consent rounds and outcomes",
    "consent_ballots.csv": "終了した同意手続の意思表示 / ballots of closed rounds",
    "reporting_schedules.csv": "進捗報告のスケジュール / reporting schedules",
    "progress_reports.csv": "受理された進捗報告 / accepted progress reports",
    "adoption.csv": "地方公共団体ごとの導入状況 / adoption by each local government",
    "usage_reports.csv": "国が提供するシステム等の利用状況 / usage reports",
}


def _local(value):
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and getattr(value, "hour", None) is not None:
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def published_policies() -> QuerySet:
    from policies.models import ConsentRound, Policy

    return Policy.objects.filter(Exists(ConsentRound.objects.filter(policy=OuterRef("pk"))))


def published() -> dict[str, tuple[list[str], QuerySet, list[str]]]:
    """file name → (CSV header, queryset, the values() fields in header order)."""
    from candidates.models import BusinessArea, Candidate, CandidateStatus, FeasibilityStudy, StudyStatus
    from policies.models import Ballot, ConsentRound, PolicyVersion, RoundStatus
    from progress.models import Adoption, ProgressReport, ReportingSchedule, ReportStatus, UsageReport
    from tenants.models import Organization, OrganizationKind

    policies = published_policies()
    put_to_consent = ConsentRound.objects.filter(version=OuterRef("pk"))
    return {
        "organizations.csv": (
            ["id", "code", "kind", "name", "name_en", "name_kana", "parent_code"],
            Organization.objects.exclude(kind=OrganizationKind.SECRETARIAT).order_by("kind", "code"),
            ["pk", "code", "kind", "name", "name_en", "name_kana", "parent__code"],
        ),
        "business_areas.csv": (
            ["id", "code", "name", "name_en", "owning_ministry"],
            BusinessArea.objects.order_by("sort_order", "pk"),
            ["pk", "code", "name", "name_en", "owning_ministry__name"],
        ),
        "candidates.csv": (
            ["id", "title", "description", "owning_ministry", "status", "track", "decided_on"],
            Candidate.objects.filter(status=CandidateStatus.SELECTED).order_by("pk"),
            ["pk", "title", "description", "owning_ministry__name", "status", "track", "decided_on"],
        ),
        "feasibility_studies.csv": (
            ["id", "candidate_id", "candidate", "ministry", "status", "conclusion", "decided_at"],
            FeasibilityStudy.objects.filter(status=StudyStatus.ACCEPTED).order_by("pk"),
            ["pk", "candidate_id", "candidate__title", "ministry__name", "status", "conclusion", "decided_at"],
        ),
        "policies.csv": (
            ["id", "candidate_id", "title", "ministry", "status", "created_at"],
            policies.order_by("pk"),
            ["pk", "candidate_id", "title", "ministry__name", "status", "created_at"],
        ),
        "policy_versions.csv": (
            ["policy_id", "number", "content_hash", "submitted_at", "body", "cost_sharing", "schedule"],
            PolicyVersion.objects.filter(Exists(put_to_consent)).order_by("policy_id", "number"),
            ["policy_id", "number", "content_hash", "submitted_at", "body", "cost_sharing", "schedule"],
        ),
        "consent_rounds.csv": (
            ["id", "policy_id", "version", "version_hash", "status", "outcome", "opened_at", "closes_at", "closed_at"],
            ConsentRound.objects.filter(policy__in=policies).order_by("pk"),
            ["pk", "policy_id", "version__number", "version_hash", "status", "outcome", "opened_at", "closes_at", "closed_at"],
        ),
        "consent_ballots.csv": (
            ["round_id", "organization", "choice", "comment", "cast_at"],
            Ballot.objects.filter(round__status=RoundStatus.CLOSED, round__policy__in=policies).order_by("round_id", "organization__code"),
            ["round_id", "organization__name", "choice", "comment", "cast_at"],
        ),
        "reporting_schedules.csv": (
            ["policy_id", "frequency", "due_days_after_period", "first_fiscal_year", "first_period"],
            ReportingSchedule.objects.filter(policy__in=policies).order_by("policy_id"),
            ["policy_id", "frequency", "due_days_after_period", "first_fiscal_year", "first_period"],
        ),
        "progress_reports.csv": (
            ["id", "policy_id", "fiscal_year", "period", "period_start", "period_end", "due_date", "summary", "milestones", "kpis", "risks", "submitted_at", "decided_at"],
            ProgressReport.objects.filter(status=ReportStatus.ACCEPTED, policy__in=policies).order_by("pk"),
            ["pk", "policy_id", "fiscal_year", "period", "period_start", "period_end", "due_date", "summary", "milestones", "kpis", "risks", "submitted_at", "decided_at"],
        ),
        "adoption.csv": (
            ["policy_id", "code", "name", "status", "target_fiscal_year", "updated_at"],
            Adoption.objects.filter(policy__in=policies).order_by("policy_id", "organization_code"),
            ["policy_id", "organization__code", "organization__name", "status", "target_fiscal_year", "updated_at"],
        ),
        "usage_reports.csv": (
            ["id", "reporter", "system_name", "layer", "period_start", "period_end", "metrics", "note"],
            UsageReport.objects.order_by("pk"),
            ["pk", "reporter__name", "system_name", "layer", "period_start", "period_end", "metrics", "note"],
        ),
    }


def _rows(header: list[str], rows: Iterable[tuple]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for i, row in enumerate(rows, 1):
        writer.writerow([_local(v) for v in row])
        if i % 2000 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def write_zip(target) -> None:
    """Write the ZIP to a binary file object, streaming each table in chunks."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        listing = "\n".join(f"{name}: {text}" for name, text in FILES.items())
        archive.writestr("README.txt", README.format(generated=timezone.localtime().isoformat(timespec="seconds"), files=listing))
        for name, (header, queryset, fields) in published().items():
            with archive.open(name, "w") as out:
                for chunk in _rows(header, queryset.values_list(*fields).iterator(chunk_size=2000)):
                    out.write(chunk)


def data_key() -> str:
    """Changes whenever a published table changes (the dashboards' stamps move with them)."""
    from council.dashboards.models import Stamp

    from tenants.models import Organization

    stamps = sorted(Stamp.objects.values_list("scope", "version")) + [Organization.objects.count()]
    return hashlib.sha256(json.dumps(stamps).encode()).hexdigest()[:24]


def current_zip() -> Path:
    """The ZIP of the data as it is now: built on first request after a change, then reused."""
    folder = Path(settings.MEDIA_ROOT) / "opendata"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"council-open-data-{data_key()}.zip"
    if not path.exists():
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as target:
            try:
                write_zip(target)
            except BaseException:
                Path(target.name).unlink(missing_ok=True)
                raise
        Path(target.name).replace(path)  # atomic: a concurrent reader never sees half a file
        for old in folder.glob("council-open-data-*.zip"):
            if old != path:
                old.unlink(missing_ok=True)
    return path
