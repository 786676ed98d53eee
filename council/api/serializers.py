"""Serializers shared by every app's API: how one resource shows a person or its history."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import serializers, status
from rest_framework.response import Response

from council.api.compiled import CompiledRepresentation
from council.api.viewsets import refuse_unless
from council.prefetch import RENDERED
from council.models import TransitionLog


def display_name(user) -> str:
    # Japanese names read family name first (tenants.demo stores the whole name in last_name).
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


class PlainRefSerializer(serializers.ModelSerializer):
    """A read-only reference to another object, rendered straight from the instance.

    Each of `Meta.fields` is read as an attribute (a declared field's `source` if it has one; a
    SerializerMethodField's method), without DRF's per-field machinery: building the fields
    for each serializer instance, then each field's get_attribute and to_representation. On a
    page of 50 rows that point at a few hundred objects that machinery cost more than the rest
    of the page. For references whose values are ints and strings only (others are made
    strings, as a CharField would); tests/test_api_refs.py holds each subclass to DRF's own
    rendering, and the schema is still generated from the declared fields."""

    def to_representation(self, instance) -> dict:
        # An object shared by many rows of a page (council.prefetch.fill_lists) is rendered
        # once per reference serializer.
        rendered = instance.__dict__.get(RENDERED)
        if rendered is not None:
            data = rendered.get(type(self))
            if data is None:
                data = rendered[type(self)] = self._render(instance)
            return data
        return self._render(instance)

    def _render(self, instance) -> dict:
        data = {}
        declared_fields = self._declared_fields
        for name in self.Meta.fields:
            declared = declared_fields.get(name)
            if isinstance(declared, serializers.SerializerMethodField):
                value = getattr(self, declared.method_name or f"get_{name}")(instance)
            else:
                source = declared.source if declared is not None and declared.source else name
                value = getattr(instance, source)
            data[name] = value if value is None or isinstance(value, (int, str)) else str(value)
        return data


# The columns the references below read, for only(): a list page need not load the rest of
# each object it points at (descriptions, bodies, JSON) only to render its id and name.
ORGANIZATION_REF_COLUMNS = ("id", "code", "name")
USER_REF_COLUMNS = ("id", "username", "first_name", "last_name")


def columns(prefix: str, names) -> list[str]:
    """`names` as only() paths under a relation (`prefix__name`)."""
    return [f"{prefix}__{name}" for name in names]


def select_refs(queryset, refs: dict):
    """select_related() of each relation in `refs`, loading every column of the queryset's own
    model but, of each related object, only the columns named (None: all of them).

    For relations rendered as references: a page of 50 then builds and parses no more than its
    rows show (a candidate's description, a user's password hash, timestamps no one renders
    were a fifth of a list's time). An attribute left out still loads when read, with a query
    per row, which tests/test_query_counts.py would report."""
    model = queryset.model
    paths = [field.name for field in model._meta.concrete_fields]
    for relation, names in refs.items():
        if names is None:
            related = model
            for step in relation.split("__"):
                related = related._meta.get_field(step).related_model
            names = [field.name for field in related._meta.concrete_fields]
        paths += columns(relation, names)
    return queryset.select_related(*refs).only(*paths)


class UserRefSerializer(PlainRefSerializer):
    """How other resources show a person they point at."""

    name = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "name"]

    def get_name(self, user) -> str:
        return display_name(user)


class BlankAsNullCharField(serializers.CharField):
    """A stored empty string (e.g. the `from` of an object's first history row) read as null."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(value) or None


class TransitionLogSerializer(CompiledRepresentation, serializers.ModelSerializer):
    to = serializers.CharField(source="to_status", help_text="状態（変更後）")
    by = UserRefSerializer(allow_null=True, help_text="実施者。プラットフォーム自身による遷移では null。")

    class Meta:
        model = TransitionLog
        fields = ["id", "to", "by", "at", "comment"]

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        ordered = {"id": fields.pop("id")}
        ordered["from"] = BlankAsNullCharField(
            source="from_status", read_only=True, help_text="状態（変更前）。作成時の行は null。"
        )
        ordered.update(fields)
        return ordered


class AttachmentUploadSerializer(CompiledRepresentation, serializers.Serializer):
    file = serializers.FileField(help_text="PDF, XLSX, DOCX, CSV, PNG, JPEG（20MBまで、拡張子と内容が一致すること）")


def attach_file(owner, request, save, serializer_class, refusal) -> Response:
    """`POST …/attachments/`: one file (field `file`) attached to `owner` — a study, a report —
    by its app's save action (`save(owner, user, {}, attachments=[file])`), which checks the
    file; answers 201 with the new attachment. 403 with `refusal` unless the user may edit."""
    refuse_unless(owner.may_edit(request.user), refusal)
    body = AttachmentUploadSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    before = set(owner.attachments.values_list("pk", flat=True))
    try:
        save(owner, request.user, {}, attachments=[body.validated_data["file"]])
    except DjangoValidationError as exc:
        # The action names its argument (`attachments`); the endpoint's field is `file`.
        if hasattr(exc, "error_dict") and "attachments" in exc.error_dict:
            raise DjangoValidationError({"file": exc.error_dict["attachments"]}) from exc
        raise
    attachment = owner.attachments.exclude(pk__in=before).get()
    return Response(serializer_class(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentSerializer(CompiledRepresentation, serializers.Serializer):
    """A file attached to something; `url` is the page that serves it, which checks the viewer
    may see what the file is attached to (the API never serves files itself)."""

    # The named route (app namespace included) that serves this kind of attachment.
    download_route: str = ""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    size = serializers.IntegerField(read_only=True, help_text="バイト数")
    content_type = serializers.CharField(read_only=True)
    uploaded_at = serializers.DateTimeField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, attachment) -> str:
        return reverse(self.download_route, args=[attachment.pk])
