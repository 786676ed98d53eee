"""`record()`: write one audit event for the current actor (see context.py), and the rules for
turning field values into what an event may hold."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.fields.files import FieldFile

from council.audit import chain, context
from council.audit.models import Action, AuditEvent

# Long texts (a policy's body, a report's summary) are kept as their beginning, length and hash:
# enough to see what changed without copying whole documents into every event.
MAX_TEXT = 2000
KEEP_TEXT = 500
REDACTED = "[redacted]"


def is_secret(field_name: str) -> bool:
    """Fields whose values never enter an event: passwords (hashes), tokens, keys, secrets."""
    name = field_name.lower()
    return name in {"key", "password"} or any(word in name for word in ("password", "secret", "token"))


def clip(text: str) -> str:
    text = text.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    if len(text) <= MAX_TEXT:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[:KEEP_TEXT]}…（{len(text)}文字, sha256:{digest}…）"


def normalize(value: Any) -> Any:
    """A JSON value that survives the database unchanged (PostgreSQL's jsonb respells numbers:
    an integral float comes back as an integer), so the hash computed before the insert is
    the hash `verify_audit_trail` recomputes."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return normalize(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def field_value(field: models.Field, value: Any) -> Any:
    """How one model field's value is written into `changes`."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if is_secret(field.name):
        return REDACTED
    if isinstance(value, FieldFile) or isinstance(field, models.FileField):
        return getattr(value, "name", None) or ""  # the file's name, never its contents
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return clip(value)
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float):
        return normalize(value)
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_TEXT:
        return clip(text)
    return normalize(json.loads(text))


def describe(obj: models.Model) -> str:
    try:
        text = str(obj)
    except Exception:  # a __str__ reaching for a row already deleted in the same cascade
        text = ""
    return (text or f"{obj._meta.verbose_name} #{obj.pk}")[:255]


def organization_of(user) -> int | None:
    """The actor's organization: their first membership (most users have exactly one)."""
    from tenants.access import access_for

    seats = access_for(user).seats
    return seats[0].organization_id if seats else None


_UNSET: Any = object()


def record(
    action: str | Action,
    *,
    subject: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    actor: Any = _UNSET,
    actor_repr: str | None = None,
) -> AuditEvent:
    """Append one event. The actor is the current request's user unless given (a login
    event names its user; a failed login has none and gives the username tried as
    `actor_repr`); outside a request it is the platform itself ("system")."""
    origin = context.current()
    if actor is _UNSET:
        actor = origin.user()
    if actor_repr is None:
        if actor is not None:
            actor_repr = actor.get_username()
        elif origin.request is not None:
            actor_repr = "anonymous"
        else:
            actor_repr = f"system: {origin.system}" if origin.system else "system"
    fields: dict[str, Any] = {
        "actor": actor,
        "actor_repr": actor_repr[:200],
        "organization_id": organization_of(actor) if actor is not None else None,
        "ip": origin.ip,
        "user_agent": origin.user_agent,
        "request_id": context.request_id(),
        "action": str(action),
        "changes": normalize(changes or {}),
        "details": normalize(details or {}),
    }
    if subject is not None:
        fields.update(
            content_type=ContentType.objects.get_for_model(subject),
            object_id=str(subject.pk),
            object_repr=describe(subject),
        )
    return chain.append(**fields)
