"""Forms of the candidate and feasibility-study pages.

Forms only read and check what the user typed; every write goes through candidates.actions,
whose ValidationErrors are put back on the form with `add_action_errors`. No form here
calls `save()`.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.forms.models import ModelChoiceIterator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from candidates.models import (
    BusinessArea,
    Candidate,
    Conclusion,
    CriteriaWeights,
    Criterion,
    FeasibilityStudy,
    Track,
    Viewpoint,
)
from council.uploads import ALLOWED_LABEL
from tenants.models import Organization, OrganizationKind

UPLOAD_ACCEPT = ".pdf,.xlsx,.docx,.csv,.png,.jpg,.jpeg"
# Lazy: the help text is chosen when a form renders, in the reader's language.
UPLOAD_HELP = format_lazy(_("{allowed}（1ファイル20MBまで）。複数のファイルを選べます。"), allowed=ALLOWED_LABEL)


def add_action_errors(form: forms.Form, error: ValidationError, labels: dict[str, str] | None = None) -> None:
    """Show an action's ValidationError on `form`: next to the field it names when the form
    has that field, otherwise at the top of the form, prefixed with the field's name."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        elif name == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:
            label = (labels or {}).get(name, name)
            form.add_error(None, [f"{label}：{message}" for e in errors for message in e.messages])


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the file checks themselves are council.uploads'."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": UPLOAD_ACCEPT}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", UPLOAD_HELP)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [f for f in (single(d, initial) for d in data) if f]
        cleaned = single(data, initial)
        return [cleaned] if cleaned else []


def ministries():
    return Organization.objects.filter(kind=OrganizationKind.MINISTRY).order_by("pk")


class GroupedOrganizationIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        labels = dict(OrganizationKind.choices)
        groups: dict[str, list] = {}
        for org in self.queryset:
            groups.setdefault(org.kind, []).append(self.choice(org))
        for kind, options in groups.items():
            yield (labels[kind], options)


class GroupedOrganizationChoiceField(forms.ModelChoiceField):
    """Organizations grouped by kind (事務局, 府省庁, 地方三団体, 都道府県) in <optgroup>s."""

    iterator = GroupedOrganizationIterator


class BusinessAreaChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: BusinessArea) -> str:
        return _("%(name)s（%(ministry)s）") % {"name": obj.name, "ministry": obj.owning_ministry.name}


class CandidateForm(forms.ModelForm):
    """Propose or edit a candidate (the secretariat)."""

    owning_ministry = forms.ModelChoiceField(
        label=Candidate._meta.get_field("owning_ministry").verbose_name,
        queryset=ministries(),
        empty_label=_("選択してください"),
        help_text=_("候補となる制度・システムを所管し、実現可能性調査を担う府省庁です。"),
    )
    business_areas = BusinessAreaChoiceField(
        label=Candidate._meta.get_field("business_areas").verbose_name,
        queryset=BusinessArea.objects.select_related("owning_ministry"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("標準化対象20業務のうち、この候補に関係するものをすべて選んでください。"),
    )
    proposed_by = GroupedOrganizationChoiceField(
        label=Candidate._meta.get_field("proposed_by").verbose_name,
        # Municipalities (1,741) would make an unusable list; they propose through their
        # prefecture or association.
        queryset=Organization.objects.exclude(kind=OrganizationKind.MUNICIPALITY).order_by(
            Case(
                *[When(kind=kind, then=Value(i)) for i, kind in enumerate(
                    (OrganizationKind.SECRETARIAT, OrganizationKind.MINISTRY,
                     OrganizationKind.ASSOCIATION, OrganizationKind.PREFECTURE))],
                output_field=IntegerField(),
            ),
            "pk",
        ),
        empty_label=None,
        help_text=_("提案した団体です。既定はあなたの所属団体です。"),
    )

    class Meta:
        model = Candidate
        fields = ["title", "description", "owning_ministry", "business_areas", "proposed_by"]
        widgets = {"description": forms.Textarea(attrs={"rows": 8})}
        help_texts = {
            "title": _("例：児童手当の認定・支給事務の共通化"),
            "description": _("解決したい課題、対象となる事務、想定する共通化の姿を記載してください（10,000字まで）。"),
        }

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


SCORE_CHOICES = [
    (1, _("1（低い）")),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, _("5（高い）")),
]

CRITERION_HELP = {
    Criterion.USER_NEED: _("住民や事業者のニーズに応えるものか。"),
    Criterion.EXPECTED_EFFECT: _("共通化によって効果が見込まれるか。"),
    Criterion.FEASIBILITY: _("共通化が実現可能か。"),
}


def _score_field(criterion: Criterion) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=criterion.label,
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=CRITERION_HELP[criterion],
        error_messages={"required": _("1から5のいずれかを選んでください。")},
    )


class AssessmentForm(forms.Form):
    """One assessor's scores against the three criteria, with the why (revising is allowed)."""

    user_need = _score_field(Criterion.USER_NEED)
    expected_effect = _score_field(Criterion.EXPECTED_EFFECT)
    feasibility = _score_field(Criterion.FEASIBILITY)
    rationale = forms.CharField(
        label=_("評価の理由"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("評点の根拠を、他の評価者が比べて読めるように具体的に記載してください（4,000字まで）。"),
        error_messages={"required": _("評価の理由を入力してください。")},
    )
    viewpoints = forms.MultipleChoiceField(
        label=_("該当する具体的な観点"),
        choices=Viewpoint.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("当てはまるものをすべて選んでください。"),
    )
    evidence = MultipleFileField(label=_("根拠資料"))

    @classmethod
    def initial_from(cls, assessment) -> dict:
        if assessment is None:
            return {}
        return {**assessment.scores(), "rationale": assessment.rationale, "viewpoints": assessment.viewpoints}


class WeightsForm(forms.ModelForm):
    class Meta:
        model = CriteriaWeights
        fields = ["user_need", "expected_effect", "feasibility"]
        widgets = {name: forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "10"}) for name in fields}
        help_texts = {name: _("0以上10以下。小数第2位まで。") for name in fields}


class AssignStudyForm(forms.Form):
    due_date = forms.DateField(
        label=FeasibilityStudy._meta.get_field("due_date").verbose_name,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("明日以降の日付。土日・祝日・年末年始の場合は翌開庁日になります。"),
        error_messages={"required": _("提出期限を入力してください。"), "invalid": _("日付を正しく入力してください。")},
    )


class StudyForm(forms.ModelForm):
    """The owning ministry's part of a feasibility study."""

    attachments = MultipleFileField(label=_("添付資料"))

    class Meta:
        model = FeasibilityStudy
        # The ministry's fields (FeasibilityStudy.MINISTRY_FIELDS) in the order the page shows them.
        fields = [
            "conclusion", "findings", "expected_effect", "risks",
            "affected_local_governments", "staff_hours_saved_per_year", "cost_initial_yen", "cost_annual_yen",
        ]
        widgets = {
            "findings": forms.Textarea(attrs={"rows": 10}),
            "expected_effect": forms.Textarea(attrs={"rows": 6}),
            "risks": forms.Textarea(attrs={"rows": 6}),
            "affected_local_governments": forms.NumberInput(attrs={"min": "0", "max": "1788"}),
            "cost_initial_yen": forms.NumberInput(attrs={"min": "0"}),
            "cost_annual_yen": forms.NumberInput(attrs={"min": "0"}),
            "staff_hours_saved_per_year": forms.NumberInput(attrs={"min": "0"}),
        }
        help_texts = {
            "findings": _("調査の方法と結果（20,000字まで）。"),
            "affected_local_governments": _("共通化の影響を受ける地方公共団体の数（1,788団体まで）。"),
            "cost_initial_yen": _("円単位の整数で入力してください。"),
            "cost_annual_yen": _("円単位の整数で入力してください。"),
            "expected_effect": _("10,000字まで。"),
            "staff_hours_saved_per_year": _("全団体の合計。"),
            "risks": _("10,000字まで。"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["conclusion"].choices = [("", _("未選択")), *Conclusion.choices]
        for name in FeasibilityStudy.REQUIRED_TO_SUBMIT:
            self.fields[name].required_to_submit = True

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in FeasibilityStudy.MINISTRY_FIELDS}


class TransitionForm(forms.Form):
    """A workflow move from a detail page; which moves exist is the model's table's business."""

    to = forms.CharField(max_length=32)
    comment = forms.CharField(
        label=_("コメント"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CandidateTransitionForm(TransitionForm):
    track = forms.ChoiceField(
        label=Candidate._meta.get_field("track").verbose_name,
        choices=[("", _("選択してください")), *Track.choices],
        required=False,
        help_text=_("選定・非選定の決定に必要です。"),
    )
    comment = forms.CharField(
        label=_("コメント（決定の場合は決定理由）"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, candidate: Candidate | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if candidate is not None and candidate.track:
            self.fields["track"].initial = candidate.track

