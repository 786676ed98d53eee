"""Filter pieces every API list can use."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


class StableOrderingFilter(django_filters.OrderingFilter):
    """`?ordering=` where rows without a value (e.g. an unassessed candidate's score) come
    last either way, and ties are broken by id so pages never repeat or skip a row."""

    def get_ordering_value(self, param: str):
        descending = param.startswith("-")
        name = param.lstrip("-")
        expression = F(self.param_map.get(name, name))
        return expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)

    def filter(self, qs, value):
        ordered = super().filter(qs, value)
        if ordered is qs:
            return qs
        return ordered.order_by(*ordered.query.order_by, "pk")


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An `?x=<id>` filter: whole numbers only (1.5 is a 400, not a silent truncation)."""

    field_class = forms.IntegerField
