"""`GET /api/v1/audit-events/`: the audit trail, read-only, for the secretariat (others: 403,
as on the page), with the page's filters."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets

from council.api.compiled import CompiledRepresentation
from council.api.viewsets import refuse_unless
from council.audit.filters import AuditEventFilter
from council.audit.models import AuditEvent
from tenants.access import access_for
from tenants.api import OrganizationRefSerializer


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {}, "minItems": 2, "maxItems": 2},
        "description": "field → [old, new]",
    }
)
class ChangesField(serializers.JSONField):
    pass


class AuditEventSerializer(CompiledRepresentation, serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True, allow_null=True, help_text="実施者の団体")
    model = serializers.SerializerMethodField(help_text='対象の種類（"app_label.model"）')
    changes = ChangesField(read_only=True, help_text="項目ごとの [変更前, 変更後]")
    details = serializers.JSONField(read_only=True, help_text="コメント、取込ファイル名と件数など")

    class Meta:
        model = AuditEvent
        fields = [
            "sequence", "at", "actor", "actor_repr", "organization", "ip", "user_agent", "request_id",
            "action", "model", "object_id", "object_repr", "changes", "details", "prev_hash", "hash",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_model(self, event: AuditEvent) -> str:
        return event.model_label


@extend_schema_view(
    list=extend_schema(summary="監査ログの一覧（新しい順、事務局のみ）"),
    retrieve=extend_schema(summary="監査ログの1件（事務局のみ）"),
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Every recorded create, change, transition, ballot, import and login, newest first,
    each hash-chained to the one before (`prev_hash` → `hash`)."""

    queryset = AuditEvent.objects.select_related("organization")
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    lookup_field = "sequence"
    lookup_value_regex = r"\d+"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_unless(access_for(request.user).is_secretariat, _("監査ログを閲覧できるのは事務局です。"))

    def get_queryset(self):
        return self.queryset.all().order_by("-sequence")
