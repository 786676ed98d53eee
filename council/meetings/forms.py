"""Forms of the meeting pages. They read and check what the secretariat typed; every write
goes through council.meetings.actions, whose ValidationErrors come back onto the form."""

from __future__ import annotations

from django import forms
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _

from candidates.forms import GroupedOrganizationChoiceField, TransitionForm
from candidates.models import Track
from council.meetings.models import (
    OUTCOMES_BY_KIND,
    AgendaItem,
    AgendaKind,
    DecisionOutcome,
    Meeting,
    MeetingAttendee,
    MeetingFormat,
)
from tenants.models import Organization, OrganizationKind

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class MeetingForm(forms.Form):
    number = forms.IntegerField(
        label=Meeting._meta.get_field("number").verbose_name,
        min_value=1,
        max_value=9999,
        widget=forms.NumberInput(attrs={"class": "input--narrow"}),
        help_text=_("第何回の会議かを表す番号です。"),
        error_messages={"required": _("回次を入力してください。"), "invalid": _("回次は整数で入力してください。")},
    )
    title = forms.CharField(
        label=Meeting._meta.get_field("title").verbose_name,
        required=False,
        max_length=200,
        help_text=Meeting._meta.get_field("title").help_text,
    )
    date = forms.DateField(
        label=Meeting._meta.get_field("date").verbose_name,
        widget=DATE_INPUT,
        error_messages={"required": _("開催日を入力してください。"), "invalid": _("日付を正しく入力してください。")},
    )
    start_time = forms.TimeField(
        label=Meeting._meta.get_field("start_time").verbose_name, required=False, widget=TIME_INPUT,
        error_messages={"invalid": _("時刻を正しく入力してください（例：10:00）。")},
    )
    end_time = forms.TimeField(
        label=Meeting._meta.get_field("end_time").verbose_name, required=False, widget=TIME_INPUT,
        error_messages={"invalid": _("時刻を正しく入力してください（例：12:00）。")},
    )
    format = forms.ChoiceField(
        label=Meeting._meta.get_field("format").verbose_name,
        choices=MeetingFormat.choices,
        widget=forms.RadioSelect,
        initial=MeetingFormat.IN_PERSON,
    )
    venue = forms.CharField(
        label=Meeting._meta.get_field("venue").verbose_name,
        required=False,
        max_length=200,
        help_text=_("例：中央合同庁舎第4号館 共用第1特別会議室。オンラインのみの場合は空欄で構いません。"),
    )
    standing_members = forms.BooleanField(
        label=_("事務局と地方三団体を出席者に登録する"),
        required=False,
        initial=True,
        help_text=_("協議会の構成員を出席者として登録します。後から追加・削除できます。"),
    )

    FIELDS = ("number", "title", "date", "start_time", "end_time", "format", "venue")

    def __init__(self, *args, creating: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["standing_members"]

    @classmethod
    def initial_from(cls, meeting: Meeting) -> dict:
        return {name: getattr(meeting, name) for name in cls.FIELDS}

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=Meeting._meta.get_field("minutes").verbose_name,
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=Meeting._meta.get_field("minutes").help_text,
    )


def attendee_organizations():
    # Municipalities (1,741) would make an unusable list; they attend through their association.
    order = Case(
        *[When(kind=kind, then=Value(i)) for i, kind in enumerate(
            (OrganizationKind.SECRETARIAT, OrganizationKind.MINISTRY, OrganizationKind.ASSOCIATION,
             OrganizationKind.PREFECTURE))],
        output_field=IntegerField(),
    )
    return Organization.objects.exclude(kind=OrganizationKind.MUNICIPALITY).order_by(order, "code")


class AttendeeForm(forms.Form):
    organization = GroupedOrganizationChoiceField(
        label=MeetingAttendee._meta.get_field("organization").verbose_name,
        queryset=attendee_organizations(),
        empty_label=_("選択してください"),
        error_messages={"required": _("団体を選んでください。"), "invalid_choice": _("団体を選び直してください。")},
    )
    title = forms.CharField(label=MeetingAttendee._meta.get_field("title").verbose_name, required=False, max_length=100,
                            help_text=_("例：事務局長、会長"))
    name = forms.CharField(label=MeetingAttendee._meta.get_field("name").verbose_name, required=False, max_length=100,
                           help_text=_("空欄の場合は団体として登録します。"))


# --- Agenda items: one "what is deliberated" choice ----------------------------------------

# prefix of a choice value → (kind, model getter)
TARGET_PREFIXES = {
    "candidate": AgendaKind.SELECTION,
    "round": AgendaKind.CONSENT,
    "policy": AgendaKind.POLICY,
    "report": AgendaKind.PROGRESS_REPORT,
    "measure": AgendaKind.MEASURE_REQUEST,
}
PREFIX_OF_KIND = {kind: prefix for prefix, kind in TARGET_PREFIXES.items()}


def _models():
    from candidates.models import Candidate, CandidateStatus
    from policies.models import ConsentRound, Policy, PolicyStatus
    from progress.models import MeasureRequest, ProgressReport, ReportStatus

    return {
        "candidate": Candidate.objects.exclude(status=CandidateStatus.WITHDRAWN).order_by("-created_at", "-pk"),
        "round": ConsentRound.objects.select_related("policy", "version").order_by("-opened_at", "-pk"),
        "policy": Policy.objects.exclude(status=PolicyStatus.WITHDRAWN).order_by("-pk"),
        "report": ProgressReport.objects.exclude(status=ReportStatus.DUE)
        .select_related("policy", "schedule").order_by("-period_start", "-pk"),
        "measure": MeasureRequest.objects.select_related("policy").order_by("-requested_at", "-pk"),
    }


def target_value(item: AgendaItem) -> str:
    prefix = PREFIX_OF_KIND.get(item.kind)
    return f"{prefix}:{getattr(item, f'{item.target_field}_id')}" if prefix else ""


def _label(prefix: str, obj) -> str:
    if prefix == "candidate":
        return str(_("%(title)s（%(status)s）") % {"title": obj.title, "status": obj.get_status_display()})
    if prefix == "round":
        return str(_("%(title)s 第%(n)s版（%(status)s）") % {
            "title": obj.policy.title, "n": obj.version.number,
            "status": obj.get_outcome_display() if obj.outcome else obj.get_status_display()})
    if prefix == "policy":
        return str(_("%(title)s（%(status)s）") % {"title": obj.title, "status": obj.get_status_display()})
    if prefix == "report":
        title = f"{obj.policy.title} {obj.period_label}"
        return str(_("%(title)s（%(status)s）") % {"title": title, "status": obj.get_status_display()})
    title = f"{obj.policy.title}{_('：')}{obj.request[:40]}"
    return str(_("%(title)s（%(status)s）") % {"title": title, "status": obj.get_status_display()})


class AgendaItemForm(forms.Form):
    target = forms.ChoiceField(
        label=_("審議の対象"),
        required=False,
        help_text=_("対象候補を選ぶと選定の議題、同意手続を選ぶと同意の議題になります。対象がない議題は「その他」を選んでください。"),
    )
    title = forms.CharField(
        label=AgendaItem._meta.get_field("title").verbose_name,
        required=False,
        max_length=200,
        help_text=_("空欄の場合は対象から作成します（例：対象候補「…」の選定について）。「その他」の議題では必須です。"),
    )
    notes = forms.CharField(
        label=AgendaItem._meta.get_field("notes").verbose_name,
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    GROUP_LABELS = {
        "candidate": _("対象候補（選定）"),
        "round": _("同意手続（同意）"),
        "policy": _("共通化推進方針"),
        "report": _("進捗報告"),
        "measure": _("措置依頼"),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._objects = _models()
        choices: list = [("", _("その他（対象なし）"))]
        for prefix, queryset in self._objects.items():
            options = [(f"{prefix}:{obj.pk}", _label(prefix, obj)) for obj in queryset[:200]]
            if options:
                choices.append((self.GROUP_LABELS[prefix], options))
        self.fields["target"].choices = choices

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("target") or ""
        if not value:
            cleaned["kind"], cleaned["target_object"] = AgendaKind.OTHER, None
            if not (cleaned.get("title") or "").strip() and "title" not in self.errors:
                self.add_error("title", _("「その他」の議題には議題名を入力してください。"))
            return cleaned
        prefix, _sep, pk = value.partition(":")
        obj = self._objects[prefix].filter(pk=pk).first() if prefix in self._objects and pk.isdigit() else None
        if obj is None:
            self.add_error("target", _("審議の対象を選び直してください。"))
            return cleaned
        cleaned["kind"], cleaned["target_object"] = TARGET_PREFIXES[prefix], obj
        return cleaned


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("結果"), widget=forms.RadioSelect,
        error_messages={"required": _("結果を選んでください。")},
    )
    track = forms.ChoiceField(
        label=_("区分"),
        choices=[("", _("選択してください")), *Track.choices],
        required=False,
        help_text=_("選定・非選定の決定に必要です。"),
    )
    text = forms.CharField(
        label=_("決定内容"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("例：原案のとおり了承する。選定・同意の議題では、対象候補の決定理由や同意手続を締め切る際のコメントとしても記録されます。"),
        error_messages={"required": _("決定内容を入力してください。")},
    )

    def __init__(self, *args, item: AgendaItem, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [(o, DecisionOutcome(o).label) for o in OUTCOMES_BY_KIND[item.kind]]
        if item.kind != AgendaKind.SELECTION:
            del self.fields["track"]


class MeetingTransitionForm(TransitionForm):
    pass


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class FiscalYearFilterForm(forms.Form):
    fiscal_year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, years: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"].choices = [("", _("すべての年度")), *years]
