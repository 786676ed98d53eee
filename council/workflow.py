"""The one transition mechanism every workflow object of the project uses.

A workflow model declares its status choices and, next to them, the table of allowed
moves. `transition()` locks the row, checks the move against the table and the model's
own guard, saves with `update_fields`, and writes a TransitionLog row — all in one
transaction, so two simultaneous moves cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from council.loading import RowLoaded
from council.models import TransitionLog


class Conflict(Exception):
    """The request conflicts with the object's current state (HTTP 409)."""


class TransitionNotAllowed(Conflict):
    """The move is not in the table from the object's current state (HTTP 409)."""

    def __init__(self, obj: WorkflowModel, to: str, reason: str | None = None) -> None:
        self.from_status, self.to_status = obj.status, to
        self.reason = reason or str(
            _("「%(from)s」から「%(to)s」へは変更できません。")
            % {"from": obj.status_label(obj.status), "to": obj.status_label(to)}
        )
        super().__init__(self.reason)


class WorkflowModel(RowLoaded, models.Model):
    """Abstract base: subclasses define `status` (with choices) and `TRANSITIONS`."""

    # from status → the statuses it may move to
    TRANSITIONS: ClassVar[Mapping[str, frozenset[str]]] = {}

    class Meta:
        abstract = True

    @classmethod
    def status_label(cls, value: str) -> str:
        return str(dict(cls._meta.get_field("status").choices).get(value, value))

    @classmethod
    def all_statuses(cls) -> list[str]:
        return [value for value, _label in cls._meta.get_field("status").choices]

    def allowed_targets(self) -> frozenset[str]:
        return self.TRANSITIONS.get(self.status, frozenset())

    def may_transition(self, user, to: str) -> bool:
        """Whether `user` may ever make moves to `to` on this object (roles, ownership)."""
        return False

    def check_transition(self, to: str, by, changes: dict[str, Any], comment: str) -> None:
        """Model-specific guard, run on the locked row; raise ValidationError or TransitionNotAllowed."""

    def apply_transition(self, to: str, by, changes: dict[str, Any]) -> list[str]:
        """Set fields that go with the move (decision dates…); return their names."""
        for name, value in changes.items():
            setattr(self, name, value)
        return list(changes)

    def transition(self, to: str, *, by, comment: str = "", system: bool = False, **changes: Any):
        """Move to `to` as `by`; returns the saved, up-to-date object (also refreshes self).

        `system=True` is for moves the platform makes itself (a round closed at its closing
        time): no user permission applies, and `by` may be None.
        """
        if not system and not self.may_transition(by, to):
            raise PermissionDenied(_("この操作を行う権限がありません。"))
        with transaction.atomic():
            locked = type(self).objects.select_for_update().get(pk=self.pk)
            if to not in locked.allowed_targets():
                raise TransitionNotAllowed(locked, to)
            locked.check_transition(to, by, changes, comment)
            from_status = locked.status
            locked.status = to
            fields = ["status", *locked.apply_transition(to, by, changes)]
            if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
                fields.append("updated_at")
            locked.save(update_fields=fields)
            TransitionLog.objects.create(
                content_type=ContentType.objects.get_for_model(locked),
                object_id=locked.pk,
                from_status=from_status,
                to_status=to,
                by=by,
                comment=comment,
            )
        self.refresh_from_db()
        return locked

    def record_creation(self, by, comment: str = "") -> None:
        """The first history row: the object came into being in its initial status."""
        TransitionLog.objects.create(
            content_type=ContentType.objects.get_for_model(self),
            object_id=self.pk,
            from_status="",
            to_status=self.status,
            by=by,
            comment=comment,
        )

    def history(self) -> models.QuerySet[TransitionLog]:
        return TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(self), object_id=self.pk
        ).select_related("by")
