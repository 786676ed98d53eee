"""REST API of stage 1–2: candidates and their assessments, the criteria weights, and the
owning ministries' feasibility studies (shared/API.md).

Views stay thin: every list and detail starts from the model's `visible_to(user)`, every
write calls candidates.actions, and the errors those raise become HTTP answers in
council.api.exceptions. Where an object is visible but the write is not the user's to
make, the view asks the model's own `may_*` rule first, so a refusal is a 403 whatever the
body holds; the action asks again under its lock.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, F, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from candidates import actions
from candidates.models import (
    CRITERIA,
    Assessment,
    BusinessArea,
    Candidate,
    CandidateStatus,
    Conclusion,
    CriteriaWeights,
    FeasibilityStudy,
    StudyAttachment,
    StudyStatus,
    Track,
    Viewpoint,
    put_scores,
)
from council.api.compiled import CompiledRepresentation
from council.api.filters import IdFilter, StableOrderingFilter
from council.api.serializers import (
    ORGANIZATION_REF_COLUMNS,
    USER_REF_COLUMNS,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    PlainRefSerializer,
    UserRefSerializer,
    attach_file,
    select_refs,
)
from council.api.viewsets import PageListsMixin, VisibleQuerysetMixin, VisibleReadOnlyViewSet, refuse_unless
from council.api.workflow import TransitionSerializer, WorkflowViewSetMixin, workflow_schema
from council.prefetch import prefetch_list
from council.prepared import Prepared
from tenants.api import OrganizationRefSerializer


# --- Business areas -----------------------------------------------------------------------


class BusinessAreaSerializer(CompiledRepresentation, serializers.ModelSerializer):
    owning_ministry = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = BusinessArea
        fields = ["id", "code", "name", "name_en", "owning_ministry", "sort_order"]


class BusinessAreaRefSerializer(PlainRefSerializer):
    class Meta:
        model = BusinessArea
        fields = ["id", "name"]


class BusinessAreaFilter(django_filters.FilterSet):
    owning_ministry = IdFilter(field_name="owning_ministry_id")

    class Meta:
        model = BusinessArea
        fields = ["owning_ministry"]


class BusinessAreaViewSet(VisibleReadOnlyViewSet):
    """The 20 standardized business areas (標準化対象20業務) and their owning ministries."""

    queryset = BusinessArea.objects.select_related("owning_ministry")
    serializer_class = BusinessAreaSerializer
    filterset_class = BusinessAreaFilter


# --- Candidates ---------------------------------------------------------------------------


class CriterionScoreSerializer(CompiledRepresentation, serializers.Serializer):
    """One criterion over a candidate's assessments (ScoreSummary.as_dict())."""

    criterion = serializers.ChoiceField(choices=[(c, c) for c in CRITERIA])
    mean = serializers.FloatField(allow_null=True)
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)
    spread = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()
    weight = serializers.FloatField()
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text="評点1〜5ごとの評価者数（キーは評点）"
    )


class ScoreSummarySerializer(CompiledRepresentation, serializers.Serializer):
    assessor_count = serializers.IntegerField()
    weighted_total = serializers.FloatField(allow_null=True)
    criteria = CriterionScoreSerializer(many=True)


class CriteriaMeansSerializer(CompiledRepresentation, serializers.Serializer):
    user_need = serializers.FloatField(allow_null=True)
    expected_effect = serializers.FloatField(allow_null=True)
    feasibility = serializers.FloatField(allow_null=True)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


class CandidateSerializer(CompiledRepresentation, serializers.ModelSerializer):
    """A candidate in a list: the scores come from the queryset's with_scores() annotations."""

    owning_ministry = OrganizationRefSerializer(read_only=True)
    proposed_by = OrganizationRefSerializer(read_only=True)
    # Blank until the candidate is decided: the schema says so (BlankEnum).
    track = serializers.ChoiceField(choices=Track.choices, read_only=True, allow_blank=True)
    business_areas = BusinessAreaRefSerializer(many=True, read_only=True, source="business_areas_list")
    assessor_count = serializers.IntegerField(read_only=True)
    means = serializers.SerializerMethodField(help_text="基準ごとの評点の平均")
    weighted_total = serializers.SerializerMethodField(help_text="重み付き合計（評価がなければ null）")

    class Meta:
        model = Candidate
        fields = [
            "id", "title", "description", "status", "track", "decided_on", "decision_note",
            "owning_ministry", "proposed_by", "business_areas",
            "assessor_count", "means", "weighted_total", "created_at", "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CriteriaMeansSerializer)
    def get_means(self, candidate: Candidate) -> dict[str, float | None]:
        return {c: _rounded(getattr(candidate, f"{c}_mean")) for c in CRITERIA}

    def get_weighted_total(self, candidate: Candidate) -> float | None:
        return _rounded(candidate.weighted_total)


class CandidateDetailSerializer(CandidateSerializer):
    score_summary = serializers.SerializerMethodField(
        help_text="基準ごとの平均・最小・最大・ばらつき・評価者数・分布と重み付き合計"
    )

    class Meta(CandidateSerializer.Meta):
        fields = [*CandidateSerializer.Meta.fields, "score_summary"]
        read_only_fields = fields

    @extend_schema_field(ScoreSummarySerializer)
    def get_score_summary(self, candidate: Candidate) -> dict:
        return candidate.score_summary().as_dict()


class CandidateWriteSerializer(CompiledRepresentation, serializers.ModelSerializer):
    class Meta:
        model = Candidate
        fields = ["title", "description", "owning_ministry", "business_areas", "proposed_by"]
        extra_kwargs = {
            "proposed_by": {"required": False, "help_text": "提案団体の id（省略時は登録者の所属）"},
            "owning_ministry": {"help_text": "制度所管府省庁の id"},
            "business_areas": {"help_text": "関連する標準化対象業務の id"},
        }


class CandidateTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(choices=CandidateStatus.choices, help_text="移行先の状態")
    track = serializers.ChoiceField(
        choices=Track.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="区分。選定（selected）・非選定（not_selected）の決定に必須、その他の遷移では無視。",
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000,
        help_text="コメント。決定では決定理由（decision_note）として記録される。",
    )


class CandidateFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CandidateStatus.choices)
    track = django_filters.ChoiceFilter(choices=Track.choices)
    owning_ministry = IdFilter(field_name="owning_ministry_id", label="制度所管府省庁の id")
    business_area = IdFilter(method="filter_business_area", label="関連する標準化対象業務の id")
    score_min = django_filters.NumberFilter(field_name="weighted_total", lookup_expr="gte", label="重み付き合計の下限")
    q = django_filters.CharFilter(method="filter_text", label="件名・概要の部分一致")
    ordering = StableOrderingFilter(fields=["created_at", "title", "weighted_total", "status"])

    class Meta:
        model = Candidate
        fields = ["status", "track", "owning_ministry", "business_area", "score_min", "q"]

    def filter_business_area(self, queryset, name, value):
        # EXISTS, not a join: a join would multiply the rows the score annotations average.
        through = Candidate.business_areas.through
        return queryset.filter(Exists(through.objects.filter(candidate_id=OuterRef("pk"), businessarea_id=value)))

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


# A page's business areas, read by the candidates' ids (council.prepared; PageListsMixin), in
# the order Django's prefetching gives them (BusinessArea's).
CANDIDATE_AREAS = Prepared(
    lambda: BusinessArea.objects.only("id", "name").annotate(candidate_id=F("candidates__id")), "candidate_id"
)


@workflow_schema(CandidateTransitionSerializer, CandidateDetailSerializer)
@extend_schema_view(
    list=extend_schema(summary="Candidates the user may see"),
    retrieve=extend_schema(summary="A candidate with its score summary"),
    create=extend_schema(
        summary="Propose a candidate (secretariat)",
        request=CandidateWriteSerializer,
        responses={201: CandidateDetailSerializer},
    ),
    update=extend_schema(
        summary="Edit a proposed or under-review candidate (secretariat)",
        request=CandidateWriteSerializer,
        responses={200: CandidateDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Edit some fields of a proposed or under-review candidate (secretariat)",
        request=CandidateWriteSerializer,
        responses={200: CandidateDetailSerializer},
    ),
)
class CandidateViewSet(
    WorkflowViewSetMixin,
    PageListsMixin,
    VisibleQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Candidates for commonization (対象候補). Council members see all of them; local
    government officials only the selected ones."""

    queryset = select_refs(
        Candidate.objects.all(), {"owning_ministry": ORGANIZATION_REF_COLUMNS, "proposed_by": ORGANIZATION_REF_COLUMNS}
    )
    filterset_class = CandidateFilter
    transition_serializer_class = CandidateTransitionSerializer
    page_many = {"business_areas": CANDIDATE_AREAS}

    def get_queryset(self):
        queryset = super().get_queryset()
        # A list page that neither filters nor orders by the scores gets them from its rows'
        # score totals, computed in Python (put_scores), instead of five annotations.
        queryset = queryset.with_score_totals() if self.scores_in_python() else queryset.with_scores()
        return (
            queryset.prefetch_related(prefetch_list("business_areas"))
            # Stated here too: the list is ordered the same way whatever its annotations.
            .order_by(*Candidate._meta.ordering)
        )

    def scores_in_python(self) -> bool:
        """Whether this is a list page that neither filters nor orders by the scores
        (CandidateFilter's score_min, ordering on weighted_total), which need them in the SQL."""
        if self.action != "list" or self.paginator is None:
            return False
        params = self.request.query_params
        return "score_min" not in params and not any("weighted_total" in value for value in params.getlist("ordering"))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and self.scores_in_python():
            put_scores(page, CriteriaWeights.current())
        return page

    def get_serializer_class(self):
        if self.action == "list":
            return CandidateSerializer
        if self.action in ("create", "update", "partial_update"):
            return CandidateWriteSerializer
        return CandidateDetailSerializer

    def detail_response(self, candidate: Candidate, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=candidate.pk)
        data = CandidateDetailSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = CandidateWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        candidate = actions.propose_candidate(request.user, **body.validated_data)
        return self.detail_response(candidate, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        candidate = self.get_object()
        refuse_unless(candidate.may_edit(request.user), _("この対象候補は変更できません。"))
        body = CandidateWriteSerializer(
            candidate, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        actions.update_candidate(candidate, request.user, dict(body.validated_data))
        return self.detail_response(candidate)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_transition(self, candidate: Candidate, to: str, comment: str, track: str = "") -> Candidate:
        return actions.decide(candidate, self.request.user, to, track=track, comment=comment)


# --- Assessments ----------------------------------------------------------------------------


class EvidenceSerializer(AttachmentSerializer):
    download_route = "candidates:evidence-download"


class AssessmentSerializer(CompiledRepresentation, serializers.ModelSerializer):
    assessor = UserRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True, help_text="評価者が代表する団体")
    viewpoints = serializers.ListField(child=serializers.ChoiceField(choices=Viewpoint.choices), read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id", "candidate", "assessor", "organization", "user_need", "expected_effect", "feasibility",
            "rationale", "viewpoints", "evidence", "created_at", "updated_at",
        ]
        read_only_fields = fields


class AssessmentWriteSerializer(CompiledRepresentation, serializers.ModelSerializer):
    viewpoints = serializers.MultipleChoiceField(
        choices=Viewpoint.choices, required=False, allow_empty=True, help_text="該当する観点（i, ii, iii）"
    )
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        allow_empty=True,
        write_only=True,
        help_text="根拠資料（multipart/form-data。PDF, XLSX, DOCX, CSV, PNG, JPEG、20MBまで）。既存の資料に追加される。",
    )

    class Meta:
        model = Assessment
        fields = ["user_need", "expected_effect", "feasibility", "rationale", "viewpoints", "evidence"]


ASSESSMENT_REQUEST = {
    "application/json": AssessmentWriteSerializer,
    "multipart/form-data": AssessmentWriteSerializer,
}


@extend_schema_view(
    list=extend_schema(summary="Assessments of a candidate"),
    retrieve=extend_schema(summary="One assessment"),
    create=extend_schema(
        summary="Assess the candidate, or revise one's own assessment of it",
        request=ASSESSMENT_REQUEST,
        responses={
            201: OpenApiResponse(AssessmentSerializer, description="A new assessment."),
            200: OpenApiResponse(AssessmentSerializer, description="The user's existing assessment, revised."),
        },
    ),
    update=extend_schema(
        summary="Revise one's own assessment", request=ASSESSMENT_REQUEST, responses={200: AssessmentSerializer}
    ),
    partial_update=extend_schema(
        summary="Revise part of one's own assessment", request=ASSESSMENT_REQUEST, responses={200: AssessmentSerializer}
    ),
)
class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Scores of a candidate against the three criteria, by the secretariat, the owning
    ministry and the associations; one per assessor, who may revise it while the candidate
    is open for assessment. Visible to whoever sees the candidate."""

    serializer_class = AssessmentSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends: list = []

    def get_candidate(self) -> Candidate:
        if not hasattr(self, "_candidate"):
            visible = Candidate.objects.visible_to(self.request.user)
            self._candidate = get_object_or_404(visible, pk=self.kwargs["candidate_pk"])
        return self._candidate

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request kwargs
            return Assessment.objects.none()
        return (
            Assessment.objects.filter(candidate=self.get_candidate())
            .select_related("assessor", "organization")
            .prefetch_related("evidence")
        )

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return AssessmentWriteSerializer
        return AssessmentSerializer

    def read(self, assessment: Assessment, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=assessment.pk)
        return Response(AssessmentSerializer(fresh, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        candidate = self.get_candidate()
        refuse_unless(
            candidate.may_assess(request.user),
            _("この対象候補を評価する権限がないか、評価の受付が終了しています。"),
        )
        body = AssessmentWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        revised = candidate.assessments.filter(assessor=request.user).exists()
        assessment = actions.assess(candidate, request.user, **body.validated_data)
        return self.read(assessment, status.HTTP_200_OK if revised else status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        assessment = self.get_object()
        candidate = self.get_candidate()
        refuse_unless(assessment.assessor_id == request.user.pk, _("評価を修正できるのは評価者本人です。"))
        refuse_unless(candidate.may_assess(request.user), _("この対象候補の評価の受付は終了しています。"))
        body = AssessmentWriteSerializer(
            assessment, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        current = {**assessment.scores(), "rationale": assessment.rationale, "viewpoints": assessment.viewpoints}
        assessment = actions.assess(candidate, request.user, **{**current, **body.validated_data})
        return self.read(assessment)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


# --- Criteria weights --------------------------------------------------------------------


class CriteriaWeightsSerializer(CompiledRepresentation, serializers.ModelSerializer):
    updated_by = UserRefSerializer(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)  # null until first set

    class Meta:
        model = CriteriaWeights
        fields = ["user_need", "expected_effect", "feasibility", "updated_by", "updated_at"]
        read_only_fields = ["updated_by", "updated_at"]
        extra_kwargs = {c: {"coerce_to_string": False, "required": True} for c in CRITERIA}


class CriteriaWeightsView(APIView):
    """The weights of the three criteria in every candidate's weighted total (0–10 each,
    not all zero). Everyone signed in reads them; the secretariat sets them."""

    @extend_schema(summary="The current criteria weights", responses={200: CriteriaWeightsSerializer})
    def get(self, request: Request) -> Response:
        return Response(CriteriaWeightsSerializer(CriteriaWeights.current()).data)

    @extend_schema(
        summary="Set the criteria weights (secretariat)",
        request=CriteriaWeightsSerializer,
        responses={200: CriteriaWeightsSerializer},
    )
    def put(self, request: Request) -> Response:
        body = CriteriaWeightsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        weights = actions.set_weights(request.user, **body.validated_data)
        return Response(CriteriaWeightsSerializer(weights).data)


# --- Feasibility studies -------------------------------------------------------------------


class CandidateRefSerializer(PlainRefSerializer):
    class Meta:
        model = Candidate
        fields = ["id", "title"]


class StudyAttachmentSerializer(AttachmentSerializer):
    download_route = "candidates:attachment-download"


def may_see_study_details(study: FeasibilityStudy, user) -> bool:
    # Lists annotate the answer (with_details_visible) so rows need no permission query each.
    annotated = getattr(study, "details_visible", None)
    return study.may_see_details(user) if annotated is None else bool(annotated)


class FeasibilityStudySummarySerializer(CompiledRepresentation, serializers.ModelSerializer):
    """What a user who may not see a study's details (a municipal official) gets: its outcome."""

    candidate = CandidateRefSerializer(read_only=True)
    ministry = OrganizationRefSerializer(read_only=True)
    # Blank until the ministry concludes: the schema says so (BlankEnum).
    conclusion = serializers.ChoiceField(choices=Conclusion.choices, read_only=True, allow_blank=True)

    class Meta:
        model = FeasibilityStudy
        fields = ["id", "candidate", "ministry", "status", "conclusion", "submitted_at", "decided_at"]
        read_only_fields = fields


class FeasibilityStudySerializer(CompiledRepresentation, serializers.ModelSerializer):
    """The whole study, for the secretariat, the ministry and (once accepted) council members;
    anyone else gets FeasibilityStudySummarySerializer's fields."""

    candidate = CandidateRefSerializer(read_only=True)
    ministry = OrganizationRefSerializer(read_only=True)
    # Blank until the ministry concludes: the schema says so (BlankEnum).
    conclusion = serializers.ChoiceField(choices=Conclusion.choices, read_only=True, allow_blank=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True, help_text="提出期限を過ぎて未提出")
    assigned_by = UserRefSerializer(read_only=True)
    attachments = StudyAttachmentSerializer(many=True, read_only=True, source="attachments_list")

    class Meta:
        model = FeasibilityStudy
        fields = [
            "id", "candidate", "ministry", "status", "overdue", "due_date",
            *FeasibilityStudy.MINISTRY_FIELDS,
            "assigned_by", "assigned_at", "submitted_at", "decided_at", "updated_at", "attachments",
        ]
        read_only_fields = fields

    def to_representation(self, study: FeasibilityStudy) -> dict:
        if not may_see_study_details(study, self.context["request"].user):
            # One summary serializer for every row of a page: building its fields is the costly part.
            if not hasattr(self, "_summary"):
                self._summary = FeasibilityStudySummarySerializer(context=self.context)
            return self._summary.to_representation(study)
        return super().to_representation(study)


class FeasibilityStudyCreatedSerializer(FeasibilityStudySerializer):
    due_date_moved = serializers.BooleanField(
        read_only=True, help_text="指定の提出期限が休日だったため、翌開庁日に移したか"
    )

    class Meta(FeasibilityStudySerializer.Meta):
        fields = [*FeasibilityStudySerializer.Meta.fields, "due_date_moved"]
        read_only_fields = fields


STUDY_READ = PolymorphicProxySerializer(
    component_name="FeasibilityStudyRead",
    serializers=[FeasibilityStudySerializer, FeasibilityStudySummarySerializer],
    resource_type_field_name=None,
)


class FeasibilityStudyCreateSerializer(CompiledRepresentation, serializers.Serializer):
    candidate = serializers.PrimaryKeyRelatedField(
        queryset=Candidate.objects.none(), help_text="選定された対象候補の id"
    )
    due_date = serializers.DateField(help_text="提出期限（休日なら翌開庁日に移る）")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["candidate"].queryset = Candidate.objects.visible_to(request.user)


class FeasibilityStudyUpdateSerializer(CompiledRepresentation, serializers.ModelSerializer):
    class Meta:
        model = FeasibilityStudy
        fields = list(FeasibilityStudy.MINISTRY_FIELDS)


class StudyTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(choices=StudyStatus.choices, help_text="移行先の状態")
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000,
        help_text="コメント。差戻し（returned）では理由として必須。",
    )


class FeasibilityStudyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=StudyStatus.choices)
    ministry = IdFilter(field_name="ministry_id", label="調査する府省庁の id")
    candidate = IdFilter(field_name="candidate_id", label="対象候補の id")
    conclusion = django_filters.ChoiceFilter(choices=Conclusion.choices)
    overdue = django_filters.BooleanFilter(field_name="is_overdue", label="提出期限を過ぎて未提出か")
    ordering = StableOrderingFilter(fields=["due_date", "submitted_at", "decided_at"])

    class Meta:
        model = FeasibilityStudy
        fields = ["status", "ministry", "candidate", "conclusion", "overdue"]


# A page's attachments, read by the studies' ids (council.prepared; PageListsMixin).
STUDY_ATTACHMENTS = Prepared(lambda: StudyAttachment.objects.all(), "study_id")


@workflow_schema(StudyTransitionSerializer, STUDY_READ)
@extend_schema_view(
    list=extend_schema(summary="Feasibility studies the user may see", responses={200: STUDY_READ}),
    retrieve=extend_schema(summary="A feasibility study", responses={200: STUDY_READ}),
    create=extend_schema(
        summary="Ask the owning ministry for a feasibility study of a selected candidate (secretariat)",
        request=FeasibilityStudyCreateSerializer,
        responses={201: FeasibilityStudyCreatedSerializer},
    ),
    partial_update=extend_schema(
        summary="Save the ministry's draft (owning ministry, while assigned or returned)",
        request=FeasibilityStudyUpdateSerializer,
        responses={200: FeasibilityStudySerializer},
    ),
)
class FeasibilityStudyViewSet(
    WorkflowViewSetMixin,
    PageListsMixin,
    VisibleQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The owning ministry's feasibility study (実現可能性調査) of a selected candidate.
    Drafts are the secretariat's and the ministry's; once accepted, council members see it
    whole and local government officials see its conclusion."""

    queryset = select_refs(
        FeasibilityStudy.objects.all(),
        {"candidate": ("id", "title"), "ministry": ORGANIZATION_REF_COLUMNS, "assigned_by": USER_REF_COLUMNS},
    )
    serializer_class = FeasibilityStudySerializer
    filterset_class = FeasibilityStudyFilter
    transition_serializer_class = StudyTransitionSerializer
    page_lists = {"attachments": STUDY_ATTACHMENTS}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .with_overdue()
            .with_details_visible(self.request.user)
            .prefetch_related(prefetch_list("attachments"))
        )

    def get_serializer_class(self):
        if self.action == "create":
            return FeasibilityStudyCreateSerializer
        if self.action == "partial_update":
            return FeasibilityStudyUpdateSerializer
        if self.action == "attachments":
            return AttachmentUploadSerializer
        return FeasibilityStudySerializer

    def read(self, study: FeasibilityStudy, serializer_class=FeasibilityStudySerializer, **extra: Any) -> dict:
        fresh = self.get_queryset().get(pk=study.pk)
        for name, value in extra.items():
            setattr(fresh, name, value)
        return serializer_class(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = FeasibilityStudyCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        study, moved = actions.assign_study(
            body.validated_data["candidate"], request.user, due_date=body.validated_data["due_date"]
        )
        data = self.read(study, FeasibilityStudyCreatedSerializer, due_date_moved=moved)
        return Response(data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        study = self.get_object()
        refuse_unless(study.may_edit(request.user), _("この実現可能性調査は変更できません。"))
        body = FeasibilityStudyUpdateSerializer(study, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        actions.save_study(study, request.user, dict(body.validated_data))
        return Response(self.read(study))

    @extend_schema(
        summary="Attach a file to the ministry's draft (owning ministry, while assigned or returned)",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: StudyAttachmentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser], filter_backends=[])
    def attachments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return attach_file(
            self.get_object(), request, actions.save_study, StudyAttachmentSerializer,
            _("この実現可能性調査は変更できません。"),
        )

    def perform_transition(self, study: FeasibilityStudy, to: str, comment: str, **kwargs: Any) -> FeasibilityStudy:
        return actions.move_study(study, self.request.user, to, comment=comment)

    def may_read_history(self, study: FeasibilityStudy) -> bool:
        # The history's comments (a return's reasons) are details of the study.
        return may_see_study_details(study, self.request.user)
