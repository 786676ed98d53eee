from django.contrib import admin

from council.admin_mixins import ReadOnlyAdmin
from council.ops.models import TaskCount, TaskFailure


@admin.register(TaskFailure)
class TaskFailureAdmin(ReadOnlyAdmin):
    list_display = ["failed_at", "task_name", "exception", "request_id", "hostname"]
    list_filter = ["task_name"]
    search_fields = ["task_id", "task_name", "request_id", "exception"]
    date_hierarchy = "failed_at"


@admin.register(TaskCount)
class TaskCountAdmin(ReadOnlyAdmin):
    list_display = ["hour", "task_name", "state", "count"]
    list_filter = ["state", "task_name"]
