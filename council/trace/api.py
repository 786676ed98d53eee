"""`GET /api/v1/trace/<kind>/<pk>/`: the chain of the trace page, as JSON.

Labels (stage names, status labels, date and fact labels) follow the request's language
(Accept-Language); times are in Asia/Tokyo. The `status`, `key` and `kind` values are the
stable ones to program against.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from council.api.compiled import CompiledRepresentation
from council.trace.chain import KINDS, STAGES, DateItem, build_trace
from progress.models import AdoptionStatus


# Plain strings rather than enums: "kind" is a field name other resources use with other
# choices, and the schema names each enum after its field.
KIND_HELP = "One of: " + ", ".join(KINDS) + "."


class TraceOrganizationSerializer(CompiledRepresentation, serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()


class TraceActorSerializer(CompiledRepresentation, serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    organizations = TraceOrganizationSerializer(many=True, help_text="The organizations the person acted for.")


class TraceEventSerializer(CompiledRepresentation, serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField(help_text="What happened, in the request's language.")
    actor = TraceActorSerializer(allow_null=True, help_text="null when the platform itself acted.")
    from_status = serializers.CharField(help_text="Status before a workflow move; empty otherwise.")
    to_status = serializers.CharField(help_text="Status after a workflow move (or a ballot's choice); may be empty.")
    from_label = serializers.CharField()
    to_label = serializers.CharField()
    comment = serializers.CharField()


class TraceDateSerializer(CompiledRepresentation, serializers.Serializer):
    key = serializers.CharField(help_text="e.g. created_at, submitted_at, due_date")
    label = serializers.CharField()
    value = serializers.SerializerMethodField(help_text="ISO 8601: a date, or a date-time in Asia/Tokyo.")
    has_time = serializers.BooleanField()

    def get_value(self, item: DateItem) -> str:
        if item.has_time:
            return timezone.localtime(item.value).isoformat()
        return item.value.isoformat()


class TraceFactSerializer(CompiledRepresentation, serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField()


class TraceCountSerializer(CompiledRepresentation, serializers.Serializer):
    status = serializers.ChoiceField(choices=AdoptionStatus.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()


class TraceSubStepSerializer(CompiledRepresentation, serializers.Serializer):
    """One object of the chain (a ballot inside its round)."""

    kind = serializers.CharField(help_text=KIND_HELP)
    id = serializers.IntegerField(allow_null=True, help_text="null for the adoption summary.")
    title = serializers.CharField()
    status = serializers.CharField(help_text="The object's status value; empty where it has none.")
    status_label = serializers.CharField()
    is_focus = serializers.BooleanField(help_text="The object the trace was opened from.")
    url = serializers.CharField(help_text="The object's own page.")
    trace_url = serializers.CharField(help_text="The trace page opened from this object.")
    dates = TraceDateSerializer(many=True)
    facts = TraceFactSerializer(many=True)
    events = TraceEventSerializer(many=True, help_text="Who did what, oldest first.")
    counts = TraceCountSerializer(many=True, help_text="Adoption summary: local governments per status.")
    total = serializers.IntegerField(allow_null=True)


class TraceStepSerializer(TraceSubStepSerializer):
    """One object of the chain, with the ballots of a consent round as `children`."""

    children = TraceSubStepSerializer(many=True)


class TraceStageSerializer(CompiledRepresentation, serializers.Serializer):
    key = serializers.CharField(help_text="One of: " + ", ".join(key for key, _label in STAGES) + " (in this order).")
    label = serializers.CharField()
    steps = TraceStepSerializer(many=True, help_text="Empty when nothing the user may see is at this stage yet.")


class TraceSerializer(CompiledRepresentation, serializers.Serializer):
    kind = serializers.CharField(help_text="The kind the trace was opened from.")
    id = serializers.IntegerField()
    stages = TraceStageSerializer(many=True)


class TraceView(APIView):
    """The whole chain of a commonization effort — candidate, assessments, feasibility
    study, policy, versions, consent rounds and ballots, reporting schedule, progress
    reports, adoption counts, measure requests — from any object in it, with dates and who
    acted. Only what the user may see is included; an object the user may not see is 404."""

    @extend_schema(
        summary="The chain of the object's commonization effort",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(KINDS),
                             description="The kind of object the trace is opened from."),
        ],
        responses={
            200: TraceSerializer,
            404: OpenApiResponse(description="Unknown kind, or no such object visible to the user."),
        },
    )
    def get(self, request: Request, kind: str, pk: int) -> Response:
        return Response(TraceSerializer(build_trace(request.user, kind, pk)).data)
