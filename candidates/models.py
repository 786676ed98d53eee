"""Selecting what to commonize (stage 1) and the owning ministry's feasibility study (stage 2)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, FloatField, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council import calendar
from council.loading import RowLoaded
from council.models import Attachment
from council.prefetch import listed
from council.sql import Constant
from council.workflow import TransitionNotAllowed, WorkflowModel
from tenants.access import access_for, is_council_member, permitted_q
from tenants.models import EnglishNamed, Organization, OrganizationKind


class BusinessAreaQuerySet(models.QuerySet["BusinessArea"]):
    def visible_to(self, user) -> BusinessAreaQuerySet:
        # Reference data: every signed-in user sees all of it.
        if not user.is_authenticated:
            return self.none()
        return self


class BusinessArea(EnglishNamed, RowLoaded, models.Model):
    code = models.SlugField(_("コード"), max_length=40, unique=True)
    name = models.CharField(_("業務名"), max_length=50, unique=True)
    name_en = models.CharField(_("英語名称"), max_length=100, blank=True)
    owning_ministry = models.ForeignKey(
        Organization,
        verbose_name=_("所管府省庁"),
        on_delete=models.PROTECT,
        related_name="business_areas",
        limit_choices_to={"kind": OrganizationKind.MINISTRY},
    )
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    objects = BusinessAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("標準化対象業務")
        verbose_name_plural = _("標準化対象業務")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sort_order__gte=0),
                name="business_area_sort_order_non_negative",
                violation_error_message=_("表示順は0以上です。"),
            )
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.owning_ministry_id and self.owning_ministry.kind != OrganizationKind.MINISTRY:
            raise ValidationError({"owning_ministry": _("所管府省庁には府省庁を選んでください。")})


# --- Candidates -------------------------------------------------------------------------


class CandidateStatus(models.TextChoices):
    PROPOSED = "proposed", _("提案")
    UNDER_REVIEW = "under_review", _("審議中")
    SELECTED = "selected", _("選定")
    NOT_SELECTED = "not_selected", _("非選定")
    WITHDRAWN = "withdrawn", _("取下げ")


class Track(models.TextChoices):
    STANDARDIZATION = "standardization", _("(a) 20業務の標準化")
    COMMONIZATION = "commonization", _("(b) 共通化")
    JOINT_PROCUREMENT = "joint_procurement", _("(c) 都道府県の共同調達による横展開")


class Criterion(models.TextChoices):
    USER_NEED = "user_need", _("① 利用者起点")
    EXPECTED_EFFECT = "expected_effect", _("② 効果の見込み")
    FEASIBILITY = "feasibility", _("③ 実現可能性")


class Viewpoint(models.TextChoices):
    I = "i", _("i) 新しい課題で導入団体は少ないが全国展開が有意義")
    II = "ii", _("ii) 制度改正への対応が多い、又は大きな制度改正がある")
    III = "iii", _("iii) タイムリーなデータが必要で国への報告に手間を要する")


CRITERIA = [c.value for c in Criterion]
DECISIONS = frozenset({CandidateStatus.SELECTED, CandidateStatus.NOT_SELECTED})


class CandidateQuerySet(models.QuerySet["Candidate"]):
    def visible_to(self, user) -> CandidateQuerySet:
        """Council members see every candidate; everyone else sees the selected ones."""
        if not user.is_authenticated:
            return self.none()
        if is_council_member(user):
            return self
        # The status in the SQL (council.sql.Constant): PostgreSQL then keeps one plan for the page.
        return self.filter(status=Constant(CandidateStatus.SELECTED.value))

    def with_scores(self) -> CandidateQuerySet:
        """Annotate per-criterion mean and assessor count, and the weighted total (SQL).

        From the candidate's score totals (CandidateScore, kept by database triggers: one
        row joined on its primary key), not from its assessments: a page of 50 reads 50
        rows, and ordering or filtering on the weighted total computes it from columns
        instead of four correlated subqueries per candidate."""
        weights = CriteriaWeights.current()
        assessors = F("score_totals__assessors")
        annotations: dict = {"assessor_count": Coalesce(assessors, Value(0))}
        for criterion in CRITERIA:
            # Mean of the 1–5 scores; NULL without assessments (no row, or a count back at 0).
            annotations[f"{criterion}_mean"] = ExpressionWrapper(
                Cast(F(f"score_totals__{criterion}"), FloatField()) / NullIf(assessors, Value(0)),
                output_field=FloatField(),
            )
        qs = self.annotate(**annotations)
        total_weight = float(sum(weights.as_dict().values()))
        weighted = None
        for criterion, weight in weights.as_dict().items():
            term = F(f"{criterion}_mean") * Value(float(weight))
            weighted = term if weighted is None else weighted + term
        # Divide once, at the end: summing pre-divided terms makes (4+3+5)/3 come out as
        # 3.999…, which a "total ≥ 4" filter would wrongly leave out.
        return qs.annotate(
            weighted_total=ExpressionWrapper(weighted / Value(total_weight), output_field=FloatField())
        )

    def with_score_totals(self) -> CandidateQuerySet:
        """The candidates with their score totals joined, for `put_scores()` to give each the
        figures with_scores() annotates, computed in Python instead of compiled into the SQL:
        for a page that neither filters nor orders by them (building and compiling the five
        annotations was 1.9 ms of a page of 50). Columns already limited by only() keep their
        limit, the score totals' columns added."""
        queryset = self.select_related("score_totals")
        names, deferring = self.query.deferred_loading
        if names and not deferring:
            queryset = queryset.only(*names, *(f"score_totals__{name}" for name in ("assessors", *CRITERIA)))
        return queryset


def put_scores(candidates, weights: CriteriaWeights) -> None:
    """Set on each candidate (read with_score_totals()) the attributes with_scores() annotates,
    with the same floating-point operations in the same order as its SQL (tests hold them
    equal): the assessor count (0 without assessments), each criterion's mean (None without
    assessments) and the weighted total (None if any mean is)."""
    by_criterion = weights.as_dict()
    weights_of = [(criterion, float(weight)) for criterion, weight in by_criterion.items()]
    total_weight = float(sum(by_criterion.values()))
    for candidate in candidates:
        totals = getattr(candidate, "score_totals", None)  # None: never assessed (no row)
        assessors = totals.assessors if totals is not None else None
        candidate.assessor_count = assessors if assessors is not None else 0
        means = {}
        for criterion in CRITERIA:
            means[criterion] = float(getattr(totals, criterion)) / assessors if assessors else None
            setattr(candidate, f"{criterion}_mean", means[criterion])
        weighted = None
        if all(means[criterion] is not None for criterion, _weight in weights_of):
            for criterion, weight in weights_of:
                term = means[criterion] * weight
                weighted = term if weighted is None else weighted + term
            weighted = weighted / total_weight
        candidate.weighted_total = weighted


class Candidate(WorkflowModel):
    TRANSITIONS = {
        CandidateStatus.PROPOSED: frozenset({CandidateStatus.UNDER_REVIEW, CandidateStatus.WITHDRAWN}),
        CandidateStatus.UNDER_REVIEW: frozenset(
            {CandidateStatus.SELECTED, CandidateStatus.NOT_SELECTED, CandidateStatus.WITHDRAWN}
        ),
    }
    ASSESSABLE = frozenset({CandidateStatus.PROPOSED, CandidateStatus.UNDER_REVIEW})
    EDITABLE = ASSESSABLE

    title = models.CharField(_("件名"), max_length=200)
    description = models.TextField(_("概要"), max_length=10_000, validators=[MaxLengthValidator(10_000)])
    owning_ministry = models.ForeignKey(
        Organization,
        verbose_name=_("制度所管府省庁"),
        on_delete=models.PROTECT,
        related_name="owned_candidates",
        limit_choices_to={"kind": OrganizationKind.MINISTRY},
    )
    business_areas = models.ManyToManyField(
        BusinessArea, verbose_name=_("関連する標準化対象業務"), blank=True, related_name="candidates"
    )
    business_areas_list = listed("business_areas")
    proposed_by = models.ForeignKey(
        Organization,
        verbose_name=_("提案団体"),
        on_delete=models.PROTECT,
        related_name="proposed_candidates",
    )
    status = models.CharField(
        _("状態"), max_length=16, choices=CandidateStatus.choices, default=CandidateStatus.PROPOSED
    )
    track = models.CharField(_("区分"), max_length=24, choices=Track.choices, blank=True)
    decided_on = models.DateField(_("決定日"), null=True, blank=True)
    decision_note = models.TextField(_("決定理由"), blank=True, max_length=4000, validators=[MaxLengthValidator(4000)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登録者"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        verbose_name = _("対象候補")
        verbose_name_plural = _("対象候補")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "owning_ministry"], name="candidate_status_ministry"),
            # The list's order: a page is read from the index, not sorted out of every row.
            models.Index(fields=["-created_at", "-id"], name="candidate_list_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CandidateStatus.values),
                name="candidate_status_valid",
                violation_error_message=_("状態が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=Q(track="") | Q(track__in=Track.values),
                name="candidate_track_valid",
                violation_error_message=_("区分が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=DECISIONS) | ~Q(track=""),
                name="candidate_decision_has_track",
                violation_error_message=_("選定・非選定には区分が必要です。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("candidates:detail", kwargs={"pk": self.pk})

    def clean(self) -> None:
        if self.owning_ministry_id and self.owning_ministry.kind != OrganizationKind.MINISTRY:
            raise ValidationError({"owning_ministry": _("制度所管府省庁には府省庁を選んでください。")})

    # -- who may do what ----------------------------------------------------------------
    def may_edit(self, user) -> bool:
        return access_for(user).is_secretariat and self.status in self.EDITABLE

    def may_assess(self, user) -> bool:
        """Secretariat staff, the owning ministry's officers and association representatives."""
        if self.status not in self.ASSESSABLE:
            return False
        access = access_for(user)
        return access.is_secretariat or bool(access.association_ids) or self.owning_ministry_id in access.ministry_ids

    def may_assign_study(self, user) -> bool:
        return access_for(user).is_secretariat

    def may_transition(self, user, to: str) -> bool:
        # Only the secretariat moves candidates, decisions included.
        return access_for(user).is_secretariat

    def check_transition(self, to, by, changes, comment) -> None:
        if to in DECISIONS:
            track = changes.get("track") or ""
            if track not in Track.values:
                raise ValidationError({"track": _("決定には区分（(a)標準化・(b)共通化・(c)共同調達）を選んでください。")})
        if to == CandidateStatus.SELECTED:
            missing = [
                Criterion(c).label for c in CRITERIA if not self.assessments.filter(**{f"{c}__isnull": False}).exists()
            ]
            if missing:
                raise TransitionNotAllowed(
                    self,
                    to,
                    str(_("選定するには各基準に1件以上の評価が必要です（未評価：%(missing)s）。"))
                    % {"missing": "、".join(str(m) for m in missing)},
                )

    def apply_transition(self, to, by, changes) -> list[str]:
        if to in DECISIONS:
            self.track = changes["track"]
            # A decision taken at a council meeting is dated the meeting's day, whenever recorded.
            self.decided_on = changes.get("decided_on") or calendar.today()
            self.decision_note = changes.get("decision_note", "")
            return ["track", "decided_on", "decision_note"]
        return []

    # -- the three criteria --------------------------------------------------------------
    def score_summary(self) -> ScoreSummary:
        return ScoreSummary.of(self)


class CriteriaWeights(RowLoaded, models.Model):
    """The weights of the three criteria in a candidate's total, set once by the secretariat."""

    user_need = models.DecimalField(
        _("① 利用者起点の重み"), max_digits=4, decimal_places=2, default=Decimal(1),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10))],
    )
    expected_effect = models.DecimalField(
        _("② 効果の見込みの重み"), max_digits=4, decimal_places=2, default=Decimal(1),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10))],
    )
    feasibility = models.DecimalField(
        _("③ 実現可能性の重み"), max_digits=4, decimal_places=2, default=Decimal(1),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10))],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("評価基準の重み")
        verbose_name_plural = _("評価基準の重み")
        constraints = [
            models.CheckConstraint(
                condition=Q(user_need__gte=0) & Q(expected_effect__gte=0) & Q(feasibility__gte=0)
                & Q(user_need__lte=10) & Q(expected_effect__lte=10) & Q(feasibility__lte=10),
                name="criteria_weights_range",
                violation_error_message=_("重みは0以上10以下です。"),
            ),
            models.CheckConstraint(
                condition=Q(user_need__gt=0) | Q(expected_effect__gt=0) | Q(feasibility__gt=0),
                name="criteria_weights_not_all_zero",
                violation_error_message=_("少なくとも1つの重みを0より大きくしてください。"),
            ),
        ]

    def __str__(self) -> str:
        return " / ".join(f"{w}" for w in self.as_dict().values())

    @classmethod
    def current(cls) -> CriteriaWeights:
        # One row for the council; equal weights until the secretariat sets them.
        return cls.objects.order_by("pk").first() or cls()

    def as_dict(self) -> dict[str, Decimal]:
        return {criterion: Decimal(getattr(self, criterion)) for criterion in CRITERIA}

    def clean(self) -> None:
        if all(value == 0 for value in self.as_dict().values()):
            raise ValidationError(_("少なくとも1つの重みを0より大きくしてください。"))


class Assessment(RowLoaded, models.Model):
    """One assessor's scores of a candidate against the three criteria, with the why."""

    candidate = models.ForeignKey(Candidate, verbose_name=_("対象候補"), on_delete=models.CASCADE, related_name="assessments")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("評価者"), on_delete=models.PROTECT, related_name="assessments"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("評価者の所属"), on_delete=models.PROTECT, related_name="assessments"
    )
    user_need = models.PositiveSmallIntegerField(
        Criterion.USER_NEED.label, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    expected_effect = models.PositiveSmallIntegerField(
        Criterion.EXPECTED_EFFECT.label, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    feasibility = models.PositiveSmallIntegerField(
        Criterion.FEASIBILITY.label, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rationale = models.TextField(_("評価の理由"), max_length=4000, validators=[MaxLengthValidator(4000)])
    viewpoint_i = models.BooleanField(Viewpoint.I.label, default=False)
    viewpoint_ii = models.BooleanField(Viewpoint.II.label, default=False)
    viewpoint_iii = models.BooleanField(Viewpoint.III.label, default=False)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("基準による評価")
        verbose_name_plural = _("基準による評価")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "assessor"],
                name="assessment_one_per_assessor",
                violation_error_message=_("この対象候補は既に評価済みです。評価を修正してください。"),
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{c}__gte": 1}) & Q(**{f"{c}__lte": 5}),
                    name=f"assessment_{c}_1_to_5",
                    violation_error_message=_("評点は1から5です。"),
                )
                for c in CRITERIA
            ],
            models.CheckConstraint(
                condition=~Q(rationale=""),
                name="assessment_rationale_required",
                violation_error_message=_("評価の理由を入力してください。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} / {self.assessor}"

    @property
    def viewpoints(self) -> list[str]:
        return [v.value for v in Viewpoint if getattr(self, f"viewpoint_{v.value}")]

    @viewpoints.setter
    def viewpoints(self, values) -> None:
        for v in Viewpoint:
            setattr(self, f"viewpoint_{v.value}", v.value in values)

    def scores(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in CRITERIA}


class CandidateScore(RowLoaded, models.Model):
    """A candidate's assessments added up: how many, and the sum of each criterion's scores.

    Written only by database triggers on the assessments (candidates/scores.py), in the same
    transaction as the assessment, by every path that writes one (the ORM, queryset updates,
    raw SQL); recounted by `candidates.scores.rebuild()` for writers that bypass triggers
    (the national data generator's COPY). A candidate never assessed has no row."""

    candidate = models.OneToOneField(
        Candidate, primary_key=True, on_delete=models.CASCADE, related_name="score_totals", verbose_name=_("対象候補")
    )
    assessors = models.IntegerField(_("評価者数"), default=0)
    user_need = models.IntegerField(Criterion.USER_NEED.label, default=0)
    expected_effect = models.IntegerField(Criterion.EXPECTED_EFFECT.label, default=0)
    feasibility = models.IntegerField(Criterion.FEASIBILITY.label, default=0)

    class Meta:
        verbose_name = _("評点の合計")
        verbose_name_plural = _("評点の合計")


class AssessmentEvidence(Attachment):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="evidence")

    class Meta(Attachment.Meta):
        verbose_name = _("評価の根拠資料")
        verbose_name_plural = _("評価の根拠資料")


class CriterionScore:
    """Aggregate of one criterion over a candidate's assessments."""

    def __init__(self, criterion: str, values: list[int], weight: Decimal) -> None:
        self.criterion = criterion
        self.label = Criterion(criterion).label
        self.count = len(values)
        self.mean = sum(values) / len(values) if values else None
        self.min = min(values) if values else None
        self.max = max(values) if values else None
        self.spread = (self.max - self.min) if values else None
        self.weight = weight
        # How many assessors gave each score 1..5, for the distribution chart.
        self.distribution = {score: values.count(score) for score in range(1, 6)}

    def as_dict(self) -> dict:
        return {
            "criterion": self.criterion,
            "mean": None if self.mean is None else round(self.mean, 2),
            "min": self.min,
            "max": self.max,
            "spread": self.spread,
            "count": self.count,
            "weight": float(self.weight),
            "distribution": self.distribution,
        }


class ScoreSummary:
    """Per-criterion mean, min, spread and number of assessors, and the weighted total."""

    def __init__(self, assessments: list[Assessment], weights: CriteriaWeights) -> None:
        w = weights.as_dict()
        self.criteria = [CriterionScore(c, [a.scores()[c] for a in assessments], w[c]) for c in CRITERIA]
        self.assessor_count = len(assessments)
        total_weight = sum(w.values())
        if self.assessor_count and total_weight:
            self.weighted_total = float(
                sum(Decimal(str(s.mean)) * s.weight for s in self.criteria) / total_weight
            )
        else:
            self.weighted_total = None

    @classmethod
    def of(cls, candidate: Candidate) -> ScoreSummary:
        return cls(list(candidate.assessments.all()), CriteriaWeights.current())

    def as_dict(self) -> dict:
        return {
            "assessor_count": self.assessor_count,
            "weighted_total": None if self.weighted_total is None else round(self.weighted_total, 2),
            "criteria": [s.as_dict() for s in self.criteria],
        }


# --- Feasibility studies -----------------------------------------------------------------


class StudyStatus(models.TextChoices):
    ASSIGNED = "assigned", _("依頼済み")
    SUBMITTED = "submitted", _("提出済み")
    ACCEPTED = "accepted", _("受理")
    RETURNED = "returned", _("差戻し")


class Conclusion(models.TextChoices):
    FEASIBLE = "feasible", _("実現可能")
    CONDITIONALLY_FEASIBLE = "conditionally_feasible", _("条件付きで実現可能")
    NOT_FEASIBLE = "not_feasible", _("実現困難")


OPEN_STUDY_STATUSES = (StudyStatus.ASSIGNED, StudyStatus.RETURNED)


class FeasibilityStudyQuerySet(models.QuerySet["FeasibilityStudy"]):
    def visible_to(self, user) -> FeasibilityStudyQuerySet:
        """The secretariat sees every study; the owning ministry its own (guardian rows);
        everyone else only accepted studies (municipal officials: their conclusions)."""
        if not user.is_authenticated:
            return self.none()
        if access_for(user).is_secretariat:
            return self
        return self.filter(Q(status=StudyStatus.ACCEPTED) | permitted_q(self.model, user, "view_feasibilitystudy"))

    def with_overdue(self) -> FeasibilityStudyQuerySet:
        return self.annotate(
            is_overdue=models.ExpressionWrapper(
                Q(status__in=OPEN_STUDY_STATUSES, due_date__lt=calendar.today()),
                output_field=models.BooleanField(),
            )
        )

    def with_details_visible(self, user) -> FeasibilityStudyQuerySet:
        """Annotate `details_visible`: FeasibilityStudy.may_see_details(user), in SQL, so a
        list decides it for every row without a permission query per row."""
        if access_for(user).is_secretariat:
            return self.annotate(details_visible=Value(True, output_field=models.BooleanField()))
        condition = permitted_q(self.model, user, "view_feasibilitystudy")
        if is_council_member(user):
            condition |= Q(status=StudyStatus.ACCEPTED)
        return self.annotate(details_visible=ExpressionWrapper(condition, output_field=models.BooleanField()))


class FeasibilityStudy(WorkflowModel):
    TRANSITIONS = {
        StudyStatus.ASSIGNED: frozenset({StudyStatus.SUBMITTED}),
        StudyStatus.SUBMITTED: frozenset({StudyStatus.ACCEPTED, StudyStatus.RETURNED}),
        StudyStatus.RETURNED: frozenset({StudyStatus.SUBMITTED}),
    }
    # What the ministry must have filled in before it can submit.
    REQUIRED_TO_SUBMIT = ("findings", "affected_local_governments", "cost_initial_yen", "cost_annual_yen",
                          "expected_effect", "conclusion")
    # Fields the ministry writes; a municipal official sees only the conclusion of an accepted study.
    MINISTRY_FIELDS = ("findings", "affected_local_governments", "cost_initial_yen", "cost_annual_yen",
                       "expected_effect", "staff_hours_saved_per_year", "risks", "conclusion")
    # StudyAttachment.study's related objects, as a list (council.prefetch).
    attachments_list = listed("attachments")

    candidate = models.OneToOneField(
        Candidate, verbose_name=_("対象候補"), on_delete=models.PROTECT, related_name="study"
    )
    ministry = models.ForeignKey(
        Organization, verbose_name=_("調査する府省庁"), on_delete=models.PROTECT, related_name="studies"
    )
    status = models.CharField(_("状態"), max_length=16, choices=StudyStatus.choices, default=StudyStatus.ASSIGNED)
    due_date = models.DateField(_("提出期限"))
    findings = models.TextField(_("調査結果"), blank=True, max_length=20_000, validators=[MaxLengthValidator(20_000)])
    affected_local_governments = models.PositiveIntegerField(
        _("影響を受ける地方公共団体数"), null=True, blank=True, validators=[MaxValueValidator(1788)]
    )
    cost_initial_yen = models.PositiveBigIntegerField(_("初期費用（円）"), null=True, blank=True)
    cost_annual_yen = models.PositiveBigIntegerField(_("年間運用費用（円）"), null=True, blank=True)
    expected_effect = models.TextField(_("期待される効果"), blank=True, max_length=10_000, validators=[MaxLengthValidator(10_000)])
    staff_hours_saved_per_year = models.PositiveBigIntegerField(_("削減される職員の作業時間（時間／年）"), null=True, blank=True)
    risks = models.TextField(_("リスク"), blank=True, max_length=10_000, validators=[MaxLengthValidator(10_000)])
    conclusion = models.CharField(_("結論"), max_length=32, choices=Conclusion.choices, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("依頼者"), on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    decided_at = models.DateTimeField(_("受理・差戻し日時"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = FeasibilityStudyQuerySet.as_manager()

    class Meta:
        verbose_name = _("実現可能性調査")
        verbose_name_plural = _("実現可能性調査")
        ordering = ["due_date", "pk"]
        permissions = [("submit_feasibilitystudy", _("実現可能性調査を提出できる"))]
        indexes = [
            models.Index(fields=["status", "due_date"], name="study_status_due"),
            models.Index(fields=["due_date", "id"], name="study_list_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=StudyStatus.values),
                name="study_status_valid",
                violation_error_message=_("状態が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=Q(conclusion="") | Q(conclusion__in=Conclusion.values),
                name="study_conclusion_valid",
                violation_error_message=_("結論が正しくありません。"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("%(candidate)s の実現可能性調査") % {"candidate": self.candidate})

    def get_absolute_url(self) -> str:
        return reverse("candidates:study-detail", kwargs={"pk": self.pk})

    @property
    def is_overdue(self) -> bool:
        return self.status in OPEN_STUDY_STATUSES and self.due_date < calendar.today()

    @is_overdue.setter
    def is_overdue(self, value: bool) -> None:
        # with_overdue() annotates this same name (for filtering); loading such a row sets it.
        # The property computes the same answer from the row's own fields, and stays right
        # after a transition changes the status in memory, so the annotated value is dropped.
        pass

    # -- who may do what ----------------------------------------------------------------
    def may_edit(self, user) -> bool:
        return self.status in OPEN_STUDY_STATUSES and user.has_perm("candidates.change_feasibilitystudy", self)

    def may_see_details(self, user) -> bool:
        """Everything but the conclusion is for the secretariat, the ministry and, once
        accepted, council members."""
        if access_for(user).is_secretariat or user.has_perm("candidates.view_feasibilitystudy", self):
            return True
        return self.status == StudyStatus.ACCEPTED and is_council_member(user)

    def may_transition(self, user, to: str) -> bool:
        if to == StudyStatus.SUBMITTED:
            return user.has_perm("candidates.submit_feasibilitystudy", self)
        return access_for(user).is_secretariat

    def check_transition(self, to, by, changes, comment) -> None:
        if to == StudyStatus.SUBMITTED:
            missing = {
                name: _("提出するにはこの項目を入力してください。")
                for name in self.REQUIRED_TO_SUBMIT
                if getattr(self, name) in (None, "")
            }
            if missing:
                raise ValidationError(missing)
        if to == StudyStatus.RETURNED and not comment.strip():
            raise ValidationError({"comment": _("差し戻す理由をコメントに入力してください。")})

    def apply_transition(self, to, by, changes) -> list[str]:
        if to == StudyStatus.SUBMITTED:
            self.submitted_at = timezone.now()
            return ["submitted_at"]
        self.decided_at = timezone.now()
        return ["decided_at"]


class StudyAttachment(Attachment):
    study = models.ForeignKey(FeasibilityStudy, on_delete=models.CASCADE, related_name="attachments")

    class Meta(Attachment.Meta):
        verbose_name = _("調査の添付資料")
        verbose_name_plural = _("調査の添付資料")
