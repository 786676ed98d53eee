"""`POST <object>/transition/` and `GET <object>/history/` for every workflow viewset.

The viewset supplies a request serializer (`transition_serializer_class`, a subclass of
TransitionSerializer whose `to` lists the model's statuses) and, where a move carries more
than a comment, `transition_kwargs()` and/or `perform_transition()` to call its action.
The moves themselves, and who may make them, are the model's (council.workflow).

Answers: 404 when the object is not visible to the user, 400 for an unknown `to` or a
guard's ValidationError, 403 when the user may see but not move it, 409 (with `from` and
`to`) when the move is not allowed from the current state.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from council.api.compiled import CompiledRepresentation
from council.api.serializers import TransitionLogSerializer
from council.workflow import WorkflowModel


class TransitionSerializer(CompiledRepresentation, serializers.Serializer):
    """The body of a transition; subclasses give `to` the model's statuses and add extra fields."""

    to = serializers.ChoiceField(choices=(), help_text="移行先の状態")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


TRANSITION_CONFLICT = OpenApiResponse(
    response=inline_serializer(
        "TransitionConflict",
        {
            "detail": serializers.CharField(),
            "from": serializers.CharField(),
            "to": serializers.CharField(),
        },
    ),
    description="The move is not allowed from the current state (nothing changed).",
)


def workflow_schema(transition_request: type[TransitionSerializer], response) -> Any:
    """Describe a workflow viewset's `transition` and `history` actions in the OpenAPI schema."""
    return extend_schema_view(
        transition=extend_schema(
            summary="Move to another status",
            request=transition_request,
            responses={
                200: response,
                400: OpenApiResponse(description="Unknown `to`, or a field the move needs is missing or wrong."),
                403: OpenApiResponse(description="The user may see the object but not make this move."),
                404: OpenApiResponse(description="Not visible to the user."),
                409: TRANSITION_CONFLICT,
            },
        ),
        history=extend_schema(
            summary="History of transitions (oldest first, not paginated)",
            responses={200: TransitionLogSerializer(many=True)},
        ),
    )


class WorkflowViewSetMixin:
    """Adds `transition` and `history` to a GenericViewSet over a WorkflowModel."""

    transition_serializer_class: type[TransitionSerializer] = TransitionSerializer

    def transition_kwargs(self, obj: WorkflowModel, extra: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments for perform_transition() from the body's extra (non-`to`/`comment`) fields."""
        return extra

    def perform_transition(self, obj: WorkflowModel, to: str, comment: str, **kwargs: Any) -> WorkflowModel:
        """Make the move; viewsets whose app has an action for it override this to call it."""
        return obj.transition(to, by=self.request.user, comment=comment, **kwargs)

    def may_read_history(self, obj: WorkflowModel) -> bool:
        """Whether the user may read the comments of the history, beyond seeing the object."""
        return True

    def transition_response(self, obj: WorkflowModel) -> Response:
        # Read it again through the visible queryset, so its annotations are there too.
        fresh = self.get_queryset().filter(pk=obj.pk).first() or obj
        return Response(self.get_serializer(fresh).data)

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def transition(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        body = self.transition_serializer_class(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        extra = dict(body.validated_data)
        to, comment = extra.pop("to"), extra.pop("comment", "")
        if not obj.may_transition(request.user, to):
            raise PermissionDenied(_("この操作を行う権限がありません。"))
        moved = self.perform_transition(obj, to, comment, **self.transition_kwargs(obj, extra))
        return self.transition_response(moved)

    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        if not self.may_read_history(obj):
            raise PermissionDenied(_("この履歴を閲覧する権限がありません。"))
        return Response(TransitionLogSerializer(obj.history(), many=True).data)
