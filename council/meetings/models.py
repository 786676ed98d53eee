"""The council's own meetings (連絡協議会の開催): who attends, the agenda, what was decided,
the minutes, and the meeting's PDFs.

These models belong to the `council` app (council.models imports them); they point at the
objects of the other apps (a candidate to select, a consent round to conclude, a progress
report to receive, a measure request) without changing those apps' tables.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council import calendar
from council.loading import RowLoaded
from council.workflow import TransitionNotAllowed, WorkflowModel
from tenants.access import Access, access_for, is_council_member


class MeetingStatus(models.TextChoices):
    DRAFT = "draft", _("準備中")
    SCHEDULED = "scheduled", _("開催予定")
    HELD = "held", _("開催済み")
    MINUTES_PUBLISHED = "minutes_published", _("議事録公開済み")
    CANCELLED = "cancelled", _("中止")


class MeetingFormat(models.TextChoices):
    IN_PERSON = "in_person", _("対面")
    ONLINE = "online", _("オンライン")
    HYBRID = "hybrid", _("対面・オンライン併用")


# Statuses in which the secretariat still edits the meeting, its attendees and agenda.
EDITABLE_STATUSES = frozenset({MeetingStatus.DRAFT, MeetingStatus.SCHEDULED, MeetingStatus.HELD})
# Statuses in which a council member may read the meeting pack.
PACK_STATUSES = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.MINUTES_PUBLISHED})


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def visible_to(self, user) -> MeetingQuerySet:
        """Secretariat: every meeting, drafts included. Every other signed-in user: meetings
        once announced (scheduled, held, published or cancelled)."""
        if not user.is_authenticated:
            return self.none()
        if access_for(user).is_secretariat:
            return self
        return self.exclude(status=MeetingStatus.DRAFT)

    def in_fiscal_year(self, fiscal_year: int) -> MeetingQuerySet:
        return self.filter(date__gte=date(fiscal_year, 4, 1), date__lte=date(fiscal_year + 1, 3, 31))


class Meeting(WorkflowModel):
    """One meeting of the council (第N回連絡協議会)."""

    TRANSITIONS = {
        MeetingStatus.DRAFT: frozenset({MeetingStatus.SCHEDULED}),
        MeetingStatus.SCHEDULED: frozenset({MeetingStatus.HELD, MeetingStatus.CANCELLED}),
        MeetingStatus.HELD: frozenset({MeetingStatus.MINUTES_PUBLISHED}),
    }

    number = models.PositiveSmallIntegerField(
        _("回次"),
        unique=True,
        validators=[MinValueValidator(1), MaxValueValidator(9999)],
        error_messages={"unique": _("この回次の会議は既に登録されています。")},
    )
    title = models.CharField(
        _("名称"), max_length=200, blank=True, help_text=_("空欄の場合は「第N回 国・地方デジタル共通基盤推進連絡協議会」と表示します。")
    )
    date = models.DateField(_("開催日"))
    start_time = models.TimeField(_("開始時刻"), null=True, blank=True)
    end_time = models.TimeField(_("終了時刻"), null=True, blank=True)
    format = models.CharField(_("開催方法"), max_length=16, choices=MeetingFormat.choices, default=MeetingFormat.IN_PERSON)
    venue = models.CharField(_("会場"), max_length=200, blank=True)
    status = models.CharField(_("状態"), max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.DRAFT)
    minutes = models.TextField(
        _("議事録"), blank=True, max_length=50_000, validators=[MaxLengthValidator(50_000)],
        help_text=_("Markdown で記載します（見出しは ##）。公開するまでは事務局だけが閲覧できます。"),
    )
    minutes_updated_at = models.DateTimeField(_("議事録の更新日時"), null=True, blank=True)
    minutes_published_at = models.DateTimeField(_("議事録の公開日時"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登録者"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("会議")
        verbose_name_plural = _("会議")
        ordering = ["-date", "-number"]
        indexes = [models.Index(fields=["status", "date"], name="meeting_status_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MeetingStatus.values),
                name="meeting_status_valid",
                violation_error_message=_("状態が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=Q(format__in=MeetingFormat.values),
                name="meeting_format_valid",
                violation_error_message=_("開催方法が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="meeting_number_positive",
                violation_error_message=_("回次は1以上です。"),
            ),
            models.CheckConstraint(
                condition=Q(start_time__isnull=True) | Q(end_time__isnull=True) | Q(end_time__gt=models.F("start_time")),
                name="meeting_ends_after_start",
                violation_error_message=_("終了時刻は開始時刻より後にしてください。"),
            ),
            models.CheckConstraint(
                condition=Q(format=MeetingFormat.ONLINE) | ~Q(venue=""),
                name="meeting_venue_unless_online",
                violation_error_message=_("対面で開催する会議には会場が必要です。"),
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    def get_absolute_url(self) -> str:
        return reverse("meetings:detail", kwargs={"pk": self.pk})

    @property
    def display_title(self) -> str:
        return self.title or str(_("第%(number)s回 国・地方デジタル共通基盤推進連絡協議会") % {"number": self.number})

    @property
    def badge_class(self) -> str:
        """The design system's badge modifier for the status (the text says it too)."""
        return {
            MeetingStatus.DRAFT: "badge--pending",
            MeetingStatus.SCHEDULED: "badge--proposed",
            MeetingStatus.HELD: "badge--selected",
            MeetingStatus.MINUTES_PUBLISHED: "badge--done",
        }.get(self.status, "")

    @property
    def short_title(self) -> str:
        return str(_("第%(number)s回連絡協議会") % {"number": self.number})

    @property
    def fiscal_year(self) -> int:
        return calendar.fiscal_year(self.date)

    @property
    def is_upcoming(self) -> bool:
        return self.date >= calendar.today() and self.status in (MeetingStatus.DRAFT, MeetingStatus.SCHEDULED)

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.format != MeetingFormat.ONLINE and not (self.venue or "").strip():
            errors["venue"] = [ValidationError(_("対面で開催する会議には会場を入力してください。"))]
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = [ValidationError(_("終了時刻は開始時刻より後にしてください。"))]
        if errors:
            raise ValidationError(errors)

    # -- who may do what ----------------------------------------------------------------
    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    def may_edit(self, user) -> bool:
        """The secretariat runs meetings: it edits one until its minutes are published."""
        return access_for(user).is_secretariat and self.is_editable

    def may_write_minutes(self, user) -> bool:
        return access_for(user).is_secretariat and self.status == MeetingStatus.HELD

    def may_record_decision(self, user) -> bool:
        return access_for(user).is_secretariat and self.status == MeetingStatus.HELD

    def may_delete(self, user) -> bool:
        return access_for(user).is_secretariat and self.status == MeetingStatus.DRAFT

    def may_read_minutes(self, user) -> bool:
        """Draft minutes are the secretariat's; published minutes are everyone's."""
        if self.status == MeetingStatus.MINUTES_PUBLISHED:
            return user.is_authenticated
        return access_for(user).is_secretariat and self.status == MeetingStatus.HELD

    def may_read_pack(self, user) -> bool:
        """The meeting pack is the council's working document: the secretariat (drafts
        included) and council members (ministry officers, association representatives) once
        the meeting is announced."""
        if access_for(user).is_secretariat:
            return self.status != MeetingStatus.CANCELLED
        return self.status in PACK_STATUSES and is_council_member(user)

    def may_read_pdf(self, user, kind: str) -> bool:
        return self.may_read_pack(user) if kind == MeetingPdf.Kind.PACK else self.may_read_minutes(user)

    def may_transition(self, user, to: str) -> bool:
        return access_for(user).is_secretariat

    def check_transition(self, to, by, changes, comment) -> None:
        if to == MeetingStatus.SCHEDULED and not self.agenda_items.exists():
            raise ValidationError({"agenda_items": _("議題を1件以上登録してから開催予定にしてください。")})
        if to == MeetingStatus.HELD and self.date > calendar.today():
            raise TransitionNotAllowed(self, to, str(_("開催日より前に開催済みにはできません。")))
        if to == MeetingStatus.MINUTES_PUBLISHED and not self.minutes.strip():
            raise ValidationError({"minutes": _("議事録を入力してから公開してください。")})
        if to == MeetingStatus.CANCELLED and not comment.strip():
            raise ValidationError({"comment": _("中止の理由をコメントに入力してください。")})

    def apply_transition(self, to, by, changes) -> list[str]:
        if to == MeetingStatus.MINUTES_PUBLISHED:
            self.minutes_published_at = timezone.now()
            return ["minutes_published_at"]
        return []


class MeetingAttendee(RowLoaded, models.Model):
    """An organization attending a meeting, optionally with the person and their post."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("会議"), on_delete=models.CASCADE, related_name="attendees")
    organization = models.ForeignKey(
        "tenants.Organization", verbose_name=_("団体"), on_delete=models.PROTECT, related_name="meeting_attendances"
    )
    name = models.CharField(_("氏名"), max_length=100, blank=True)
    title = models.CharField(_("役職"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("出席者")
        verbose_name_plural = _("出席者")
        ordering = ["organization__code", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "organization", "name"],
                name="meeting_attendee_unique",
                violation_error_message=_("この出席者は既に登録されています。"),
            ),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (str(self.organization), self.title, self.name) if part)


class AgendaKind(models.TextChoices):
    SELECTION = "selection", _("対象候補の選定")
    CONSENT = "consent", _("共通化推進方針への同意")
    POLICY = "policy", _("共通化推進方針")
    PROGRESS_REPORT = "progress_report", _("進捗報告")
    MEASURE_REQUEST = "measure_request", _("措置依頼")
    OTHER = "other", _("その他")


# Which foreign key each kind of agenda item points through (none for "other").
TARGET_FIELDS: dict[str, str | None] = {
    AgendaKind.SELECTION: "candidate",
    AgendaKind.CONSENT: "consent_round",
    AgendaKind.POLICY: "policy",
    AgendaKind.PROGRESS_REPORT: "progress_report",
    AgendaKind.MEASURE_REQUEST: "measure_request",
    AgendaKind.OTHER: None,
}
TARGET_FIELD_NAMES = tuple(name for name in TARGET_FIELDS.values() if name)


def _kind_matches_target() -> Q:
    """The database rule: exactly the foreign key of the item's kind is set."""
    condition = Q()
    for kind, field in TARGET_FIELDS.items():
        clause = Q(kind=kind)
        for name in TARGET_FIELD_NAMES:
            clause &= Q(**{f"{name}__isnull": name != field})
        condition |= clause
    return condition


class PublicReader(AnonymousUser):
    """A signed-in reader with no seat at all (see public_reader)."""

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


def public_reader() -> PublicReader:
    """What every signed-in user may see: the view of a reader holding no seat.

    Documents rendered once for everyone (the published minutes' PDF) list only the agenda
    items this reader may see, so a PDF never shows what a local official's page hides.
    """
    reader = PublicReader()
    access = Access(reader)
    access.__dict__["seats"] = ()  # fill the cached property: no membership to look up
    reader._council_access = access
    return reader


class AgendaItemQuerySet(models.QuerySet["AgendaItem"]):
    def visible_to(self, user) -> AgendaItemQuerySet:
        """Items of meetings the user sees whose target the user may see as well (an item
        without a target is seen with its meeting). The secretariat sees every item."""
        from candidates.models import Candidate
        from policies.models import ConsentRound, Policy
        from progress.models import MeasureRequest, ProgressReport

        if not user.is_authenticated:
            return self.none()
        qs = self.filter(meeting__in=Meeting.objects.visible_to(user))
        if access_for(user).is_secretariat:
            return qs
        return qs.filter(
            Q(kind=AgendaKind.OTHER)
            | Q(candidate__in=Candidate.objects.visible_to(user))
            | Q(consent_round__in=ConsentRound.objects.visible_to(user))
            | Q(policy__in=Policy.objects.visible_to(user))
            | Q(progress_report__in=ProgressReport.objects.visible_to(user))
            | Q(measure_request__in=MeasureRequest.objects.visible_to(user))
        )

    def public(self) -> AgendaItemQuerySet:
        """The items every signed-in user may see (see public_reader)."""
        return self.visible_to(public_reader())


class AgendaItem(RowLoaded, models.Model):
    """One item of a meeting's agenda, pointing at what the council deliberates."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("会議"), on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveSmallIntegerField(_("順番"), validators=[MinValueValidator(1), MaxValueValidator(999)])
    kind = models.CharField(_("種類"), max_length=20, choices=AgendaKind.choices, default=AgendaKind.OTHER)
    title = models.CharField(_("議題名"), max_length=200)
    notes = models.TextField(_("説明"), blank=True, max_length=4000, validators=[MaxLengthValidator(4000)])
    candidate = models.ForeignKey(
        "candidates.Candidate", verbose_name=_("対象候補"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="agenda_items",
    )
    consent_round = models.ForeignKey(
        "policies.ConsentRound", verbose_name=_("同意手続"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="agenda_items",
    )
    policy = models.ForeignKey(
        "policies.Policy", verbose_name=_("共通化推進方針"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="agenda_items",
    )
    progress_report = models.ForeignKey(
        "progress.ProgressReport", verbose_name=_("進捗報告"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="agenda_items",
    )
    measure_request = models.ForeignKey(
        "progress.MeasureRequest", verbose_name=_("措置依頼"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="agenda_items",
    )

    objects = AgendaItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("議題")
        verbose_name_plural = _("議題")
        ordering = ["meeting", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "order"],
                name="agenda_item_order_unique",
                violation_error_message=_("この順番の議題は既にあります。"),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AgendaKind.values),
                name="agenda_item_kind_valid",
                violation_error_message=_("議題の種類が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=_kind_matches_target(),
                name="agenda_item_target_matches_kind",
                violation_error_message=_("議題の種類に合った対象を1つ選んでください。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"

    @property
    def target_field(self) -> str | None:
        return TARGET_FIELDS.get(self.kind)

    @property
    def target(self):
        return getattr(self, self.target_field) if self.target_field else None

    def clean(self) -> None:
        field = self.target_field
        if field and getattr(self, f"{field}_id") is None:
            raise ValidationError({field: _("この種類の議題には対象を選んでください。")})
        for name in TARGET_FIELD_NAMES:
            if name != field and getattr(self, f"{name}_id") is not None:
                raise ValidationError({name: _("議題の種類に合わない対象です。")})


class DecisionOutcome(models.TextChoices):
    SELECTED = "selected", _("選定")
    NOT_SELECTED = "not_selected", _("非選定")
    CONSENTED = "consented", _("同意")
    NOT_CONSENTED = "not_consented", _("不同意")
    APPROVED = "approved", _("了承")
    NOTED = "noted", _("報告聴取")
    DEFERRED = "deferred", _("継続審議")


GENERIC_OUTCOMES = (DecisionOutcome.APPROVED, DecisionOutcome.NOTED, DecisionOutcome.DEFERRED)
OUTCOMES_BY_KIND: dict[str, tuple[str, ...]] = {
    AgendaKind.SELECTION: (DecisionOutcome.SELECTED, DecisionOutcome.NOT_SELECTED, DecisionOutcome.DEFERRED),
    AgendaKind.CONSENT: (DecisionOutcome.CONSENTED, DecisionOutcome.NOT_CONSENTED, DecisionOutcome.DEFERRED),
    AgendaKind.POLICY: GENERIC_OUTCOMES,
    AgendaKind.PROGRESS_REPORT: GENERIC_OUTCOMES,
    AgendaKind.MEASURE_REQUEST: GENERIC_OUTCOMES,
    AgendaKind.OTHER: GENERIC_OUTCOMES,
}
SELECTION_OUTCOMES = frozenset({DecisionOutcome.SELECTED, DecisionOutcome.NOT_SELECTED})
CONSENT_OUTCOMES = frozenset({DecisionOutcome.CONSENTED, DecisionOutcome.NOT_CONSENTED})


class DecisionQuerySet(models.QuerySet["Decision"]):
    def visible_to(self, user) -> DecisionQuerySet:
        return self.filter(agenda_item__in=AgendaItem.objects.visible_to(user))


class Decision(RowLoaded, models.Model):
    """What the council decided on one agenda item. A selection or a consent outcome here
    is the record of the meeting at which the candidate was decided or the round concluded."""

    agenda_item = models.OneToOneField(
        AgendaItem, verbose_name=_("議題"), on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(_("結果"), max_length=16, choices=DecisionOutcome.choices)
    track = models.CharField(_("区分"), max_length=24, blank=True)
    text = models.TextField(_("決定内容"), max_length=4000, validators=[MaxLengthValidator(4000)])
    decided_at = models.DateTimeField(_("記録日時"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("記録者"), on_delete=models.PROTECT, related_name="+"
    )

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("決定")
        verbose_name_plural = _("決定")
        ordering = ["agenda_item__meeting", "agenda_item__order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=DecisionOutcome.values),
                name="decision_outcome_valid",
                violation_error_message=_("結果が正しくありません。"),
            ),
            models.CheckConstraint(
                condition=(Q(outcome__in=[DecisionOutcome.SELECTED, DecisionOutcome.NOT_SELECTED]) & ~Q(track=""))
                | (~Q(outcome__in=[DecisionOutcome.SELECTED, DecisionOutcome.NOT_SELECTED]) & Q(track="")),
                name="decision_track_only_for_selection",
                violation_error_message=_("区分は選定・非選定の決定にのみ記録します。"),
            ),
            models.CheckConstraint(
                condition=~Q(text=""),
                name="decision_text_required",
                violation_error_message=_("決定内容を入力してください。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_item}: {self.get_outcome_display()}"

    @property
    def track_label(self) -> str:
        from candidates.models import Track

        return str(dict(Track.choices).get(self.track, self.track)) if self.track else ""


class PdfStatus(models.TextChoices):
    PENDING = "pending", _("作成待ち")
    RENDERING = "rendering", _("作成中")
    DONE = "done", _("作成済み")
    FAILED = "failed", _("失敗")


class MeetingPdf(RowLoaded, models.Model):
    """A meeting's pack or minutes as a PDF, stored once per content: `content_hash` is the
    hash of the HTML it was rendered from, so an unchanged meeting is never rendered twice
    and a changed one never serves a stale file. Rendered by a Celery task (council.meetings.tasks)."""

    class Kind(models.TextChoices):
        PACK = "pack", _("会議資料")
        MINUTES = "minutes", _("議事録")

    meeting = models.ForeignKey(Meeting, verbose_name=_("会議"), on_delete=models.CASCADE, related_name="pdfs")
    kind = models.CharField(_("種類"), max_length=8, choices=Kind.choices)
    language = models.CharField(_("言語"), max_length=8, default="ja")
    content_hash = models.CharField(_("内容のハッシュ"), max_length=64)
    status = models.CharField(_("状態"), max_length=10, choices=PdfStatus.choices, default=PdfStatus.PENDING)
    file = models.FileField(upload_to="pdf/meetings/%Y/", blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(_("エラー"), max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("会議のPDF")
        verbose_name_plural = _("会議のPDF")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "kind", "language", "content_hash"], name="meeting_pdf_once_per_content"
            ),
            models.CheckConstraint(condition=Q(kind__in=["pack", "minutes"]), name="meeting_pdf_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=PdfStatus.values), name="meeting_pdf_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.get_kind_display()} ({self.language})"


class MeetingNotice(RowLoaded, models.Model):
    """An e-mail sent about a meeting to its attendees' organizations: the notice of the meeting
    when it is announced, of its cancellation, of its published minutes. One row per meeting
    and kind is the claim that makes each notice go out once (council/meetings/notices.py)."""

    class Kind(models.TextChoices):
        ANNOUNCED = "announced", _("開催のお知らせ")
        CANCELLED = "cancelled", _("中止のお知らせ")
        MINUTES = "minutes", _("議事録公開のお知らせ")

    meeting = models.ForeignKey(Meeting, verbose_name=_("会議"), on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("種類"), max_length=10, choices=Kind.choices)
    recipients = models.PositiveIntegerField(_("宛先の数"), default=0)
    sent_at = models.DateTimeField(_("送信日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("会議のお知らせ")
        verbose_name_plural = _("会議のお知らせ")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind"], name="meeting_notice_once"),
            models.CheckConstraint(condition=Q(kind__in=["announced", "cancelled", "minutes"]), name="meeting_notice_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.get_kind_display()}"
