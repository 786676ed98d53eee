"""Serializers rendered from a plan made once per class (CompiledRepresentation)."""

from __future__ import annotations

import datetime
import keyword
from collections.abc import Callable, Mapping
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
    tests/test_api_compiled.py holds every read endpoint to DRF's rendering.

    The plan is then written out as one Python function per class (`_function`, as the standard
    library's dataclasses write `__init__`): each field read as `instance.<attribute>` where its
    source is one attribute, str, int and float values rendered in line, nested compiled serializers
    called straight through their own function. Whatever that line cannot read as DRF would (an
    exception, a callable, a dict instead of an object) goes back to the field's step. A page of
    50 consent rounds renders some 1,500 values: 3.1 → 2.2 ms."""

    def to_representation(self, instance):
        if not COMPILED:
            return super().to_representation(instance)
        if _zone.get() is not None:
            return self._represent(instance)
        # The outermost object: the current time zone is looked up once for all its dates (an
        # asgiref Local lookup per date was a tenth of a page of measure requests).
        return _in_one_zone(self._represent, instance)

    @classmethod
    def many_init(cls, *args, **kwargs):
        """DRF's list of this serializer; DRF's own list class renders its rows in one time
        zone, looked up once for the whole list (CompiledList), not once per row."""
        listed = super().many_init(*args, **kwargs)
        if type(listed) is serializers.ListSerializer:
            listed.__class__ = CompiledList
        return listed

    def _represent(self, instance) -> dict:
        cls = type(self)
        function = _functions.get(cls)
        if function is None:
            function = _function(cls)
        return function(self, instance)

    def _represent_by_steps(self, instance) -> dict:
        ret = {}
        for _field, name, get, render, method in _plan(type(self)):
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


class CompiledList(serializers.ListSerializer):
    """DRF's ListSerializer, rendering its rows with the current time zone looked up once: an
    asgiref Local lookup per row cost 2.7–3.8 µs, 50 of them a page (about 5% of the CPU of a
    fresh list page under gunicorn)."""

    def to_representation(self, data):
        if not COMPILED or _zone.get() is not None:
            return super().to_representation(data)
        return _in_one_zone(super().to_representation, data)


def _in_one_zone(render: Callable, value):
    """`render(value)` with the current time zone looked up once for every date it renders."""
    token = _zone.set(timezone.get_current_timezone())
    try:
        return render(value)
    finally:
        _zone.reset(token)


COMPILED = True
_plans: dict[type, list] = {}
_functions: dict[type, Callable] = {}
_writing: set[type] = set()
_zone: ContextVar = ContextVar("compiled_representation_zone", default=None)
# A getter's answer for a field DRF skips (SkipField), so that the written function need not
# catch it around every field.
_SKIP = object()


def _plan(cls) -> list:
    """(field, name, getter, renderer, method name) for each readable field of a prototype."""
    plan = _plans.get(cls)
    if plan is None:
        plan = _plans[cls] = [(field, *_step(field)) for field in cls(context={})._readable_fields]
    return plan


def _function(cls) -> Callable:
    """The class's plan written out as one function `(serializer, instance) -> dict`."""
    names: dict = {
        "SKIP": _SKIP, "PKOnlyObject": PKOnlyObject, "BaseManager": BaseManager,
        "is_mapping": _is_mapping, "by_steps": CompiledRepresentation._represent_by_steps,
    }
    lines = [
        "def represent(self, instance):",
        "    if is_mapping(type(instance)):",
        "        return by_steps(self, instance)",  # DRF reads a dict's keys, not attributes
        "    ret = {}",
    ]
    _writing.add(cls)  # a serializer nested in itself renders that one through its steps
    try:
        for index, (field, name, get, render, method) in enumerate(_plan(cls)):
            key = repr(name)
            if method is not None:
                call = f"self.{method}" if _is_name(method) else f"getattr(self, {method!r})"
                lines.append(f"    ret[{key}] = {call}(instance)")
                continue
            names[f"get{index}"] = _skipping(get)
            attrs = field.source_attrs
            related = isinstance(field, (serializers.RelatedField, serializers.ManyRelatedField))
            if not related and len(attrs) == 1 and _is_name(attrs[0]):
                # DRF's lookup of one attribute, unless it would do more than read it.
                lines += [
                    "    try:",
                    f"        v = instance.{attrs[0]}",
                    "    except Exception:",
                    f"        v = get{index}(instance)",
                    "    else:",
                    "        if callable(v):",
                    f"            v = get{index}(instance)",
                    "    if v is None:",
                ]
            else:
                lines += [
                    f"    v = get{index}(instance)",
                    "    if v is None or (type(v) is PKOnlyObject and v.pk is None):",
                ]
            lines += [f"        ret[{key}] = None", "    elif v is not SKIP:", f"        ret[{key}] = {_rendering(field, render, index, names)}"]
    finally:
        _writing.discard(cls)
    lines.append("    return ret")
    scope: dict = {}
    exec(compile("\n".join(lines), f"<compiled representation of {cls.__qualname__}>", "exec"), names, scope)  # noqa: S102
    function = _functions[cls] = scope["represent"]
    return function


def _rendering(field, render, index: int, names: dict) -> str:
    """The expression rendering `v` (not None) as `render` does."""
    plain = _plain_type(field)
    if plain is not None:
        names[f"plain{index}"] = plain
        return f"v if type(v) is plain{index} else plain{index}(v)"
    nested = _nested_function(field)
    if nested is not None:
        names[f"nested{index}"], names[f"prototype{index}"] = nested, field
        return f"nested{index}(prototype{index}, v)"
    if isinstance(field, serializers.ListSerializer):
        nested = _nested_function(field.child)
        if nested is not None:
            names[f"nested{index}"], names[f"prototype{index}"] = nested, field.child
            return f"[nested{index}(prototype{index}, item) for item in (v.all() if isinstance(v, BaseManager) else v)]"
    names[f"render{index}"] = render
    return f"render{index}(v)"


def _nested_function(field) -> Callable | None:
    """The written function of a nested serializer rendered as CompiledRepresentation renders
    (none when it renders its own way, or is being written)."""
    if not isinstance(field, CompiledRepresentation) or isinstance(field, serializers.ListSerializer):
        return None
    if type(field).to_representation is not CompiledRepresentation.to_representation:
        return None
    if type(field)._represent is not CompiledRepresentation._represent:
        return None
    if type(field) in _writing:
        return None
    return _functions.get(type(field)) or _function(type(field))


def _skipping(get) -> Callable:
    def skipping(instance):
        try:
            return get(instance)
        except SkipField:
            return _SKIP

    return skipping


_mapping_types: dict[type, bool] = {}


def _is_mapping(cls: type) -> bool:
    answer = _mapping_types.get(cls)
    if answer is None:
        answer = _mapping_types[cls] = issubclass(cls, Mapping)
    return answer


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


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
    plain = _plain_type(field)
    if plain is not None:
        return lambda value: value if type(value) is plain else plain(value)
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


# Fields whose rendering is the value made one type (DRF's `str(value)`, `int(value)`,
# `float(value)`): a value already of that type is its own rendering. Both the steps
# (_renderer) and the written functions (_rendering) read this one table.
_PLAIN_TYPES = {
    serializers.CharField.to_representation: str,
    serializers.IntegerField.to_representation: int,
    serializers.FloatField.to_representation: float,
}


def _plain_type(field) -> type | None:
    return _PLAIN_TYPES.get(type(field).to_representation)


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
