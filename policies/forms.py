"""Forms of the policy and consent pages (stage 3).

As in candidates.forms: forms read and check what the user typed; every write goes through
policies.actions, whose ValidationErrors are put back next to the fields they name. The
rules themselves (required sections, the consent rule, comments required with an
objection…) stay in the actions and models; a form checks only the shape of the input.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms import formset_factory
from django.forms.utils import ErrorList
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from policies.models import Choice, CostItem, Layer, Outcome, Payer, Policy, PolicyStatus, PolicyVersion, RoundStatus
from tenants.models import Organization, OrganizationKind

# The principle of each layer (基本方針 2(2)), shown above its rows of the cost grid.
LAYER_PRINCIPLES = {
    Layer.COMMON_SAAS: _(
        "原則として、利用料は地方公共団体が負担し、調査・早期の実証・標準仕様の作成は国が負担します。"
        "国は期限を設けて初期経費を支援できます。"
    ),
    Layer.DPI: _("原則として、国が主導して開発・運用・保守の費用を負担します。"),
    Layer.INFRASTRUCTURE: _("原則として、管理に責任を持つ者が負担し、利用者は運用費用を公平に分担します。"),
}
SCHEDULE_EXTRA_ROWS = 3


def ministries():
    return Organization.objects.filter(kind=OrganizationKind.MINISTRY).order_by("pk")


# --- Lists ------------------------------------------------------------------------------------


class PolicyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状態"), choices=PolicyStatus.choices, empty_label=_("すべて"))
    ministry = django_filters.ModelChoiceFilter(label=_("所管府省庁"), queryset=ministries(), empty_label=_("すべて"))

    class Meta:
        model = Policy
        fields = ["status", "ministry"]


class ConsentStatusFilter(django_filters.FilterSet):
    """Filters the policies put to consent by their latest round (annotated by the view)."""

    status = django_filters.ChoiceFilter(
        label=_("同意手続の状態"), choices=RoundStatus.choices, empty_label=_("すべて"), field_name="latest_round_status"
    )
    outcome = django_filters.ChoiceFilter(
        label=_("結果"), choices=Outcome.choices, empty_label=_("すべて"), field_name="latest_round_outcome"
    )

    class Meta:
        model = Policy
        fields: list[str] = []


# --- Drafting ------------------------------------------------------------------------------------


class PolicyCreateForm(forms.Form):
    title = forms.CharField(
        label=Policy._meta.get_field("title").verbose_name,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "policy-title-input"}),
        help_text=_("例：児童手当の認定・支給事務に関する共通化推進方針（200字まで）"),
        error_messages={"required": _("方針名を入力してください。")},
    )


class WithdrawForm(forms.Form):
    comment = forms.CharField(
        label=_("取下げの理由"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("履歴に残り、協議会の構成員が読みます。"),
        error_messages={"required": _("取下げの理由を入力してください。")},
    )


def payer_field_name(layer: str, item: str) -> str:
    return f"payer__{layer}__{item}"


def until_field_name(layer: str) -> str:
    return f"until__{layer}"


class VersionForm(forms.Form):
    """The body and the cost-sharing grid of a draft: one payer per (layer, item), and for
    initial support the fiscal year until which the state pays."""

    body = forms.CharField(
        label=PolicyVersion._meta.get_field("body").verbose_name,
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "class": "input--wide policy-body-input", "spellcheck": "false"}),
        help_text=_(
            "Markdown で記載します。節ごとに「## 見出し」を1行で書き、その下に内容を書いてください。"
            "提出には、目的と範囲・対象システムと業務・スケジュールとマイルストーン・移行の考え方・KPI の5つの節が必要です。"
        ),
        error_messages={"required": _("本文を入力してください。")},
    )
    revision = forms.IntegerField(label=_("改訂番号"), widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        payer_choices = [("", _("該当なし")), *Payer.choices]
        for layer in Layer:
            for item in CostItem:
                self.fields[payer_field_name(layer, item)] = forms.ChoiceField(
                    label=_("%(layer)s・%(item)s の負担者") % {"layer": layer.label, "item": item.label},
                    choices=payer_choices,
                    required=False,
                )
            self.fields[until_field_name(layer)] = forms.IntegerField(
                label=_("%(layer)s・初期経費の国による支援の期限（年度）") % {"layer": layer.label},
                min_value=2000,
                max_value=2100,
                required=False,
                widget=forms.NumberInput(attrs={"min": "2000", "max": "2100", "inputmode": "numeric"}),
                error_messages={
                    "invalid": _("年度を西暦の4桁（例：2030）で入力してください。"),
                    "min_value": _("年度は2000から2100の間で入力してください。"),
                    "max_value": _("年度は2000から2100の間で入力してください。"),
                },
            )

    @staticmethod
    def initial_from(version: PolicyVersion) -> dict:
        initial: dict = {"body": version.body, "revision": version.revision}
        for row in version.cost_sharing:
            initial[payer_field_name(row["layer"], row["item"])] = row["payer"]
            if row.get("until"):
                initial[until_field_name(row["layer"])] = row["until"]
        return initial

    def clean_body(self) -> str:
        # Browsers send CRLF; the stored Markdown (and so its hash and diff) uses LF.
        return self.cleaned_data["body"].replace("\r\n", "\n")

    def clean(self) -> dict:
        cleaned = super().clean()
        for layer in Layer:
            until = cleaned.get(until_field_name(layer))
            if until is not None and not cleaned.get(payer_field_name(layer, CostItem.INITIAL_SUPPORT)):
                self.add_error(
                    until_field_name(layer), _("期限を指定するときは、初期経費の支援の負担者を選んでください。")
                )
        return cleaned

    def cost_grid(self) -> list[dict]:
        """The grid's rows grouped by layer, as the template lays them out."""
        return [
            {
                "layer": layer,
                "principle": LAYER_PRINCIPLES[layer],
                "rows": [
                    {
                        "item": item,
                        "payer": self[payer_field_name(layer, item)],
                        "until": self[until_field_name(layer)] if item == CostItem.INITIAL_SUPPORT else None,
                    }
                    for item in CostItem
                ],
            }
            for layer in Layer
        ]

    def cost_sharing(self) -> list[dict]:
        rows = []
        for layer in Layer:
            for item in CostItem:
                payer = self.cleaned_data.get(payer_field_name(layer, item))
                if not payer:
                    continue
                row = {"layer": str(layer), "item": str(item), "payer": payer}
                until = self.cleaned_data.get(until_field_name(layer)) if item == CostItem.INITIAL_SUPPORT else None
                if until is not None:
                    row["until"] = until
                rows.append(row)
        return rows


class ScheduleRowForm(forms.Form):
    milestone = forms.CharField(label=_("マイルストーン"), max_length=200, required=False)
    target_date = forms.DateField(
        label=_("目標日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("日付を正しく入力してください。")},
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        milestone, target = cleaned.get("milestone"), cleaned.get("target_date")
        if milestone and target is None and "target_date" not in self.errors:
            self.add_error("target_date", _("目標日を入力してください。"))
        if target is not None and not milestone:
            self.add_error("milestone", _("マイルストーン名を入力してください。"))
        return cleaned


ScheduleFormSet = formset_factory(ScheduleRowForm, extra=SCHEDULE_EXTRA_ROWS, max_num=100, absolute_max=200)


class VersionEditor:
    """The edit page's form and schedule rows, validated and reported together."""

    prefix = "schedule"

    def __init__(self, version: PolicyVersion, data=None) -> None:
        self.version = version
        self.data = data
        self.form = VersionForm(data, initial=VersionForm.initial_from(version))
        initial_rows = [{"milestone": r["milestone"], "target_date": r["target_date"]} for r in version.schedule]
        self.schedule = ScheduleFormSet(data, initial=None if data is not None else initial_rows, prefix=self.prefix)
        # Errors an action reports on the table or the schedule as a whole.
        self.cost_errors = ErrorList()
        self.schedule_errors = ErrorList()

    @classmethod
    def data_from(cls, version: PolicyVersion) -> dict:
        """The stored draft as the edit form would post it (to show a refused submission)."""
        data = {f"{cls.prefix}-TOTAL_FORMS": str(len(version.schedule) + SCHEDULE_EXTRA_ROWS),
                f"{cls.prefix}-INITIAL_FORMS": str(len(version.schedule))}
        for name, value in VersionForm.initial_from(version).items():
            data[name] = str(value)
        for index, row in enumerate(version.schedule):
            data[f"{cls.prefix}-{index}-milestone"] = row["milestone"]
            data[f"{cls.prefix}-{index}-target_date"] = row["target_date"]
        return data

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()
        return self.schedule.is_valid() and form_valid

    @property
    def revision(self) -> int:
        return self.form.cleaned_data["revision"]

    def set_revision(self, revision: int) -> None:
        """After a save (or to rebase on someone else's save) the next post carries this one."""
        self.data["revision"] = str(revision)

    def changes(self) -> dict:
        rows = [f.cleaned_data for f in self.schedule.forms if f.cleaned_data.get("milestone")]
        return {
            "body": self.form.cleaned_data["body"],
            "cost_sharing": self.form.cost_sharing(),
            "schedule": [{"milestone": r["milestone"], "target_date": r["target_date"].isoformat()} for r in rows],
        }

    def add_action_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.form.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            messages = [m for e in errors for m in e.messages]
            if name == "cost_sharing":
                self.cost_errors.extend(messages)
            elif name == "schedule":
                self.schedule_errors.extend(messages)
            elif name in self.form.fields:
                self.form.add_error(name, messages)
            else:
                self.form.add_error(None, messages if name == NON_FIELD_ERRORS else [f"{name}：{m}" for m in messages])

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors or self.cost_errors or self.schedule_errors
            or self.schedule.non_form_errors() or any(f.errors for f in self.schedule.forms)
        )


class CommentForm(forms.Form):
    section = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)
    body = forms.CharField(
        label=_("コメント"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("コメントを入力してください。")},
    )


# --- Consent --------------------------------------------------------------------------------------


def default_closing_time():
    """Two weeks from today at 17:00 Tokyo time: the usual deadline of a written consent."""
    local = timezone.localtime() + timedelta(days=14)
    return local.replace(hour=17, minute=0, second=0, microsecond=0)


class RoundForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("締切日時"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=_("日本時間。締切を過ぎると自動で締め切られ、その時点の意思表示で結果が決まります。"),
        error_messages={"required": _("締切日時を入力してください。"), "invalid": _("日時を正しく入力してください。")},
    )
    extra_voters = forms.ModelMultipleChoiceField(
        label=_("同意権を付与する事務局の機関"),
        queryset=Organization.objects.filter(kind=OrganizationKind.SECRETARIAT).order_by("pk"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("地方三団体（全国知事会・全国市長会・全国町村会）は常に同意権者です。必要な場合に限り、事務局の機関にも同意権を付与します。"),
    )


class BallotForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("投票する団体"),
        queryset=Organization.objects.none(),
        empty_label=_("選択してください"),
        error_messages={"required": _("どの団体として投票するか選んでください。")},
    )
    choice = forms.ChoiceField(
        label=_("意思表示"),
        choices=Choice.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("意思表示を選んでください。")},
    )
    comment = forms.CharField(
        label=_("条件・理由"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("条件付き同意では条件を、異議・棄権では理由を必ず記載してください（4,000字まで）。"),
    )

    def __init__(self, *args, organizations=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if len(organizations) > 1:
            self.fields["organization"].queryset = Organization.objects.filter(pk__in=organizations).order_by("code")
        else:
            # One voting body: it is the only possible answer, so the question is not asked.
            del self.fields["organization"]

    def ballot(self) -> dict:
        return {
            "choice": self.cleaned_data["choice"],
            "comment": self.cleaned_data["comment"],
            "organization": self.cleaned_data.get("organization"),
        }

