"""The trace of a commonization effort (council.trace): the same chain from every kind of
object, only what each role may see, 404 outside it, and a number of queries that does not
grow with the chain.

The chains are made once per module through the real actions, as users would make them
(inside a transaction rolled back after the module):

- `rich`: a candidate assessed by three bodies, its study returned once then accepted, a
  policy whose first version was not consented (全国知事会 objected) and whose second was,
  a quarterly schedule with six reports (the first returned once then accepted), an
  adoption change by 札幌市 and a measure request answered and closed.
- `small`: the shortest complete chain: one assessment, one version, one round, one report
  and one measure request — for the query-count comparison.
- `drafting`: a policy whose first version is submitted and whose second is a draft.
- `unsubmitted`: a policy with only an unsubmitted first draft.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from candidates import actions as candidate_actions
from council import calendar
from council.meetings import actions as meeting_actions
from council.trace import build_trace
from policies import actions as policy_actions
from progress import actions as progress_actions
from progress.models import Adoption
from tests.api_helpers import FILLED_STUDY, get_user, org
from tests.api_progress_helpers import FILLED_REPORT, later_reports
from tests.conftest import COMPLETE_BODY, COST_SHARING, SCHEDULE
from tests.module_scope import module_transaction

STUDY_RETURN_REASON = "費用の内訳が不足しています（差戻し理由・詳細）。"
OBJECTION = "財政負担の見通しが示されていない。"
REPORT_RETURN_REASON = "KPIの実績値を記入してください。"
DECISION_TEXT = "第2版への同意を確認した。"
DRAFT_MARKER = "第2版の下書き（所管府省庁のみ）"


@dataclass
class Chain:
    """The ids of one chain's objects, by kind."""

    candidate: int
    assessments: list[int] = field(default_factory=list)
    study: int | None = None
    policy: int | None = None
    versions: list[int] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    ballots: list[int] = field(default_factory=list)
    schedule: int | None = None
    reports: list[int] = field(default_factory=list)
    adoption: int | None = None  # 札幌市's row
    measures: list[int] = field(default_factory=list)
    # Agenda items: a consent item and a report item of a held meeting (decided), a measure
    # item of a scheduled meeting, and a candidate item of a meeting still in preparation.
    agenda: dict[str, int] = field(default_factory=dict)

    def objects(self) -> list[tuple[str, int]]:
        """One object of every kind: (kind, pk)."""
        pairs = [("candidate", self.candidate), ("assessment", self.assessments[0]), ("feasibility-study", self.study),
                 ("policy", self.policy), ("policy-version", self.versions[-1]), ("consent-round", self.rounds[-1]),
                 ("ballot", self.ballots[0]), ("reporting-schedule", self.schedule), ("progress-report", self.reports[0]),
                 ("adoption", self.adoption), ("measure-request", self.measures[0]),
                 ("agenda-item", self.agenda.get("consent"))]
        return [(kind, pk) for kind, pk in pairs if pk is not None]


@dataclass
class Worlds:
    rich: Chain
    small: Chain | None
    drafting: Chain
    unsubmitted: Chain | None


def _candidate(title: str, assessors=("secretariat",)):
    secretariat = get_user("secretariat")
    candidate = candidate_actions.propose_candidate(
        secretariat, title=title, description="概要", owning_ministry=org("soumu")
    )
    for username in assessors:
        candidate_actions.assess(candidate, get_user(username), user_need=4, expected_effect=4, feasibility=5,
                                 rationale=f"{username}の評価理由", viewpoints=["i"])
    candidate_actions.decide(candidate, secretariat, "under_review")
    candidate_actions.decide(candidate, secretariat, "selected", track="commonization", comment="三基準を満たす。")
    return candidate


def _accepted_study(candidate, *, returned_once: bool):
    secretariat, soumu = get_user("secretariat"), get_user("soumu")
    study, _moved = candidate_actions.assign_study(candidate, secretariat, due_date=calendar.today() + timedelta(days=30))
    candidate_actions.save_study(study, soumu, dict(FILLED_STUDY))
    candidate_actions.move_study(study, soumu, "submitted")
    if returned_once:
        candidate_actions.move_study(study, secretariat, "returned", comment=STUDY_RETURN_REASON)
        candidate_actions.move_study(study, soumu, "submitted")
    candidate_actions.move_study(study, secretariat, "accepted")
    return study


def _submitted_version(version):
    soumu = get_user("soumu")
    policy_actions.update_version(version, soumu, {"body": COMPLETE_BODY, "cost_sharing": COST_SHARING, "schedule": SCHEDULE})
    return policy_actions.submit_version(version, soumu)


def _round(version, choices: dict[str, str]):
    secretariat = get_user("secretariat")
    round_ = policy_actions.open_round(version, secretariat, closes_at=timezone.now() + timedelta(days=7))
    for username, choice in choices.items():
        comment = OBJECTION if choice == "objection" else ""
        policy_actions.cast_ballot(round_, get_user(username), choice=choice, comment=comment)
    return policy_actions.close_round(round_, secretariat)


CONSENT = {"chijikai": "consent", "shichokai": "consent", "chosonkai": "consent"}


def _chain(title: str, *, rich: bool) -> Chain:
    secretariat, soumu = get_user("secretariat"), get_user("soumu")
    candidate = _candidate(title, ("secretariat", "chijikai", "soumu") if rich else ("secretariat",))
    study = _accepted_study(candidate, returned_once=rich)
    policy = policy_actions.create_policy(candidate, soumu, title=f"{title}の共通化推進方針")
    version = _submitted_version(policy.versions.get())
    rounds = []
    if rich:
        rounds.append(_round(version, {"chijikai": "objection", "shichokai": "consent", "chosonkai": "consent"}))
        version = _submitted_version(policy_actions.create_version(policy, soumu))
    rounds.append(_round(version, CONSENT))
    schedule = progress_actions.set_schedule(policy, secretariat, frequency="quarterly", due_days_after_period=30)
    if rich:
        later_reports(schedule, 5)
    reports = list(schedule.reports.order_by("period_start"))
    first = progress_actions.save_report(reports[0], soumu, dict(FILLED_REPORT))
    progress_actions.move_report(first, soumu, "submitted")
    if rich:
        progress_actions.move_report(first, secretariat, "returned", comment=REPORT_RETURN_REASON)
        progress_actions.move_report(first, soumu, "submitted")
    progress_actions.move_report(first, secretariat, "accepted")
    if rich:
        # A later report, submitted but not accepted: the secretariat's and the ministry's only.
        later = progress_actions.save_report(reports[1], soumu, dict(FILLED_REPORT))
        progress_actions.move_report(later, soumu, "submitted")
    adoption = Adoption.objects.get(policy=policy, organization__code="011002")
    progress_actions.change_adoption(adoption, get_user("sapporo"), status="in_use")
    measure = progress_actions.request_measures(
        secretariat, policy=policy, request="移行計画の前倒しを検討してください。",
        due_date=calendar.today() + timedelta(days=20), report=first,
    )
    if rich:
        progress_actions.respond_to_measure(measure, soumu, response="前倒しの計画を示します。")
        progress_actions.close_measure(measure, secretariat)
    return Chain(
        agenda=_meetings(rounds[-1], first, measure) if rich else {},
        candidate=candidate.pk,
        assessments=list(candidate.assessments.order_by("pk").values_list("pk", flat=True)),
        study=study.pk, policy=policy.pk,
        versions=list(policy.versions.order_by("number").values_list("pk", flat=True)),
        rounds=[r.pk for r in rounds],
        ballots=[b.pk for r in rounds for b in r.ballots.order_by("pk")],
        schedule=schedule.pk, reports=[r.pk for r in reports], adoption=adoption.pk, measures=[measure.pk],
    )


def _meetings(round_, report, measure) -> dict[str, int]:
    secretariat = get_user("secretariat")
    today = calendar.today()
    held = meeting_actions.create_meeting(secretariat, date=today - timedelta(days=7), venue="中央合同庁舎")
    consent = meeting_actions.add_agenda_item(held, secretariat, kind="consent", target=round_)
    noted = meeting_actions.add_agenda_item(held, secretariat, kind="progress_report", target=report)
    meeting_actions.move_meeting(held, secretariat, "scheduled")
    meeting_actions.move_meeting(held, secretariat, "held")
    meeting_actions.record_decision(consent, secretariat, outcome="consented", text=DECISION_TEXT)
    meeting_actions.record_decision(noted, secretariat, outcome="noted", text="報告を聴取した。")
    scheduled = meeting_actions.create_meeting(secretariat, date=today + timedelta(days=30), format="online")
    measure_item = meeting_actions.add_agenda_item(scheduled, secretariat, kind="measure_request", target=measure)
    meeting_actions.move_meeting(scheduled, secretariat, "scheduled")
    draft = meeting_actions.create_meeting(secretariat, date=today + timedelta(days=60), format="online")
    other = meeting_actions.add_agenda_item(draft, secretariat, kind="other", title="その他の議題")
    policy_item = meeting_actions.add_agenda_item(
        draft, secretariat, kind="policy", target=round_.policy, title="方針の見直し（準備中の会議）"
    )
    return {"consent": consent.pk, "report": noted.pk, "measure": measure_item.pk, "draft": policy_item.pk,
            "other": other.pk}


def _drafting_chain(title: str, *, submit_first: bool) -> Chain:
    soumu = get_user("soumu")
    candidate = _candidate(title)
    study = _accepted_study(candidate, returned_once=False)
    policy = policy_actions.create_policy(candidate, soumu, title=f"{title}の共通化推進方針")
    if submit_first:
        _submitted_version(policy.versions.get())
        policy_actions.create_version(policy, soumu, body=COMPLETE_BODY + f"\n{DRAFT_MARKER}")
    return Chain(
        candidate=candidate.pk, assessments=list(candidate.assessments.values_list("pk", flat=True)),
        study=study.pk, policy=policy.pk,
        versions=list(policy.versions.order_by("number").values_list("pk", flat=True)),
    )


def worlds_fixture(*, small: bool = True, unsubmitted: bool = True):
    """A module-scoped fixture building the chains once (import its result into a module as
    `worlds`); the optional ones can be left out where a module does not need them."""

    @pytest.fixture(scope="module")
    def worlds(django_db_setup, django_db_blocker) -> Iterator[Worlds]:
        with module_transaction(django_db_blocker):
            yield Worlds(
                rich=_chain("マイナンバーカードによる本人確認", rich=True),
                small=_chain("公金受取口座の登録支援", rich=False) if small else None,
                drafting=_drafting_chain("選挙人名簿の共通化", submit_first=True),
                unsubmitted=_drafting_chain("印鑑登録の共通化", submit_first=False) if unsubmitted else None,
            )

    return worlds


worlds = worlds_fixture()

# Each test in its own savepoint inside the module's world (and ordered with the database tests).
pytestmark = pytest.mark.django_db


# --- Helpers ---------------------------------------------------------------------------------


def ids_by_stage(trace) -> dict[str, list]:
    return {stage.key: [step.id for step in stage.steps] for stage in trace.stages}


def shape(trace) -> list:
    """Everything a trace shows except which step is the focus."""
    return [
        (stage.key, stage.label, [
            (s.kind, s.id, s.title, s.status, s.status_label, s.url,
             [(d.key, d.value) for d in s.dates], [(f.key, f.value) for f in s.facts],
             [(e.at, e.action, e.actor and e.actor.username, e.from_status, e.to_status, e.comment) for e in s.events],
             # (the row an adoption trace was opened from is checked on its own)
             [(c.kind, c.id, c.status) for c in s.children if c.kind != "adoption"],
             [(c.status, c.count) for c in s.counts], s.total)
            for s in stage.steps
        ])
        for stage in trace.stages
    ]


def all_text(trace) -> str:
    parts = []
    for step in trace.steps():
        parts += [step.title, step.status_label, *(f.value for f in step.facts)]
        parts += [e.comment for e in step.events]
    return "\n".join(parts)


# --- The same chain from every object --------------------------------------------------------


def test_it_builds_the_same_chain_from_every_kind_of_object(worlds, user):
    secretariat = user("secretariat")
    rich = worlds.rich
    reference = build_trace(secretariat, "candidate", rich.candidate)
    for kind, pk in rich.objects():
        trace = build_trace(secretariat, kind, pk)
        assert shape(trace) == shape(reference), kind
        assert [(s.kind, s.id) for s in trace.steps() if s.is_focus] == [(kind, pk)], kind


def test_the_chain_is_in_lifecycle_order_with_every_object_of_the_rich_chain(worlds, user):
    rich = worlds.rich
    trace = build_trace(user("secretariat"), "policy", rich.policy)
    assert [s.key for s in trace.stages] == [
        "candidate", "assessments", "study", "policy", "versions", "consent", "schedule", "reports", "adoption", "measures",
        "meetings",
    ]
    assert ids_by_stage(trace) == {
        "candidate": [rich.candidate], "assessments": rich.assessments, "study": [rich.study], "policy": [rich.policy],
        "versions": rich.versions, "consent": rich.rounds, "schedule": [rich.schedule], "reports": rich.reports,
        "adoption": [None], "measures": rich.measures,
        # by meeting date: the held meeting's two items, the scheduled one's, the draft one's
        "meetings": [rich.agenda[k] for k in ("consent", "report", "measure", "draft")],
    }
    rounds = next(s for s in trace.stages if s.key == "consent").steps
    assert [[c.id for c in r.children] for r in rounds] == [rich.ballots[:3], rich.ballots[3:]]
    assert [r.status_label for r in rounds] == ["不同意", "同意"]


def test_it_says_who_acted_and_when_from_the_workflow_history(worlds, user):
    rich = worlds.rich
    trace = build_trace(user("secretariat"), "candidate", rich.candidate)
    study = trace.find("feasibility-study", rich.study)
    moves = [(e.from_status, e.to_status, e.actor.username, e.comment) for e in study.events]
    assert moves == [
        ("", "assigned", "secretariat", ""),
        ("assigned", "submitted", "soumu", ""),
        ("submitted", "returned", "secretariat", STUDY_RETURN_REASON),
        ("returned", "submitted", "soumu", ""),
        ("submitted", "accepted", "secretariat", ""),
    ]
    assert [e.at for e in study.events] == sorted(e.at for e in study.events)
    soumu_event = study.events[1]
    assert [o.name for o in soumu_event.actor.organizations] == ["総務省"]
    assert {d.key for d in study.dates} == {"assigned_at", "due_date", "submitted_at", "decided_at"}

    candidate = trace.find("candidate", rich.candidate)
    assert [e.to_status for e in candidate.events] == ["proposed", "under_review", "selected"]
    assert candidate.events[-1].comment == "三基準を満たす。"

    assessment = trace.find("assessment", rich.assessments[1])
    assert assessment.events[0].actor.username == "chijikai"
    assert [o.name for o in assessment.events[0].actor.organizations] == ["全国知事会"]

    first_version, second_version = (trace.find("policy-version", pk) for pk in rich.versions)
    assert [(e.action, e.actor.username) for e in second_version.events] == [("作成", "soumu"), ("提出済み", "soumu")]
    assert second_version.status == "submitted" and first_version.facts[0].key == "content_hash"

    failed_round = trace.find("consent-round", rich.rounds[0])
    objection = next(c for c in failed_round.children if c.status == "objection")
    assert objection.title == "全国知事会"
    assert objection.events[0].comment == OBJECTION
    assert objection.events[0].actor.username == "chijikai"
    assert [(e.action, e.actor.username) for e in failed_round.events] == [("開始", "secretariat"), ("終了", "secretariat")]

    policy = trace.find("policy", rich.policy)
    assert [e.to_status for e in policy.events] == ["drafting", "in_consent", "drafting", "in_consent", "consented"]

    report = trace.find("progress-report", rich.reports[0])
    assert [e.to_status for e in report.events] == ["due", "submitted", "returned", "submitted", "accepted"]
    assert report.events[0].actor is None  # the obligation is made by the platform
    assert report.events[2].comment == REPORT_RETURN_REASON

    measure = trace.find("measure-request", rich.measures[0])
    assert [e.to_status for e in measure.events] == ["open", "responded", "closed"]
    assert {f.key: f.value for f in measure.facts}["report"] == report.title


def test_adoption_is_a_summary_of_counts_not_one_row_per_local_government(worlds, user):
    rich = worlds.rich
    trace = build_trace(user("hokkaido"), "candidate", rich.candidate)
    (adoption,) = next(s for s in trace.stages if s.key == "adoption").steps
    assert adoption.total == 1788
    counts = {c.status: c.count for c in adoption.counts}
    assert counts["in_use"] == 1 and counts["not_planned"] == 1787
    assert adoption.url.endswith(f"?policy={rich.policy}")
    assert adoption.children == []


def test_a_trace_opened_from_an_adoption_row_shows_that_row_in_the_summary(worlds, user):
    rich = worlds.rich
    trace = build_trace(user("hokkaido"), "adoption", rich.adoption)
    (adoption,) = next(s for s in trace.stages if s.key == "adoption").steps
    (row,) = adoption.children
    assert (row.kind, row.id, row.title, row.status, row.is_focus) == ("adoption", rich.adoption, "札幌市", "in_use", True)
    assert row.url.endswith(f"?policy={rich.policy}&prefecture=010006")
    assert row.events[0].actor.username == "sapporo"
    assert [o.name for o in row.events[0].actor.organizations] == ["札幌市"]


# --- Who sees what ---------------------------------------------------------------------------

RICH_FULL = {"secretariat", "soumu"}
COUNCIL_OTHERS = {"mhlw", "chijikai"}
LOCAL = {"hokkaido", "sapporo"}


@pytest.mark.parametrize("username", sorted(RICH_FULL | COUNCIL_OTHERS | LOCAL))
def test_each_role_sees_the_rich_chain_as_its_pages_would_show_it(worlds, user, username):
    rich = worlds.rich
    trace = build_trace(user(username), "candidate", rich.candidate)
    seen = ids_by_stage(trace)
    assert seen["candidate"] == [rich.candidate]
    assert seen["assessments"] == rich.assessments
    assert seen["study"] == [rich.study]
    assert seen["policy"] == [rich.policy]
    assert seen["versions"] == rich.versions  # both were put to consent
    assert seen["consent"] == rich.rounds
    assert seen["schedule"] == [rich.schedule]
    assert seen["adoption"] == [None]
    if username in RICH_FULL:
        assert seen["reports"] == rich.reports
    else:
        # Until accepted, a report is the secretariat's and the owning ministry's.
        assert seen["reports"] == [rich.reports[0]]
    # Measure requests are for council members.
    assert seen["measures"] == ([] if username in LOCAL else rich.measures)
    # Meetings in preparation are the secretariat's; an item is seen with its target.
    agenda = ["consent", "report"] + (["measure"] if username not in LOCAL else [])
    agenda += ["draft"] if username == "secretariat" else []
    assert seen["meetings"] == [rich.agenda[k] for k in agenda]
    consent_item = trace.find("agenda-item", rich.agenda["consent"])
    assert consent_item.status == "consented"
    assert {f.key: f.value for f in consent_item.facts}["decision"] == DECISION_TEXT
    # Who recorded a decision, and when, the meeting page shows to the secretariat only.
    assert [e.actor.username for e in consent_item.events] == (["secretariat"] if username == "secretariat" else [])

    study = trace.find("feasibility-study", rich.study)
    if username in LOCAL:
        # A municipal official sees an accepted study's conclusion only: no history, no reasons.
        assert study.events == [] and study.dates == []
        assert [f.key for f in study.facts] == ["conclusion"]
        assert STUDY_RETURN_REASON not in all_text(trace)
    else:
        assert STUDY_RETURN_REASON in all_text(trace)


@pytest.mark.parametrize("username", ["secretariat", "soumu", "mhlw", "chijikai", "hokkaido", "sapporo"])
def test_drafts_are_shown_to_the_owning_ministry_and_the_secretariat_only(worlds, user, username):
    drafting = worlds.drafting
    viewer = user(username)
    trace = build_trace(viewer, "candidate", drafting.candidate)
    seen = ids_by_stage(trace)
    if username in RICH_FULL:
        assert seen["policy"] == [drafting.policy]
        assert seen["versions"] == drafting.versions
        draft = trace.find("policy-version", drafting.versions[1])
        assert draft.status == "draft" and draft.status_label == "下書き"
    elif username in COUNCIL_OTHERS:
        # Council members see submitted versions, never the draft.
        assert seen["policy"] == [drafting.policy]
        assert seen["versions"] == drafting.versions[:1]
        with pytest.raises(Http404):
            build_trace(viewer, "policy-version", drafting.versions[1])
    else:
        # Not yet put to consent: nothing of the policy for a local government.
        assert seen["policy"] == [] and seen["versions"] == []
        for kind, pk in (("policy", drafting.policy), ("policy-version", drafting.versions[0])):
            with pytest.raises(Http404):
                build_trace(viewer, kind, pk)
    # Nothing later than the policy exists yet, for anyone.
    assert seen["consent"] == seen["reports"] == seen["measures"] == []


@pytest.mark.parametrize("username", ["mhlw", "chijikai", "hokkaido", "sapporo"])
def test_a_policy_with_only_an_unsubmitted_draft_is_omitted_for_everyone_but_its_ministry(worlds, user, username):
    unsubmitted = worlds.unsubmitted
    trace = build_trace(user(username), "candidate", unsubmitted.candidate)
    assert ids_by_stage(trace)["policy"] == []
    assert ids_by_stage(trace)["versions"] == []
    assert "印鑑登録の共通化の共通化推進方針" not in all_text(trace)


@pytest.mark.parametrize("username", ["secretariat", "soumu"])
def test_the_owner_and_the_secretariat_see_the_unsubmitted_draft(worlds, user, username):
    unsubmitted = worlds.unsubmitted
    trace = build_trace(user(username), "policy-version", unsubmitted.versions[0])
    assert ids_by_stage(trace)["versions"] == unsubmitted.versions
    assert trace.focus.id == unsubmitted.versions[0]


# --- Query counts -----------------------------------------------------------------------------


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


@pytest.mark.parametrize("username", ["secretariat", "mhlw", "sapporo"])
def test_the_number_of_queries_does_not_grow_with_the_chain(worlds, user, django_assert_max_num_queries, username):
    small, rich = worlds.small, worlds.rich
    # The small chain has 1 version, 1 round, 1 report; the rich one 2, 2 and 6 (and more history).
    assert len(rich.reports) > len(small.reports) and len(rich.rounds) > len(small.rounds)
    build_trace(user(username), "candidate", small.candidate)  # warm the content-type cache
    with django_assert_max_num_queries(20):
        build_trace(user(username), "progress-report", small.reports[0])
    with django_assert_max_num_queries(20):
        build_trace(user(username), "progress-report", rich.reports[0])
    # Not just under a ceiling: exactly the same number for both sizes.
    assert _count(lambda: build_trace(user(username), "policy", small.policy)) == _count(
        lambda: build_trace(user(username), "policy", rich.policy)
    )


# --- Not found ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "pk"), [("meeting-minutes", 1), ("Candidate", 1), ("candidate", 999_999_999)])
def test_an_unknown_kind_or_id_is_not_found(worlds, user, kind, pk):
    with pytest.raises(Http404):
        build_trace(user("secretariat"), kind, pk)


@pytest.mark.parametrize(("username", "item"), [
    ("secretariat", "other"),  # an item about nothing in a chain
    ("soumu", "draft"),  # a meeting in preparation
    ("sapporo", "measure"),  # about a measure request, which is for council members
])
def test_agenda_items_outside_a_chain_or_the_users_scope_are_not_found(worlds, user, username, item):
    with pytest.raises(Http404):
        build_trace(user(username), "agenda-item", worlds.rich.agenda[item])


@pytest.mark.parametrize(("username", "kind", "index"), [
    ("sapporo", "measure-request", 0),
    ("hokkaido", "measure-request", 0),
    ("mhlw", "progress-report", 1),  # submitted, not accepted
    ("chijikai", "progress-report", 1),
    ("sapporo", "progress-report", 1),
])
def test_objects_outside_the_users_scope_are_not_found(worlds, user, username, kind, index):
    rich = worlds.rich
    pk = {"measure-request": rich.measures, "progress-report": rich.reports}[kind][index]
    with pytest.raises(Http404):
        build_trace(user(username), kind, pk)
