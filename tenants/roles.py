"""Model-level permissions each role carries (what the admin site lets it manage).

Object-level rights (this ministry's draft, that municipality's adoption row) are not here:
they are guardian rows granted to organization groups (see tenants.access).
"""

from django.contrib.auth.models import Permission
from django.db.models import Q

from tenants.models import Role, role_group

ROLE_MODEL_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # The secretariat keeps the register of organizations, users and memberships.
    Role.SECRETARIAT_STAFF: (
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "tenants.view_organization",
        "tenants.add_organization",
        "tenants.change_organization",
        "tenants.view_membership",
        "tenants.add_membership",
        "tenants.change_membership",
        "tenants.delete_membership",
        "candidates.view_businessarea",
        "candidates.change_businessarea",
        # Read-only views of the workflow objects (they change through the pages and API).
        "council.view_transitionlog",
        "council.view_meeting",
        "council.view_meetingattendee",
        "council.view_agendaitem",
        "council.view_decision",
        "council.view_meetingpdf",
        "candidates.view_candidate",
        "candidates.view_assessment",
        "candidates.view_assessmentevidence",
        "candidates.view_feasibilitystudy",
        "candidates.view_studyattachment",
        "candidates.view_criteriaweights",
        "policies.view_policy",
        "policies.view_policyversion",
        "policies.view_versioncomment",
        "policies.view_consentround",
        "policies.view_consentvoter",
        "policies.view_ballot",
        "policies.view_consentrecord",
        "policies.view_versionpdf",
        "progress.view_reportingschedule",
        "progress.view_progressreport",
        "progress.view_reportattachment",
        "progress.view_adoption",
        "progress.view_adoptionchange",
        "progress.view_usagereport",
        "progress.view_measurerequest",
        "progress.view_reminder",
        "progress.view_progressdocument",
        # Login lockouts (django-axes): see them, and lift one by deleting its attempt row.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
        # Two-factor devices (django-otp): remove the device of someone who lost their phone.
        "otp_totp.view_totpdevice",
        "otp_totp.delete_totpdevice",
        # Celery task failures and run counts (council.ops), read-only.
        "ops.view_taskfailure",
        "ops.view_taskcount",
        # The audit trail (council.audit), read-only: the database refuses changes anyway.
        "audit.view_auditevent",
    ),
}


def sync_role_permissions() -> int:
    """Give each role group exactly its model permissions; returns how many grants changed."""
    changed = 0
    for role, names in ROLE_MODEL_PERMISSIONS.items():
        query = Q()
        for name in names:
            app_label, codename = name.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        wanted = set(Permission.objects.filter(query).values_list("pk", flat=True))
        if len(wanted) != len(names):
            raise LookupError(f"unknown permission among {names}")
        group = role_group(role)
        current = set(group.permissions.values_list("pk", flat=True))
        if wanted != current:
            group.permissions.set(wanted)
            changed += len(wanted ^ current)
    return changed
