"""Presentation helpers of the policy and consent pages: badges, hashes, fiscal years."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from policies.models import Choice, Outcome, Payer, PolicyStatus, RoundStatus

register = template.Library()

# Badge modifiers (see "Status badges" in council.css). The text always says the status
# too, so colour never carries the meaning alone.
POLICY_BADGES = {
    PolicyStatus.DRAFTING: "badge--pending",
    PolicyStatus.IN_CONSENT: "badge--proposed",
    PolicyStatus.CONSENTED: "badge--done",
    PolicyStatus.WITHDRAWN: "",
}
OUTCOME_BADGES = {Outcome.CONSENTED: "badge--done", Outcome.NOT_CONSENTED: "badge--rejected"}
CHOICE_BADGES = {
    Choice.CONSENT: "badge--done",
    Choice.CONDITIONAL_CONSENT: "badge--selected",
    Choice.OBJECTION: "badge--rejected",
    Choice.ABSTAIN: "",
}


def _badge(modifier: str, label) -> str:
    return format_html('<span class="badge {}">{}</span>', modifier, label)


@register.simple_tag
def policy_badge(value):
    """The badge of a policy status (a policy's, or one from its history)."""
    if not value:
        return ""
    return _badge(POLICY_BADGES.get(value, ""), PolicyStatus(value).label if value in PolicyStatus.values else value)


@register.simple_tag
def round_badge(round_):
    """受付中 while open; the outcome once closed."""
    if round_.status == RoundStatus.OPEN:
        return _badge("badge--proposed", RoundStatus.OPEN.label)
    return _badge(OUTCOME_BADGES.get(round_.outcome, ""), round_.get_outcome_display())


@register.simple_tag
def outcome_badge(status, outcome):
    """Like round_badge, from annotated values (status, outcome) of a round."""
    if not status:
        return ""
    if status == RoundStatus.OPEN:
        return _badge("badge--proposed", RoundStatus.OPEN.label)
    return _badge(OUTCOME_BADGES.get(outcome, ""), Outcome(outcome).label if outcome in Outcome.values else outcome)


@register.simple_tag
def choice_badge(value):
    if not value:
        return format_html('<span class="badge badge--none">{}</span>', _("未投票"))
    return _badge(CHOICE_BADGES.get(value, ""), Choice(value).label)


@register.simple_tag
def version_badge(version):
    if version.is_frozen:
        return _badge("badge--frozen", _("提出済み（確定）"))
    return _badge("badge--pending", _("下書き"))


@register.filter
def payer_label(value) -> str:
    return Payer(value).label if value in Payer.values else (value or "")


@register.filter
def short_hash(value, length: int = 12) -> str:
    return (value or "")[: int(length)]


@register.filter
def fiscal_year(value) -> str:
    """2030 → "2030年度（令和12年度）"; 令和 years count from FY2019 (令和元年度)."""
    if value in (None, ""):
        return ""
    year = int(value)
    if year >= 2019:
        reiwa = year - 2018
        era = _("令和元年度") if reiwa == 1 else _("令和%(n)s年度") % {"n": reiwa}
        return _("%(year)s年度（%(era)s）") % {"year": year, "era": era}
    return _("%(year)s年度") % {"year": year}


@register.filter
def iso_date(value, fmt: str | None = None) -> str:
    """A schedule's "2028-03-31" as a date on the page (e.g. 2028年3月31日)."""
    from datetime import date

    from django.utils.formats import date_format

    try:
        parsed = date.fromisoformat(str(value))
    except ValueError:
        return value or ""
    return date_format(parsed, fmt or _("Y年n月j日"))


DIFF_STATUSES = {
    "unchanged": (gettext_lazy("変更なし"), ""),
    "changed": (gettext_lazy("変更"), "badge--warning"),
    "added": (gettext_lazy("追加"), "badge--done"),
    "removed": (gettext_lazy("削除"), "badge--rejected"),
}


@register.simple_tag
def diff_badge(status: str):
    label, modifier = DIFF_STATUSES.get(status, (status, ""))
    return _badge(modifier, label)
