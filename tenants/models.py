"""Who is who: organizations (tenants) and the memberships that give users their roles."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from council.loading import RowLoaded
from tenants.codes import (
    is_prefecture_code,
    prefecture_code_of,
    validate_local_government_code,
)
from tenants.kana import is_full_width_katakana, to_full_width_katakana

NATIONAL_CODE_RE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


class OrganizationKind(models.TextChoices):
    SECRETARIAT = "secretariat", _("事務局")
    MINISTRY = "ministry", _("府省庁")
    ASSOCIATION = "association", _("地方三団体")
    PREFECTURE = "prefecture", _("都道府県")
    MUNICIPALITY = "municipality", _("市区町村")


LOCAL_GOVERNMENT_KINDS = (OrganizationKind.PREFECTURE, OrganizationKind.MUNICIPALITY)


class Role(models.TextChoices):
    SECRETARIAT_STAFF = "secretariat_staff", _("事務局職員")
    MINISTRY_OFFICER = "ministry_officer", _("府省庁担当者")
    ASSOCIATION_REPRESENTATIVE = "association_representative", _("地方三団体代表者")
    LOCAL_OFFICIAL = "local_official", _("地方公共団体職員")
    VIEWER = "viewer", _("閲覧者")


# Which role a member of each kind of organization may hold; `viewer` fits every kind.
ROLES_BY_KIND: dict[str, frozenset[str]] = {
    OrganizationKind.SECRETARIAT: frozenset({Role.SECRETARIAT_STAFF, Role.VIEWER}),
    OrganizationKind.MINISTRY: frozenset({Role.MINISTRY_OFFICER, Role.VIEWER}),
    OrganizationKind.ASSOCIATION: frozenset({Role.ASSOCIATION_REPRESENTATIVE, Role.VIEWER}),
    OrganizationKind.PREFECTURE: frozenset({Role.LOCAL_OFFICIAL, Role.VIEWER}),
    OrganizationKind.MUNICIPALITY: frozenset({Role.LOCAL_OFFICIAL, Role.VIEWER}),
}


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def visible_to(self, user) -> OrganizationQuerySet:
        # The list of organizations is public reference data for every signed-in user.
        if not user.is_authenticated:
            return self.none()
        return self

    def local_governments(self) -> OrganizationQuerySet:
        return self.filter(kind__in=LOCAL_GOVERNMENT_KINDS)


class EnglishNamed:
    """For a model with `name` and `name_en`: `label` (and str()) is the name people read, the
    English name on English pages where there is one, else the Japanese name. APIs keep `name`."""

    @property
    def label(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class Organization(EnglishNamed, RowLoaded, models.Model):
    kind = models.CharField(
        _("種別"),
        max_length=16,
        choices=OrganizationKind.choices,
        error_messages={"invalid_choice": _("団体の種別「%(value)s」は存在しません。")},
    )
    code = models.CharField(
        _("団体コード"),
        max_length=32,
        unique=True,
        help_text=_("地方公共団体は6桁の全国地方公共団体コード（検査数字を含む）、国の機関等は英小文字の識別子。"),
        error_messages={"unique": _("この団体コードは既に登録されています。")},
    )
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英語名称"), max_length=200, blank=True)
    name_kana = models.CharField(_("名称（カナ）"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("所属都道府県"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        limit_choices_to={"kind": OrganizationKind.PREFECTURE},
    )
    # Each organization's own auth group: object permissions are granted to it, and every
    # member is put in it, so a permission is never tied to a single person.
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, editable=False, related_name="organization"
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("団体")
        verbose_name_plural = _("団体")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganizationKind.values),
                name="organization_kind_valid",
                violation_error_message=_("団体の種別が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=(Q(kind=OrganizationKind.MUNICIPALITY) & Q(parent__isnull=False))
                | (~Q(kind=OrganizationKind.MUNICIPALITY) & Q(parent__isnull=True)),
                name="organization_parent_only_for_municipality",
                violation_error_message=_("市区町村には所属都道府県が必要で、それ以外の団体には設定できません。"),
            ),
        ]
        indexes = [models.Index(fields=["kind", "code"], name="organization_kind_code")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs) -> None:
        self.name_kana = to_full_width_katakana(self.name_kana)
        with transaction.atomic():
            if self.group_id is None:
                self.group, _created = Group.objects.get_or_create(name=self.group_name)
            elif self.group.name != self.group_name:
                self.group.name = self.group_name
                self.group.save(update_fields=["name"])
            super().save(*args, **kwargs)

    @property
    def group_name(self) -> str:
        return f"org:{self.code}"

    @property
    def is_local_government(self) -> bool:
        return self.kind in LOCAL_GOVERNMENT_KINDS

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.kind not in OrganizationKind.values:
            pass  # the field's own choice validation reports it
        elif self.is_local_government:
            try:
                validate_local_government_code(self.code)
            except ValidationError as exc:
                errors.setdefault("code", []).extend(exc.error_list)
            else:
                errors.update(self._local_government_errors())
        elif not NATIONAL_CODE_RE.match(self.code or ""):
            errors.setdefault("code", []).append(
                ValidationError(_("国の機関等の団体コードは英小文字で始まる英小文字・数字・ハイフン（2〜32文字）で入力してください。"))
            )
        elif self.parent_id is not None:
            errors.setdefault("parent", []).append(ValidationError(_("この種別の団体には所属都道府県を設定できません。")))
        kana = to_full_width_katakana(self.name_kana)
        if kana and not is_full_width_katakana(kana):
            errors.setdefault("name_kana", []).append(ValidationError(_("カナはカタカナで入力してください。")))
        if errors:
            raise ValidationError(errors)

    def _local_government_errors(self) -> dict[str, list]:
        errors: dict[str, list] = {}
        if self.kind == OrganizationKind.PREFECTURE:
            if not is_prefecture_code(self.code):
                errors["code"] = [ValidationError(_("都道府県の団体コードは3〜5桁目が000です。"))]
            if self.parent_id is not None:
                errors["parent"] = [ValidationError(_("都道府県には所属都道府県を設定できません。"))]
            return errors
        if is_prefecture_code(self.code):
            errors["code"] = [ValidationError(_("この団体コードは都道府県のものです。"))]
        elif self.parent_id is None:
            errors["parent"] = [ValidationError(_("市区町村には所属都道府県が必要です。"))]
        elif self.parent.code != prefecture_code_of(self.code):
            errors["parent"] = [
                ValidationError(
                    _("団体コード「%(code)s」の市区町村は%(prefecture)sに属しません。"),
                    params={"code": self.code, "prefecture": self.parent.name},
                )
            ]
        return errors


class MembershipQuerySet(models.QuerySet["Membership"]):
    def delete(self):
        # Bulk deletes (the admin's action) must leave groups in step, like Membership.delete.
        with transaction.atomic():
            for membership in self.select_related("organization", "user"):
                membership.leave_groups()
            return super().delete()


class Membership(RowLoaded, models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("利用者"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("団体"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("役割"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("所属")
        verbose_name_plural = _("所属")
        ordering = ["organization__code", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"],
                name="membership_one_per_user_and_organization",
                violation_error_message=_("この利用者は既にこの団体に所属しています。"),
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values),
                name="membership_role_valid",
                violation_error_message=_("役割が正しくありません。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.organization} ({self.get_role_display()})"

    def save(self, *args, **kwargs) -> None:
        # Memberships are few and each one grants rights: validate on every path that saves one.
        self.full_clean()
        with transaction.atomic():
            if self.pk is not None:
                previous = Membership.objects.select_related("organization", "user").get(pk=self.pk)
                previous.leave_groups()
            super().save(*args, **kwargs)
            self.user.groups.add(self.organization.group, role_group(self.role))

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            self.leave_groups()
            return super().delete(*args, **kwargs)

    def clean(self) -> None:
        if self.organization_id is None or self.role not in Role.values:
            return  # the fields' own validation reports these
        try:
            organization = self.organization
        except Organization.DoesNotExist:
            return  # the field's own validation reports the missing organization
        allowed = ROLES_BY_KIND.get(organization.kind, frozenset())
        if self.role not in allowed:
            raise ValidationError(
                {
                    "role": _("%(kind)sの団体には役割「%(role)s」で所属できません。")
                    % {"kind": organization.get_kind_display(), "role": Role(self.role).label}
                }
            )

    def leave_groups(self) -> None:
        others = Membership.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
        groups = []
        if not others.filter(organization_id=self.organization_id).exists():
            groups.append(self.organization.group)
        if not others.filter(role=self.role).exists():
            groups.append(role_group(self.role))
        self.user.groups.remove(*groups)


def role_group(role: str) -> Group:
    """The group that carries a role's model-level permissions (e.g. the admin for the secretariat)."""
    group, _created = Group.objects.get_or_create(name=f"role:{role}")
    return group
