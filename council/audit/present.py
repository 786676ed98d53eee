"""How events read on pages and in the CSV: field labels, choice labels, details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from council.audit.models import AuditEvent

DETAIL_LABELS = {
    "comment": _("コメント"),
    "file": _("ファイル"),
    "policy": _("方針"),
    "rows": _("行数"),
    "changed": _("変更した件数"),
    "unchanged": _("変更のなかった件数"),
    "created": _("作成した件数"),
    "model": _("種類"),
    "username": _("入力されたユーザー名"),
    "locked_out": _("ロックアウト中"),
    "by": _("記録上の実施者"),
}
# Ids kept for lookups (a ballot's round), not for reading.
HIDDEN_DETAILS = frozenset({"round", "organization"})

# Child objects whose events an object's own history also lists: a round's ballots and voting
# bodies, a report's or study's attachments. Each is shown on its parent's page already.
CHILDREN: dict[str, list[tuple[str, str]]] = {
    "policies.consentround": [("policies.ballot", "round"), ("policies.consentvoter", "round")],
    "progress.progressreport": [("progress.reportattachment", "report")],
    "candidates.feasibilitystudy": [("candidates.studyattachment", "study")],
}


@dataclass(frozen=True)
class Change:
    label: str
    old: Any
    new: Any


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _model_of(event: AuditEvent):
    return ContentType.objects.get_for_id(event.content_type_id).model_class() if event.content_type_id else None


class References:
    """Names for the ids foreign keys leave in `changes`, loaded in one query per related
    model for a whole page of events (a row deleted since shows as "#id")."""

    def __init__(self, events) -> None:
        wanted: dict[type, set] = {}
        for event in events:
            model = _model_of(event)
            for name, pair in (event.changes or {}).items():
                field = _field(model, name)
                if field is not None and (field.many_to_one or field.one_to_one):
                    ids = pair if isinstance(pair, list) else [pair]
                    wanted.setdefault(field.related_model, set()).update(v for v in ids if isinstance(v, int))
        self.names = {
            related: {pk: str(obj) for pk, obj in related._base_manager.in_bulk(ids).items()}
            for related, ids in wanted.items()
        }

    def name(self, field, value: Any) -> Any:
        if value is None:
            return None
        return self.names.get(field.related_model, {}).get(value, f"#{value}")


def _display(field, value: Any, references: References | None) -> Any:
    if field is None or value is None or isinstance(value, dict):
        return value
    if (field.many_to_one or field.one_to_one) and references is not None:
        return references.name(field, value)
    if getattr(field, "choices", None) and not isinstance(value, list):
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        return date_format(timezone.localtime(moment), "Y-m-d H:i:s") if moment else value
    return value


def changes(event: AuditEvent, references: References | None = None) -> list[Change]:
    model = _model_of(event)
    rows = []
    for name, pair in (event.changes or {}).items():
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        field = _field(model, name)
        label = str(getattr(field, "verbose_name", name))
        rows.append(Change(label, _display(field, old, references), _display(field, new, references)))
    return rows


def decorate(events: list[AuditEvent]) -> list[AuditEvent]:
    """Give each event what the templates show: readable changes, details and model name."""
    references = References(events)
    for event in events:
        event.change_rows = changes(event, references)
        event.detail_rows = details(event)
        event.model_name = model_name(event)
    return events


def _detail_value(key: str, value: Any) -> Any:
    if key == "model" and isinstance(value, str):
        try:
            return str(apps.get_model(value)._meta.verbose_name)
        except (LookupError, ValueError):
            return value
    return value


def details(event: AuditEvent) -> list[tuple[str, Any]]:
    return [
        (str(DETAIL_LABELS.get(key, key)), _detail_value(key, value))
        for key, value in (event.details or {}).items()
        if key not in HIDDEN_DETAILS
    ]


def model_name(event: AuditEvent) -> str:
    if not event.content_type_id:
        return ""
    model = ContentType.objects.get_for_id(event.content_type_id).model_class()
    return str(model._meta.verbose_name) if model is not None else event.model_label


def history_of(obj) -> QuerySet[AuditEvent]:
    """The events of `obj` and of its children (CHILDREN), newest first."""
    content_type = ContentType.objects.get_for_model(obj)
    condition = Q(content_type=content_type, object_id=str(obj.pk))
    for label, field in CHILDREN.get(content_type.app_label + "." + content_type.model, []):
        child = ContentType.objects.get_by_natural_key(*label.split(".")).model_class()
        ids = [str(pk) for pk in child._default_manager.filter(**{field: obj}).values_list("pk", flat=True)]
        if ids:
            condition |= Q(content_type=ContentType.objects.get_for_model(child), object_id__in=ids)
    return AuditEvent.objects.filter(condition).select_related("organization").order_by("-sequence")
