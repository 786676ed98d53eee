"""The meeting pages (会議): list, detail, and the secretariat's forms.

Who sees what (Meeting.objects.visible_to, AgendaItem.objects.visible_to):
- every signed-in user sees a meeting once it is announced (scheduled, held, minutes
  published, cancelled), with the agenda items whose object they may see, their decisions,
  and the minutes once published; the secretariat also sees meetings in preparation and
  draft minutes. Outside that: 404.
- the meeting pack (PDF) is for the secretariat and council members (ministry officers,
  association representatives); the minutes PDF for whoever may read the minutes. Anyone
  who may read a PDF may ask for it to be rendered (it is rendered once per content).
- only the secretariat ("runs meetings") creates and edits meetings, attendees, agenda,
  minutes and decisions, and moves a meeting through its workflow: others get 403.

Views are thin: they check the model's may_* rule, call council.meetings.actions, and put
an action's ValidationError back on the form (nothing saved), a Conflict as 409.
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates.forms import add_action_errors
from council import calendar
from council.meetings import actions
from council.meetings import pdf as meeting_pdf
from council.meetings.forms import (
    AgendaItemForm,
    AttendeeForm,
    DecisionForm,
    FiscalYearFilterForm,
    MeetingForm,
    MeetingTransitionForm,
    MinutesForm,
    MoveForm,
    target_value,
)
from council.meetings.models import (
    AgendaItem,
    AgendaKind,
    Meeting,
    MeetingAttendee,
    MeetingPdf,
    MeetingStatus,
)
from council.templatetags.council_tags import wareki_fiscal_year
from council.transitions import perform_move
from council.workflow import Conflict, TransitionNotAllowed
from tenants.access import access_for

MOVE_LABELS = {
    MeetingStatus.SCHEDULED: gettext_lazy("開催予定として公開する"),
    MeetingStatus.HELD: gettext_lazy("開催済みにする"),
    MeetingStatus.MINUTES_PUBLISHED: gettext_lazy("議事録を公開する"),
    MeetingStatus.CANCELLED: gettext_lazy("中止する"),
}
MEETING_FIELD_LABELS = {f.name: str(f.verbose_name) for f in Meeting._meta.fields}
ITEM_FIELD_LABELS = {f.name: str(f.verbose_name) for f in AgendaItem._meta.fields}


def _visible_meetings(user):
    return Meeting.objects.visible_to(user)


def _get_meeting(request: HttpRequest, pk: int) -> Meeting:
    return get_object_or_404(_visible_meetings(request.user).select_related("created_by"), pk=pk)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _language(request: HttpRequest) -> str:
    return meeting_pdf.language_of(get_language())


# --- List ------------------------------------------------------------------------------------------


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """Upcoming and past meetings, optionally of one fiscal year."""
    meetings = _visible_meetings(request.user).annotate(item_count=Count("agenda_items"))
    years = sorted({calendar.fiscal_year(d) for d in meetings.values_list("date", flat=True)}, reverse=True)
    form = FiscalYearFilterForm(request.GET or None, years=[(y, wareki_fiscal_year(y)) for y in years])
    fiscal_year = form.cleaned_data.get("fiscal_year") if form.is_valid() else None
    if fiscal_year:
        meetings = meetings.in_fiscal_year(fiscal_year)
    today = calendar.today()
    upcoming_statuses = (MeetingStatus.DRAFT, MeetingStatus.SCHEDULED)
    upcoming = list(meetings.filter(date__gte=today, status__in=upcoming_statuses).order_by("date", "number"))
    past = [m for m in meetings.order_by("-date", "-number") if m not in upcoming]
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "upcoming": upcoming,
            "past": past,
            "filter_form": form,
            "fiscal_year": fiscal_year,
            "may_create": access_for(request.user).is_secretariat,
        },
    )


# --- Detail -----------------------------------------------------------------------------------------


def _moves(meeting: Meeting, user) -> list[dict]:
    allowed = meeting.allowed_targets()
    return [
        {"to": str(to), "label": str(label), "danger": to == MeetingStatus.CANCELLED}
        for to, label in MOVE_LABELS.items()
        if to in allowed and meeting.may_transition(user, to)
    ]


def _items_for(meeting: Meeting, user) -> list[AgendaItem]:
    from policies.models import Outcome

    deciding = meeting.may_record_decision(user)
    items = list(
        AgendaItem.objects.visible_to(user).filter(meeting=meeting)
        .select_related("candidate", "consent_round__policy", "consent_round__version", "policy",
                        "progress_report__policy", "progress_report__schedule", "measure_request__policy",
                        "decision", "decision__decided_by")
        .order_by("order", "pk")
    )
    for item in items:
        # visible_to() keeps only items whose object the reader may open, so each links to it.
        item.target_url = item.target.get_absolute_url() if item.target is not None else ""
        item.decided = hasattr(item, "decision")
        if deciding and item.kind == AgendaKind.CONSENT and not item.decided:
            expected = actions.expected_consent_outcome(item)
            item.expected_outcome = Outcome(expected).label if expected else ""
    return items


def _detail(request: HttpRequest, meeting: Meeting, *, transition_form=None, status: int = 200) -> HttpResponse:
    user = request.user
    language = _language(request)
    items = _items_for(meeting, user)
    pdfs = [
        meeting_pdf.pdf_state(meeting, kind, language)
        for kind in (MeetingPdf.Kind.PACK, MeetingPdf.Kind.MINUTES)
        if meeting.may_read_pdf(user, kind)
    ]
    return render(
        request,
        "meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "attendees": list(meeting.attendees.select_related("organization")),
            "items": items,
            "hidden_items": meeting.agenda_items.count() - len(items),
            "may_edit": meeting.may_edit(user),
            "may_delete": meeting.may_delete(user),
            "may_write_minutes": meeting.may_write_minutes(user),
            "may_record_decision": meeting.may_record_decision(user),
            "may_read_minutes": meeting.may_read_minutes(user),
            "moves": _moves(meeting, user),
            "transition_form": transition_form or MeetingTransitionForm(),
            "history": list(meeting.history()) if access_for(user).is_secretariat else [],
            "pdfs": pdfs,
            "is_secretariat": access_for(user).is_secretariat,
        },
        status=status,
    )


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _get_meeting(request, pk))


# --- Create / edit / delete / move --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    _require(access_for(request.user).is_secretariat, _("会議を登録できるのは事務局です。"))
    posted = request.method == "POST"
    form = MeetingForm(request.POST if posted else None, initial={"number": actions.next_number()})
    if posted and form.is_valid():
        try:
            meeting = actions.create_meeting(
                request.user, standing_members=form.cleaned_data["standing_members"], **form.changes()
            )
        except ValidationError as exc:
            add_action_errors(form, exc, MEETING_FIELD_LABELS)
        else:
            messages.success(request, _("「%(title)s」を登録しました。議題を追加してください。") % {"title": meeting.display_title})
            return redirect(meeting)
    return render(request, "meetings/meeting_form.html", {"form": form, "meeting": None})


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_edit(request.user), _("この会議は変更できません。"))
    posted = request.method == "POST"
    form = MeetingForm(request.POST if posted else None, initial=MeetingForm.initial_from(meeting), creating=False)
    if posted and form.is_valid():
        try:
            meeting = actions.update_meeting(meeting, request.user, form.changes())
        except ValidationError as exc:
            add_action_errors(form, exc, MEETING_FIELD_LABELS)
        else:
            messages.success(request, _("会議の情報を更新しました。"))
            return redirect(meeting)
    return render(request, "meetings/meeting_form.html", {"form": form, "meeting": meeting})


@login_required
@require_POST
def meeting_delete(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_delete(request.user), _("削除できるのは準備中の会議だけです。"))
    title = meeting.display_title
    try:
        actions.delete_meeting(meeting, request.user)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _detail(request, meeting, status=409)
    messages.success(request, _("「%(title)s」を削除しました。") % {"title": title})
    return redirect("meetings:list")


@login_required
@require_POST
def meeting_transition(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    def move(data: dict) -> None:
        _require(meeting.may_transition(request.user, data["to"]), _("会議の状態を変更できるのは事務局です。"))
        actions.move_meeting(meeting, request.user, data["to"], comment=data["comment"])

    refused = perform_move(
        request, MeetingTransitionForm(request.POST), move, partial(_detail, request, meeting),
        labels={**MEETING_FIELD_LABELS, "agenda_items": str(_("議題"))}, invalid_status=400,
    )
    if refused is not None:
        return refused
    meeting.refresh_from_db()
    messages.success(request, _("会議を「%(status)s」にしました。") % {"status": meeting.get_status_display()})
    return redirect(meeting)


# --- Minutes ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def minutes_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_write_minutes(request.user), _("議事録を記入できるのは、開催済みの会議について事務局です。"))
    posted = request.method == "POST"
    form = MinutesForm(request.POST if posted else None, initial={"minutes": meeting.minutes})
    status = 200
    if posted and form.is_valid():
        try:
            actions.save_minutes(meeting, request.user, form.cleaned_data["minutes"])
        except ValidationError as exc:
            add_action_errors(form, exc, MEETING_FIELD_LABELS)
        except Conflict as exc:
            messages.error(request, str(exc))
            status = 409
        else:
            messages.success(request, _("議事録を保存しました（未公開）。"))
            return redirect(f"{meeting.get_absolute_url()}#minutes")
    return render(request, "meetings/minutes_form.html", {"form": form, "meeting": meeting}, status=status)


# --- Attendees ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def attendees(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_edit(request.user), _("出席者を登録できるのは事務局です。"))
    posted = request.method == "POST"
    form = AttendeeForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            attendee = actions.add_attendee(meeting, request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("出席者「%(name)s」を登録しました。") % {"name": attendee})
            return redirect("meetings:attendees", pk=meeting.pk)
    rows = list(meeting.attendees.select_related("organization"))
    return render(request, "meetings/attendees.html", {"form": form, "meeting": meeting, "attendees": rows})


@login_required
@require_POST
def attendee_remove(request: HttpRequest, pk: int, attendee_pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_edit(request.user), _("出席者を削除できるのは事務局です。"))
    attendee = get_object_or_404(MeetingAttendee.objects.select_related("organization"), pk=attendee_pk, meeting=meeting)
    actions.remove_attendee(attendee, request.user)
    messages.success(request, _("出席者「%(name)s」を削除しました。") % {"name": attendee})
    return redirect("meetings:attendees", pk=meeting.pk)


# --- Agenda --------------------------------------------------------------------------------------------------


def _get_item(meeting: Meeting, item_pk: int) -> AgendaItem:
    return get_object_or_404(AgendaItem.objects.filter(meeting=meeting), pk=item_pk)


@login_required
@require_http_methods(["GET", "POST"])
def agenda_item_create(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_edit(request.user), _("議題を登録できるのは事務局です。"))
    posted = request.method == "POST"
    initial = {"target": request.GET.get("target", "")} if not posted else None
    form = AgendaItemForm(request.POST if posted else None, initial=initial)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            item = actions.add_agenda_item(
                meeting, request.user, kind=data["kind"], target=data["target_object"], title=data["title"], notes=data["notes"]
            )
        except ValidationError as exc:
            _item_errors(form, exc)
        else:
            messages.success(request, _("議題「%(title)s」を追加しました。") % {"title": item.title})
            return redirect(f"{meeting.get_absolute_url()}#agenda")
    return render(request, "meetings/agenda_item_form.html", {"form": form, "meeting": meeting, "item": None})


def _item_errors(form: AgendaItemForm, exc: ValidationError) -> None:
    # The target's foreign key and the kind are both chosen through the one "target" field.
    if hasattr(exc, "error_dict"):
        renamed: dict[str, list] = {}
        for name, errors in exc.error_dict.items():
            key = "target" if name in ("kind", "candidate", "consent_round", "policy", "progress_report", "measure_request") else name
            renamed.setdefault(key, []).extend(errors)
        exc = ValidationError(renamed)
    add_action_errors(form, exc, ITEM_FIELD_LABELS)


@login_required
@require_http_methods(["GET", "POST"])
def agenda_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_edit(request.user), _("議題を変更できるのは事務局です。"))
    item = _get_item(meeting, item_pk)
    posted = request.method == "POST"
    initial = {"target": target_value(item), "title": item.title, "notes": item.notes}
    form = AgendaItemForm(request.POST if posted else None, initial=initial)
    status = 200
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            actions.update_agenda_item(
                item, request.user,
                {"kind": data["kind"], "target": data["target_object"], "title": data["title"], "notes": data["notes"]},
            )
        except ValidationError as exc:
            _item_errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc))
            status = 409
        else:
            messages.success(request, _("議題を更新しました。"))
            return redirect(f"{meeting.get_absolute_url()}#agenda")
    return render(request, "meetings/agenda_item_form.html", {"form": form, "meeting": meeting, "item": item}, status=status)


@login_required
@require_POST
def agenda_item_delete(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_edit(request.user), _("議題を削除できるのは事務局です。"))
    item = _get_item(meeting, item_pk)
    try:
        actions.remove_agenda_item(item, request.user)
    except Conflict as exc:
        messages.error(request, str(exc))
        return _detail(request, meeting, status=409)
    messages.success(request, _("議題「%(title)s」を削除しました。") % {"title": item.title})
    return redirect(f"{meeting.get_absolute_url()}#agenda")


@login_required
@require_POST
def agenda_item_move(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    _require(meeting.may_edit(request.user), _("議題を変更できるのは事務局です。"))
    item = _get_item(meeting, item_pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        actions.move_agenda_item(item, request.user, form.cleaned_data["direction"])
    return redirect(f"{meeting.get_absolute_url()}#agenda")


# --- Decisions ------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def decision_record(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Record what the council decided on an item; for a selection or consent item this also
    decides the candidate or closes the consent round (council.meetings.actions.record_decision)."""
    meeting = _get_meeting(request, pk)
    _require(meeting.may_record_decision(request.user), _("決定を記録できるのは、開催済みの会議について事務局です。"))
    item = get_object_or_404(
        AgendaItem.objects.filter(meeting=meeting).select_related("candidate", "consent_round__policy", "consent_round__version"),
        pk=item_pk,
    )
    if hasattr(item, "decision"):
        messages.error(request, _("この議題の決定は既に記録されています。"))
        return redirect(f"{meeting.get_absolute_url()}#item-{item.pk}")
    expected = actions.expected_consent_outcome(item)
    posted = request.method == "POST"
    initial = {"outcome": expected} if expected else {}
    if item.kind == AgendaKind.SELECTION and item.candidate.track:
        initial["track"] = item.candidate.track
    form = DecisionForm(request.POST if posted else None, item=item, initial=initial)
    status = 200
    if posted and form.is_valid():
        try:
            decision = actions.record_decision(item, request.user, **form.cleaned_data)
        except TransitionNotAllowed as exc:
            messages.error(request, exc.reason)
            status = 409
        except Conflict as exc:
            messages.error(request, str(exc))
            status = 409
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(
                request, _("議題「%(title)s」の決定（%(outcome)s）を記録しました。")
                % {"title": item.title, "outcome": decision.get_outcome_display()},
            )
            return redirect(f"{meeting.get_absolute_url()}#item-{item.pk}")
    return render(
        request,
        "meetings/decision_form.html",
        {"form": form, "meeting": meeting, "item": item, "expected": expected},
        status=status,
    )


# --- PDFs -----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_pdf_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """GET downloads the PDF of the meeting's current content (in the page's language);
    POST asks for it to be rendered."""
    meeting = _get_meeting(request, pk)
    if kind not in MeetingPdf.Kind.values:
        raise Http404
    _require(
        meeting.may_read_pdf(request.user, kind),
        _("会議資料を閲覧できるのは事務局と協議会の構成員です。") if kind == MeetingPdf.Kind.PACK
        else _("議事録は公開後に閲覧できます。"),
    )
    language = _language(request)
    if request.method == "POST":
        row = meeting_pdf.request_pdf(meeting, kind, language, request.user)
        if row.status != "done":
            messages.info(request, _("PDFの作成を受け付けました。作成状況はこのページに表示されます。"))
        return redirect(f"{meeting.get_absolute_url()}#pdf")
    current = meeting_pdf.current_pdf(meeting, kind, language)
    if current is None:
        raise Http404(_("PDFはまだ作成されていません。"))
    response = FileResponse(
        current.file.open("rb"), content_type="application/pdf", as_attachment=True,
        filename=meeting_pdf.download_name(meeting, kind, language),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
