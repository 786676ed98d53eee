"""The whole chain of one commonization effort, from any object in it, as plain data.

candidate → assessments → feasibility study → policy → versions → consent rounds (ballots)
→ reporting schedule → progress reports → adoption (counts) → measure requests, and the
agenda items of the council's meetings that deliberated any of them.

`build_trace(user, kind, pk)` finds the object among those the user may see (else 404),
walks up to its candidate, then reads every stage through the same `visible_to(user)`
querysets the pages and the API use: what the user may not see is left out, never shown
greyed out. Each stage is one query (two for rounds and their ballots), the workflow
history of every object is one query, and the actors' organizations one more, so the
number of queries does not grow with the number of versions, rounds or reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from candidates.models import Assessment, Candidate, Criterion, FeasibilityStudy, Track, Viewpoint
from candidates.templatetags.candidate_ui import BADGES as CANDIDATE_BADGES
from council.api.serializers import display_name
from council.models import TransitionLog
from policies.models import Ballot, ConsentRound, Policy, PolicyVersion, RoundStatus
from policies.templatetags.policy_ui import CHOICE_BADGES, OUTCOME_BADGES, POLICY_BADGES
from progress.models import Adoption, AdoptionStatus, MeasureRequest, ProgressReport, ReportingSchedule
from progress.templatetags.progress_ui import ADOPTION_BADGES, MEASURE_BADGES, REPORT_BADGES
from tenants.access import access_for
from tenants.models import Membership, Organization

try:  # the council's meetings (council.meetings): agenda items point into the chain
    from council.models import AgendaItem
except ImportError:  # pragma: no cover - a build without meetings
    AgendaItem = None

# --- The data -------------------------------------------------------------------------------


@dataclass
class OrgRef:
    id: int
    name: str
    name_en: str = ""

    @property
    def display(self) -> str:
        """The name in the reader's language where the reference data has one."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


@dataclass
class Actor:
    """A person who acted, with the organizations they act for."""

    id: int
    username: str
    name: str
    organizations: list[OrgRef] = field(default_factory=list)


@dataclass
class Event:
    """One thing that happened to an object: a workflow move, a creation, a submission."""

    at: datetime
    action: str
    actor: Actor | None  # None: the platform itself (a round closed at its closing time)
    from_status: str = ""
    to_status: str = ""
    from_label: str = ""
    to_label: str = ""
    comment: str = ""


@dataclass
class DateItem:
    key: str
    label: str
    value: date | datetime

    @property
    def has_time(self) -> bool:
        return isinstance(self.value, datetime)


@dataclass
class Fact:
    key: str
    label: str
    value: str


@dataclass
class StatusCount:
    status: str
    label: str
    count: int
    badge: str = ""


@dataclass
class Step:
    """One object of the chain (or, for adoption, the summary of a policy's rows)."""

    kind: str
    id: int | None
    title: str
    url: str
    status: str = ""
    status_label: str = ""
    badge: str = ""
    is_focus: bool = False
    dates: list[DateItem] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    children: list[Step] = field(default_factory=list)
    counts: list[StatusCount] = field(default_factory=list)
    total: int | None = None

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.id}" if self.id is not None else self.kind

    @property
    def trace_url(self) -> str:
        return reverse("trace", args=[self.kind, self.id]) if self.id is not None else ""


@dataclass
class Stage:
    key: str
    label: str
    steps: list[Step] = field(default_factory=list)


@dataclass
class Trace:
    kind: str
    id: int
    candidate_id: int
    stages: list[Stage]

    @property
    def focus(self) -> Step | None:
        for step in self.steps():
            if step.is_focus:
                return step
        return None

    def steps(self) -> Iterable[Step]:
        for stage in self.stages:
            for step in stage.steps:
                yield step
                yield from step.children

    def find(self, kind: str, pk: int) -> Step | None:
        return next((s for s in self.steps() if s.kind == kind and s.id == pk), None)


# --- The kinds of object a trace can start from ---------------------------------------------


@dataclass(frozen=True)
class Kind:
    slug: str
    # The lookup (or expression) from this model to its candidate's id.
    root: Any
    # The objects of this kind `user` may see: the same rule as the kind's own pages and API.
    visible: Callable[[Any], QuerySet]


def _visible_assessments(user) -> QuerySet:
    # Assessments are shown to whoever sees their candidate (candidates.api.AssessmentViewSet).
    return Assessment.objects.filter(candidate__in=Candidate.objects.visible_to(user))


def _visible_ballots(user) -> QuerySet:
    # Ballots are shown on their round's page to whoever sees the round.
    return Ballot.objects.filter(round__in=ConsentRound.objects.visible_to(user))


KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in (
        Kind("candidate", "pk", lambda u: Candidate.objects.visible_to(u)),
        Kind("assessment", "candidate_id", _visible_assessments),
        Kind("feasibility-study", "candidate_id",
             lambda u: FeasibilityStudy.objects.visible_to(u)),
        Kind("policy", "candidate_id", lambda u: Policy.objects.visible_to(u)),
        Kind("policy-version", "policy__candidate_id",
             lambda u: PolicyVersion.objects.visible_to(u)),
        Kind("consent-round", "policy__candidate_id",
             lambda u: ConsentRound.objects.visible_to(u)),
        Kind("ballot", "round__policy__candidate_id", _visible_ballots),
        Kind("reporting-schedule", "policy__candidate_id",
             lambda u: ReportingSchedule.objects.visible_to(u)),
        Kind("progress-report", "policy__candidate_id",
             lambda u: ProgressReport.objects.visible_to(u)),
        Kind("adoption", "policy__candidate_id", lambda u: Adoption.objects.visible_to(u)),
        Kind("measure-request", "policy__candidate_id",
             lambda u: MeasureRequest.objects.visible_to(u)),
    )
}
if AgendaItem is not None:
    # An agenda item belongs to the chain of what it deliberates; an item without a target
    # ("other") belongs to none, so its trace is 404.
    KINDS["agenda-item"] = Kind(
        "agenda-item",
        Coalesce("candidate_id", "policy__candidate_id", "consent_round__policy__candidate_id",
                 "progress_report__policy__candidate_id", "measure_request__policy__candidate_id"),
        lambda u: AgendaItem.objects.visible_to(u),
    )

# The stages in the order of the lifecycle (DOMAIN.md, section 3(2)).
STAGES: tuple[tuple[str, Any], ...] = (
    ("candidate", gettext_lazy("対象候補")),
    ("assessments", gettext_lazy("基準による評価")),
    ("study", gettext_lazy("実現可能性調査")),
    ("policy", gettext_lazy("共通化推進方針")),
    ("versions", gettext_lazy("方針の版")),
    ("consent", gettext_lazy("同意手続")),
    ("schedule", gettext_lazy("報告スケジュール")),
    ("reports", gettext_lazy("進捗報告")),
    ("adoption", gettext_lazy("導入状況")),
    ("measures", gettext_lazy("措置依頼")),
    *((("meetings", gettext_lazy("会議での審議")),) if AgendaItem is not None else ()),
)


def resolve(user, kind: str, pk: int) -> int:
    """The id of the candidate at the root of the chain of `kind` #`pk`; 404 when the kind
    is unknown or the user may not see the object."""
    spec = KINDS.get(kind)
    if spec is None:
        raise Http404(_("この種類の対象はありません。"))
    objects = spec.visible(user).filter(pk=pk)
    if isinstance(spec.root, str):
        root = objects.values_list(spec.root, flat=True).first()
    else:
        root = objects.annotate(trace_root=spec.root).values_list("trace_root", flat=True).first()
    if root is None:
        raise Http404(_("対象が見つかりません。"))
    return root


def build_trace(user, kind: str, pk: int) -> Trace:
    candidate_id = resolve(user, kind, pk)
    builder = _Builder(user, candidate_id, focus=(kind, pk))
    trace = Trace(kind=kind, id=pk, candidate_id=candidate_id, stages=builder.stages())
    focus = trace.find(kind, pk)
    if focus is not None:
        focus.is_focus = True
    return trace


# --- Reading the chain ----------------------------------------------------------------------------


def _org(organization: Organization) -> OrgRef:
    return OrgRef(organization.pk, organization.name, organization.name_en)


def _dates(*items: tuple[str, str, date | datetime | None]) -> list[DateItem]:
    return [DateItem(key, label, value) for key, label, value in items if value is not None]


def _facts(*items: tuple[str, str, str | None]) -> list[Fact]:
    return [Fact(key, label, value) for key, label, value in items if value]


class _Builder:
    """Reads one candidate's chain for one user. Actors are collected while the stages are
    read and their organizations filled in at the end, in one query."""

    def __init__(self, user, candidate_id: int, focus: tuple[str, int] | None = None) -> None:
        self.user = user
        self.candidate_id = candidate_id
        self.focus = focus
        self.actors: dict[int, Actor] = {}
        self.fixed_orgs: set[int] = set()
        # (model, pk) → the step whose events come from TransitionLog, and the creation
        # event to show when the log has no creation row (objects made by the platform).
        self.logged: dict[tuple[type[Model], int], tuple[Step, Event | None]] = {}

    # -- people ------------------------------------------------------------------------------
    def actor(self, user, organization: Organization | None = None) -> Actor | None:
        """The Actor for `user`; with `organization`, the one they acted for (a ballot's
        association, an assessment's organization) instead of all their memberships."""
        if user is None:
            return None
        if organization is not None:
            return Actor(user.pk, user.get_username(), display_name(user), [_org(organization)])
        if user.pk not in self.actors:
            self.actors[user.pk] = Actor(user.pk, user.get_username(), display_name(user))
        return self.actors[user.pk]

    def _fill_organizations(self) -> None:
        if not self.actors:
            return
        memberships = Membership.objects.filter(user_id__in=self.actors).select_related("organization").order_by(
            "organization__code"
        )
        for membership in memberships:
            self.actors[membership.user_id].organizations.append(_org(membership.organization))

    # -- workflow history --------------------------------------------------------------------
    def log(self, obj: Model, step: Step, created: Event | None = None) -> None:
        """Read `obj`'s workflow history into `step`; `created` stands in for the creation
        row when the history has none (objects the platform made in bulk)."""
        if created is not None:
            initial = type(obj)._meta.get_field("status").default
            created.to_status, created.to_label = initial, type(obj).status_label(initial)
        self.logged[(type(obj), obj.pk)] = (step, created)

    def _fill_history(self) -> None:
        if not self.logged:
            return
        types = ContentType.objects.get_for_models(*{model for model, _pk in self.logged})
        ids: dict[type[Model], list[int]] = defaultdict(list)
        for model, pk in self.logged:
            ids[model].append(pk)
        condition = Q()
        for model, pks in ids.items():
            condition |= Q(content_type=types[model], object_id__in=pks)
        by_type = {ct.pk: model for model, ct in types.items()}
        logs = TransitionLog.objects.filter(condition).select_related("by").order_by("at", "pk")
        for log in logs:
            step, _created = self.logged[(by_type[log.content_type_id], log.object_id)]
            model = by_type[log.content_type_id]
            step.events.append(Event(
                at=log.at,
                action=_("作成") if not log.from_status else model.status_label(log.to_status),
                actor=self.actor(log.by),
                from_status=log.from_status,
                to_status=log.to_status,
                from_label=model.status_label(log.from_status) if log.from_status else "",
                to_label=model.status_label(log.to_status),
                comment=log.comment,
            ))
        for step, created in self.logged.values():
            if created is not None and not any(not e.from_status and e.to_status for e in step.events):
                step.events.insert(0, created)

    # -- the stages ------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        stages = {key: Stage(key, str(label)) for key, label in STAGES}
        candidate = (
            Candidate.objects.visible_to(self.user)
            .filter(pk=self.candidate_id)
            .select_related("owning_ministry", "proposed_by", "created_by")
            .first()
        )
        if candidate is not None:
            stages["candidate"].steps.append(self.candidate_step(candidate))
            stages["assessments"].steps.extend(self.assessment_steps(candidate))
        study = (
            FeasibilityStudy.objects.visible_to(self.user)
            .with_details_visible(self.user)
            .filter(candidate_id=self.candidate_id)
            .select_related("ministry", "assigned_by")
            .first()
        )
        if study is not None:
            stages["study"].steps.append(self.study_step(study))
        policy = (
            Policy.objects.visible_to(self.user)
            .filter(candidate_id=self.candidate_id)
            .select_related("ministry", "created_by")
            .first()
        )
        if policy is not None:
            stages["policy"].steps.append(self.policy_step(policy))
            stages["versions"].steps.extend(self.version_steps(policy))
            stages["consent"].steps.extend(self.round_steps(policy))
            stages["schedule"].steps.extend(self.schedule_steps(policy))
            reports = self.report_steps(policy)
            stages["reports"].steps.extend(reports.values())
            stages["adoption"].steps.extend(self.adoption_steps(policy))
            stages["measures"].steps.extend(self.measure_steps(policy, reports))
        if AgendaItem is not None:
            stages["meetings"].steps.extend(self.agenda_steps())
        self._fill_history()
        self._fill_organizations()
        return list(stages.values())

    def candidate_step(self, candidate: Candidate) -> Step:
        step = Step(
            kind="candidate", id=candidate.pk, title=candidate.title, url=candidate.get_absolute_url(),
            status=candidate.status, status_label=candidate.get_status_display(),
            badge=CANDIDATE_BADGES.get(candidate.status, ""),
            dates=_dates(("created_at", _("登録日時"), candidate.created_at), ("decided_on", _("決定日"), candidate.decided_on)),
            facts=_facts(
                ("owning_ministry", _("制度所管府省庁"), _org(candidate.owning_ministry).display),
                ("proposed_by", _("提案団体"), _org(candidate.proposed_by).display),
                ("track", _("区分"), str(Track(candidate.track).label) if candidate.track else ""),
                ("decision_note", _("決定理由"), candidate.decision_note),
            ),
        )
        self.log(candidate, step, Event(candidate.created_at, _("作成"), self.actor(candidate.created_by)))
        return step

    def assessment_steps(self, candidate: Candidate) -> list[Step]:
        steps = []
        assessments = candidate.assessments.select_related("assessor", "organization").order_by("created_at", "pk")
        for assessment in assessments:
            organization = _org(assessment.organization).display
            steps.append(Step(
                kind="assessment", id=assessment.pk,
                title=_("%(org)sの評価") % {"org": organization},
                url=f"{candidate.get_absolute_url()}#assessment-{assessment.pk}-org",
                dates=_dates(
                    ("created_at", _("登録日時"), assessment.created_at),
                    ("updated_at", _("更新日時"),
                     assessment.updated_at if _differs(assessment.updated_at, assessment.created_at) else None),
                ),
                facts=[
                    *[Fact(c.value, str(c.label), str(getattr(assessment, c.value))) for c in Criterion],
                    *_facts(("viewpoints", _("該当する観点"),
                             "、".join(str(Viewpoint(v).label) for v in assessment.viewpoints))),
                ],
                events=[Event(assessment.created_at, _("評価を登録"),
                              self.actor(assessment.assessor, assessment.organization))],
            ))
        return steps

    def study_step(self, study: FeasibilityStudy) -> Step:
        details = bool(study.details_visible)
        step = Step(
            kind="feasibility-study", id=study.pk, title=_("実現可能性調査"), url=study.get_absolute_url(),
            status=study.status, status_label=study.get_status_display(), badge=CANDIDATE_BADGES.get(study.status, ""),
            facts=_facts(
                ("ministry", _("調査する府省庁"), _org(study.ministry).display if details else ""),
                ("conclusion", _("結論"), study.get_conclusion_display() if study.conclusion else ""),
            ),
        )
        # Everything but the conclusion — dates, history, its comments — is a detail of the
        # study, for the secretariat, the ministry and council members (FeasibilityStudy.may_see_details).
        if details:
            step.dates = _dates(
                ("assigned_at", _("依頼日時"), study.assigned_at),
                ("due_date", _("提出期限"), study.due_date),
                ("submitted_at", _("提出日時"), study.submitted_at),
                ("decided_at", _("受理・差戻し日時"), study.decided_at),
            )
            self.log(study, step, Event(study.assigned_at, _("作成"), self.actor(study.assigned_by)))
        return step

    def policy_step(self, policy: Policy) -> Step:
        step = Step(
            kind="policy", id=policy.pk, title=policy.title, url=policy.get_absolute_url(),
            status=policy.status, status_label=policy.get_status_display(), badge=POLICY_BADGES.get(policy.status, ""),
            dates=_dates(("created_at", _("作成日時"), policy.created_at)),
            facts=_facts(("ministry", _("所管府省庁"), _org(policy.ministry).display)),
        )
        self.log(policy, step, Event(policy.created_at, _("作成"), self.actor(policy.created_by)))
        return step

    def version_steps(self, policy: Policy) -> list[Step]:
        versions = (
            PolicyVersion.objects.visible_to(self.user)
            .filter(policy=policy)
            .select_related("created_by", "submitted_by")
            .order_by("number")
        )
        steps = []
        for version in versions:
            frozen = version.is_frozen
            events = [Event(version.created_at, _("作成"), self.actor(version.created_by))]
            if frozen:
                events.append(Event(version.submitted_at, _("提出済み"), self.actor(version.submitted_by)))
            steps.append(Step(
                kind="policy-version", id=version.pk,
                title=_("第%(n)s版") % {"n": version.number},
                url=reverse("policies:version", args=[policy.pk, version.number]),
                status="submitted" if frozen else "draft",
                status_label=_("提出済み（確定）") if frozen else _("下書き"),
                badge="badge--frozen" if frozen else "badge--pending",
                dates=_dates(("created_at", _("作成日時"), version.created_at),
                             ("submitted_at", _("提出日時"), version.submitted_at)),
                facts=_facts(("content_hash", _("ハッシュ"), version.content_hash[:12])),
                events=events,
            ))
        return steps

    def round_steps(self, policy: Policy) -> list[Step]:
        rounds = (
            ConsentRound.objects.visible_to(self.user)
            .filter(policy=policy)
            .select_related("version", "opened_by", "closed_by")
            .prefetch_related(
                Prefetch("ballots", queryset=Ballot.objects.select_related("organization", "cast_by").order_by("organization_id"))
            )
            .order_by("opened_at", "pk")
        )
        steps = []
        for round_ in rounds:
            is_open = round_.status == RoundStatus.OPEN
            events = [Event(round_.opened_at, _("開始"), self.actor(round_.opened_by))]
            if round_.closed_at is not None:
                events.append(Event(round_.closed_at, _("終了"), self.actor(round_.closed_by),
                                    to_status=round_.outcome, to_label=round_.get_outcome_display()))
            steps.append(Step(
                kind="consent-round", id=round_.pk,
                title=_("第%(n)s版の同意手続") % {"n": round_.version.number},
                url=round_.get_absolute_url(),
                status=round_.status,
                status_label=str(RoundStatus.OPEN.label) if is_open else round_.get_outcome_display(),
                badge="badge--proposed" if is_open else OUTCOME_BADGES.get(round_.outcome, ""),
                dates=_dates(("opened_at", _("開始日時"), round_.opened_at), ("closes_at", _("締切日時"), round_.closes_at),
                             ("closed_at", _("終了日時"), round_.closed_at)),
                facts=_facts(("outcome", _("結果"), round_.get_outcome_display() if round_.outcome else "")),
                events=events,
                children=[self.ballot_step(round_, ballot) for ballot in round_.ballots.all()],
            ))
        return steps

    def ballot_step(self, round_: ConsentRound, ballot: Ballot) -> Step:
        return Step(
            kind="ballot", id=ballot.pk, title=_org(ballot.organization).display, url=round_.get_absolute_url(),
            status=ballot.choice, status_label=ballot.get_choice_display(), badge=CHOICE_BADGES.get(ballot.choice, ""),
            dates=_dates(("cast_at", _("投票日時"), ballot.cast_at)),
            events=[Event(ballot.cast_at, ballot.get_choice_display(), self.actor(ballot.cast_by, ballot.organization),
                          to_status=ballot.choice, to_label=ballot.get_choice_display(), comment=ballot.comment)],
        )

    def schedule_steps(self, policy: Policy) -> list[Step]:
        schedule = ReportingSchedule.objects.visible_to(self.user).filter(policy=policy).select_related("created_by").first()
        if schedule is None:
            return []
        return [Step(
            kind="reporting-schedule", id=schedule.pk, title=_("報告スケジュール"),
            url=f"{policy.get_absolute_url()}#progress",
            dates=_dates(("created_at", _("設定日時"), schedule.created_at)),
            facts=_facts(
                ("frequency", _("報告の頻度"), schedule.get_frequency_display()),
                ("due_days_after_period", _("期間終了から提出期限までの日数"),
                 _("%(n)s日") % {"n": schedule.due_days_after_period}),
                ("first_period", _("最初の期"), schedule.first.label),
            ),
            events=[Event(schedule.created_at, _("設定"), self.actor(schedule.created_by))],
        )]

    def report_steps(self, policy: Policy) -> dict[int, Step]:
        reports = (
            ProgressReport.objects.visible_to(self.user)
            .filter(policy=policy)
            .select_related("schedule")
            .order_by("period_start", "pk")
        )
        steps: dict[int, Step] = {}
        for report in reports:
            step = Step(
                kind="progress-report", id=report.pk,
                title=_("%(period)sの進捗報告") % {"period": report.period_label},
                url=report.get_absolute_url(),
                status=report.status, status_label=report.get_status_display(), badge=REPORT_BADGES.get(report.status, ""),
                dates=_dates(("due_date", _("提出期限"), report.due_date), ("submitted_at", _("提出日時"), report.submitted_at),
                             ("decided_at", _("受理・差戻し日時"), report.decided_at)),
                facts=_facts(
                    ("period", _("対象期間"), f"{report.period_start:%Y-%m-%d}〜{report.period_end:%Y-%m-%d}"),
                    ("overdue", _("提出期限超過"), _("はい") if report.is_overdue else ""),
                ),
            )
            # Report obligations are made by the platform (the schedule, the beat): no person.
            self.log(report, step, Event(report.created_at, _("作成"), None))
            steps[report.pk] = step
        return steps

    def adoption_steps(self, policy: Policy) -> list[Step]:
        rows = (
            Adoption.objects.visible_to(self.user).filter(policy=policy).order_by().values("status").annotate(n=Count("pk"))
        )
        counts = {row["status"]: row["n"] for row in rows}
        total = sum(counts.values())
        if not total:
            return []
        url = f"{reverse('progress:adoption')}?policy={policy.pk}"
        summary = Step(
            kind="adoption", id=None, title=_("全国の導入状況"), url=url,
            counts=[StatusCount(s.value, str(s.label), counts.get(s.value, 0), ADOPTION_BADGES.get(s.value, ""))
                    for s in AdoptionStatus],
            total=total,
        )
        if self.focus and self.focus[0] == "adoption":
            # Opened from one local government's row: show that row inside the summary.
            row = (
                Adoption.objects.visible_to(self.user)
                .filter(pk=self.focus[1], policy=policy)
                .select_related("organization__parent", "updated_by")
                .first()
            )
            if row is not None:
                summary.children.append(self.adoption_row_step(row, url))
        return [summary]

    def adoption_row_step(self, row: Adoption, url: str) -> Step:
        prefecture = row.organization.parent or row.organization
        events = []
        if row.updated_by is not None:
            events.append(Event(row.updated_at, _("変更"), self.actor(row.updated_by),
                                to_status=row.status, to_label=row.get_status_display()))
        return Step(
            kind="adoption", id=row.pk, title=_org(row.organization).display,
            url=f"{url}&prefecture={prefecture.code}",
            status=row.status, status_label=row.get_status_display(), badge=ADOPTION_BADGES.get(row.status, ""),
            dates=_dates(("updated_at", _("更新日時"), row.updated_at)),
            facts=_facts(("target_fiscal_year", _("導入予定年度"),
                          str(row.target_fiscal_year) if row.target_fiscal_year else "")),
            events=events,
        )

    def measure_steps(self, policy: Policy, reports: dict[int, Step]) -> list[Step]:
        measures = (
            MeasureRequest.objects.visible_to(self.user)
            .filter(policy=policy)
            .select_related("ministry", "requested_by")
            .order_by("requested_at", "pk")
        )
        steps = []
        for measure in measures:
            # Name the report that prompted it only where the user sees that report.
            report = reports.get(measure.report_id) if measure.report_id else None
            step = Step(
                kind="measure-request", id=measure.pk, title=_truncate(measure.request, 60),
                url=measure.get_absolute_url(),
                status=measure.status, status_label=measure.get_status_display(),
                badge=MEASURE_BADGES.get(measure.status, ""),
                dates=_dates(("requested_at", _("依頼日時"), measure.requested_at), ("due_date", _("回答期限"), measure.due_date),
                             ("responded_at", _("回答日時"), measure.responded_at),
                             ("closed_at", _("完了日時"), measure.closed_at)),
                facts=_facts(("ministry", _("依頼先"), _org(measure.ministry).display),
                             ("report", _("契機となった進捗報告"), report.title if report else "")),
            )
            self.log(measure, step, Event(measure.requested_at, _("作成"), self.actor(measure.requested_by)))
            steps.append(step)
        return steps


    def agenda_steps(self) -> list[Step]:
        """The agenda items of the council's meetings that deliberated any object of the
        chain (AgendaItem.visible_to: announced meetings, targets the user may see)."""
        c = self.candidate_id
        items = (
            AgendaItem.objects.visible_to(self.user)
            .filter(Q(candidate_id=c) | Q(policy__candidate_id=c) | Q(consent_round__policy__candidate_id=c)
                    | Q(progress_report__policy__candidate_id=c) | Q(measure_request__policy__candidate_id=c))
            .select_related("meeting", "decision__decided_by")
            .order_by("meeting__date", "meeting__number", "order", "pk")
        )
        # The meeting page shows who recorded a decision, and when, to the secretariat only.
        secretariat = access_for(self.user).is_secretariat
        steps = []
        for item in items:
            meeting = item.meeting
            decision = getattr(item, "decision", None)
            events = []
            if decision is not None and secretariat:
                events.append(Event(decision.decided_at, _("決定の記録"), self.actor(decision.decided_by),
                                    to_status=decision.outcome, to_label=decision.get_outcome_display()))
            steps.append(Step(
                kind="agenda-item", id=item.pk, title=item.title,
                url=f"{meeting.get_absolute_url()}#item-{item.pk}",
                status=decision.outcome if decision else "",
                status_label=decision.get_outcome_display() if decision else "",
                badge=DECISION_BADGES.get(decision.outcome, "") if decision else "",
                dates=_dates(("meeting_date", _("開催日"), meeting.date)),
                facts=_facts(
                    ("meeting", _("会議"), meeting.display_title),
                    ("meeting_status", _("会議の状態"), meeting.get_status_display()),
                    ("agenda_kind", _("議題の種類"), item.get_kind_display()),
                    ("decision", _("決定内容"), decision.text if decision else ""),
                    ("track", _("区分"), decision.track_label if decision else ""),
                ),
                events=events,
            ))
        return steps


DECISION_BADGES = {
    "selected": "badge--done", "consented": "badge--done", "approved": "badge--done",
    "not_selected": "badge--rejected", "not_consented": "badge--rejected",
    "deferred": "badge--pending", "noted": "badge--proposed",
}


def _differs(a: datetime, b: datetime) -> bool:
    return abs((a - b).total_seconds()) >= 1


def _truncate(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
