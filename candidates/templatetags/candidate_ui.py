"""Small presentation helpers for the candidate and study pages: status badges and labels."""

from django import template
from django.utils.html import format_html

from candidates.models import CandidateStatus, StudyStatus

register = template.Library()

# Badge modifier per status (see "Status badges" in council.css). The text always says the
# status too, so colour never carries the meaning alone.
BADGES = {
    CandidateStatus.PROPOSED: "badge--proposed",
    CandidateStatus.UNDER_REVIEW: "badge--pending",
    CandidateStatus.SELECTED: "badge--selected",
    CandidateStatus.NOT_SELECTED: "badge--rejected",
    CandidateStatus.WITHDRAWN: "",
    StudyStatus.ASSIGNED: "badge--pending",
    StudyStatus.SUBMITTED: "badge--proposed",
    StudyStatus.ACCEPTED: "badge--done",
    StudyStatus.RETURNED: "badge--warning",
}


@register.simple_tag
def status_badge(obj, value=None):
    """<span class="badge …">label</span> for `obj`'s status (or `value`, one of its statuses)."""
    value = obj.status if value is None else value
    if not value:
        return ""
    modifier = BADGES.get(value, "")
    return format_html('<span class="badge {}">{}</span>', modifier, obj.status_label(value))


@register.simple_tag
def status_label(obj, value):
    return obj.status_label(value) if value else ""
