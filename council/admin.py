from django.contrib import admin

from council.admin_mixins import ReadOnlyAdmin
from council.models import TransitionLog


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "content_type", "object_id", "from_status", "to_status", "by"]
    list_filter = ["content_type", "to_status"]
    list_select_related = ["content_type", "by"]
    date_hierarchy = "at"


# --- Meetings: read-only here; the secretariat runs them through the meeting pages and API. ---
from council.models import AgendaItem, Decision, Meeting, MeetingAttendee, MeetingPdf  # noqa: E402


class MeetingAttendeeInline(admin.TabularInline):
    model = MeetingAttendee
    fields = ["organization", "title", "name"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    fields = ["order", "kind", "title"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["number", "date", "format", "venue", "status"]
    list_filter = ["status", "format"]
    date_hierarchy = "date"
    inlines = [MeetingAttendeeInline, AgendaItemInline]


@admin.register(AgendaItem)
class AgendaItemAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "order", "kind", "title"]
    list_filter = ["kind"]
    list_select_related = ["meeting"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["agenda_item", "outcome", "track", "decided_at", "decided_by"]
    list_filter = ["outcome"]
    list_select_related = ["agenda_item", "agenda_item__meeting", "decided_by"]


@admin.register(MeetingPdf)
class MeetingPdfAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "kind", "language", "status", "pages", "requested_at", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["meeting"]
