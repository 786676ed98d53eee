"""Presentation helpers of the stage 4 pages: status badges, numbers, the council-member test."""

from django import template
from django.utils.html import format_html

from council.workflow import WorkflowModel
from progress.charts import format_number
from progress.models import AdoptionStatus, MeasureRequest, MeasureStatus, MilestoneStatus, ProgressReport, ReportStatus
from tenants.access import is_council_member

register = template.Library()

# Badge modifiers (see "Status badges" in council.css). The text always says the status
# too, so colour never carries the meaning alone.
REPORT_BADGES = {
    ReportStatus.DUE: "badge--pending",
    ReportStatus.SUBMITTED: "badge--proposed",
    ReportStatus.ACCEPTED: "badge--done",
    ReportStatus.RETURNED: "badge--warning",
}
MEASURE_BADGES = {
    MeasureStatus.OPEN: "badge--pending",
    MeasureStatus.RESPONDED: "badge--proposed",
    MeasureStatus.CLOSED: "badge--done",
}
MILESTONE_BADGES = {
    MilestoneStatus.NOT_STARTED: "",
    MilestoneStatus.IN_PROGRESS: "badge--proposed",
    MilestoneStatus.DONE: "badge--done",
    MilestoneStatus.DELAYED: "badge--rejected",
}
ADOPTION_BADGES = {
    AdoptionStatus.NOT_PLANNED: "",
    AdoptionStatus.CONSIDERING: "badge--pending",
    AdoptionStatus.PLANNED: "badge--proposed",
    AdoptionStatus.MIGRATING: "badge--selected",
    AdoptionStatus.IN_USE: "badge--done",
    AdoptionStatus.NOT_APPLICABLE: "",
}
WORKFLOW_BADGES = {ProgressReport: REPORT_BADGES, MeasureRequest: MEASURE_BADGES}


def _badge(modifier: str, label) -> str:
    return format_html('<span class="badge {}">{}</span>', modifier, label)


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else value


@register.simple_tag
def status_badge(subject: WorkflowModel, value=None):
    """The badge of a report's or a measure request's status (its own, or `value`)."""
    value = subject.status if value is None else value
    if not value:
        return ""
    return _badge(WORKFLOW_BADGES.get(type(subject), {}).get(value, ""), subject.status_label(value))


@register.simple_tag
def milestone_badge(value):
    return _badge(MILESTONE_BADGES.get(value, ""), _label(MilestoneStatus, value)) if value else ""


@register.simple_tag
def adoption_badge(value):
    return _badge(ADOPTION_BADGES.get(value, ""), _label(AdoptionStatus, value)) if value else ""


@register.simple_tag
def adoption_label(value):
    return _label(AdoptionStatus, value) if value else ""


@register.filter
def number(value):
    """1741 → "1,741"; 99.984 → "99.98"; None → "—"."""
    return format_number(value)


@register.simple_tag
def council_member(user) -> bool:
    """Whether `user` is on the council (secretariat, ministry, association): the measure
    requests are theirs."""
    return user.is_authenticated and is_council_member(user)
