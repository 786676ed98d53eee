"""The audit event: one append-only, hash-chained row per thing that happened.

See council/audit/__init__.py for the design (why a hand-written recorder, how the chain is
serialised, what is and is not recorded).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from council.loading import RowLoaded

GENESIS = "0" * 64


class Action(models.TextChoices):
    CREATE = "create", _("作成")
    UPDATE = "update", _("変更")
    DELETE = "delete", _("削除")
    TRANSITION = "transition", _("状態遷移")
    BALLOT = "ballot", _("投票")
    IMPORT = "import", _("一括取込")
    BULK_CREATE = "bulk_create", _("一括作成")
    LOGIN = "login", _("ログイン")
    LOGIN_FAILED = "login_failed", _("ログイン失敗")
    LOGOUT = "logout", _("ログアウト")
    TOKEN_ISSUED = "token_issued", _("APIトークン発行")
    TOKEN_REVOKED = "token_revoked", _("APIトークン削除")


def canonical_json(value: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def timestamp(value) -> str:
    """The event time as hashed: UTC with microseconds, whatever the database returns."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def model_label(content_type_id: int | None) -> str:
    """"app_label.model" of a content type (cached by Django): hashed instead of the id, so a
    restore that renumbers content types (natural keys) still verifies."""
    if content_type_id is None:
        return ""
    content_type = ContentType.objects.get_for_id(content_type_id)
    return f"{content_type.app_label}.{content_type.model}"


class AuditEvent(RowLoaded, models.Model):
    """Who did what to which object, when and from where.

    Rows are only ever inserted (by council.audit.chain.append, under the chain lock); the
    database refuses UPDATE and DELETE on this table (migration 0002). The foreign keys to the
    actor and their organization have no database constraint and do nothing on delete: a
    deleted user's events keep their id and `actor_repr` unchanged, since changing them would be
    an UPDATE the trigger refuses (and would break the hash).
    """

    sequence = models.BigIntegerField(_("番号"), primary_key=True)
    at = models.DateTimeField(_("日時"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("実施者"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # The actor's name at the time; for a failed login the username that was tried; for the
    # platform itself "system" with where it ran (command, task).
    actor_repr = models.CharField(_("実施者の表示名"), max_length=200, blank=True)
    organization = models.ForeignKey(
        "tenants.Organization",
        verbose_name=_("実施者の団体"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # Text, not an inet column: PostgreSQL would respell some IPv6 addresses and break the hash.
    ip = models.CharField(_("IPアドレス"), max_length=45, blank=True)
    user_agent = models.CharField(_("ユーザーエージェント"), max_length=255, blank=True)
    request_id = models.CharField(_("リクエストID"), max_length=64, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("対象の種類"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(_("対象のID"), max_length=64, blank=True)
    object_repr = models.CharField(_("対象"), max_length=255, blank=True)
    # field → [old, new]; never passwords, tokens, secrets or file contents (capture.py).
    changes = models.JSONField(_("変更内容"), default=dict, blank=True)
    # What is not a field change: a transition's comment, an import's file and counts, the
    # username of a failed login.
    details = models.JSONField(_("詳細"), default=dict, blank=True)
    prev_hash = models.CharField(_("直前のハッシュ"), max_length=64)
    hash = models.CharField(_("ハッシュ"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "sequence"], name="audit_event_object"),
            models.Index(fields=["actor", "sequence"], name="audit_event_actor"),
            models.Index(fields=["organization", "sequence"], name="audit_event_organization"),
            models.Index(fields=["action", "sequence"], name="audit_event_action"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_repr}".rstrip()

    def material(self) -> dict[str, Any]:
        """Everything the hash covers: every column but the hash itself."""
        return event_material(
            {
                "sequence": self.sequence,
                "at": self.at,
                "actor_id": self.actor_id,
                "actor_repr": self.actor_repr,
                "organization_id": self.organization_id,
                "ip": self.ip,
                "user_agent": self.user_agent,
                "request_id": self.request_id,
                "action": self.action,
                "content_type_id": self.content_type_id,
                "object_id": self.object_id,
                "object_repr": self.object_repr,
                "changes": self.changes,
                "details": self.details,
                "prev_hash": self.prev_hash,
            }
        )

    def compute_hash(self) -> str:
        return hash_material(self.material())

    @property
    def actor_display(self) -> str:
        """The actor as people read it: the platform's own acts say where they ran."""
        if self.actor_id is None and self.actor_repr.startswith("system"):
            where = self.actor_repr.removeprefix("system").lstrip(": ")
            return f"{_('システム')}（{where}）" if where else str(_("システム"))
        return self.actor_repr or str(_("システム"))

    @property
    def model_label(self) -> str:
        return model_label(self.content_type_id)


# The columns the chain covers, in the shape verify reads them (values_list order).
HASHED_COLUMNS = (
    "sequence",
    "at",
    "actor_id",
    "actor_repr",
    "organization_id",
    "ip",
    "user_agent",
    "request_id",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "changes",
    "details",
    "prev_hash",
)


def event_material(row: dict[str, Any]) -> dict[str, Any]:
    """The canonical record of one row (a dict keyed by HASHED_COLUMNS)."""
    return {
        "sequence": row["sequence"],
        "at": timestamp(row["at"]),
        "actor": row["actor_id"],
        "actor_repr": row["actor_repr"],
        "organization": row["organization_id"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "request_id": row["request_id"],
        "action": row["action"],
        "model": model_label(row["content_type_id"]),
        "object_id": row["object_id"],
        "object_repr": row["object_repr"],
        "changes": row["changes"],
        "details": row["details"],
        "prev_hash": row["prev_hash"],
    }


def hash_material(material: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()
