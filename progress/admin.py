from django.contrib import admin

from council.admin_mixins import ReadOnlyAdmin
from progress.models import (
    Adoption,
    AdoptionChange,
    MeasureRequest,
    ProgressDocument,
    ProgressReport,
    Reminder,
    ReportAttachment,
    ReportingSchedule,
    UsageReport,
)


@admin.register(ReportingSchedule)
class ReportingScheduleAdmin(ReadOnlyAdmin):
    list_display = ["policy", "frequency", "due_days_after_period", "first_fiscal_year", "first_period"]
    list_select_related = ["policy"]


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    list_display = ["policy", "fiscal_year", "period", "due_date", "status", "submitted_at"]
    list_filter = ["status", "fiscal_year"]
    list_select_related = ["policy", "schedule"]


@admin.register(Adoption)
class AdoptionAdmin(ReadOnlyAdmin):
    list_display = ["policy", "organization", "status", "target_fiscal_year", "updated_at"]
    list_filter = ["status", "policy"]
    search_fields = ["organization__name", "organization__code"]
    list_select_related = ["policy", "organization"]


@admin.register(MeasureRequest)
class MeasureRequestAdmin(ReadOnlyAdmin):
    list_display = ["policy", "ministry", "status", "due_date", "requested_at"]
    list_filter = ["status"]
    list_select_related = ["policy", "ministry"]


@admin.register(UsageReport)
class UsageReportAdmin(ReadOnlyAdmin):
    list_display = ["system_name", "reporter", "layer", "period_start", "period_end"]
    list_select_related = ["reporter"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["key", "kind", "due_date", "claimed_at", "sent_at", "attempts"]
    list_filter = ["kind", "subject_type"]


@admin.register(AdoptionChange, ReportAttachment, ProgressDocument)
class ProgressRecordsAdmin(ReadOnlyAdmin):
    pass
