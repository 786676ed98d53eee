"""Builders shared by the meeting tests (tests/test_meetings_*.py); no tests here.

Objects are made through the apps' actions, as the secretariat would make them.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from candidates import actions as candidate_actions
from council import calendar
from council.meetings import actions
from council.meetings.models import AgendaItem, Decision, Meeting, MeetingAttendee, MeetingPdf
from council.models import TransitionLog
from tenants.models import Organization

# One user per kind of seat, and the signed-out visitor (None).
ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "hokkaido", "sapporo")
COUNCIL = frozenset({"secretariat", "soumu", "mhlw", "chijikai"})
LOCAL = frozenset({"hokkaido", "sapporo"})


def get_user(username: str):
    return get_user_model().objects.get(username=username)


def org(code: str) -> Organization:
    return Organization.objects.get(code=code)


def candidate(title: str = "会議で審議する対象候補", *, ministry: str = "soumu", review: bool = True):
    """A candidate assessed against the three criteria, under review unless review=False."""
    secretariat = get_user("secretariat")
    made = candidate_actions.propose_candidate(secretariat, title=title, description="概要です。", owning_ministry=org(ministry))
    candidate_actions.assess(made, secretariat, user_need=4, expected_effect=4, feasibility=5, rationale="理由")
    if review:
        candidate_actions.decide(made, secretariat, "under_review")
    made.refresh_from_db()
    return made


def meeting(*, day: date | None = None, number: int | None = None, **fields) -> Meeting:
    return actions.create_meeting(
        get_user("secretariat"), date=day or calendar.today(), number=number, venue=fields.pop("venue", "第1会議室"), **fields
    )


def scheduled(*targets, day: date | None = None, other: str = "運営について") -> Meeting:
    """An announced meeting whose agenda holds `targets` (candidates, rounds, …) and one
    item without a target."""
    from candidates.models import Candidate
    from policies.models import ConsentRound, Policy
    from progress.models import MeasureRequest, ProgressReport

    kinds = {Candidate: "selection", ConsentRound: "consent", Policy: "policy", ProgressReport: "progress_report",
             MeasureRequest: "measure_request"}
    secretariat = get_user("secretariat")
    made = meeting(day=day)
    actions.add_agenda_item(made, secretariat, kind="other", title=other)
    for target in targets:
        actions.add_agenda_item(made, secretariat, kind=kinds[type(target)], target=target)
    actions.move_meeting(made, secretariat, "scheduled")
    made.refresh_from_db()
    return made


def held(*targets) -> Meeting:
    made = scheduled(*targets)
    actions.move_meeting(made, get_user("secretariat"), "held")
    made.refresh_from_db()
    return made


def published(*targets, minutes: str = "## 議事\n審議した。") -> Meeting:
    made = held(*targets)
    secretariat = get_user("secretariat")
    actions.save_minutes(made, secretariat, minutes)
    actions.move_meeting(made, secretariat, "minutes_published")
    made.refresh_from_db()
    return made


def item_for(made: Meeting, target=None) -> AgendaItem:
    if target is None:
        return made.agenda_items.get(kind="other")
    field = {"Candidate": "candidate", "ConsentRound": "consent_round", "Policy": "policy",
             "ProgressReport": "progress_report", "MeasureRequest": "measure_request"}[type(target).__name__]
    return made.agenda_items.get(**{field: target})


def open_round(policy, *, days: int = 7):
    from policies import actions as policy_actions

    return policy_actions.open_round(
        policy.versions.get(), get_user("secretariat"), closes_at=timezone.now() + timedelta(days=days)
    )


def vote(round_, choices=("consent", "consent", "consent")) -> None:
    from policies import actions as policy_actions

    comments = {"consent": "", "conditional_consent": "条件", "objection": "理由", "abstain": "理由"}
    for name, choice in zip(("chijikai", "shichokai", "chosonkai"), choices, strict=True):
        policy_actions.cast_ballot(round_, get_user(name), choice=choice, comment=comments[choice])


def snapshot() -> dict:
    """Every row a meeting write could touch, to show a refused request changed nothing."""
    from candidates.models import Candidate
    from policies.models import ConsentRound, Policy

    return {
        "meetings": list(Meeting.objects.order_by("pk").values()),
        "attendees": list(MeetingAttendee.objects.order_by("pk").values()),
        "items": list(AgendaItem.objects.order_by("pk").values()),
        "decisions": list(Decision.objects.order_by("pk").values()),
        "pdfs": list(MeetingPdf.objects.order_by("pk").values("pk", "status", "content_hash")),
        "history": TransitionLog.objects.count(),
        "candidates": list(Candidate.objects.order_by("pk").values("pk", "status", "track", "decision_note")),
        "rounds": list(ConsentRound.objects.order_by("pk").values("pk", "status", "outcome")),
        "policies": list(Policy.objects.order_by("pk").values("pk", "status")),
    }
