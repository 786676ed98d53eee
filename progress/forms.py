"""Forms and list filters of the stage 4 pages (progress reports, adoption, usage, measures).

As in candidates.forms: forms only read and check what the user typed; every write goes
through progress.actions, whose ValidationErrors come back with `add_action_errors` (or,
for the row tables, `RowFormSet.add_error`). No form here calls `save()`.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import django_filters
from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from candidates.forms import MultipleFileField, TransitionForm
from council import calendar
from policies.models import Policy, PolicyStatus
from progress.models import (
    AdoptionStatus,
    Frequency,
    MeasureRequest,
    MeasureStatus,
    MilestoneStatus,
    ProgressReport,
    ReportingSchedule,
    ReportStatus,
    UsageLayer,
    UsageReport,
)
from tenants.models import Organization, OrganizationKind

# --- Numbers as people type them ---------------------------------------------------------------


class NumberField(forms.FloatField):
    """A number typed in a text box: full-width digits and thousands separators are
    accepted (「１，７４１」 is 1741), so a pasted Excel figure is not refused for its form."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("error_messages", {"invalid": _("数値で入力してください。")})
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        # No min/max/step attributes (FloatField adds them for number inputs): the page
        # checks the range itself and says so next to the field.
        return {"inputmode": "decimal", "autocomplete": "off"}

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).replace(",", "").replace("−", "-").strip()
        number = super().to_python(value)
        if number is not None and number.is_integer():
            return int(number)
        return number


# --- Row tables (milestones, KPIs, usage metrics) -------------------------------------------------


class RowForm(forms.Form):
    """One row of a table of rows. Every field is optional at field level: a row left wholly
    blank is skipped (that is how a row is removed), and a row with anything in it needs
    its name (checked in `clean`)."""

    NAME_FIELD = "name"
    NAME_REQUIRED = _("名称を入力してください。")
    # Fields whose value alone does not make a row "filled in" (a select always has one).
    DEFAULTED = frozenset()

    def is_blank(self) -> bool:
        """Nothing typed in the row (judged on what was typed, valid or not)."""
        return not any(
            str(self[name].data or "").strip() for name in self.fields if name not in self.DEFAULTED
        )

    def clean(self):
        data = super().clean()
        if not self.is_blank() and not (data.get(self.NAME_FIELD) or "").strip() and self.NAME_FIELD not in self.errors:
            self.add_error(self.NAME_FIELD, self.NAME_REQUIRED)
        return data


class RowFormSet(BaseFormSet):
    """A table of RowForms; `rows()` is what the action receives: the filled rows in order."""

    def rows(self) -> list[dict]:
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or form.is_blank():
                continue
            rows.append(dict(data))
        return rows

    def add_error(self, messages: list[str]) -> None:
        """An action's error about the table as a whole, shown above the table."""
        self.non_form_errors()  # makes sure the formset has been cleaned
        self._non_form_errors.extend(messages)


class MilestoneForm(RowForm):
    DEFAULTED = frozenset({"status"})
    NAME_REQUIRED = _("マイルストーン名を入力してください。")

    name = forms.CharField(label=_("マイルストーン名"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("状態"), choices=MilestoneStatus.choices, initial=MilestoneStatus.IN_PROGRESS)
    percent = NumberField(label=_("進捗率（%）"), required=False, min_value=0, max_value=100)
    weight = NumberField(label=_("重み"), required=False, min_value=0, max_value=100)

    def clean(self):
        data = super().clean()
        if not self.is_blank():
            if data.get("percent") is None and "percent" not in self.errors:
                self.add_error("percent", _("進捗率を0から100の数値で入力してください。"))
            if data.get("weight") is None and "weight" not in self.errors:
                data["weight"] = 1  # blank weight: every milestone counts the same
        return data


class KpiForm(RowForm):
    NAME_REQUIRED = _("KPI名を入力してください。")

    name = forms.CharField(label=_("KPI名"), max_length=200, required=False)
    target = NumberField(label=_("目標値"), required=False)
    actual = NumberField(label=_("実績値"), required=False)
    unit = forms.CharField(label=_("単位"), max_length=20, required=False)

    def clean(self):
        data = super().clean()
        if not self.is_blank() and data.get("target") is None and "target" not in self.errors:
            self.add_error("target", _("目標値を数値で入力してください。"))
        return data


class MetricForm(RowForm):
    NAME_REQUIRED = _("指標名を入力してください。")

    name = forms.CharField(label=_("指標名"), max_length=200, required=False)
    value = NumberField(label=_("値"), required=False)
    unit = forms.CharField(label=_("単位"), max_length=20, required=False)

    def clean(self):
        data = super().clean()
        if not self.is_blank() and data.get("value") is None and "value" not in self.errors:
            self.add_error("value", _("値を数値で入力してください。"))
        return data


MilestoneFormSet = formset_factory(MilestoneForm, formset=RowFormSet, extra=2, max_num=50, absolute_max=50, validate_max=True)
KpiFormSet = formset_factory(KpiForm, formset=RowFormSet, extra=2, max_num=50, absolute_max=50, validate_max=True)
MetricFormSet = formset_factory(MetricForm, formset=RowFormSet, extra=3, max_num=30, absolute_max=30, validate_max=True)


def row_initial(rows: list[dict], fields: tuple[str, ...]) -> list[dict]:
    return [{name: row.get(name) for name in fields} for row in rows or []]


# --- Progress reports ---------------------------------------------------------------------------


class ReportForm(forms.Form):
    """The owning ministry's part of a report besides the two tables."""

    summary = forms.CharField(
        label=ProgressReport._meta.get_field("summary").verbose_name,
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("この期間に進んだこと、遅れていることを記載してください（20,000字まで）。"),
    )
    risks = forms.CharField(
        label=ProgressReport._meta.get_field("risks").verbose_name,
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("進捗に影響するリスクや課題と、その対応（10,000字まで）。"),
    )
    attachments = MultipleFileField(label=_("添付資料"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["summary"].required_to_submit = True


class ReportTransitionForm(TransitionForm):
    comment = forms.CharField(
        label=_("コメント（差し戻す場合は理由）"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状態"), choices=ReportStatus.choices, empty_label=_("すべて"))
    policy = django_filters.ModelChoiceFilter(label=_("方針"), queryset=Policy.objects.none(), empty_label=_("すべて"))
    fiscal_year = django_filters.NumberFilter(label=_("年度"), min_value=2000, max_value=2100)
    overdue = django_filters.BooleanFilter(label=_("提出期限超過"), method="filter_overdue")

    class Meta:
        model = ProgressReport
        fields = ["status", "policy", "fiscal_year"]

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        super().__init__(data, queryset, **kwargs)
        # Only policies with a schedule the user may see: nothing else has reports.
        self.filters["policy"].queryset = (
            Policy.objects.visible_to(user).filter(schedule__isnull=False).order_by("title")
        )
        self.form.fields["fiscal_year"].widget.attrs.update({"inputmode": "numeric"})
        self.form.fields["overdue"].widget.choices = [
            ("unknown", _("すべて")),
            ("true", _("期限を過ぎたもののみ")),
            ("false", _("期限内のもののみ")),
        ]

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue=value)


# --- Schedules ------------------------------------------------------------------------------------


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(
        label=ReportingSchedule._meta.get_field("frequency").verbose_name,
        choices=Frequency.choices,
        initial=Frequency.QUARTERLY,
        widget=forms.RadioSelect,
        help_text=_("期間は年度（4月〜翌年3月）で区切ります。"),
        error_messages={"required": _("報告の頻度を選んでください。")},
    )
    due_days_after_period = forms.IntegerField(
        label=ReportingSchedule._meta.get_field("due_days_after_period").verbose_name,
        min_value=0,
        max_value=180,
        initial=30,
        help_text=_("0〜180日。期限が土日・祝日・年末年始にあたる場合は翌開庁日になります。"),
        error_messages={"required": _("日数を入力してください。"), "invalid": _("日数は整数で入力してください。")},
    )


# --- Adoption ---------------------------------------------------------------------------------------


class AdoptionForm(forms.Form):
    status = forms.ChoiceField(label=_("導入状況"), choices=AdoptionStatus.choices)
    target_fiscal_year = forms.IntegerField(
        label=_("導入予定年度"),
        required=False,
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("「導入予定」の場合に必要です（西暦の年度。例：2028）。それ以外の状況では空欄にしてください。"),
        error_messages={"invalid": _("年度は西暦の数字で入力してください（例：2028）。")},
    )



class AdoptionImportForm(forms.Form):
    file = forms.FileField(
        label=_("取り込むファイル"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        help_text=_("CSV（UTF-8 または Shift_JIS）または XLSX。1行目は見出しで code,status,target_fiscal_year の3列。10MBまで。"),
        error_messages={"required": _("取り込むファイルを選んでください。")},
    )


class AdoptionFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("導入状況"), choices=[("", _("すべて")), *AdoptionStatus.choices], required=False)


# --- Usage reports ---------------------------------------------------------------------------------


def _usage_label(name: str) -> str:
    return UsageReport._meta.get_field(name).verbose_name


def _date_field(name: str) -> forms.DateField:
    return forms.DateField(
        label=_usage_label(name),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("日付を入力してください。"), "invalid": _("日付を正しく入力してください。")},
    )


class UsageReportForm(forms.Form):
    reporter = forms.ModelChoiceField(label=_usage_label("reporter"), queryset=Organization.objects.none(), empty_label=None)
    system_name = forms.CharField(
        label=_usage_label("system_name"), max_length=200, help_text=_("例：公的個人認証サービス"),
        error_messages={"required": _("名称を入力してください。")},
    )
    layer = forms.ChoiceField(
        label=_usage_label("layer"), choices=[("", _("選択してください")), *UsageLayer.choices],
        error_messages={"required": _("区分を選んでください。")},
    )
    period_start = _date_field("period_start")
    period_end = _date_field("period_end")
    note = forms.CharField(
        label=_usage_label("note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("4,000字まで。"),
    )

    def __init__(self, *args, reporters, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reporter"].queryset = reporters
        if len(reporters) == 1:
            self.fields["reporter"].help_text = _("所属団体として報告します。")

    def changes(self) -> dict:
        return dict(self.cleaned_data)


class UsageFilter(django_filters.FilterSet):
    layer = django_filters.ChoiceFilter(label=_("区分"), choices=UsageLayer.choices, empty_label=_("すべて"))
    reporter = django_filters.ModelChoiceFilter(
        label=_("報告団体"),
        queryset=Organization.objects.filter(kind__in=[OrganizationKind.SECRETARIAT, OrganizationKind.MINISTRY]).order_by("pk"),
        empty_label=_("すべて"),
    )
    q = django_filters.CharFilter(label=_("システム・基盤の名称"), field_name="system_name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = UsageReport
        fields = ["layer", "reporter"]


# --- Measure requests ----------------------------------------------------------------------------


class MeasureRequestForm(forms.Form):
    policy = forms.ModelChoiceField(
        label=_("方針"),
        queryset=Policy.objects.filter(status=PolicyStatus.CONSENTED).select_related("ministry").order_by("title"),
        empty_label=_("選択してください"),
        help_text=_("同意済みの共通化推進方針から選びます。"),
    )
    ministry = forms.ModelChoiceField(
        label=_("依頼先の府省庁"),
        queryset=Organization.objects.filter(kind=OrganizationKind.MINISTRY).order_by("pk"),
        required=False,
        empty_label=_("方針の所管府省庁"),
        help_text=_("空欄の場合は、方針を所管する府省庁に依頼します。"),
    )
    report = forms.ModelChoiceField(
        queryset=ProgressReport.objects.all(), required=False, widget=forms.HiddenInput
    )
    request = forms.CharField(
        label=_("依頼内容"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("講じてほしい措置と、その理由を記載してください（10,000字まで）。"),
        error_messages={"required": _("依頼内容を入力してください。")},
    )
    due_date = forms.DateField(
        label=_("回答期限"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("明日以降の日付。土日・祝日・年末年始の場合は翌開庁日になります。"),
        error_messages={"required": _("回答期限を入力してください。"), "invalid": _("日付を正しく入力してください。")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["due_date"].initial = calendar.next_business_day(calendar.today() + timedelta(days=30))

    def changes(self) -> dict:
        return dict(self.cleaned_data)


class MeasureTransitionForm(forms.Form):
    to = forms.CharField(max_length=32)
    response = forms.CharField(
        label=_("回答の内容"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("講じた措置、または講じる予定の措置を記載してください（10,000字まで）。"),
    )
    comment = forms.CharField(label=_("コメント"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class MeasureFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状態"), choices=MeasureStatus.choices, empty_label=_("すべて"))
    ministry = django_filters.ModelChoiceFilter(
        label=_("依頼先の府省庁"),
        queryset=Organization.objects.filter(kind=OrganizationKind.MINISTRY).order_by("pk"),
        empty_label=_("すべて"),
    )
    policy = django_filters.ModelChoiceFilter(
        label=_("方針"),
        queryset=lambda request: Policy.objects.filter(measure_requests__isnull=False).distinct().order_by("title"),
        empty_label=_("すべて"),
    )
    overdue = django_filters.BooleanFilter(label=_("回答期限超過"), method="filter_overdue")

    class Meta:
        model = MeasureRequest
        fields = ["status", "ministry", "policy"]

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.form.fields["overdue"].widget.choices = [
            ("unknown", _("すべて")),
            ("true", _("期限を過ぎたもののみ")),
            ("false", _("期限内のもののみ")),
        ]

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue=value)
