from django.contrib import admin

from council.admin_mixins import ReadOnlyAdmin
from policies.models import (
    Ballot,
    ConsentRecord,
    ConsentRound,
    ConsentVoter,
    Policy,
    PolicyVersion,
    VersionComment,
    VersionPdf,
)


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ["title", "ministry", "status", "created_at"]
    list_filter = ["status", "ministry"]
    search_fields = ["title"]
    list_select_related = ["ministry"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["policy", "number", "submitted_at", "content_hash"]
    list_select_related = ["policy"]


@admin.register(ConsentRound)
class ConsentRoundAdmin(ReadOnlyAdmin):
    list_display = ["policy", "version", "status", "outcome", "closes_at", "closed_at"]
    list_filter = ["status", "outcome"]
    list_select_related = ["policy", "version", "version__policy"]


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ["round", "organization", "choice", "cast_by", "cast_at"]
    list_select_related = ["round", "round__policy", "round__version", "round__version__policy", "organization", "cast_by"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["round", "seq", "kind", "at", "hash"]


@admin.register(ConsentVoter, VersionComment, VersionPdf)
class PolicyRecordsAdmin(ReadOnlyAdmin):
    pass
