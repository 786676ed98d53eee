from django.contrib import admin

from candidates.models import BusinessArea


@admin.register(BusinessArea)
class BusinessAreaAdmin(admin.ModelAdmin):
    list_display = ["sort_order", "name", "code", "owning_ministry"]
    list_display_links = ["name"]
    list_filter = ["owning_ministry"]
    search_fields = ["name", "name_en", "code"]
    autocomplete_fields = ["owning_ministry"]
    list_select_related = ["owning_ministry"]
