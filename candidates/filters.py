"""Filters over candidates and feasibility studies, shared by the pages and the REST API.

They narrow a queryset the caller has already restricted with `visible_to(user)`; nothing
here decides visibility. Labels are the user-facing names; widgets and layout belong to
whoever renders the form.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from candidates.models import (
    BusinessArea,
    Candidate,
    CandidateStatus,
    FeasibilityStudy,
    StudyStatus,
    Track,
)
from council.api.filters import StableOrderingFilter
from tenants.models import Organization, OrganizationKind


def _ministries(request=None):
    # pk order is the order of the official list the reference data was loaded from.
    return Organization.objects.filter(kind=OrganizationKind.MINISTRY).order_by("pk")


class CandidateFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状態"), choices=CandidateStatus.choices, empty_label=_("すべて"))
    track = django_filters.ChoiceFilter(label=_("区分"), choices=Track.choices, empty_label=_("すべて"))
    owning_ministry = django_filters.ModelChoiceFilter(
        label=_("制度所管府省庁"), queryset=_ministries, empty_label=_("すべて")
    )
    business_area = django_filters.ModelChoiceFilter(
        label=_("関連する標準化対象業務"),
        queryset=BusinessArea.objects.all(),
        method="filter_business_area",
        empty_label=_("すべて"),
    )
    score = django_filters.NumberFilter(
        label=_("加重合計の下限"), method="filter_score", min_value=1, max_value=5
    )
    q = django_filters.CharFilter(label=_("キーワード"), method="filter_text", max_length=100)
    ordering = StableOrderingFilter(
        label=_("並び順"),
        fields=(("weighted_total", "weighted_total"), ("created_at", "created"), ("title", "title")),
        field_labels={
            "weighted_total": _("加重合計（低い順）"),
            "-weighted_total": _("加重合計（高い順）"),
            "created_at": _("登録日（古い順）"),
            "-created": _("登録日（新しい順）"),
            "title": _("件名（昇順）"),
            "-title": _("件名（降順）"),
        },
    )

    class Meta:
        model = Candidate
        fields = ["status", "track", "owning_ministry"]

    def __init__(self, data=None, queryset=None, **kwargs):
        # Filtering and ordering on the score need its annotation; add it when missing.
        queryset = Candidate.objects.all() if queryset is None else queryset
        if "weighted_total" not in queryset.query.annotations:
            queryset = queryset.with_scores()
        super().__init__(data, queryset, **kwargs)

    def filter_business_area(self, queryset, name, value):
        # A subquery, not a join: joining the many-to-many table would multiply the rows
        # the score annotations average over.
        return queryset.filter(pk__in=Candidate.objects.filter(business_areas=value).values("pk"))

    def filter_score(self, queryset, name, value):
        return queryset.filter(weighted_total__gte=float(value))

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class StudyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状態"), choices=StudyStatus.choices, empty_label=_("すべて"))
    ministry = django_filters.ModelChoiceFilter(label=_("調査する府省庁"), queryset=_ministries, empty_label=_("すべて"))
    overdue = django_filters.BooleanFilter(label=_("提出期限超過"), method="filter_overdue")

    class Meta:
        model = FeasibilityStudy
        fields = ["status", "ministry"]

    def __init__(self, data=None, queryset=None, **kwargs):
        queryset = FeasibilityStudy.objects.all() if queryset is None else queryset
        if "is_overdue" not in queryset.query.annotations:
            queryset = queryset.with_overdue()
        super().__init__(data, queryset, **kwargs)

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(is_overdue=value)
