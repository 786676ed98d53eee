"""Stage 4: reporting schedules and progress reports, adoption by every local government,
usage reports of national systems, measure requests, and reminders."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council import calendar
from council.loading import RowLoaded
from council.models import Attachment
from council.prefetch import listed
from council.sql import Constant
from council.workflow import WorkflowModel
from policies.models import Policy, visible_policy_ids, within_visible_policies
from progress.periods import Period
from tenants.access import access_for, is_council_member
from tenants.models import Organization


class Frequency(models.TextChoices):
    QUARTERLY = "quarterly", _("四半期ごと")
    SEMIANNUAL = "semiannual", _("半期ごと")
    ANNUAL = "annual", _("年度ごと")


class ReportingScheduleQuerySet(models.QuerySet["ReportingSchedule"]):
    def visible_to(self, user) -> ReportingScheduleQuerySet:
        return within_visible_policies(self, user)


class ReportingSchedule(RowLoaded, models.Model):
    policy = models.OneToOneField(Policy, verbose_name=_("方針"), on_delete=models.PROTECT, related_name="schedule")
    frequency = models.CharField(_("報告の頻度"), max_length=16, choices=Frequency.choices)
    due_days_after_period = models.PositiveSmallIntegerField(
        _("期間終了から提出期限までの日数"), validators=[MinValueValidator(0), MaxValueValidator(180)]
    )
    first_fiscal_year = models.PositiveSmallIntegerField(_("最初の年度"))
    first_period = models.PositiveSmallIntegerField(_("最初の期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("設定日時"), auto_now_add=True)

    objects = ReportingScheduleQuerySet.as_manager()

    class Meta:
        verbose_name = _("報告スケジュール")
        verbose_name_plural = _("報告スケジュール")
        constraints = [
            models.CheckConstraint(condition=Q(frequency__in=Frequency.values), name="schedule_frequency_valid",
                                   violation_error_message=_("報告の頻度が正しくありません。")),
            models.CheckConstraint(condition=Q(due_days_after_period__lte=180), name="schedule_due_days_range",
                                   violation_error_message=_("提出期限までの日数は180日以内です。")),
        ]

    def __str__(self) -> str:
        return f"{self.policy}（{self.get_frequency_display()}）"

    @property
    def first(self) -> Period:
        return Period(self.first_fiscal_year, self.first_period, self.frequency)


# --- Progress reports ---------------------------------------------------------------------------------


class ReportStatus(models.TextChoices):
    DUE = "due", _("未提出")
    SUBMITTED = "submitted", _("提出済み")
    ACCEPTED = "accepted", _("受理")
    RETURNED = "returned", _("差戻し")


class MilestoneStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未着手")
    IN_PROGRESS = "in_progress", _("進行中")
    DONE = "done", _("完了")
    DELAYED = "delayed", _("遅延")


OPEN_REPORT_STATUSES = (ReportStatus.DUE, ReportStatus.RETURNED)


def restrict_to_visible_reports(queryset, user, own_policies):
    """`queryset` restricted to the reports `user` may see (reports, or the tally's rows by
    policy and status): the secretariat all; an owning ministry its own policies' reports,
    `own_policies(ministry_ids)` as a condition on the queryset's model; everyone else who may
    see the policy its accepted reports."""
    if not user.is_authenticated:
        return queryset.none()
    access = access_for(user)
    if access.is_secretariat:
        return queryset
    # The status in the SQL (council.sql.Constant): PostgreSQL then keeps one plan for the page.
    accepted = Q(status=Constant(ReportStatus.ACCEPTED.value), policy_id__in=visible_policy_ids(user))
    if not access.ministry_ids:
        # Without a ministry there is no "own policies" branch: leaving it out keeps the
        # policy table out of the query (an empty IN still joined it for every row counted).
        return queryset.filter(accepted)
    return queryset.filter(own_policies(access.ministry_ids) | accepted)


class ProgressReportQuerySet(models.QuerySet["ProgressReport"]):
    def visible_to(self, user) -> ProgressReportQuerySet:
        """Secretariat: all. Owning ministry: its own policies' reports. Everyone else who may
        see the policy: accepted reports only."""
        return restrict_to_visible_reports(self, user, lambda ministry_ids: Q(policy__ministry_id__in=ministry_ids))

    def with_overdue(self) -> ProgressReportQuerySet:
        return self.annotate(
            overdue=models.ExpressionWrapper(
                Q(status__in=OPEN_REPORT_STATUSES, due_date__lt=calendar.today()), output_field=models.BooleanField()
            )
        )


class ProgressReport(WorkflowModel):
    TRANSITIONS = {
        ReportStatus.DUE: frozenset({ReportStatus.SUBMITTED}),
        ReportStatus.SUBMITTED: frozenset({ReportStatus.ACCEPTED, ReportStatus.RETURNED}),
        ReportStatus.RETURNED: frozenset({ReportStatus.SUBMITTED}),
    }
    MINISTRY_FIELDS = ("summary", "milestones", "kpis", "risks")
    # ReportAttachment.report's related objects, as a list (council.prefetch).
    attachments_list = listed("attachments")

    schedule = models.ForeignKey(ReportingSchedule, on_delete=models.PROTECT, related_name="reports")
    policy = models.ForeignKey(Policy, verbose_name=_("方針"), on_delete=models.PROTECT, related_name="reports")
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    period = models.PositiveSmallIntegerField(_("期"))
    period_start = models.DateField(_("期間の開始"))
    period_end = models.DateField(_("期間の終了"))
    due_date = models.DateField(_("提出期限"))
    status = models.CharField(_("状態"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.DUE)
    summary = models.TextField(_("概要"), blank=True, max_length=20_000, validators=[MaxLengthValidator(20_000)])
    milestones = models.JSONField(_("マイルストーン"), default=list, blank=True)
    kpis = models.JSONField(_("KPI"), default=list, blank=True)
    risks = models.TextField(_("リスクと課題"), blank=True, max_length=10_000, validators=[MaxLengthValidator(10_000)])
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    decided_at = models.DateTimeField(_("受理・差戻し日時"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("進捗報告")
        verbose_name_plural = _("進捗報告")
        ordering = ["-period_start", "policy_id"]
        constraints = [
            # The beat may create obligations twice: the second insert finds this row.
            models.UniqueConstraint(fields=["schedule", "fiscal_year", "period"], name="report_one_per_period",
                                    violation_error_message=_("この期の報告は既にあります。")),
            models.CheckConstraint(condition=Q(status__in=ReportStatus.values), name="report_status_valid",
                                   violation_error_message=_("状態が正しくありません。")),
        ]
        indexes = [
            models.Index(fields=["policy", "period_start"], name="report_policy_period"),
            models.Index(fields=["status", "due_date"], name="report_status_due"),
            # The lists' order (Meta.ordering): a page is read from the index, not by sorting every report.
            models.Index(fields=["-period_start", "policy"], name="report_period_policy"),
            # Counting the accepted reports of the policies a reader may see reads this index only.
            models.Index(fields=["status", "policy"], name="report_status_policy"),
            # A reader who sees accepted reports only: their page, in the lists' order, from the index
            # (through report_period_policy, PostgreSQL skipped every report not yet accepted).
            models.Index(fields=["status", "-period_start", "policy"], name="report_status_period_policy"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.period_label}"

    def get_absolute_url(self) -> str:
        return reverse("progress:report-detail", kwargs={"pk": self.pk})

    @property
    def period_label(self) -> str:
        return Period(self.fiscal_year, self.period, self.schedule.frequency).label

    @property
    def is_overdue(self) -> bool:
        return self.status in OPEN_REPORT_STATUSES and self.due_date < calendar.today()

    def is_owner(self, user) -> bool:
        return self.policy.ministry_id in access_for(user).ministry_ids

    def may_edit(self, user) -> bool:
        return self.status in OPEN_REPORT_STATUSES and self.is_owner(user)

    def may_transition(self, user, to: str) -> bool:
        if to == ReportStatus.SUBMITTED:
            return self.is_owner(user)
        return access_for(user).is_secretariat

    def check_transition(self, to, by, changes, comment) -> None:
        if to == ReportStatus.SUBMITTED:
            errors = {}
            if not self.summary.strip():
                errors["summary"] = [_("提出するには概要を入力してください。")]
            if not self.milestones:
                errors["milestones"] = [_("提出するにはマイルストーンを1件以上入力してください。")]
            if errors:
                raise ValidationError(errors)
        if to == ReportStatus.RETURNED and not comment.strip():
            raise ValidationError({"comment": _("差し戻す理由をコメントに入力してください。")})

    def apply_transition(self, to, by, changes) -> list[str]:
        if to == ReportStatus.SUBMITTED:
            self.submitted_at = timezone.now()
            return ["submitted_at"]
        self.decided_at = timezone.now()
        return ["decided_at"]

    @property
    def overall_progress(self) -> float | None:
        """The weighted roll-up of the milestones' percent complete (a property: the API reads
        it per row, and DRF inspects the signature of a method source each time it calls one)."""
        return rollup(self.milestones)

    def clean(self) -> None:
        errors = {}
        try:
            self.milestones = clean_milestones(self.milestones)
        except ValidationError as exc:
            errors["milestones"] = exc.messages
        try:
            self.kpis = clean_kpis(self.kpis)
        except ValidationError as exc:
            errors["kpis"] = exc.messages
        if errors:
            raise ValidationError(errors)


def rollup(milestones: list[dict]) -> float | None:
    total_weight = sum(float(m.get("weight", 1)) for m in milestones)
    if not milestones or not total_weight:
        return None
    return round(sum(float(m["percent"]) * float(m.get("weight", 1)) for m in milestones) / total_weight, 1)


def _number(value, field: str, line: int, errors: list, *, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value))
        except (TypeError, ValueError):
            errors.append(_("%(n)s行目：%(f)sは数値で入力してください。") % {"n": line, "f": field})
            return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN / infinity
        errors.append(_("%(n)s行目：%(f)sは数値で入力してください。") % {"n": line, "f": field})
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        errors.append(_("%(n)s行目：%(f)sは%(low)sから%(high)sの範囲です。") % {"n": line, "f": field, "low": low, "high": high})
        return None
    return int(value) if float(value).is_integer() else float(value)


def clean_milestones(rows) -> list[dict]:
    if not isinstance(rows, list):
        raise ValidationError(_("マイルストーンは一覧で入力してください。"))
    cleaned, errors = [], []
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            errors.append(_("%(n)s行目：マイルストーン名を入力してください。") % {"n": line})
            continue
        percent = _number(row.get("percent"), _("進捗率"), line, errors, low=0, high=100)
        weight = _number(row.get("weight", 1), _("重み"), line, errors, low=0, high=100)
        status = row.get("status") or MilestoneStatus.IN_PROGRESS
        if status not in MilestoneStatus.values:
            errors.append(_("%(n)s行目：状態「%(v)s」は選べません。") % {"n": line, "v": status})
        if percent is not None and weight is not None:
            cleaned.append({"name": str(row["name"]).strip()[:200], "status": status, "percent": percent, "weight": weight})
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_kpis(rows) -> list[dict]:
    if not isinstance(rows, list):
        raise ValidationError(_("KPIは一覧で入力してください。"))
    cleaned, errors = [], []
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            errors.append(_("%(n)s行目：KPI名を入力してください。") % {"n": line})
            continue
        target = _number(row.get("target"), _("目標値"), line, errors)
        actual = None if row.get("actual") in (None, "") else _number(row.get("actual"), _("実績値"), line, errors)
        if target is not None:
            cleaned.append({"name": str(row["name"]).strip()[:200], "target": target, "actual": actual,
                            "unit": str(row.get("unit") or "")[:20]})
    if errors:
        raise ValidationError(errors)
    return cleaned


class ReportAttachment(Attachment):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="attachments")

    class Meta(Attachment.Meta):
        verbose_name = _("進捗報告の添付資料")
        verbose_name_plural = _("進捗報告の添付資料")


# --- Adoption ---------------------------------------------------------------------------------------


class AdoptionStatus(models.TextChoices):
    NOT_PLANNED = "not_planned", _("予定なし")
    CONSIDERING = "considering", _("検討中")
    PLANNED = "planned", _("導入予定")
    MIGRATING = "migrating", _("移行中")
    IN_USE = "in_use", _("利用中")
    NOT_APPLICABLE = "not_applicable", _("対象外")


class AdoptionQuerySet(models.QuerySet["Adoption"]):
    def visible_to(self, user) -> AdoptionQuerySet:
        # Adoption of consented policies is what the council's map shows: every signed-in user.
        return within_visible_policies(self, user)


class Adoption(RowLoaded, models.Model):
    policy = models.ForeignKey(Policy, verbose_name=_("方針"), on_delete=models.PROTECT, related_name="adoptions")
    organization = models.ForeignKey(
        Organization, verbose_name=_("地方公共団体"), on_delete=models.PROTECT, related_name="adoptions"
    )
    status = models.CharField(_("導入状況"), max_length=16, choices=AdoptionStatus.choices, default=AdoptionStatus.NOT_PLANNED)
    target_fiscal_year = models.PositiveSmallIntegerField(
        _("導入予定年度"), null=True, blank=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    # A copy of organization.code, for the list's order (団体コード順) from an index: written by
    # database triggers on every insert and on a code's edit (progress/orgcode.py), never here.
    organization_code = models.CharField(_("団体コード"), max_length=32, editable=False, default="")

    objects = AdoptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("導入状況")
        verbose_name_plural = _("導入状況")
        ordering = ["policy_id", "organization_code"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "organization"], name="adoption_one_per_policy_and_government",
                                    violation_error_message=_("この団体の導入状況は既にあります。")),
            models.CheckConstraint(condition=Q(status__in=AdoptionStatus.values), name="adoption_status_valid",
                                   violation_error_message=_("導入状況が正しくありません。")),
            models.CheckConstraint(
                condition=~Q(status=AdoptionStatus.PLANNED) | Q(target_fiscal_year__isnull=False),
                name="adoption_planned_has_year",
                violation_error_message=_("導入予定には導入予定年度が必要です。"),
            ),
        ]
        indexes = [
            models.Index(fields=["policy", "status"], name="adoption_policy_status"),
            # The list's order: any page read from the index.
            models.Index(fields=["policy", "organization_code"], name="adoption_list_order"),
            # `?ordering=code|status|updated_at` (either way, ties by id the same way) across
            # every policy: the page read from an index forwards or backwards, not sorted out
            # of every visible row (StableOrderingFilter).
            models.Index(fields=["organization_code", "id"], name="adoption_code_order"),
            models.Index(fields=["status", "id"], name="adoption_status_order"),
            models.Index(fields=["updated_at", "id"], name="adoption_updated_order"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} / {self.organization}: {self.get_status_display()}"

    def may_change(self, user) -> bool:
        access = access_for(user)
        return self.organization_id in access.local_government_ids or self.policy.ministry_id in access.ministry_ids

    def clean(self) -> None:
        if self.status == AdoptionStatus.PLANNED and not self.target_fiscal_year:
            raise ValidationError({"target_fiscal_year": _("導入予定の場合は導入予定年度を入力してください。")})
        if self.status != AdoptionStatus.PLANNED and self.target_fiscal_year:
            raise ValidationError({"target_fiscal_year": _("導入予定年度は導入予定の場合のみ入力します。")})


class ReportTallyQuerySet(models.QuerySet["ReportTally"]):
    def visible_to(self, user) -> ReportTallyQuerySet:
        """The counts of the reports `user` may see (ProgressReport.objects.visible_to's rule)."""
        return restrict_to_visible_reports(
            self, user, lambda ministry_ids: Q(policy_id__in=Policy.objects.filter(ministry_id__in=ministry_ids).values("pk"))
        )


class ReportTally(RowLoaded, models.Model):
    """How many progress reports each (policy, status) has, kept exact by database triggers on
    progress_progressreport (migration 0010; progress/report_tally.py) in the same transaction
    as the reports. The report list counts from it instead of counting the reports a user may
    see (every accepted report of every published policy, for a municipal official). Plain
    ids, no foreign keys: a counter, written only by the triggers (and `report_tally.rebuild`)."""

    policy_id = models.BigIntegerField()
    status = models.CharField(max_length=16)
    n = models.IntegerField(default=0)

    objects = ReportTallyQuerySet.as_manager()

    class Meta:
        verbose_name = _("進捗報告の件数")
        verbose_name_plural = _("進捗報告の件数")
        constraints = [models.UniqueConstraint(fields=["policy_id", "status"], name="report_tally_key")]
        # A count of accepted reports sums one status's rows of the visible policies from the
        # index alone.
        indexes = [models.Index(fields=["status", "policy_id"], include=["n"], name="report_tally_count")]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.status}: {self.n}"


class AdoptionTally(RowLoaded, models.Model):
    """How many adoption rows each (policy, prefecture, status) has, kept exact by database
    triggers on progress_adoption (migration 0006; progress/tally.py) in the same transaction
    as the rows themselves. The adoption list counts from it instead of counting up to 1.4
    million rows at national scale ×10. The prefecture of a prefecture's own row is itself;
    prefecture 0 (tally.NATIONAL) counts the whole country. Plain ids, no foreign keys: a
    counter, written only by the triggers (and `tally.rebuild`)."""

    prefecture_id = models.BigIntegerField()
    policy_id = models.BigIntegerField()
    status = models.CharField(max_length=16)
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("導入状況の件数")
        verbose_name_plural = _("導入状況の件数")
        constraints = [
            models.UniqueConstraint(fields=["prefecture_id", "policy_id", "status"], name="adoption_tally_key"),
        ]
        indexes = [
            models.Index(fields=["policy_id"], name="adoption_tally_policy"),
            # The adoption list's count sums the national rows of the visible policies from the
            # index alone.
            models.Index(fields=["prefecture_id", "policy_id"], include=["n"], name="adoption_tally_count"),
        ]


class AdoptionChange(RowLoaded, models.Model):
    class Source(models.TextChoices):
        WEB = "web", _("画面")
        API = "api", _("API")
        IMPORT = "import", _("一括取込")
        SYSTEM = "system", _("システム")

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    target_fiscal_year = models.PositiveSmallIntegerField(null=True, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=8, choices=Source.choices)

    class Meta:
        verbose_name = _("導入状況の変更履歴")
        verbose_name_plural = _("導入状況の変更履歴")
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["adoption", "changed_at"], name="adoption_change_at")]

    def __str__(self) -> str:
        return f"{self.adoption_id}: {self.from_status} → {self.to_status}"


# --- Usage reports ------------------------------------------------------------------------------------


class UsageLayer(models.TextChoices):
    DPI = "dpi", _("DPI（デジタル公共インフラ）")
    COMMON_SAAS = "common_saas", _("共通SaaS")
    INFRASTRUCTURE = "infrastructure", _("物理／仮想基盤")


class UsageReportQuerySet(models.QuerySet["UsageReport"]):
    def visible_to(self, user) -> UsageReportQuerySet:
        # Shared with every local government: that is what usage reports are for.
        if not user.is_authenticated:
            return self.none()
        return self


class UsageReport(RowLoaded, models.Model):
    """利用状況: a national system's usage in a period, reported by the ministry running it."""

    reporter = models.ForeignKey(Organization, verbose_name=_("報告団体"), on_delete=models.PROTECT, related_name="usage_reports")
    system_name = models.CharField(_("システム・基盤の名称"), max_length=200)
    layer = models.CharField(_("区分"), max_length=16, choices=UsageLayer.choices)
    period_start = models.DateField(_("対象期間の開始"))
    period_end = models.DateField(_("対象期間の終了"))
    metrics = models.JSONField(_("指標"), default=list)
    note = models.TextField(_("備考"), blank=True, max_length=4000, validators=[MaxLengthValidator(4000)])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    objects = UsageReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("利用状況報告")
        verbose_name_plural = _("利用状況報告")
        ordering = ["-period_end", "system_name"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="usage_period_order",
                                   violation_error_message=_("対象期間の終了は開始以降にしてください。")),
        ]

    def __str__(self) -> str:
        return f"{self.system_name} {self.period_start}〜{self.period_end}"

    def clean(self) -> None:
        errors = {}
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = [_("対象期間の終了は開始以降にしてください。")]
        try:
            self.metrics = clean_metrics(self.metrics)
        except ValidationError as exc:
            errors["metrics"] = exc.messages
        if errors:
            raise ValidationError(errors)


def clean_metrics(rows) -> list[dict]:
    if not isinstance(rows, list) or not rows:
        raise ValidationError(_("指標を1件以上入力してください。"))
    cleaned, errors = [], []
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            errors.append(_("%(n)s行目：指標名を入力してください。") % {"n": line})
            continue
        value = _number(row.get("value"), _("値"), line, errors)
        if value is not None:
            cleaned.append({"name": str(row["name"]).strip()[:200], "value": value, "unit": str(row.get("unit") or "")[:20]})
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- Measure requests -----------------------------------------------------------------------------------


class MeasureStatus(models.TextChoices):
    OPEN = "open", _("依頼中")
    RESPONDED = "responded", _("回答済み")
    CLOSED = "closed", _("完了")


class MeasureRequestQuerySet(models.QuerySet["MeasureRequest"]):
    def visible_to(self, user) -> MeasureRequestQuerySet:
        """The council's requests are for council members (secretariat, ministries, associations)."""
        if not user.is_authenticated or not is_council_member(user):
            return self.none()
        return self

    def with_overdue(self) -> MeasureRequestQuerySet:
        return self.annotate(
            overdue=models.ExpressionWrapper(
                Q(status=MeasureStatus.OPEN, due_date__lt=calendar.today()), output_field=models.BooleanField()
            )
        )


class MeasureRequest(WorkflowModel):
    """措置依頼: the council asks a ministry to take measures on a policy."""

    TRANSITIONS = {
        MeasureStatus.OPEN: frozenset({MeasureStatus.RESPONDED}),
        MeasureStatus.RESPONDED: frozenset({MeasureStatus.CLOSED}),
    }

    policy = models.ForeignKey(Policy, verbose_name=_("方針"), on_delete=models.PROTECT, related_name="measure_requests")
    ministry = models.ForeignKey(Organization, verbose_name=_("依頼先の府省庁"), on_delete=models.PROTECT, related_name="measure_requests")
    report = models.ForeignKey(
        ProgressReport, verbose_name=_("契機となった進捗報告"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="measure_requests",
    )
    request = models.TextField(_("依頼内容"), max_length=10_000, validators=[MaxLengthValidator(10_000)])
    due_date = models.DateField(_("回答期限"))
    status = models.CharField(_("状態"), max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.OPEN)
    response = models.TextField(_("回答"), blank=True, max_length=10_000, validators=[MaxLengthValidator(10_000)])
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    responded_at = models.DateTimeField(_("回答日時"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeasureRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("措置依頼")
        verbose_name_plural = _("措置依頼")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MeasureStatus.values), name="measure_status_valid",
                                   violation_error_message=_("状態が正しくありません。")),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="measure_status_due"),
            models.Index(fields=["-requested_at", "-id"], name="measure_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.policy}：{self.request[:30]}"

    def get_absolute_url(self) -> str:
        return reverse("progress:measure-detail", kwargs={"pk": self.pk})

    @property
    def is_overdue(self) -> bool:
        return self.status == MeasureStatus.OPEN and self.due_date < calendar.today()

    def is_addressee(self, user) -> bool:
        return self.ministry_id in access_for(user).ministry_ids

    def may_respond(self, user) -> bool:
        return self.status == MeasureStatus.OPEN and self.is_addressee(user)

    def may_transition(self, user, to: str) -> bool:
        if to == MeasureStatus.RESPONDED:
            return self.is_addressee(user)
        return access_for(user).is_secretariat

    def check_transition(self, to, by, changes, comment) -> None:
        if to == MeasureStatus.RESPONDED and not (changes.get("response") or self.response).strip():
            raise ValidationError({"response": _("回答を入力してください。")})

    def apply_transition(self, to, by, changes) -> list[str]:
        fields = []
        if to == MeasureStatus.RESPONDED:
            if changes.get("response"):
                self.response = changes["response"]
                fields.append("response")
            self.responded_at = timezone.now()
            fields.append("responded_at")
        elif to == MeasureStatus.CLOSED:
            self.closed_at = timezone.now()
            fields.append("closed_at")
        return fields


# --- Reminders ----------------------------------------------------------------------------------------


class Reminder(RowLoaded, models.Model):
    """One reminder e-mail, keyed by (object, due date, kind) so it exists — and is sent — once.

    The row is inserted before anything is queued; a worker claims it with a conditional
    update before sending and marks it sent afterwards. The daily reconcile re-queues rows
    never claimed, or claimed by a worker that died (claim older than the lease)."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=24)
    subject_type = models.CharField(max_length=40)
    subject_id = models.PositiveBigIntegerField()
    due_date = models.DateField()
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("リマインダー")
        verbose_name_plural = _("リマインダー")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "claimed_at"], name="reminder_pending")]

    def __str__(self) -> str:
        return self.key


# --- Rendered documents ------------------------------------------------------------------------------


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("作成待ち")
    RENDERING = "rendering", _("作成中")
    DONE = "done", _("作成済み")
    FAILED = "failed", _("失敗")


class ProgressDocument(RowLoaded, models.Model):
    """A PDF of one progress report, or the council pack of a quarter (every policy's report
    whose period ends in it, with KPIs and adoption figures). Rendered by a Celery task with
    a time limit; its status is shown on the pages."""

    class Kind(models.TextChoices):
        REPORT = "report", _("進捗報告")
        PACK = "pack", _("協議会資料（四半期）")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, null=True, blank=True, related_name="documents")
    fiscal_year = models.PositiveSmallIntegerField(null=True, blank=True)
    quarter = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)])
    # The language of the PDF's labels (what the ministry wrote stays as written).
    language = models.CharField(_("言語"), max_length=8, default="ja")
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    file = models.FileField(upload_to="pdf/progress/%Y/", blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("進捗関係のPDF")
        verbose_name_plural = _("進捗関係のPDF")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="report") & Q(report__isnull=False)) | (Q(kind="pack") & Q(fiscal_year__isnull=False) & Q(quarter__isnull=False)),
                name="progress_document_subject",
            ),
            # One rendering at a time of the same PDF: two simultaneous requests get one row
            # (progress.pdf.request_document inserts, and on this constraint reuses the other's).
            models.UniqueConstraint(
                fields=["report", "language"], condition=Q(kind="report", status__in=["pending", "rendering"]),
                name="progress_document_one_active_report",
            ),
            models.UniqueConstraint(
                fields=["fiscal_year", "quarter", "language"], condition=Q(kind="pack", status__in=["pending", "rendering"]),
                name="progress_document_one_active_pack",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.REPORT:
            return f"{self.report} PDF"
        return f"{self.fiscal_year}年度 第{self.quarter}四半期 協議会資料"
