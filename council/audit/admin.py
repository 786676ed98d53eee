from django.contrib import admin

from council.admin_mixins import ReadOnlyAdmin
from council.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only, like every record (the database refuses changes anyway). The secretariat's
    page with filters and CSV export is /audit/."""

    list_display = ["sequence", "at", "actor_repr", "action", "content_type", "object_repr", "ip"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_repr", "object_repr", "object_id", "ip"]
    list_select_related = ["content_type"]
    date_hierarchy = "at"
