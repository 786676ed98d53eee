"""Serializers rendered from a plan made once per class (CompiledRepresentation)."""

from __future__ import annotations

import datetime
from contextvars import ContextVar

from django.conf import settings
from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField, _UnvalidatedField
from rest_framework.fields import get_attribute as drf_get_attribute
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings


class CompiledRepresentation:
    """Renders instances from a plan made once per serializer class, with DRF's results.

    DRF builds a ModelSerializer's fields for every serializer instance (field mapping, deep
    copies: 0.5 ms per request before any row is read), then renders each value through layers
    of generic calls. Here the fields are built once per class, on a prototype, and each one
    becomes a (name, getter, renderer) step:

    - the getter is DRF's own attribute lookup along the field's source; anything unusual
      (a missing attribute, a related field's pk-only lookup) goes through the field's own
      `get_attribute`, so defaults and skipped fields behave as in DRF;
    - the renderer is a shortcut where DRF's result is known (a str for a CharField, an int for
      an IntegerField, an aware datetime in ISO 8601 in the current time zone), the nested
      serializer's own (compiled or plain) rendering, a list of them for `many=True`, and the
      field's own `to_representation` for everything else;
    - a SerializerMethodField calls the method on the serializer being used, with its context.

    Nested serializers render through their prototype, without the request's context: a nested
    serializer's method fields must not need it. `COMPILED = False` (tests) renders through DRF;
    tests/test_api_compiled.py holds every read endpoint to DRF's rendering."""

    def to_representation(self, instance):
        if not COMPILED:
            return super().to_representation(instance)
        if _zone.get() is not None:
            return self._represent(instance)
        # The outermost object: the current time zone is looked up once for all its dates (an
        # asgiref Local lookup per date was a tenth of a page of measure requests).
        token = _zone.set(timezone.get_current_timezone())
        try:
            return self._represent(instance)
        finally:
            _zone.reset(token)

    def _represent(self, instance) -> dict:
        ret = {}
        for name, get, render, method in _plan(type(self)):
            if method is not None:
                ret[name] = getattr(self, method)(instance)
                continue
            try:
                value = get(instance)
            except SkipField:
                continue
            if value is None or (type(value) is PKOnlyObject and value.pk is None):
                ret[name] = None
            else:
                ret[name] = render(value)
        return ret


COMPILED = True
_plans: dict[type, list] = {}
_zone: ContextVar = ContextVar("compiled_representation_zone", default=None)


def _plan(cls) -> list:
    plan = _plans.get(cls)
    if plan is None:
        plan = _plans[cls] = [_step(field) for field in cls(context={})._readable_fields]
    return plan


def _step(field) -> tuple:
    name = field.field_name
    if isinstance(field, serializers.SerializerMethodField):
        return name, None, None, field.method_name
    if isinstance(field, (serializers.RelatedField, serializers.ManyRelatedField)):
        return name, field.get_attribute, field.to_representation, None
    return name, _getter(field), _renderer(field), None


def _getter(field):
    attrs = field.source_attrs

    def get(instance):
        try:
            return drf_get_attribute(instance, attrs)
        except (KeyError, AttributeError):
            return field.get_attribute(instance)  # DRF's handling: default, null, skip or error

    return get


def _renderer(field):
    own = type(field).to_representation
    if isinstance(field, serializers.ListSerializer):
        child = field.child.to_representation

        def render_many(value):
            items = value.all() if isinstance(value, BaseManager) else value
            return [child(item) for item in items]

        return render_many
    if _is_list_of_plain_dicts(field):
        # JSON rows (a report's milestones, its KPIs) as DRF renders them: each dict's keys made
        # strings, values as they are, without two calls per row and one per value.
        return lambda value: [None if item is None else {str(key): v for key, v in item.items()} for item in value]
    if own is serializers.CharField.to_representation:
        return lambda value: value if type(value) is str else str(value)
    if own is serializers.IntegerField.to_representation:
        return lambda value: value if type(value) is int else int(value)
    if own is serializers.FloatField.to_representation:
        return lambda value: value if type(value) is float else float(value)
    if own is serializers.BooleanField.to_representation:
        slow = field.to_representation
        return lambda value: value if type(value) is bool else slow(value)
    if own is serializers.DateTimeField.to_representation and _iso_in_current_zone(field):
        slow = field.to_representation

        def render_datetime(value):
            if type(value) is not datetime.datetime or value.tzinfo is None:
                return slow(value)
            text = value.astimezone(_zone.get() or timezone.get_current_timezone()).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return render_datetime
    # Everything else, nested serializers included (compiled or plain ones take their own fast
    # path), renders as the field itself does.
    return field.to_representation


def _is_list_of_plain_dicts(field) -> bool:
    """A ListField of DictFields of anything (`child=serializers.DictField()`), none of the three
    rendering in a way of its own."""
    child = getattr(field, "child", None)
    inner = getattr(child, "child", None)
    return (
        type(field).to_representation is serializers.ListField.to_representation
        and isinstance(field, serializers.ListField)
        and type(child).to_representation is serializers.DictField.to_representation
        and type(inner).to_representation is _UnvalidatedField.to_representation
    )


def _iso_in_current_zone(field) -> bool:
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return (
        settings.USE_TZ
        and not hasattr(field, "timezone")
        and isinstance(output_format, str)
        and output_format.lower() == ISO_8601
    )
