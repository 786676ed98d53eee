"""Filters of the audit trail, shared by the page, its CSV export and the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit.capture import is_tracked
from council.audit.models import Action, AuditEvent
from tenants.models import Organization


def model_choices() -> list[tuple[str, str]]:
    """Every kind of object events are recorded for, as "app_label.model"."""
    models = [m for m in apps.get_models() if is_tracked(m)]
    return sorted(
        ((m._meta.label_lower, str(m._meta.verbose_name)) for m in models if not m._meta.proxy),
        key=lambda choice: choice[1],
    )


def start_of(day: date) -> datetime:
    """Midnight of `day` in the platform's time zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def member_organizations(request=None):
    """Organizations whose members can act: the ones events name."""
    return Organization.objects.filter(memberships__isnull=False).distinct().order_by("code")


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        label=_("実施者"), method="filter_actor", help_text=_("ユーザー名の一部（ログイン失敗は入力された名前）")
    )
    organization = django_filters.ModelChoiceFilter(
        label=_("団体"), queryset=member_organizations, empty_label=_("すべて")
    )
    action = django_filters.ChoiceFilter(label=_("操作"), choices=Action.choices, empty_label=_("すべて"))
    model = django_filters.ChoiceFilter(
        label=_("対象の種類"), choices=model_choices, method="filter_model", empty_label=_("すべて")
    )
    object = django_filters.CharFilter(
        label=_("対象"), method="filter_object", help_text=_("IDまたは名称の一部")
    )
    ip = django_filters.CharFilter(label=_("IPアドレス"), field_name="ip")
    # Days in Japan time; compared as a range on `at` so its index serves (not `at__date`).
    since = django_filters.DateFilter(
        label=_("期間（開始日）"), method="filter_since", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        label=_("期間（終了日）"), method="filter_until", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "organization", "action", "model", "object", "ip", "since", "until"]

    def filter_actor(self, queryset, name, value: str):
        return queryset.filter(actor_repr__icontains=value.strip()) if value.strip() else queryset

    def filter_model(self, queryset, name, value: str):
        app_label, _dot, model = value.partition(".")
        try:
            content_type = ContentType.objects.get_by_natural_key(app_label, model)
        except ContentType.DoesNotExist:
            return queryset.none()
        return queryset.filter(content_type=content_type)

    def filter_object(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(object_repr__icontains=value)
        if value.isdigit():
            condition |= Q(object_id=value)
        return queryset.filter(condition)

    def filter_since(self, queryset, name, value: date):
        return queryset.filter(at__gte=start_of(value))

    def filter_until(self, queryset, name, value: date):
        return queryset.filter(at__lt=start_of(value + timedelta(days=1)))

    @property
    def qs(self):
        # Newest first whatever the filters; the sequence is the chain's order.
        return super().qs.order_by("-sequence")
