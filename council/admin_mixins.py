from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For workflow objects and records: changes go through the platform's actions (locks,
    history, hash chains), never through admin forms, so the admin shows them read-only."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
