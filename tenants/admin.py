from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from tenants.models import Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization"]
    verbose_name = _("所属")
    verbose_name_plural = _("所属と役割")


class UserMembershipInline(MembershipInline):
    fk_name = "user"


class OrganizationMembershipInline(MembershipInline):
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(GuardedModelAdmin):
    list_display = ["code", "name", "name_kana", "kind", "parent"]
    list_filter = ["kind", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name", "name_kana", "name_en"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    inlines = [OrganizationMembershipInline]
    fields = ["kind", "code", "name", "name_kana", "name_en", "parent"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization__kind"]
    search_fields = ["user__username", "organization__name", "organization__code"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class CouncilUserAdmin(UserAdmin):
    inlines = [UserMembershipInline]


admin.site.site_header = _("国・地方デジタル共通基盤推進連絡協議会 管理画面")
admin.site.site_title = _("協議会 管理画面")
admin.site.index_title = _("管理")
