"""Building blocks of the stage 3 API tests (tests/test_api_polic*.py, tests/test_api_consent.py).

Policies, versions and rounds are made through policies.actions, as users would make them
(the candidate and its accepted study come from candidates.actions, with the study's
decision forced by `put_in` as in api_helpers). `snapshot()` reads every row a stage 3
write could touch, so a test can show that a refused request changed nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Model
from django.utils import timezone
from guardian.models import GroupObjectPermission

from candidates import actions as candidate_actions
from candidates.models import Candidate
from council.models import TransitionLog
from policies import actions
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
from tests.api_helpers import FILLED_STUDY, candidate_in, future, get_user, org, put_in
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE

# Every kind of seat of the demo world that stage 3 treats differently.
ASSOCIATIONS = ("chijikai", "shichokai", "chosonkai")
LOCAL = ("hokkaido", "sapporo")
EVERYONE = ("secretariat", "soumu", "mhlw", *ASSOCIATIONS, *LOCAL)
# Who sees what (policies of 総務省): drafts are the secretariat's and the owning ministry's;
# submitted versions are the council's; what was put to consent is everyone's.
DRAFT_READERS = frozenset({"secretariat", "soumu"})
COUNCIL = frozenset({"secretariat", "soumu", "mhlw", *ASSOCIATIONS})


def accepted_candidate(title: str = "公金受取口座の登録支援", ministry: str = "soumu") -> Candidate:
    """A selected candidate of `ministry` whose feasibility study the secretariat accepted."""
    candidate = candidate_in("selected", title, ministry=ministry)
    study, _moved = candidate_actions.assign_study(candidate, get_user("secretariat"), due_date=future())
    candidate_actions.save_study(study, get_user(ministry), dict(FILLED_STUDY))
    now = timezone.now()
    put_in(study, "accepted", submitted_at=now, decided_at=now)
    candidate.refresh_from_db()
    return candidate


def draft_policy(title: str = "公金受取口座の共通化推進方針", ministry: str = "soumu", *, filled: bool = False) -> Policy:
    """A new policy: version 1 is the editable template (or, `filled`, a complete draft)."""
    policy = actions.create_policy(accepted_candidate(f"{title}の候補", ministry), get_user(ministry), title=title)
    if filled:
        fill(policy.versions.get(), ministry)
    return policy


def fill(version: PolicyVersion, ministry: str = "soumu", body: str = COMPLETE_BODY) -> PolicyVersion:
    return actions.update_version(
        version, get_user(ministry), {"body": body, "cost_sharing": COST_SHARING, "schedule": SCHEDULE}
    )


def submitted_policy(title: str = "公金受取口座の共通化推進方針", ministry: str = "soumu") -> Policy:
    """A policy whose version 1 is complete and submitted (frozen)."""
    policy = draft_policy(title, ministry, filled=True)
    actions.submit_version(policy.versions.get(), get_user(ministry))
    policy.refresh_from_db()
    return policy


def next_version(policy: Policy, body: str | None = None, *, submit: bool = True) -> PolicyVersion:
    version = actions.create_version(policy, get_user("soumu"), body=body)
    if submit:
        version = actions.submit_version(version, get_user("soumu"))
    return version


def open_round(policy: Policy, *, days: int = 7, extra_voters=()) -> ConsentRound:
    """Put the policy's latest submitted version to consent."""
    version = policy.versions.filter(submitted_at__isnull=False).order_by("-number").first()
    round_ = actions.open_round(
        version, get_user("secretariat"), closes_at=timezone.now() + timedelta(days=days),
        extra_voters=[org(code) for code in extra_voters],
    )
    policy.refresh_from_db()
    return round_


def vote(round_: ConsentRound, *choices: str) -> None:
    """Ballots of the three associations, in the order 知事会, 市長会, 町村会."""
    for username, choice in zip(ASSOCIATIONS, choices, strict=False):
        actions.cast_ballot(round_, get_user(username), choice=choice, comment="" if choice == "consent" else "理由")


def two_voted_rounds() -> tuple[ConsentRound, ConsentRound]:
    """Two open rounds of two ministries' policies, with two ballots and with one."""
    first = open_round(submitted_policy("一つ目の方針"))
    vote(first, "consent", "objection")
    second = open_round(submitted_policy("二つ目の方針", ministry="mhlw"))
    vote(second, "abstain")
    return first, second


def closed_round(policy: Policy, *choices: str) -> ConsentRound:
    round_ = open_round(policy)
    vote(round_, *(choices or ("consent", "consent", "consent")))
    round_ = actions.close_round(round_, get_user("secretariat"))
    policy.refresh_from_db()
    return round_


def policy_in(stage: str, title: str = "公金受取口座の共通化推進方針") -> Policy:
    """A policy of 総務省 at one point of its life.

    draft: version 1 is an unsubmitted draft. submitted: version 1 is frozen, not yet put to
    consent. in_consent: a round is open on it. consented / not_consented: that round closed
    with this outcome (not_consented is back in drafting). withdrawn: withdrawn as a draft.
    """
    if stage in ("draft", "withdrawn"):
        policy = draft_policy(title)
        if stage == "withdrawn":
            actions.withdraw_policy(policy, get_user("soumu"), comment="取下げ")
            policy.refresh_from_db()
        return policy
    policy = submitted_policy(title)
    if stage == "in_consent":
        open_round(policy)
    elif stage == "consented":
        closed_round(policy, "consent", "consent", "consent")
    elif stage == "not_consented":
        closed_round(policy, "consent", "objection", "consent")
    else:
        assert stage == "submitted", stage
    policy.refresh_from_db()
    return policy


SNAPSHOT_MODELS: tuple[type[Model], ...] = (
    Policy,
    PolicyVersion,
    VersionComment,
    VersionPdf,
    ConsentRound,
    ConsentVoter,
    Ballot,
    ConsentRecord,
    TransitionLog,
    GroupObjectPermission,
)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table a stage 3 write touches, to compare before and after."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS}
