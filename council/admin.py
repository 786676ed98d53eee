from django.contrib import admin

from council.admin_mixins import ReadOnlyAdmin
from council.models import TransitionLog


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "content_type", "object_id", "from_status", "to_status", "by"]
    list_filter = ["content_type", "to_status"]
    list_select_related = ["content_type", "by"]
    date_hierarchy = "at"
