"""`{% audit_history obj %}`: an object's own audit events, on its page.

The page decides who sees the object; the tag lists what happened to it (and to the children
present.CHILDREN names). Addresses and user agents are for the secretariat only, which also
gets a link to the object's full trail.
"""

from django import template
from django.contrib.contenttypes.models import ContentType

from council.audit import present
from tenants.access import access_for

register = template.Library()

LIMIT = 50


@register.inclusion_tag("audit/_history.html", takes_context=True)
def audit_history(context, obj, limit: int = LIMIT):
    request = context.get("request")
    user = getattr(request, "user", None)
    is_secretariat = bool(user is not None and user.is_authenticated and access_for(user).is_secretariat)
    events = list(present.history_of(obj)[: limit + 1])
    own_type = ContentType.objects.get_for_model(obj).pk
    for event in present.decorate(events):
        event.of_child = event.content_type_id != own_type  # e.g. a ballot on its round's page
    meta = obj._meta
    return {
        "events": events[:limit],
        "more": len(events) > limit,
        "is_secretariat": is_secretariat,
        "model": meta.label_lower,
        "object_id": obj.pk,
        "heading_id": f"audit-{meta.model_name}-{obj.pk}",
    }


@register.filter
def audit_value(value) -> str:
    """A value from `changes` as text: lists joined, empty shown as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        return "、".join(str(v) for v in value)
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


@register.simple_tag
def may_see_audit_trail(user) -> bool:
    """For the navigation: the audit trail is the secretariat's."""
    return bool(user is not None and user.is_authenticated and access_for(user).is_secretariat)
