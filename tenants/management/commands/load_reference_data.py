from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from candidates.reference import BUSINESS_AREAS_CSV, KIND as BUSINESS_AREA, load_business_areas
from tenants.models import OrganizationKind
from tenants.reference import (
    LOCAL_GOVERNMENTS_CSV,
    NATIONAL_BODIES_CSV,
    ReferenceDataError,
    load_organizations,
)
from tenants.roles import sync_role_permissions

LABELS = {**{kind.value: str(kind.label) for kind in OrganizationKind}, BUSINESS_AREA: "標準化対象業務"}


class Command(BaseCommand):
    help = (
        "Load, or bring up to date, every organization (secretariat, ministries, associations, "
        "47 prefectures, 1,741 municipalities) and the 20 standardized business areas. "
        "Safe to run again: a second run changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--national-bodies", type=Path, default=NATIONAL_BODIES_CSV)
        parser.add_argument("--local-governments", type=Path, default=LOCAL_GOVERNMENTS_CSV)
        parser.add_argument("--business-areas", type=Path, default=BUSINESS_AREAS_CSV)

    def handle(self, *args, **options) -> None:
        try:
            # One transaction: a bad row anywhere leaves the database as it was.
            with transaction.atomic():
                report = load_organizations(options["national_bodies"], options["local_governments"])
                load_business_areas(options["business_areas"], report=report)
                permissions_changed = sync_role_permissions()
        except ReferenceDataError as exc:
            raise CommandError(f"reference data not loaded, nothing saved: {exc}") from None
        except OSError as exc:
            raise CommandError(f"reference data not loaded, nothing saved: cannot read {exc.filename}: {exc.strerror}") from None

        for kind, label in LABELS.items():
            self.stdout.write(
                f"{label}: {report.total(kind)} "
                f"(created {report.created[kind]}, updated {report.updated[kind]}, unchanged {report.unchanged[kind]})"
            )
        if report.changed or permissions_changed:
            self.stdout.write(self.style.SUCCESS("Reference data loaded."))
        else:
            self.stdout.write(self.style.SUCCESS("Reference data already up to date: nothing changed."))
