"""Loading the organizations of the reference data, idempotently.

A load validates every row with the model's own rules before writing anything; one bad
row aborts the whole load with its file and line number, and nothing is saved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.csvdata import read_reference_csv
from tenants.kana import to_full_width_katakana
from tenants.models import LOCAL_GOVERNMENT_KINDS, Organization, OrganizationKind

DATA_DIR = Path(__file__).resolve().parent / "data"
NATIONAL_BODIES_CSV = DATA_DIR / "national_bodies.csv"
LOCAL_GOVERNMENTS_CSV = DATA_DIR / "local_governments.csv"

SYNCED_FIELDS = ("kind", "name", "name_en", "name_kana", "parent_id")


class ReferenceDataError(Exception):
    """A row of a reference file is invalid; the message names the file and line."""


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def total(self, kind: str) -> int:
        return self.created[kind] + self.updated[kind] + self.unchanged[kind]


def load_organizations(
    national_path: Path = NATIONAL_BODIES_CSV,
    local_path: Path = LOCAL_GOVERNMENTS_CSV,
) -> LoadReport:
    report = LoadReport()
    with transaction.atomic():
        _sync([(where, _organization_from_row(row)) for where, row in _rows(national_path)], report)
        local = list(_rows(local_path))
        for where, row in local:
            if row.get("kind") not in LOCAL_GOVERNMENT_KINDS:
                raise ReferenceDataError(f"{where}: kind {row.get('kind')!r} is not prefecture or municipality")
        prefectures = [(where, row) for where, row in local if row["kind"] == OrganizationKind.PREFECTURE]
        _sync([(where, _organization_from_row(row)) for where, row in prefectures], report)
        prefecture_by_code = {
            org.code: org for org in Organization.objects.filter(kind=OrganizationKind.PREFECTURE)
        }
        municipalities = []
        for where, row in local:
            if row["kind"] != OrganizationKind.MUNICIPALITY:
                continue
            org = _organization_from_row(row)
            org.parent = prefecture_by_code.get(row.get("prefecture_code", ""))
            if org.parent is None:
                raise ReferenceDataError(
                    f"{where}: prefecture_code {row.get('prefecture_code')!r} is not a loaded prefecture"
                )
            municipalities.append((where, org))
        _sync(municipalities, report)
    return report


def _rows(path: Path):
    for line, row in read_reference_csv(path):
        yield f"{path.name}:{line}", row


def _organization_from_row(row: dict[str, str]) -> Organization:
    return Organization(
        kind=row.get("kind", ""),
        code=row.get("code", ""),
        name=row.get("name", ""),
        name_en=row.get("name_en", ""),
        name_kana=to_full_width_katakana(row.get("name_kana", "")),
    )


def _sync(rows: list[tuple[str, Organization]], report: LoadReport) -> None:
    """Validate every row, then create the missing and update the changed organizations."""
    seen: set[str] = set()
    for where, org in rows:
        if org.code in seen:
            raise ReferenceDataError(f"{where}: duplicate code {org.code!r}")
        seen.add(org.code)
        try:
            org.clean_fields(exclude=["group", "parent", "code"])  # code's uniqueness is ours to judge
            org.clean()
        except ValidationError as exc:
            raise ReferenceDataError(f"{where}: {org.code}: {_one_line(exc)}") from None

    existing = {org.code: org for org in Organization.objects.filter(code__in=seen)}
    to_create = [org for _where, org in rows if org.code not in existing]
    to_update = []
    for _where, org in rows:
        current = existing.get(org.code)
        if current is None:
            continue
        if any(getattr(current, name) != getattr(org, name) for name in SYNCED_FIELDS):
            for name in SYNCED_FIELDS:
                setattr(current, name, getattr(org, name))
            to_update.append(current)
            report.updated[org.kind] += 1
        else:
            report.unchanged[org.kind] += 1

    if to_create:
        names = [org.group_name for org in to_create]
        Group.objects.bulk_create([Group(name=name) for name in names], ignore_conflicts=True)
        group_ids = dict(Group.objects.filter(name__in=names).values_list("name", "id"))
        for org in to_create:
            org.group_id = group_ids[org.group_name]
            report.created[org.kind] += 1
        Organization.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Organization.objects.bulk_update(to_update, [n.removesuffix("_id") for n in SYNCED_FIELDS], batch_size=500)


def _one_line(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
