"""Selecting what to commonize. For now: the 20 standardized business areas (標準化対象20業務)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenants.models import Organization, OrganizationKind


class BusinessAreaQuerySet(models.QuerySet["BusinessArea"]):
    def visible_to(self, user) -> "BusinessAreaQuerySet":
        # Reference data: every signed-in user sees all of it.
        if not user.is_authenticated:
            return self.none()
        return self


class BusinessArea(models.Model):
    code = models.SlugField(_("コード"), max_length=40, unique=True)
    name = models.CharField(_("業務名"), max_length=50, unique=True)
    name_en = models.CharField(_("英語名称"), max_length=100, blank=True)
    owning_ministry = models.ForeignKey(
        Organization,
        verbose_name=_("所管府省庁"),
        on_delete=models.PROTECT,
        related_name="business_areas",
        limit_choices_to={"kind": OrganizationKind.MINISTRY},
    )
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    objects = BusinessAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("標準化対象業務")
        verbose_name_plural = _("標準化対象業務")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sort_order__gte=0),
                name="business_area_sort_order_non_negative",
                violation_error_message=_("表示順は0以上です。"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.owning_ministry_id and self.owning_ministry.kind != OrganizationKind.MINISTRY:
            raise ValidationError({"owning_ministry": _("所管府省庁には府省庁を選んでください。")})
