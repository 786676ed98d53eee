from django.contrib import admin

from candidates.models import (
    Assessment,
    AssessmentEvidence,
    BusinessArea,
    Candidate,
    CriteriaWeights,
    FeasibilityStudy,
    StudyAttachment,
)
from council.admin_mixins import ReadOnlyAdmin


@admin.register(BusinessArea)
class BusinessAreaAdmin(admin.ModelAdmin):
    list_display = ["sort_order", "name", "code", "owning_ministry"]
    list_display_links = ["name"]
    list_filter = ["owning_ministry"]
    search_fields = ["name", "name_en", "code"]
    autocomplete_fields = ["owning_ministry"]
    list_select_related = ["owning_ministry"]


class AssessmentInline(admin.TabularInline):
    model = Assessment
    extra = 0
    fields = ["assessor", "organization", "user_need", "expected_effect", "feasibility", "rationale"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Candidate)
class CandidateAdmin(ReadOnlyAdmin):
    list_display = ["title", "owning_ministry", "status", "track", "decided_on", "created_at"]
    list_filter = ["status", "track", "owning_ministry"]
    search_fields = ["title", "description"]
    list_select_related = ["owning_ministry"]
    inlines = [AssessmentInline]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "assessor", "organization", "user_need", "expected_effect", "feasibility"]
    list_select_related = ["candidate", "assessor", "organization"]


@admin.register(FeasibilityStudy)
class FeasibilityStudyAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "ministry", "status", "due_date", "conclusion", "submitted_at"]
    list_filter = ["status", "conclusion", "ministry"]
    list_select_related = ["candidate", "ministry"]


@admin.register(AssessmentEvidence, StudyAttachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]


@admin.register(CriteriaWeights)
class CriteriaWeightsAdmin(ReadOnlyAdmin):
    list_display = ["user_need", "expected_effect", "feasibility", "updated_by", "updated_at"]
