from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from council.loading import RowLoaded


class TransitionLog(RowLoaded, models.Model):
    """One row per workflow transition of any workflow object: who, when, from, to, why."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    from_status = models.CharField(_("変更前"), max_length=32, blank=True)
    to_status = models.CharField(_("変更後"), max_length=32)
    # None when the platform itself made the move (e.g. a consent round closed on time).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("実施者"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    at = models.DateTimeField(_("日時"), auto_now_add=True)
    comment = models.TextField(_("コメント"), blank=True, max_length=4000, validators=[MaxLengthValidator(4000)])

    class Meta:
        verbose_name = _("状態遷移の履歴")
        verbose_name_plural = _("状態遷移の履歴")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="transition_subject_at")]

    def __str__(self) -> str:
        return f"{self.content_type.model}#{self.object_id}: {self.from_status or '-'} → {self.to_status}"


class Attachment(RowLoaded, models.Model):
    """A file attached to something, checked by content (see council.uploads) and served
    only through a view that checks the viewer may see its owner."""

    file = models.FileField(_("ファイル"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("ファイル名"), max_length=255)
    content_type = models.CharField(_("形式"), max_length=100)
    size = models.PositiveBigIntegerField(_("サイズ"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登録者"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


# The council's meetings (連絡協議会) are defined in their own module and registered with
# this app by importing them here (council.meetings.models imports council.workflow, which
# needs TransitionLog above).
from council.meetings.models import (  # noqa: E402
    AgendaItem,
    Decision,
    Meeting,
    MeetingAttendee,
    MeetingNotice,
    MeetingPdf,
)

__all__ = [
    "AgendaItem", "Attachment", "Decision", "Meeting", "MeetingAttendee", "MeetingNotice", "MeetingPdf", "TransitionLog",
]
