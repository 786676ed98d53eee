"""REST API of the council's meetings: `/api/v1/meetings/` with their attendees, agenda
items and decisions, the workflow (`transition/`, `history/`) and the PDFs (`pdf/`).

Who may do what is the pages' rule (see council.meetings.views): every signed-in user reads
announced meetings, the agenda items whose object they may see, decisions, and published
minutes; the secretariat also reads meetings in preparation and draft minutes, and is the
only one to write (403 for others, asked before the body is read). Outside a user's sight:
404. Every write calls council.meetings.actions; their ValidationErrors are 400 with field
messages, a write the meeting's state forbids is 409, and nothing is half-saved.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Count
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
from rest_framework.request import Request
from rest_framework.response import Response

from candidates.models import Candidate, Track
from council.api.compiled import CompiledRepresentation
from council.api.filters import IdFilter, StableOrderingFilter
from council.api.serializers import UserRefSerializer
from council.api.viewsets import VisibleQuerysetMixin, refuse_unless
from council.api.workflow import TransitionSerializer, WorkflowViewSetMixin, workflow_schema
from council.meetings import actions
from council.meetings import pdf as meeting_pdf
from council.meetings.models import (
    TARGET_FIELD_NAMES,
    TARGET_FIELDS,
    AgendaItem,
    AgendaKind,
    DecisionOutcome,
    Meeting,
    MeetingAttendee,
    MeetingFormat,
    MeetingPdf,
    MeetingStatus,
)
from policies.models import ConsentRound, Policy
from progress.models import MeasureRequest, ProgressReport
from tenants.access import access_for
from tenants.api import OrganizationRefSerializer
from tenants.models import Organization

SECRETARIAT_ONLY = _("会議を登録・変更できるのは事務局です。")


# --- Serializers ------------------------------------------------------------------------------------


class TargetRefSerializer(CompiledRepresentation, serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="対象の表示名")
    url = serializers.CharField(help_text="対象のページ")


def _ref(obj) -> dict | None:
    if obj is None:
        return None
    return {"id": obj.pk, "title": str(obj), "url": obj.get_absolute_url()}


class DecisionSerializer(CompiledRepresentation, serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DecisionOutcome.choices)
    track = serializers.CharField(help_text="選定・非選定の区分（それ以外は空）")
    text = serializers.CharField(help_text="決定内容")
    decided_at = serializers.DateTimeField(help_text="記録日時")
    decided_by = UserRefSerializer()


class DecisionWriteSerializer(CompiledRepresentation, serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=DecisionOutcome.choices,
        help_text="選定の議題：selected / not_selected / deferred、同意の議題：consented / not_consented / "
        "deferred、その他の議題：approved / noted / deferred",
    )
    track = serializers.ChoiceField(
        choices=Track.choices, required=False, allow_blank=True, default="",
        help_text="区分。selected・not_selected の決定に必須。",
    )
    text = serializers.CharField(max_length=4000, help_text="決定内容")


class AgendaItemSerializer(CompiledRepresentation, serializers.ModelSerializer):
    candidate = serializers.SerializerMethodField()
    consent_round = serializers.SerializerMethodField()
    policy = serializers.SerializerMethodField()
    progress_report = serializers.SerializerMethodField()
    measure_request = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()

    class Meta:
        model = AgendaItem
        fields = ["id", "order", "kind", "title", "notes", *TARGET_FIELD_NAMES, "decision"]
        read_only_fields = fields

    @extend_schema_field(TargetRefSerializer(allow_null=True))
    def get_candidate(self, item: AgendaItem) -> dict | None:
        return _ref(item.candidate)

    @extend_schema_field(TargetRefSerializer(allow_null=True))
    def get_consent_round(self, item: AgendaItem) -> dict | None:
        return _ref(item.consent_round)

    @extend_schema_field(TargetRefSerializer(allow_null=True))
    def get_policy(self, item: AgendaItem) -> dict | None:
        return _ref(item.policy)

    @extend_schema_field(TargetRefSerializer(allow_null=True))
    def get_progress_report(self, item: AgendaItem) -> dict | None:
        return _ref(item.progress_report)

    @extend_schema_field(TargetRefSerializer(allow_null=True))
    def get_measure_request(self, item: AgendaItem) -> dict | None:
        return _ref(item.measure_request)

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, item: AgendaItem) -> dict | None:
        # A reverse one-to-one raises (an AttributeError) when there is no decision yet.
        decision = getattr(item, "decision", None)
        return DecisionSerializer(decision).data if decision is not None else None


class AgendaItemWriteSerializer(CompiledRepresentation, serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgendaKind.choices, required=False, help_text="議題の種類（作成時は必須）")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                  help_text="議題名。省略時は対象から作成（「その他」では必須）")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    order = serializers.IntegerField(required=False, min_value=1, max_value=999,
                                     help_text="順番。省略時は末尾。既にある順番の議題とは入れ替わる")
    candidate = serializers.PrimaryKeyRelatedField(queryset=Candidate.objects.all(), required=False, allow_null=True,
                                                   help_text="selection の対象候補 id")
    consent_round = serializers.PrimaryKeyRelatedField(queryset=ConsentRound.objects.all(), required=False,
                                                       allow_null=True, help_text="consent の同意手続 id")
    policy = serializers.PrimaryKeyRelatedField(queryset=Policy.objects.all(), required=False, allow_null=True,
                                                help_text="policy の方針 id")
    progress_report = serializers.PrimaryKeyRelatedField(queryset=ProgressReport.objects.all(), required=False,
                                                         allow_null=True, help_text="progress_report の進捗報告 id")
    measure_request = serializers.PrimaryKeyRelatedField(queryset=MeasureRequest.objects.all(), required=False,
                                                         allow_null=True, help_text="measure_request の措置依頼 id")

    def validate(self, attrs: dict) -> dict:
        creating = self.instance is None
        if creating and "kind" not in attrs:
            raise serializers.ValidationError({"kind": [_("議題の種類を指定してください。")]})
        given = {name for name in TARGET_FIELD_NAMES if attrs.get(name) is not None}
        if "kind" not in attrs:
            if given:
                raise serializers.ValidationError({"kind": [_("対象を変更するときは議題の種類も指定してください。")]})
            return attrs
        field = TARGET_FIELDS[attrs["kind"]]
        errors = {name: [_("議題の種類に合わない対象です。")] for name in given if name != field}
        if field and attrs.get(field) is None:
            errors[field] = [_("この種類の議題には対象を選んでください。")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["target"] = attrs.get(field) if field else None
        return attrs


class AttendeeSerializer(CompiledRepresentation, serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = MeetingAttendee
        fields = ["id", "organization", "title", "name"]
        read_only_fields = fields


class AttendeeWriteSerializer(CompiledRepresentation, serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), help_text="団体の id")
    title = serializers.CharField(required=False, allow_blank=True, max_length=100, default="", help_text="役職")
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="", help_text="氏名")


class MeetingSerializer(CompiledRepresentation, serializers.ModelSerializer):
    display_title = serializers.CharField(read_only=True, help_text="名称（空欄なら「第N回 …連絡協議会」）")
    fiscal_year = serializers.IntegerField(read_only=True, help_text="開催日の年度（4月〜3月）")
    agenda_item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id", "number", "title", "display_title", "date", "start_time", "end_time", "format", "venue", "status",
            "fiscal_year", "agenda_item_count", "minutes_published_at", "created_at", "updated_at",
        ]
        read_only_fields = fields


class MeetingDetailSerializer(MeetingSerializer):
    attendees = AttendeeSerializer(many=True, read_only=True)
    agenda_items = serializers.SerializerMethodField(help_text="利用者が閲覧できる議題（決定を含む）")
    minutes = serializers.SerializerMethodField(help_text="議事録（Markdown）。公開前は事務局にのみ返し、他は null")

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "attendees", "agenda_items", "minutes", "minutes_updated_at"]
        read_only_fields = fields

    @extend_schema_field(AgendaItemSerializer(many=True))
    def get_agenda_items(self, meeting: Meeting) -> list[dict]:
        return AgendaItemSerializer(_items_of(meeting, self.context["request"].user), many=True).data

    def get_minutes(self, meeting: Meeting) -> str | None:
        return meeting.minutes if meeting.may_read_minutes(self.context["request"].user) else None


class MeetingWriteSerializer(CompiledRepresentation, serializers.Serializer):
    number = serializers.IntegerField(required=False, min_value=1, max_value=9999, help_text="回次（省略時は次の番号）")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    date = serializers.DateField(help_text="開催日")
    start_time = serializers.TimeField(required=False, allow_null=True)
    end_time = serializers.TimeField(required=False, allow_null=True)
    format = serializers.ChoiceField(choices=MeetingFormat.choices, required=False, help_text="開催方法")
    venue = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="会場（オンライン以外は必須）")
    minutes = serializers.CharField(required=False, allow_blank=True, max_length=50_000,
                                    help_text="議事録（Markdown）。開催済み（held）の会議でのみ変更できる")
    standing_members = serializers.BooleanField(required=False, default=False, write_only=True,
                                                help_text="作成時のみ：事務局と地方三団体を出席者に登録する")


def _items_of(meeting: Meeting, user):
    return (
        AgendaItem.objects.visible_to(user).filter(meeting=meeting)
        .select_related("candidate", "consent_round__version", "consent_round__policy", "policy",
                        "progress_report__policy", "progress_report__schedule", "measure_request__policy",
                        "decision__decided_by")
        .order_by("order", "pk")
    )


class MeetingTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(choices=MeetingStatus.choices, help_text="移行先の状態")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                    help_text="コメント。中止（cancelled）では理由として必須。")


class MeetingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    # Bounded: a year past 9998 has no March 31st of the next year (a 400, not a 500).
    fiscal_year = IdFilter(method="filter_fiscal_year", label="年度（例：2026 = 令和8年度）", min_value=1, max_value=9998)
    upcoming = django_filters.BooleanFilter(method="filter_upcoming", label="true：今後の会議、false：過去の会議")
    ordering = StableOrderingFilter(fields=["date", "number"])

    class Meta:
        model = Meeting
        fields = ["status", "fiscal_year", "upcoming"]

    def filter_fiscal_year(self, queryset, name, value):
        return queryset.in_fiscal_year(int(value))

    def filter_upcoming(self, queryset, name, value):
        from council import calendar

        upcoming = {"date__gte": calendar.today(), "status__in": [MeetingStatus.DRAFT, MeetingStatus.SCHEDULED]}
        return queryset.filter(**upcoming) if value else queryset.exclude(**upcoming)


PDF_STATUS = inline_serializer(
    "MeetingPdfStatus",
    {"status": serializers.ChoiceField(choices=["ready", "rendering", "failed"]), "url": serializers.CharField(),
     "error": serializers.CharField(required=False)},
)
PDF_PARAMETERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=["pack", "minutes"], description="pack：会議資料（既定）、minutes：議事録"),
    OpenApiParameter("lang", OpenApiTypes.STR, enum=["ja", "en"], description="PDFの言語（既定は ja）"),
]


# --- Meetings ----------------------------------------------------------------------------------------


@workflow_schema(MeetingTransitionSerializer, MeetingDetailSerializer)
@extend_schema_view(
    list=extend_schema(summary="Meetings of the council the user may see"),
    retrieve=extend_schema(summary="A meeting with its attendees, agenda items, decisions and (if readable) minutes"),
    create=extend_schema(summary="Register a meeting in preparation (secretariat)", request=MeetingWriteSerializer,
                         responses={201: MeetingDetailSerializer}),
    update=extend_schema(summary="Change a meeting (secretariat; not after its minutes are published)",
                         request=MeetingWriteSerializer, responses={200: MeetingDetailSerializer,
                                                                   409: OpenApiResponse(description="Not editable now.")}),
    partial_update=extend_schema(summary="Change some fields of a meeting, or write its minutes once held (secretariat)",
                                 request=MeetingWriteSerializer, responses={200: MeetingDetailSerializer,
                                                                           409: OpenApiResponse(description="Not editable now.")}),
    destroy=extend_schema(summary="Delete a meeting still in preparation (secretariat)",
                          responses={204: None, 409: OpenApiResponse(description="Announced meetings are cancelled, not deleted.")}),
)
class MeetingViewSet(
    WorkflowViewSetMixin,
    VisibleQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Meetings of the council (連絡協議会): announced meetings for every signed-in user,
    meetings in preparation for the secretariat, which alone writes."""

    queryset = Meeting.objects.all()
    filterset_class = MeetingFilter
    transition_serializer_class = MeetingTransitionSerializer

    def get_queryset(self):
        return super().get_queryset().annotate(agenda_item_count=Count("agenda_items")).order_by("-date", "-number")

    def get_serializer_class(self):
        if self.action == "list":
            return MeetingSerializer
        if self.action in ("create", "update", "partial_update"):
            return MeetingWriteSerializer
        return MeetingDetailSerializer

    def detail_response(self, meeting: Meeting, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=meeting.pk)
        return Response(MeetingDetailSerializer(fresh, context=self.get_serializer_context()).data, status=status_code)

    def transition_response(self, obj) -> Response:
        return self.detail_response(obj)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_unless(access_for(request.user).is_secretariat, SECRETARIAT_ONLY)
        body = MeetingWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "minutes" in data:
            raise serializers.ValidationError({"minutes": [_("議事録は会議の開催後に記入してください。")]})
        meeting = actions.create_meeting(request.user, **data)
        return self.detail_response(meeting, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        meeting = self.get_object()
        refuse_unless(access_for(request.user).is_secretariat, SECRETARIAT_ONLY)
        body = MeetingWriteSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if changes.pop("standing_members", False):
            raise serializers.ValidationError({"standing_members": [_("作成時にのみ指定できます。")]})
        actions.update_meeting(meeting, request.user, changes)
        return self.detail_response(meeting)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_object()
        refuse_unless(access_for(request.user).is_secretariat, SECRETARIAT_ONLY)
        actions.delete_meeting(meeting, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_transition(self, meeting: Meeting, to: str, comment: str, **kwargs: Any) -> Meeting:
        return actions.move_meeting(meeting, self.request.user, to, comment=comment)

    def may_read_history(self, meeting: Meeting) -> bool:
        # The history's comments are the secretariat's working notes.
        return access_for(self.request.user).is_secretariat

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A client asking for the PDF (`Accept: application/pdf`) gets the file, or its
        # errors as JSON, instead of a 406: no renderer is needed for a FileResponse.
        return super().perform_content_negotiation(request, force=force or self.action == "pdf")

    @extend_schema(
        methods=["GET"],
        summary="The meeting's pack or minutes as a PDF, once rendered from its current content",
        parameters=PDF_PARAMETERS,
        responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                   403: OpenApiResponse(description="The pack is for council members; the minutes once published."),
                   404: OpenApiResponse(description="Not visible, or not rendered (since the last change) yet.")},
    )
    @extend_schema(
        methods=["POST"],
        summary="Start rendering the meeting's pack or minutes (whoever may read it)",
        parameters=PDF_PARAMETERS,
        request=None,
        responses={202: PDF_STATUS, 403: OpenApiResponse(description="The user may not read this PDF.")},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def pdf(self, request: Request, *args: Any, **kwargs: Any):
        meeting = self.get_object()
        kind = request.query_params.get("kind", MeetingPdf.Kind.PACK)
        if kind not in MeetingPdf.Kind.values:
            raise serializers.ValidationError({"kind": [_("kind は pack か minutes です。")]})
        language = request.query_params.get("lang", "ja")
        if language not in meeting_pdf.LANGUAGES:
            raise serializers.ValidationError({"lang": [_("lang は ja か en です。")]})
        refuse_unless(
            meeting.may_read_pdf(request.user, kind),
            _("会議資料を閲覧できるのは事務局と協議会の構成員です。") if kind == MeetingPdf.Kind.PACK
            else _("議事録は公開後に閲覧できます。"),
        )
        if request.method == "POST":
            row = meeting_pdf.request_pdf(meeting, kind, language, request.user)
            row.refresh_from_db()
            state = {"done": "ready", "failed": "failed"}.get(row.status, "rendering")
            body = {"status": state, "url": request.get_full_path()}
            if row.error:
                body["error"] = row.error
            return Response(body, status=status.HTTP_202_ACCEPTED)
        current = meeting_pdf.current_pdf(meeting, kind, language)
        if current is None:
            return Response({"detail": _("PDFはまだ作成されていません。POSTで作成を開始してください。")},
                            status=status.HTTP_404_NOT_FOUND)
        return FileResponse(current.file.open("rb"), content_type="application/pdf", as_attachment=True,
                            filename=meeting_pdf.download_name(meeting, kind, language))


# --- Nested: agenda items and attendees ----------------------------------------------------------------


class MeetingChildMixin:
    """A resource under /meetings/{meeting_pk}/: the meeting must be visible (else 404)."""

    filter_backends: list = []

    def get_meeting(self) -> Meeting:
        if not hasattr(self, "_meeting"):
            self._meeting = get_object_or_404(Meeting.objects.visible_to(self.request.user), pk=self.kwargs["meeting_pk"])
        return self._meeting


@extend_schema_view(
    list=extend_schema(summary="Agenda items of a meeting the user may see"),
    retrieve=extend_schema(summary="One agenda item with its decision"),
    create=extend_schema(summary="Put an item on the agenda (secretariat)", request=AgendaItemWriteSerializer,
                         responses={201: AgendaItemSerializer, 409: OpenApiResponse(description="The meeting is closed.")}),
    partial_update=extend_schema(summary="Change an undecided agenda item (secretariat)", request=AgendaItemWriteSerializer,
                                 responses={200: AgendaItemSerializer, 409: OpenApiResponse(description="Decided, or the meeting is closed.")}),
    destroy=extend_schema(summary="Remove an undecided agenda item (secretariat)",
                          responses={204: None, 409: OpenApiResponse(description="Decided, or the meeting is closed.")}),
)
class AgendaItemViewSet(MeetingChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Agenda items (議題) of a meeting, each pointing at what the council deliberates: a
    candidate (selection), a consent round (consent), a policy, a progress report, a
    measure request, or nothing (other). Readers see the items whose object they may see."""

    serializer_class = AgendaItemSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AgendaItem.objects.none()
        return _items_of(self.get_meeting(), self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return AgendaItemWriteSerializer
        if self.action == "decision":
            return DecisionWriteSerializer
        return AgendaItemSerializer

    def read(self, item: AgendaItem, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(AgendaItemSerializer(fresh).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_meeting()
        refuse_unless(access_for(request.user).is_secretariat, _("議題を登録できるのは事務局です。"))
        body = AgendaItemWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        item = actions.add_agenda_item(
            meeting, request.user, kind=data["kind"], target=data["target"], title=data.get("title", ""),
            notes=data.get("notes", ""), order=data.get("order"),
        )
        return self.read(item, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        refuse_unless(access_for(request.user).is_secretariat, _("議題を変更できるのは事務局です。"))
        body = AgendaItemWriteSerializer(item, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = {k: v for k, v in body.validated_data.items() if k not in TARGET_FIELD_NAMES}
        item = actions.update_agenda_item(item, request.user, changes)
        return self.read(item)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        refuse_unless(access_for(request.user).is_secretariat, _("議題を削除できるのは事務局です。"))
        actions.remove_agenda_item(item, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Record the council's decision on the item (secretariat, held meetings)",
        description=(
            "A selection item decided `selected`/`not_selected` also moves the candidate there (with `track`); "
            "a consent item decided `consented`/`not_consented` closes its consent round, and the outcome must "
            "be the one the ballots give. Either way the decision records the meeting it was taken at."
        ),
        request=DecisionWriteSerializer,
        responses={201: AgendaItemSerializer, 400: OpenApiResponse(description="Outcome, track or text wrong."),
                   403: OpenApiResponse(description="Only the secretariat records decisions."),
                   409: OpenApiResponse(description="Already decided, the meeting is not held, or the move is not allowed.")},
    )
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        refuse_unless(access_for(request.user).is_secretariat, _("決定を記録できるのは事務局です。"))
        body = DecisionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.record_decision(item, request.user, **body.validated_data)
        return self.read(item, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Attendees of a meeting"),
    create=extend_schema(summary="Add an attendee (secretariat)", request=AttendeeWriteSerializer,
                         responses={201: AttendeeSerializer}),
    destroy=extend_schema(summary="Remove an attendee (secretariat)", responses={204: None}),
)
class AttendeeViewSet(MeetingChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Attendees (出席者) of a meeting: organizations, with the person and post if given."""

    serializer_class = AttendeeSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MeetingAttendee.objects.none()
        return self.get_meeting().attendees.select_related("organization")

    def get_serializer_class(self):
        return AttendeeWriteSerializer if self.action == "create" else AttendeeSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_meeting()
        refuse_unless(access_for(request.user).is_secretariat, _("出席者を登録できるのは事務局です。"))
        body = AttendeeWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attendee = actions.add_attendee(meeting, request.user, **body.validated_data)
        return Response(AttendeeSerializer(attendee).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        attendee = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        refuse_unless(access_for(request.user).is_secretariat, _("出席者を削除できるのは事務局です。"))
        actions.remove_attendee(attendee, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
