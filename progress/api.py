"""REST API of stage 4: reporting schedules, progress reports, adoption by every local
government (with its bulk import), usage reports of national systems, and the council's
measure requests (shared/API.md).

As in candidates.api and policies.api: every list and detail starts from the model's
`visible_to(user)`, every write calls progress.actions, and council.api.exceptions turns
the errors they raise into 400/403/409. Where an object is visible but the write is not
the user's to make, the view asks the model's own rule first, so a refusal is a 403
whatever the body holds; the action asks again under its lock.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import django_filters
from django.db import connections
from django.db.models import F, Q, Sum
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from council.api.compiled import CompiledRepresentation
from council.api.filters import NOT_FILTERS, IdFilter, StableOrderingFilter
from council.api.serializers import (
    ORGANIZATION_REF_COLUMNS,
    USER_REF_COLUMNS,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    BlankAsNullCharField,
    PlainRefSerializer,
    UserRefSerializer,
    attach_file,
    columns,
    select_refs,
)
from council.api.viewsets import PageListsMixin, VisibleQuerysetMixin, refuse_unless
from council.api.workflow import TransitionSerializer, WorkflowViewSetMixin, workflow_schema
from council.prefetch import prefetch_list
from council.prepared import AnyOf, Prepared
from policies.models import Policy, within_visible_policies
from policies.api import PDF_STATUS
from progress import actions
from progress.pdf import current_pdf, request_document
from progress.tally import NATIONAL
from progress.models import (
    Adoption,
    AdoptionChange,
    AdoptionStatus,
    AdoptionTally,
    Frequency,
    MeasureRequest,
    MeasureStatus,
    MilestoneStatus,
    ProgressReport,
    ReportAttachment,
    ReportingSchedule,
    ReportStatus,
    ReportTally,
    UsageLayer,
    UsageReport,
)
from tenants.access import access_for
from tenants.api import OrganizationRefSerializer
from tenants.codes import is_prefecture_code, validate_local_government_code
from tenants.models import Organization, OrganizationKind


# Parameters of a list that do not change its count: paging, format, and the order of the rows.
NEUTRAL_PARAMETERS = NOT_FILTERS | {"ordering"}


def countable_filters(view, request: Request, tally_filters: frozenset) -> dict | None:
    """The list's cleaned filters when it asks for the tally's filters only (besides paging and
    ordering), for a `known_count` read from a tally; None to count the rows (another filter,
    or invalid ones, which the list answers with a 400)."""
    if view.action != "list" or not set(request.query_params) <= tally_filters | NEUTRAL_PARAMETERS:
        return None
    if not set(request.query_params) - NEUTRAL_PARAMETERS:
        return {}  # no filter named: every one is empty (without building the form again)
    filterset = view.filterset_class(request.query_params, queryset=view.queryset.model.objects.none(), request=request)
    return filterset.form.cleaned_data if filterset.is_valid() else None


def may_report_usage(user) -> bool:
    # Asked before the body is read, so that a refusal is a 403 whatever the body.
    return bool(actions.usage_reporter_ids(user))


class PolicyRefSerializer(PlainRefSerializer):
    class Meta:
        model = Policy
        fields = ["id", "title"]


@extend_schema_field(OpenApiTypes.INT)
class VisiblePolicyField(serializers.PrimaryKeyRelatedField):
    """A policy by id, among those the user may see (others are "does not exist", a 400)."""

    def get_queryset(self):
        request = self.context.get("request")
        return Policy.objects.none() if request is None else Policy.objects.visible_to(request.user)


# --- JSON rows: the model's clean_*() functions own the rules; these only describe the shape. ---


class MilestoneSerializer(CompiledRepresentation, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    status = serializers.ChoiceField(choices=MilestoneStatus.choices, required=False, help_text="省略時は in_progress")
    percent = serializers.FloatField(min_value=0, max_value=100, help_text="進捗率（0〜100）")
    weight = serializers.FloatField(required=False, min_value=0, max_value=100, help_text="全体進捗率での重み（省略時は1）")


class KpiSerializer(CompiledRepresentation, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    target = serializers.FloatField(help_text="目標値")
    actual = serializers.FloatField(required=False, allow_null=True, help_text="実績値（未集計なら null）")
    unit = serializers.CharField(required=False, allow_blank=True, max_length=20)


class MetricSerializer(CompiledRepresentation, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    value = serializers.FloatField()
    unit = serializers.CharField(required=False, allow_blank=True, max_length=20)


class JsonRowsField(serializers.ListField):
    """A list of objects passed to the model as they are: its clean_*() checks every row and
    answers with line-numbered messages under the field's name."""

    child = serializers.DictField()


@extend_schema_field(MilestoneSerializer(many=True))
class MilestonesField(JsonRowsField):
    pass


@extend_schema_field(KpiSerializer(many=True))
class KpisField(JsonRowsField):
    pass


@extend_schema_field(MetricSerializer(many=True))
class MetricsField(JsonRowsField):
    pass


# --- Reporting schedules -------------------------------------------------------------------------


class ReportingScheduleSerializer(CompiledRepresentation, serializers.ModelSerializer):
    policy = PolicyRefSerializer(read_only=True)
    created_by = UserRefSerializer(read_only=True)
    first_period_label = serializers.CharField(source="first.label", read_only=True, help_text="最初の報告期間")

    class Meta:
        model = ReportingSchedule
        fields = [
            "id", "policy", "frequency", "due_days_after_period", "first_fiscal_year", "first_period",
            "first_period_label", "created_by", "created_at",
        ]
        read_only_fields = fields


class ReportingScheduleCreateSerializer(CompiledRepresentation, serializers.ModelSerializer):
    # Declared, not derived: the derived field would answer a second schedule with a 400
    # (unique), where the action's 409 says the policy already has one.
    policy = VisiblePolicyField(help_text="同意済みの方針の id")

    class Meta:
        model = ReportingSchedule
        fields = ["policy", "frequency", "due_days_after_period"]


class ReportingScheduleFilter(django_filters.FilterSet):
    policy = IdFilter(field_name="policy_id", label="方針の id")
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)

    class Meta:
        model = ReportingSchedule
        fields = ["policy", "frequency"]


@extend_schema_view(
    list=extend_schema(summary="Reporting schedules of the policies the user may see"),
    retrieve=extend_schema(summary="A reporting schedule"),
    create=extend_schema(
        summary="Set a consented policy's reporting schedule (secretariat); creates this period's report "
                "and the policy's adoption rows",
        request=ReportingScheduleCreateSerializer,
        responses={
            201: ReportingScheduleSerializer,
            409: OpenApiResponse(description="The policy already has a schedule."),
        },
    ),
)
class ReportingScheduleViewSet(
    VisibleQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """報告スケジュール: how often the owning ministry reports a consented policy's progress."""

    queryset = select_refs(
        ReportingSchedule.objects.order_by("policy_id"), {"policy": ("id", "title"), "created_by": USER_REF_COLUMNS}
    )
    serializer_class = ReportingScheduleSerializer
    filterset_class = ReportingScheduleFilter

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_unless(access_for(request.user).is_secretariat, _("報告スケジュールを設定できるのは事務局です。"))
        body = ReportingScheduleCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        schedule = actions.set_schedule(
            data["policy"], request.user, frequency=data["frequency"], due_days_after_period=data["due_days_after_period"]
        )
        fresh = self.get_queryset().get(pk=schedule.pk)
        return Response(ReportingScheduleSerializer(fresh).data, status=status.HTTP_201_CREATED)


# --- Progress reports ------------------------------------------------------------------------------


class ReportAttachmentSerializer(AttachmentSerializer):
    download_route = "progress:report-attachment"


class ReportPeriodSerializer(CompiledRepresentation, serializers.Serializer):
    fiscal_year = serializers.IntegerField(help_text="年度（4月〜翌3月）")
    period = serializers.IntegerField(help_text="年度内の期（1から）")
    label = serializers.CharField(source="period_label", help_text="例：2026年度 第2四半期")
    start = serializers.DateField(source="period_start")
    end = serializers.DateField(source="period_end")


class ProgressReportSerializer(CompiledRepresentation, serializers.ModelSerializer):
    policy = PolicyRefSerializer(read_only=True)
    ministry = OrganizationRefSerializer(source="policy.ministry", read_only=True, help_text="報告する所管府省庁")
    frequency = serializers.ChoiceField(source="schedule.frequency", choices=Frequency.choices, read_only=True)
    overdue = serializers.BooleanField(read_only=True, help_text="提出期限を過ぎて未提出（未提出・差戻し）")
    period = ReportPeriodSerializer(source="*", read_only=True)
    milestones = MilestonesField(read_only=True)
    kpis = KpisField(read_only=True)
    overall_progress = serializers.FloatField(
        read_only=True, allow_null=True, help_text="マイルストーンの進捗率の重み付き平均（マイルストーンがなければ null）"
    )
    attachments = ReportAttachmentSerializer(many=True, read_only=True, source="attachments_list")

    class Meta:
        model = ProgressReport
        fields = [
            "id", "policy", "ministry", "schedule", "frequency", "period", "due_date", "status", "overdue",
            *ProgressReport.MINISTRY_FIELDS, "overall_progress", "attachments",
            "submitted_at", "decided_at", "created_at", "updated_at",
        ]
        read_only_fields = fields


class ProgressReportUpdateSerializer(CompiledRepresentation, serializers.ModelSerializer):
    milestones = MilestonesField(required=False, help_text="マイルストーン（名称・状態・進捗率・重み）")
    kpis = KpisField(required=False, help_text="KPI（名称・目標値・実績値・単位）")

    class Meta:
        model = ProgressReport
        fields = list(ProgressReport.MINISTRY_FIELDS)


class ReportTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(
        choices=ReportStatus.choices,
        help_text="submitted（所管府省庁が提出）、accepted・returned（事務局が受理・差戻し）",
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000,
        help_text="コメント。差戻し（returned）では理由として必須。",
    )


class ProgressReportFilter(django_filters.FilterSet):
    policy = IdFilter(field_name="policy_id", label="方針の id")
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    overdue = django_filters.BooleanFilter(field_name="overdue", label="提出期限を過ぎて未提出か")
    fiscal_year = IdFilter(field_name="fiscal_year", label="年度（整数）")  # whole numbers only, as ids
    ordering = StableOrderingFilter(fields=["due_date", "period_start", "submitted_at", "decided_at"])

    class Meta:
        model = ProgressReport
        fields = ["policy", "status", "overdue", "fiscal_year"]


KPI_TREND = inline_serializer(
    "KpiTrend",
    {
        "policy": serializers.IntegerField(),
        "periods": inline_serializer(
            "KpiTrendPeriod",
            {
                "report": serializers.IntegerField(),
                "fiscal_year": serializers.IntegerField(),
                "period": serializers.IntegerField(),
                "label": serializers.CharField(),
                "end": serializers.DateField(),
                "status": serializers.ChoiceField(choices=ReportStatus.choices),
            },
            many=True,
        ),
        "kpis": inline_serializer(
            "KpiSeries",
            {
                "name": serializers.CharField(),
                "unit": serializers.CharField(),
                "points": inline_serializer(
                    "KpiPoint",
                    {
                        "report": serializers.IntegerField(),
                        "label": serializers.CharField(),
                        "target": serializers.FloatField(),
                        "actual": serializers.FloatField(allow_null=True),
                    },
                    many=True,
                ),
            },
            many=True,
        ),
    },
)


# A page's attachments, read by the reports' ids (council.prepared; PageListsMixin).
REPORT_ATTACHMENTS = Prepared(lambda: ReportAttachment.objects.all(), "report_id")


@workflow_schema(ReportTransitionSerializer, ProgressReportSerializer)
@extend_schema_view(
    list=extend_schema(summary="Progress reports the user may see"),
    retrieve=extend_schema(summary="A progress report"),
    partial_update=extend_schema(
        summary="Save the report (owning ministry, while due or returned)",
        request=ProgressReportUpdateSerializer,
        responses={200: ProgressReportSerializer},
    ),
)
class ProgressReportViewSet(
    WorkflowViewSetMixin,
    PageListsMixin,
    VisibleQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """進捗報告: one per schedule period, written by the owning ministry and accepted or
    returned by the secretariat. Until accepted, a report is the secretariat's and the
    owning ministry's; once accepted, everyone who sees the policy sees it."""

    queryset = select_refs(
        ProgressReport.objects.all(),
        {"policy": ("id", "title", "ministry"), "policy__ministry": ORGANIZATION_REF_COLUMNS, "schedule": None},
    ).prefetch_related(prefetch_list("attachments"))
    serializer_class = ProgressReportSerializer
    filterset_class = ProgressReportFilter
    transition_serializer_class = ReportTransitionSerializer
    page_lists = {"attachments": REPORT_ATTACHMENTS}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().with_overdue()

    # Filters the report tally can count.
    TALLY_FILTERS = frozenset({"policy", "status"})

    def known_count(self, request: Request) -> int | None:
        """The list's count from the report tally (exact, kept by triggers) when its filters are
        a policy and a status: a sum over at most one row per visible policy and status instead
        of counting every report the user may see (progress/report_tally.py)."""
        data = countable_filters(self, request, self.TALLY_FILTERS)
        if data is None:
            return None
        tally = ReportTally.objects.visible_to(request.user)
        if data.get("policy") is not None:
            tally = tally.filter(policy_id=data["policy"])
        if data.get("status"):
            tally = tally.filter(status=data["status"])
        return tally.aggregate(n=Sum("n"))["n"] or 0

    def get_serializer_class(self):
        if self.action == "partial_update":
            return ProgressReportUpdateSerializer
        if self.action == "attachments":
            return AttachmentUploadSerializer
        return ProgressReportSerializer

    def read(self, report: ProgressReport) -> dict:
        fresh = self.get_queryset().get(pk=report.pk)
        return ProgressReportSerializer(fresh, context=self.get_serializer_context()).data

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        refuse_unless(report.may_edit(request.user), _("この進捗報告は変更できません。"))
        body = ProgressReportUpdateSerializer(report, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        actions.save_report(report, request.user, dict(body.validated_data))
        return Response(self.read(report))

    @extend_schema(
        summary="Attach a file to the report (owning ministry, while due or returned)",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: ReportAttachmentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser], filter_backends=[])
    def attachments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return attach_file(
            self.get_object(), request, actions.save_report, ReportAttachmentSerializer, _("この進捗報告は変更できません。")
        )

    @extend_schema(
        summary="KPI trend of a policy: per KPI, its target and actual in each report the user may see (oldest first)",
        parameters=[OpenApiParameter("policy", OpenApiTypes.INT, required=True, description="方針の id")],
        responses={200: KPI_TREND, 400: OpenApiResponse(description="`policy` missing or not an id."),
                   404: OpenApiResponse(description="The policy is not visible to the user.")},
    )
    @action(detail=False, methods=["get"], url_path="kpi-trend", filter_backends=[], pagination_class=None)
    def kpi_trend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        value = request.query_params.get("policy", "")
        if not value.isdigit():
            raise serializers.ValidationError({"policy": [_("方針の id を指定してください。")]})
        policy = get_object_or_404(Policy.objects.visible_to(request.user), pk=int(value))
        reports = (
            ProgressReport.objects.visible_to(request.user).filter(policy=policy)
            .select_related("schedule").order_by("period_start", "pk")
        )
        periods, series = [], {}
        for report in reports:
            label = report.period_label
            periods.append({"report": report.pk, "fiscal_year": report.fiscal_year, "period": report.period,
                            "label": label, "end": report.period_end, "status": report.status})
            for kpi in report.kpis:
                entry = series.setdefault(kpi["name"], {"name": kpi["name"], "unit": kpi.get("unit", ""), "points": []})
                entry["unit"] = kpi.get("unit") or entry["unit"]
                entry["points"].append(
                    {"report": report.pk, "label": label, "target": kpi.get("target"), "actual": kpi.get("actual")}
                )
        return Response({"policy": policy.pk, "periods": periods, "kpis": list(series.values())})

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A client asking for the PDF (`Accept: application/pdf`) gets the file, or its
        # errors as JSON, instead of a 406: no renderer is needed for a FileResponse.
        return super().perform_content_negotiation(request, force=force or self.action == "pdf")

    @extend_schema(
        methods=["GET"],
        summary="The report's PDF, once rendered from its current content",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                   404: OpenApiResponse(description="Not visible, or not rendered (since its last change) yet.")},
    )
    @extend_schema(
        methods=["POST"],
        summary="Start rendering the report's PDF (whoever sees the report)",
        request=None,
        responses={202: PDF_STATUS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def pdf(self, request: Request, *args: Any, **kwargs: Any):
        report = self.get_object()
        current = current_pdf(report)
        if request.method == "POST":
            if current is None:
                request_document(request.user, report=report)
            ready = current is not None
            return Response({"status": "ready" if ready else "rendering", "url": request.path}, status=status.HTTP_202_ACCEPTED)
        if current is None:
            return Response({"detail": _("PDFはまだ作成されていません。POSTで作成を開始してください。")},
                            status=status.HTTP_404_NOT_FOUND)
        filename = f"progress-report-{report.pk}.pdf"
        return FileResponse(current.file.open("rb"), content_type="application/pdf", as_attachment=True, filename=filename)

    def perform_transition(self, report: ProgressReport, to: str, comment: str, **kwargs: Any) -> ProgressReport:
        return actions.move_report(report, self.request.user, to, comment=comment)


# --- Adoption ----------------------------------------------------------------------------------------


class AdoptionSerializer(CompiledRepresentation, serializers.ModelSerializer):
    policy = PolicyRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Adoption
        fields = ["id", "policy", "organization", "status", "target_fiscal_year", "updated_at"]
        read_only_fields = fields


class AdoptionUpdateSerializer(CompiledRepresentation, serializers.ModelSerializer):
    class Meta:
        model = Adoption
        fields = ["status", "target_fiscal_year"]
        extra_kwargs = {
            "target_fiscal_year": {
                "help_text": "導入予定年度。planned では必須、それ以外では null。省略時は、planned のままなら今の年度を保ち、"
                             "他の状況では null にする。",
            },
        }


class AdoptionChangeSerializer(CompiledRepresentation, serializers.ModelSerializer):
    to = serializers.CharField(source="to_status", help_text="導入状況（変更後）")
    by = UserRefSerializer(source="changed_by", allow_null=True, read_only=True)
    at = serializers.DateTimeField(source="changed_at", read_only=True)

    class Meta:
        model = AdoptionChange
        fields = ["id", "to", "target_fiscal_year", "by", "at", "source"]
        read_only_fields = fields

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        ordered = {"id": fields.pop("id")}
        ordered["from"] = BlankAsNullCharField(source="from_status", read_only=True, help_text="導入状況（変更前）")
        ordered.update(fields)
        return ordered


class PolicyChoiceSerializer(CompiledRepresentation, serializers.Serializer):
    policy = VisiblePolicyField(help_text="方針の id")


class AdoptionImportSerializer(PolicyChoiceSerializer):
    file = serializers.FileField(
        help_text="CSV（UTF-8 または Shift_JIS）または XLSX、10MBまで。1行目は code,status,target_fiscal_year"
    )


ADOPTION_IMPORTED = inline_serializer(
    "AdoptionImportResult",
    {"rows": serializers.IntegerField(help_text="取り込んだ行数"),
     "changed": serializers.IntegerField(help_text="導入状況が変わった団体の数")},
)


class AdoptionFilter(django_filters.FilterSet):
    policy = IdFilter(field_name="policy_id", label="方針の id")
    organization = IdFilter(field_name="organization_id", label="地方公共団体の id")
    status = django_filters.ChoiceFilter(choices=AdoptionStatus.choices)
    prefecture = django_filters.CharFilter(
        method="filter_prefecture",
        label="都道府県の団体コード（6桁）：その都道府県と域内の市区町村",
        validators=[validate_local_government_code],
    )
    ordering = StableOrderingFilter(fields=[("organization_code", "code"), "status", "updated_at"])

    class Meta:
        model = Adoption
        fields = ["policy", "organization", "status", "prefecture"]

    def filter_prefecture(self, queryset, name, value):
        # The local government with that code and those under it, as ids. With the condition
        # on the joined organization and its parent, PostgreSQL could not tell how few rows it
        # keeps, and read and sorted every row of them for any page: 北海道's 144,000 rows
        # across the policies at scale 10, 0.1–0.2 s a page. With the ids it reads the list's
        # index in order.
        named = Organization.objects.filter(code=value).values("pk")
        ids = list(Organization.objects.filter(Q(code=value) | Q(parent__in=named)).values_list("pk", flat=True))
        if connections[queryset.db].vendor == "postgresql":
            # One array parameter: the same statement for any prefecture, planned once.
            return queryset.filter(AnyOf(F("organization_id"), ids))
        return queryset.filter(organization_id__in=ids)


@extend_schema_view(
    list=extend_schema(summary="Adoption of the policies the user may see, one row per local government"),
    retrieve=extend_schema(summary="One local government's adoption of a policy"),
    partial_update=extend_schema(
        summary="Record the adoption status (that local government's officials, or the owning ministry)",
        request=AdoptionUpdateSerializer,
        responses={200: AdoptionSerializer},
    ),
)
class AdoptionViewSet(
    VisibleQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """導入状況: whether each of the 1,788 local governments uses a consented policy's system.
    Everyone who sees the policy sees every row; a local government records its own, the
    owning ministry any (one by one, or all at once by `import/`)."""

    queryset = Adoption.objects.select_related("policy", "organization")
    serializer_class = AdoptionSerializer
    filterset_class = AdoptionFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            # Only the columns a row renders (see ConsentRoundViewSet).
            queryset = queryset.only(
                "id", "policy", "organization", "status", "target_fiscal_year", "updated_at", "policy__id",
                "policy__title", *columns("organization", ORGANIZATION_REF_COLUMNS),
            )
        return queryset

    # Filters the adoption tally can count.
    TALLY_FILTERS = frozenset({"policy", "status", "prefecture"})

    def known_count(self, request: Request) -> int | None:
        """The list's count from the adoption tally (exact, kept by triggers) when the filters
        are the tally's own: a sum over at most 6 rows per policy (47 × 6 for a prefecture)
        instead of counting up to 1.4 million rows. Any other filter (an organization, a municipality's code as
        `prefecture`) is counted over the rows."""
        tally = self._tally
        return None if tally is None else tally.aggregate(n=Sum("n"))["n"] or 0

    def group_sizes(self, request: Request):
        """The list's rows per policy, in policy order, from the same tally (or None, as for
        known_count): a deep page starts at its policy instead of skipping every row before it
        (council.api.pagination.Paginator)."""
        tally = self._tally
        if tally is None:
            return None
        return "policy_id", tally.order_by("policy_id").values_list("policy_id").annotate(rows=Sum("n"))

    @cached_property
    def _tally(self):
        """The tally rows that count this request's rows (the user's policies, its filters), or
        None when its filters are not the tally's: worked out once for the count and the
        group sizes (a view serves one request)."""
        data = countable_filters(self, self.request, self.TALLY_FILTERS)
        if data is None:
            return None
        tally = within_visible_policies(AdoptionTally.objects.all(), self.request.user, path="policy_id")
        if data.get("policy") is not None:
            tally = tally.filter(policy_id=data["policy"])
        if data.get("status"):
            tally = tally.filter(status=data["status"])
        if code := data.get("prefecture"):
            if not is_prefecture_code(code):
                return None
            tally = tally.filter(
                prefecture_id__in=Organization.objects.filter(code=code, kind=OrganizationKind.PREFECTURE).values("pk")
            )
        else:
            tally = tally.filter(prefecture_id=NATIONAL)
        return tally

    def get_serializer_class(self):
        if self.action == "partial_update":
            return AdoptionUpdateSerializer
        if self.action == "import_file":
            return AdoptionImportSerializer
        return AdoptionSerializer

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        adoption = self.get_object()
        refuse_unless(adoption.may_change(request.user), _("この団体の導入状況は変更できません。"))
        body = AdoptionUpdateSerializer(adoption, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        new_status = data.get("status", adoption.status)
        if "target_fiscal_year" in data:
            year = data["target_fiscal_year"]
        else:
            # A year belongs to `planned` only: kept while planned, dropped on any other status.
            year = adoption.target_fiscal_year if new_status == AdoptionStatus.PLANNED else None
        actions.change_adoption(
            adoption, request.user, status=new_status, target_fiscal_year=year, source=AdoptionChange.Source.API
        )
        fresh = self.get_queryset().get(pk=adoption.pk)
        return Response(AdoptionSerializer(fresh).data)

    @extend_schema(summary="Changes of this adoption row (oldest first, not paginated)",
                   responses={200: AdoptionChangeSerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        adoption = self.get_object()
        return Response(AdoptionChangeSerializer(adoption.changes.select_related("changed_by"), many=True).data)

    @extend_schema(
        summary="Import the adoption of many local governments at once (owning ministry); all rows or none",
        request={"multipart/form-data": AdoptionImportSerializer},
        responses={
            200: ADOPTION_IMPORTED,
            400: OpenApiResponse(description="Not CSV/XLSX, wrong header, or bad rows: `file` lists each by line "
                                             "number (行目), and nothing is changed."),
            403: OpenApiResponse(description="Only the policy's owning ministry imports."),
        },
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            parser_classes=[MultiPartParser, FormParser], filter_backends=[], pagination_class=None)
    def import_file(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        access = access_for(request.user)
        message = _("導入状況を一括取込できるのは所管府省庁です。")
        refuse_unless(bool(access.ministry_ids), message)
        # The policy first: who may import depends on it, and is answered before the file is read.
        chosen = PolicyChoiceSerializer(data=request.data, context=self.get_serializer_context())
        chosen.is_valid(raise_exception=True)
        refuse_unless(chosen.validated_data["policy"].ministry_id in access.ministry_ids, message)
        body = AdoptionImportSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        result = actions.import_adoption(body.validated_data["policy"], request.user, body.validated_data["file"])
        return Response({"rows": result.rows, "changed": result.changed})


# --- Usage reports -----------------------------------------------------------------------------------


class UsageReportSerializer(CompiledRepresentation, serializers.ModelSerializer):
    reporter = OrganizationRefSerializer(read_only=True)
    metrics = MetricsField(read_only=True)
    created_by = UserRefSerializer(read_only=True)

    class Meta:
        model = UsageReport
        fields = ["id", "reporter", "system_name", "layer", "period_start", "period_end", "metrics", "note",
                  "created_by", "created_at"]
        read_only_fields = fields


class UsageReportCreateSerializer(CompiledRepresentation, serializers.ModelSerializer):
    metrics = MetricsField(help_text="指標（名称・値・単位）、1件以上")
    reporter = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True,
        help_text="報告する団体の id（省略時は報告者の所属する府省庁またはデジタル庁）",
    )

    class Meta:
        model = UsageReport
        fields = ["system_name", "layer", "period_start", "period_end", "metrics", "note", "reporter"]


class UsageReportFilter(django_filters.FilterSet):
    layer = django_filters.ChoiceFilter(choices=UsageLayer.choices)
    reporter = IdFilter(field_name="reporter_id", label="報告団体の id")
    q = django_filters.CharFilter(field_name="system_name", lookup_expr="icontains", label="システム・基盤の名称の部分一致")

    class Meta:
        model = UsageReport
        fields = ["layer", "reporter", "q"]


@extend_schema_view(
    list=extend_schema(summary="Usage reports of national systems and platforms (everyone signed in)"),
    retrieve=extend_schema(summary="A usage report"),
    create=extend_schema(
        summary="Report a system's usage in a period (ministry officers, デジタル庁)",
        request=UsageReportCreateSerializer,
        responses={201: UsageReportSerializer},
    ),
)
class UsageReportViewSet(
    VisibleQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """利用状況: デジタル庁 and the ministries report how the systems the state provides are
    used, so that every local government sees it."""

    queryset = select_refs(UsageReport.objects.all(), {"reporter": ORGANIZATION_REF_COLUMNS, "created_by": USER_REF_COLUMNS})
    serializer_class = UsageReportSerializer
    filterset_class = UsageReportFilter

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_unless(may_report_usage(request.user), _("利用状況を報告できるのは府省庁とデジタル庁です。"))
        body = UsageReportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if data.get("reporter") is None:
            data.pop("reporter", None)
        report = actions.create_usage_report(request.user, **data)
        fresh = self.get_queryset().get(pk=report.pk)
        return Response(UsageReportSerializer(fresh).data, status=status.HTTP_201_CREATED)


# --- Measure requests ---------------------------------------------------------------------------------


class ReportRefSerializer(PlainRefSerializer):
    label = serializers.CharField(source="period_label", read_only=True)

    class Meta:
        model = ProgressReport
        fields = ["id", "fiscal_year", "period", "label"]


class MeasureRequestSerializer(CompiledRepresentation, serializers.ModelSerializer):
    policy = PolicyRefSerializer(read_only=True)
    ministry = OrganizationRefSerializer(read_only=True, help_text="依頼先の府省庁")
    report = ReportRefSerializer(read_only=True, allow_null=True, help_text="契機となった進捗報告")
    overdue = serializers.BooleanField(read_only=True, help_text="回答期限を過ぎて未回答")
    requested_by = UserRefSerializer(read_only=True)

    class Meta:
        model = MeasureRequest
        fields = [
            "id", "policy", "ministry", "report", "request", "due_date", "status", "overdue", "response",
            "requested_by", "requested_at", "responded_at", "closed_at", "updated_at",
        ]
        read_only_fields = fields


class MeasureRequestCreateSerializer(CompiledRepresentation, serializers.Serializer):
    policy = VisiblePolicyField(help_text="方針の id")
    ministry = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True,
        help_text="依頼先の府省庁の id（省略時は方針の所管府省庁）",
    )
    request = serializers.CharField(max_length=10_000, help_text="依頼内容")
    due_date = serializers.DateField(help_text="回答期限（明日以降。休日なら翌開庁日に移る）")
    report = serializers.PrimaryKeyRelatedField(
        queryset=ProgressReport.objects.none(), required=False, allow_null=True,
        help_text="契機となった進捗報告の id（その方針のもの）",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["report"].queryset = ProgressReport.objects.visible_to(request.user)


class MeasureTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(
        choices=MeasureStatus.choices,
        help_text="responded（依頼先の府省庁が回答）、closed（事務局が完了）",
    )
    response = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000,
        help_text="回答。responded では必須（他の遷移では無視）。回答はこの遷移でのみ書ける。",
    )


class MeasureRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MeasureStatus.choices)
    policy = IdFilter(field_name="policy_id", label="方針の id")
    ministry = IdFilter(field_name="ministry_id", label="依頼先の府省庁の id")
    overdue = django_filters.BooleanFilter(field_name="overdue", label="回答期限を過ぎて未回答か")
    ordering = StableOrderingFilter(fields=["due_date", "requested_at", "responded_at"])

    class Meta:
        model = MeasureRequest
        fields = ["status", "policy", "ministry", "overdue"]


@workflow_schema(MeasureTransitionSerializer, MeasureRequestSerializer)
@extend_schema_view(
    list=extend_schema(summary="The council's measure requests (council members; empty for anyone else)"),
    retrieve=extend_schema(summary="A measure request"),
    create=extend_schema(
        summary="Ask a ministry to take measures on a policy (secretariat)",
        request=MeasureRequestCreateSerializer,
        responses={201: MeasureRequestSerializer},
    ),
)
class MeasureRequestViewSet(
    WorkflowViewSetMixin,
    VisibleQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """措置依頼: the council asks a ministry to take measures. The ministry answers with
    `POST …/transition/ {"to": "responded", "response": "…"}` (the only way to write the
    response, so an answer is always a recorded move); the secretariat then closes it with
    `{"to": "closed"}`. Council members (secretariat, ministries, associations) see them."""

    queryset = select_refs(
        MeasureRequest.objects.all(),
        {
            "policy": ("id", "title"), "ministry": ORGANIZATION_REF_COLUMNS,
            "report": ("id", "fiscal_year", "period", "schedule"), "report__schedule": ("id", "frequency"),
            "requested_by": USER_REF_COLUMNS,
        },
    )
    serializer_class = MeasureRequestSerializer
    filterset_class = MeasureRequestFilter
    transition_serializer_class = MeasureTransitionSerializer

    def get_queryset(self):
        return super().get_queryset().with_overdue()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_unless(access_for(request.user).is_secretariat, _("措置を依頼できるのは事務局です。"))
        body = MeasureRequestCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        measure = actions.request_measures(
            request.user, policy=data["policy"], request=data["request"], due_date=data["due_date"],
            ministry=data.get("ministry"), report=data.get("report"),
        )
        fresh = self.get_queryset().get(pk=measure.pk)
        return Response(MeasureRequestSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def perform_transition(self, measure: MeasureRequest, to: str, comment: str, response: str = "",
                           **kwargs: Any) -> MeasureRequest:
        if to == MeasureStatus.RESPONDED:
            return actions.respond_to_measure(measure, self.request.user, response=response, comment=comment)
        if to == MeasureStatus.CLOSED:
            return actions.close_measure(measure, self.request.user, comment=comment)
        return measure.transition(to, by=self.request.user, comment=comment)  # never allowed: a 409
