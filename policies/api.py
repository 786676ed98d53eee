"""REST API of stage 3: policies, their versions (drafts, diff, comments, PDF), consent
rounds and ballots (shared/API.md).

As in candidates.api: lists and details start from `visible_to(user)`, writes call
policies.actions, and council.api.exceptions turns the errors they raise into 400/403/409.
Where a user may see an object but the write is never theirs, the view refuses first, so
the answer is a 403 whatever the body holds and whatever state the object is in (only the
owning ministry learns that a version is frozen); the action asks again under its lock.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
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

from candidates.api import CandidateRefSerializer
from candidates.models import Candidate
from council.api.compiled import CompiledRepresentation
from council.api.filters import IdFilter, StableOrderingFilter
from council.api.serializers import (
    ORGANIZATION_REF_COLUMNS,
    USER_REF_COLUMNS,
    PlainRefSerializer,
    UserRefSerializer,
    columns,
    select_refs,
)
from council.api.viewsets import PageListsMixin, VisibleQuerysetMixin, refuse_unless
from council.api.workflow import TRANSITION_CONFLICT, TransitionSerializer, WorkflowViewSetMixin, workflow_schema
from council.pdf import pdf_language
from council.prefetch import prefetch_list
from council.prepared import Prepared
from council.workflow import TransitionNotAllowed
from policies import actions, tasks
from policies.diff import diff_bodies
from policies.models import (
    Ballot,
    Choice,
    ConsentRecord,
    ConsentRound,
    ConsentVoter,
    CostItem,
    Layer,
    Outcome,
    Payer,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RoundStatus,
    VersionComment,
)
from policies.pdf import current_pdf
from policies.sections import section_titles
from tenants.access import access_for
from tenants.api import OrganizationRefSerializer
from tenants.models import Organization


def may_comment(user) -> bool:
    # Asked before the body is read, so that a refusal is a 403 whatever the body.
    return actions.commenting_organization_id(user) is not None


# --- Policies ----------------------------------------------------------------------------------


class PolicySerializer(CompiledRepresentation, serializers.ModelSerializer):
    ministry = OrganizationRefSerializer(read_only=True)
    candidate = CandidateRefSerializer(read_only=True)

    class Meta:
        model = Policy
        fields = ["id", "title", "status", "ministry", "candidate", "created_at", "updated_at"]
        read_only_fields = fields


class PolicyCreateSerializer(CompiledRepresentation, serializers.Serializer):
    candidate = serializers.PrimaryKeyRelatedField(
        queryset=Candidate.objects.none(), help_text="選定され実現可能性調査が受理された対象候補の id"
    )
    title = serializers.CharField(max_length=200, help_text="方針名")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["candidate"].queryset = Candidate.objects.visible_to(request.user)


class PolicyTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(
        choices=PolicyStatus.choices,
        help_text="移行先の状態。withdrawn（取下げ）以外は同意手続の開始・終了で自動的に遷移する。",
    )


class PolicyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PolicyStatus.choices)
    ministry = IdFilter(field_name="ministry_id", label="所管府省庁の id")
    candidate = IdFilter(field_name="candidate_id", label="対象候補の id")
    ordering = StableOrderingFilter(fields=["created_at", "title", "status"])

    class Meta:
        model = Policy
        fields = ["status", "ministry", "candidate"]


@workflow_schema(PolicyTransitionSerializer, PolicySerializer)
@extend_schema_view(
    list=extend_schema(summary="Policies the user may see"),
    retrieve=extend_schema(summary="A policy"),
    create=extend_schema(
        summary="Start a policy for a selected candidate with an accepted study (owning ministry)",
        request=PolicyCreateSerializer,
        responses={201: PolicySerializer},
    ),
)
class PolicyViewSet(
    WorkflowViewSetMixin,
    VisibleQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """共通化推進方針. The secretariat and the owning ministry see drafts; council members see
    policies with a submitted version; everyone else sees policies put to consent."""

    queryset = select_refs(Policy.objects.all(), {"ministry": ORGANIZATION_REF_COLUMNS, "candidate": ("id", "title")})
    serializer_class = PolicySerializer
    filterset_class = PolicyFilter
    transition_serializer_class = PolicyTransitionSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Only a ministry officer can ever own a candidate: anyone else is refused whatever
        # the body holds (the action checks the candidate's own ministry under its lock).
        refuse_unless(bool(access_for(request.user).ministry_ids), _("共通化推進方針を作成できるのは制度所管府省庁です。"))
        body = PolicyCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        policy = actions.create_policy(body.validated_data["candidate"], request.user, title=body.validated_data["title"])
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    def perform_transition(self, policy: Policy, to: str, comment: str, **kwargs: Any) -> Policy:
        if to == PolicyStatus.WITHDRAWN:
            return actions.withdraw_policy(policy, self.request.user, comment=comment)
        return policy.transition(to, by=self.request.user, comment=comment)


# --- Versions ------------------------------------------------------------------------------------


class CostSharingRowSerializer(CompiledRepresentation, serializers.Serializer):
    layer = serializers.ChoiceField(choices=Layer.choices)
    item = serializers.ChoiceField(choices=CostItem.choices)
    payer = serializers.ChoiceField(choices=Payer.choices)
    until = serializers.IntegerField(
        required=False, allow_null=True, min_value=2000, max_value=2100,
        help_text="initial_support のみ：国が初期経費を支援する期限（年度）",
    )

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value.get("until") is None:
            value.pop("until", None)
        return value


class ScheduleRowSerializer(CompiledRepresentation, serializers.Serializer):
    milestone = serializers.CharField(max_length=200)
    target_date = serializers.DateField()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return {"milestone": value["milestone"], "target_date": value["target_date"].isoformat()}


class PolicyVersionSerializer(CompiledRepresentation, serializers.ModelSerializer):
    created_by = UserRefSerializer(read_only=True)
    submitted_by = UserRefSerializer(read_only=True, allow_null=True)
    cost_sharing = CostSharingRowSerializer(many=True, read_only=True)
    schedule = ScheduleRowSerializer(many=True, read_only=True)
    frozen = serializers.BooleanField(source="is_frozen", read_only=True, help_text="提出済み（以後変更不可）か")
    sections = serializers.SerializerMethodField(help_text="本文の節（## 見出し）")

    class Meta:
        model = PolicyVersion
        fields = [
            "number", "body", "sections", "cost_sharing", "schedule", "revision", "frozen",
            "created_by", "created_at", "updated_at", "submitted_by", "submitted_at", "content_hash",
        ]
        read_only_fields = fields

    def get_sections(self, version: PolicyVersion) -> list[str]:
        return section_titles(version.body)


class PolicyVersionWriteSerializer(CompiledRepresentation, serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, max_length=100_000, trim_whitespace=False,
                                 help_text="Markdown。節ごとに ## 見出し")
    cost_sharing = CostSharingRowSerializer(many=True, required=False)
    schedule = ScheduleRowSerializer(many=True, required=False)
    revision = serializers.IntegerField(
        required=False, min_value=1, write_only=True,
        help_text="編集元の改訂番号。指定すると、他の人が先に更新していた場合は 409 になる。",
    )


class VersionCommentSerializer(CompiledRepresentation, serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = VersionComment
        fields = ["id", "section", "body", "author", "organization", "created_at"]
        read_only_fields = ["id", "author", "organization", "created_at"]
        extra_kwargs = {"section": {"help_text": "節の見出し（空なら版全体へのコメント）", "required": False}}


DIFF_RESPONSE = inline_serializer(
    "PolicyVersionDiff",
    {
        "from": serializers.IntegerField(),
        "to": serializers.IntegerField(),
        "sections": inline_serializer(
            "SectionDiff",
            {
                "title": serializers.CharField(),
                "status": serializers.ChoiceField(choices=["unchanged", "changed", "added", "removed"]),
                "lines": serializers.ListField(
                    child=serializers.ListField(
                        child=inline_serializer(
                            "DiffPiece",
                            {"kind": serializers.ChoiceField(choices=["equal", "insert", "delete"]), "text": serializers.CharField()},
                        )
                    )
                ),
            },
            many=True,
        ),
    },
)
PDF_STATUS = inline_serializer(
    "PdfStatus",
    {"status": serializers.ChoiceField(choices=["ready", "rendering"]), "url": serializers.CharField()},
)


@extend_schema_view(
    list=extend_schema(summary="Versions of a policy the user may see"),
    retrieve=extend_schema(summary="One version (by number)"),
    create=extend_schema(
        summary="Create the next version as an editable draft (owning ministry)",
        request=PolicyVersionWriteSerializer,
        responses={201: PolicyVersionSerializer, 409: OpenApiResponse(description="An editable draft already exists.")},
    ),
    partial_update=extend_schema(
        summary="Edit a draft (owning ministry); a submitted version is 409",
        request=PolicyVersionWriteSerializer,
        responses={200: PolicyVersionSerializer, 409: OpenApiResponse(description="Frozen, or edited meanwhile.")},
    ),
)
class PolicyVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Versions of a policy: the ministry's drafts, frozen by submission (content hash)."""

    serializer_class = PolicyVersionSerializer
    lookup_field = "number"
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_policy(self) -> Policy:
        if not hasattr(self, "_policy"):
            self._policy = get_object_or_404(Policy.objects.visible_to(self.request.user), pk=self.kwargs["policy_pk"])
        return self._policy

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PolicyVersion.objects.none()
        return (
            PolicyVersion.objects.visible_to(self.request.user)
            .filter(policy=self.get_policy())
            .select_related("created_by", "submitted_by")
        )

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return PolicyVersionWriteSerializer
        return PolicyVersionSerializer

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A client asking for the PDF (`Accept: application/pdf`) gets the file, or its
        # errors as JSON, instead of a 406: no renderer is needed for a FileResponse.
        return super().perform_content_negotiation(request, force=force or self.action == "pdf")

    def read(self, version: PolicyVersion, status_code=status.HTTP_200_OK) -> Response:
        fresh = PolicyVersion.objects.select_related("created_by", "submitted_by").get(pk=version.pk)
        return Response(PolicyVersionSerializer(fresh).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_policy()
        refuse_unless(policy.may_draft(request.user), _("この方針の版を作成できません。"))
        body = PolicyVersionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        data.pop("revision", None)
        version = actions.create_version(policy, request.user, **data)
        return self.read(version, status.HTTP_201_CREATED)

    def refuse_unless_owner(self, version: PolicyVersion) -> None:
        """Rights before state: only the owning ministry learns that a version is frozen."""
        refuse_unless(version.policy.is_owner(self.request.user), _("この版を編集できるのは制度所管府省庁です。"))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        self.refuse_unless_owner(version)
        if version.is_frozen:
            raise actions.FrozenVersionError(_("提出済みの版は変更できません。"))
        refuse_unless(version.policy.may_draft(request.user), _("この版を編集できません。"))
        # Every field is optional already: not `partial=True`, which would also make the
        # fields of each cost-sharing and schedule row optional.
        body = PolicyVersionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        revision = changes.pop("revision", None)
        version = actions.update_version(version, request.user, changes, revision=revision)
        return self.read(version)

    @extend_schema(summary="Submit the draft: freeze it forever and store its hash (owning ministry)",
                   request=None, responses={200: PolicyVersionSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        self.refuse_unless_owner(version)
        if version.is_frozen:
            raise actions.FrozenVersionError(_("この版は既に提出されています。"))
        refuse_unless(version.policy.may_draft(request.user), _("この版を提出できません。"))
        return self.read(actions.submit_version(version, request.user))

    @extend_schema(
        summary="Section-by-section diff against another version",
        parameters=[OpenApiParameter("against", OpenApiTypes.INT, required=True, description="比較元の版番号")],
        responses={200: DIFF_RESPONSE},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        against = request.query_params.get("against", "")
        if not against.isdigit():
            raise serializers.ValidationError({"against": [_("比較する版の番号を指定してください。")]})
        other = get_object_or_404(self.get_queryset(), number=int(against))
        sections = [d.as_dict() for d in diff_bodies(other.body, version.body)]
        return Response({"from": other.number, "to": version.number, "sections": sections})

    @extend_schema(
        methods=["GET"],
        summary="The version's PDF, once rendered",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="Not rendered yet.")},
    )
    @extend_schema(
        methods=["POST"],
        summary="Start rendering the version's PDF (submitted versions)",
        request=None,
        responses={202: PDF_STATUS, 409: OpenApiResponse(description="The version is not submitted.")},
    )
    @action(detail=True, methods=["get", "post"])
    def pdf(self, request: Request, *args: Any, **kwargs: Any):
        version = self.get_object()
        if request.method == "POST":
            if not version.is_frozen:
                raise actions.Conflict(_("PDFは提出済みの版についてのみ作成できます。"))
            if current_pdf(version) is None:
                tasks.render_version_pdf.delay(version.pk, pdf_language())
            ready = current_pdf(version) is not None
            return Response({"status": "ready" if ready else "rendering", "url": request.path}, status=status.HTTP_202_ACCEPTED)
        pdf = current_pdf(version)
        if pdf is None:
            return Response({"detail": _("PDFはまだ作成されていません。POSTで作成を開始してください。")}, status=status.HTTP_404_NOT_FOUND)
        filename = f"policy-{version.policy_id}-v{version.number}.pdf"
        return FileResponse(pdf.file.open("rb"), content_type="application/pdf", as_attachment=True, filename=filename)

    @extend_schema(methods=["GET"], summary="Comments on the version, per section", responses={200: VersionCommentSerializer(many=True)})
    @extend_schema(methods=["POST"], summary="Comment on a section (secretariat, associations)",
                   request=VersionCommentSerializer, responses={201: VersionCommentSerializer})
    @action(detail=True, methods=["get", "post"])
    def comments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        if request.method == "POST":
            refuse_unless(may_comment(request.user), _("版にコメントできるのは事務局と地方三団体の代表者です。"))
            body = VersionCommentSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            comment = actions.comment_on_version(
                version, request.user, section=body.validated_data.get("section", ""), body=body.validated_data["body"]
            )
            return Response(VersionCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(version.comments.select_related("author", "organization"))
        return self.get_paginated_response(VersionCommentSerializer(page, many=True).data)


# --- Consent rounds ---------------------------------------------------------------------------------


class BallotSerializer(CompiledRepresentation, serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    cast_by = UserRefSerializer(read_only=True)

    class Meta:
        model = Ballot
        fields = ["organization", "choice", "comment", "cast_by", "cast_at"]
        read_only_fields = fields


class BallotWriteSerializer(CompiledRepresentation, serializers.Serializer):
    choice = serializers.ChoiceField(choices=Choice.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                    help_text="条件付き同意の条件、異議・棄権の理由（これらでは必須）")
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True,
        help_text="どの団体として投票するか（複数の同意権者に属する場合のみ必要）",
    )


class VersionRefSerializer(PlainRefSerializer):
    class Meta:
        model = PolicyVersion
        fields = ["id", "number", "content_hash"]


class ConsentRoundSerializer(CompiledRepresentation, serializers.ModelSerializer):
    policy = PolicySerializer(read_only=True)
    version = VersionRefSerializer(read_only=True)
    voters = serializers.SerializerMethodField(help_text="同意権を持つ団体（団体コード順）")
    ballots = BallotSerializer(many=True, read_only=True, source="ballots_list")
    # Blank until the round closes: the schema says so (BlankEnum).
    outcome = serializers.ChoiceField(choices=Outcome.choices, read_only=True, allow_blank=True)
    closed_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ConsentRound
        fields = [
            "id", "policy", "version", "version_hash", "status", "outcome", "closes_at",
            "opened_at", "closed_at", "closed_by", "voters", "ballots",
        ]
        read_only_fields = fields

    @extend_schema_field(OrganizationRefSerializer(many=True))
    def get_voters(self, round_: ConsentRound) -> list[dict]:
        # The view prefetches the voters in code order; sort again for a round read on its own.
        voters = sorted(round_.voters_list, key=lambda voter: voter.organization.code)
        # One serializer for every round of a page: building its fields is the costly part.
        if not hasattr(self, "_voter"):
            self._voter = OrganizationRefSerializer(context=self.context)
        return [self._voter.to_representation(voter.organization) for voter in voters]


class ConsentRoundCreateSerializer(CompiledRepresentation, serializers.Serializer):
    policy_version = serializers.PrimaryKeyRelatedField(
        queryset=PolicyVersion.objects.none(), help_text="同意を求める提出済みの版の id"
    )
    closes_at = serializers.DateTimeField(help_text="締切日時")
    voters = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), many=True, required=False,
        help_text="地方三団体に加えて同意権を付与する事務局の機関の id",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["policy_version"].queryset = PolicyVersion.objects.visible_to(request.user)


class VoterSerializer(CompiledRepresentation, serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())


class RoundTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(choices=RoundStatus.choices, help_text="closed で同意手続を終了する")


# The records that move the round between states, as the `from`/`to` of a workflow history.
RECORD_MOVES: dict[str, tuple[str | None, str]] = {
    ConsentRecord.Kind.OPENED: (None, RoundStatus.OPEN),
    ConsentRecord.Kind.CLOSED: (RoundStatus.OPEN, RoundStatus.CLOSED),
}


class ConsentRecordSerializer(CompiledRepresentation, serializers.ModelSerializer):
    """One link of the round's hash chain, read also as a workflow history row (who, when,
    from, to, comment) as every workflow object's history is (shared/API.md)."""

    by = UserRefSerializer(read_only=True, allow_null=True, help_text="実施者。締切時刻に自動で終了した場合は null。")
    to = serializers.SerializerMethodField(help_text="この記録で移った状態（開始・終了の記録のみ、他は null）")
    comment = serializers.SerializerMethodField(help_text="投票の条件・理由、または終了時のコメント")

    class Meta:
        model = ConsentRecord
        fields = ["seq", "kind", "to", "by", "at", "comment", "payload", "prev_hash", "hash"]
        read_only_fields = fields

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        ordered = {name: fields.pop(name) for name in ("seq", "kind")}
        ordered["from"] = serializers.SerializerMethodField(
            method_name="get_from_status", help_text="この記録の前の状態（終了の記録のみ、他は null）"
        )
        ordered.update(fields)
        return ordered

    def get_from_status(self, record: ConsentRecord) -> str | None:
        return RECORD_MOVES.get(record.kind, (None, None))[0]

    def get_to(self, record: ConsentRecord) -> str | None:
        return RECORD_MOVES.get(record.kind, (None, None))[1]

    def get_comment(self, record: ConsentRecord) -> str:
        return str(record.payload.get("comment", ""))


# A page's ballots and voters and what they point at, read by id (council.prepared).
ROUND_BALLOTS = Prepared(
    lambda: Ballot.objects.only("id", "round", "organization", "choice", "comment", "cast_by", "cast_at").order_by(),
    "round_id",
)
ROUND_VOTERS = Prepared(lambda: ConsentVoter.objects.only("id", "round", "organization"), "round_id")
ORGANIZATIONS_BY_ID = Prepared(lambda: Organization.objects.only(*ORGANIZATION_REF_COLUMNS), "id")
USERS_BY_ID = Prepared(lambda: get_user_model().objects.only(*USER_REF_COLUMNS), "id")


def _by_organization_code(row) -> str:
    # Ballots in 団体コード order, as Ballot's Meta.ordering and the detail give them.
    return row.organization.code


class ConsentRoundFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RoundStatus.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    policy = IdFilter(field_name="policy_id", label="方針の id")

    class Meta:
        model = ConsentRound
        fields = ["status", "outcome", "policy"]


@extend_schema_view(
    list=extend_schema(summary="Consent rounds: each policy put to consent, its ballots and outcome"),
    retrieve=extend_schema(summary="A consent round"),
    create=extend_schema(
        summary="Open a consent round on a submitted version (secretariat)",
        request=ConsentRoundCreateSerializer,
        responses={201: ConsentRoundSerializer},
    ),
)
class ConsentRoundViewSet(
    PageListsMixin,
    VisibleQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """同意手続. Every signed-in user may follow the consent status of policies put to consent."""

    queryset = ConsentRound.objects.select_related("policy", "policy__ministry", "policy__candidate", "version", "closed_by")
    serializer_class = ConsentRoundSerializer
    filterset_class = ConsentRoundFilter
    # A page's ballots and voters name the same few organizations (the three associations)
    # some 260 times, and the few people who cast them: each is read and rendered once.
    page_lists = {"ballots": ROUND_BALLOTS, "voters": ROUND_VOTERS}
    page_shared = {"organization": ORGANIZATIONS_BY_ID, "cast_by": USERS_BY_ID}
    # Voters are put in that order by the serializer (get_voters), for any round.
    page_ordering = {"ballots": _by_organization_code}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "ballots":
            # The ballots page reads the round only to find it (and to vote on it): the round's
            # own ballots and voters would be read and dropped.
            return queryset
        if self.action == "list":
            # A page reads only the columns its rows render (the version's body and JSON, the
            # candidate's description, … stay in the database): a third of the page's time.
            queryset = queryset.only(
                "id", "policy", "version", "version_hash", "status", "outcome", "closes_at", "opened_at", "closed_at",
                "closed_by", "policy__id", "policy__title", "policy__status", "policy__ministry", "policy__candidate",
                "policy__created_at", "policy__updated_at", *columns("policy__ministry", ORGANIZATION_REF_COLUMNS),
                "policy__candidate__id", "policy__candidate__title",
                "version__id", "version__number", "version__content_hash", *columns("closed_by", USER_REF_COLUMNS),
            )
            # The page's ballots and voters are read after it (PageListsMixin).
            return queryset
        ballots = Ballot.objects.select_related("organization", "cast_by")
        voters = ConsentVoter.objects.select_related("organization").order_by("organization__code")
        return queryset.prefetch_related(prefetch_list("ballots", ballots), prefetch_list("voters", voters))

    def read(self, round_: ConsentRound, status_code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=round_.pk)
        return Response(ConsentRoundSerializer(fresh, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_unless(access_for(request.user).is_secretariat, _("同意手続を開始できるのは事務局です。"))
        body = ConsentRoundCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        try:
            round_ = actions.open_round(
                body.validated_data["policy_version"], request.user,
                closes_at=body.validated_data["closes_at"], extra_voters=body.validated_data.get("voters", []),
            )
        except DjangoValidationError as exc:
            # The action names each extra voter `organization`; this endpoint's field is `voters`.
            if hasattr(exc, "error_dict") and "organization" in exc.error_dict:
                raise DjangoValidationError({"voters": exc.error_dict["organization"]}) from exc
            raise
        return self.read(round_, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Close the round (secretariat); the consent rule decides the outcome",
        request=RoundTransitionSerializer,
        responses={
            200: ConsentRoundSerializer,
            400: OpenApiResponse(description="Unknown `to`."),
            403: OpenApiResponse(description="Only the secretariat closes a round."),
            404: OpenApiResponse(description="Not visible to the user."),
            409: OpenApiResponse(TRANSITION_CONFLICT.response,
                                 description="Already closed, or `to` is `open`: a round only moves from open to closed."),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        round_ = self.get_object()
        # Who may move a round does not depend on the body: refuse first, as for rounds' creation.
        refuse_unless(access_for(request.user).is_secretariat, _("同意手続を終了できるのは事務局です。"))
        body = RoundTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        to = body.validated_data["to"]
        if to != RoundStatus.CLOSED or not round_.is_open:
            reason = _("この同意手続は既に終了しています。") if not round_.is_open else _("受付中の同意手続は終了（closed）にのみ変更できます。")
            raise TransitionNotAllowed(round_, to, str(reason))
        return self.read(actions.close_round(round_, request.user, comment=body.validated_data["comment"]))

    @extend_schema(summary="History of the round: opening, voters, every ballot cast or changed, closing (hash-chained)",
                   responses={200: ConsentRecordSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        round_ = self.get_object()
        return Response(ConsentRecordSerializer(round_.records.select_related("by"), many=True).data)

    @extend_schema(summary="Grant a secretariat body consent rights in this open round (secretariat)",
                   request=VoterSerializer, responses={201: ConsentRoundSerializer})
    @action(detail=True, methods=["post"])
    def voters(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        round_ = self.get_object()
        refuse_unless(access_for(request.user).is_secretariat, _("同意権を付与できるのは事務局です。"))
        body = VoterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.add_voter(round_, request.user, body.validated_data["organization"])
        return self.read(round_, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="Current ballots of the round", responses={200: BallotSerializer(many=True)})
    @extend_schema(methods=["POST"], summary="Cast or change one's association's ballot while the round is open",
                   request=BallotWriteSerializer,
                   responses={200: BallotSerializer, 403: OpenApiResponse(description="Not a representative of a voting body."),
                              409: OpenApiResponse(description="The round is closed or past its closing time.")})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def ballots(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        round_ = self.get_object()
        if request.method == "POST":
            refuse_unless(bool(round_.voting_organizations_of(request.user)),
                          _("この同意手続で投票できるのは同意権を持つ団体の代表者です。"))
            body = BallotWriteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            ballot = actions.cast_ballot(
                round_, request.user, choice=body.validated_data["choice"],
                comment=body.validated_data["comment"], organization=body.validated_data.get("organization"),
            )
            ballot = Ballot.objects.select_related("organization", "cast_by").get(pk=ballot.pk)
            return Response(BallotSerializer(ballot).data)
        page = self.paginate_queryset(round_.ballots.select_related("organization", "cast_by"))
        return self.get_paginated_response(BallotSerializer(page, many=True).data)
