"""Loading the 20 standardized business areas (標準化対象20業務), idempotently."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from candidates.models import BusinessArea
from tenants.csvdata import read_reference_csv
from tenants.models import Organization, OrganizationKind
from tenants.reference import LoadReport, ReferenceDataError

BUSINESS_AREAS_CSV = Path(__file__).resolve().parent / "data" / "business_areas.csv"
SYNCED_FIELDS = ("name", "name_en", "owning_ministry_id", "sort_order")
KIND = "business_area"


def load_business_areas(path: Path = BUSINESS_AREAS_CSV, report: LoadReport | None = None) -> LoadReport:
    report = report or LoadReport()
    ministries = {org.code: org for org in Organization.objects.filter(kind=OrganizationKind.MINISTRY)}
    with transaction.atomic():
        existing = {area.code: area for area in BusinessArea.objects.all()}
        for line, row in read_reference_csv(path):
            where = f"{path.name}:{line}"
            ministry = ministries.get(row.get("owning_ministry", ""))
            if ministry is None:
                raise ReferenceDataError(f"{where}: owning_ministry {row.get('owning_ministry')!r} is not a ministry")
            try:
                sort_order = int(row.get("sort_order", ""))
            except ValueError:
                raise ReferenceDataError(f"{where}: sort_order {row.get('sort_order')!r} is not a number") from None
            area = existing.get(row.get("code", "")) or BusinessArea(code=row.get("code", ""))
            fresh = area.pk is None
            before = {name: getattr(area, name) for name in SYNCED_FIELDS}
            area.name, area.name_en = row.get("name", ""), row.get("name_en", "")
            area.owning_ministry, area.sort_order = ministry, sort_order
            try:
                area.full_clean(validate_unique=False)
            except ValidationError as exc:
                raise ReferenceDataError(f"{where}: {'; '.join(exc.messages)}") from None
            if fresh:
                area.save()
                report.created[KIND] += 1
            elif before != {name: getattr(area, name) for name in SYNCED_FIELDS}:
                area.save(update_fields=[n.removesuffix("_id") for n in SYNCED_FIELDS])
                report.updated[KIND] += 1
            else:
                report.unchanged[KIND] += 1
    return report
