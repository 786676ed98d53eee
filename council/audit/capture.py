"""What is recorded automatically, through Django's signals.

* Every model of the apps in TRACKED_APPS, plus auth's User and Group: create, update (a
  field diff against the row as it was before the save) and delete, and changes of their
  many-to-many fields (a user's groups, a candidate's business areas).
* council.TransitionLog rows are recorded as "transition" events of the object that moved
  (from/to and the comment), and policies.Ballot saves as "ballot" events.
* Logins, failed logins (the username tried, never the password) and logouts; API tokens
  issued and deleted (never the key).

Not recorded, and why (EXCLUDED): rows that are themselves a record of something already
recorded here, or bookkeeping of the machinery:
policies.ConsentRecord (the round's own hash chain, mirroring its ballots and transitions),
progress.AdoptionChange (an adoption's history, mirroring its update events and written in
bulk by imports, which record one "import" event), policies.ReminderLog and progress.Reminder
(claims of reminder e-mails), policies.VersionPdf and progress.ProgressDocument (renderings,
reproducible from the records). Apps outside TRACKED_APPS are not recorded either: sessions,
django-axes' login attempts, django-guardian's permission rows (granted by the actions whose
own objects are recorded), Celery's and the dashboards' derived figures.

Bulk writes (bulk_create, bulk_update, QuerySet.update) send no signals; the actions that
use them for recorded data write one summary event themselves (progress.actions).
"""

from __future__ import annotations

import functools
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from council.audit import context
from council.audit.models import Action
from council.audit.recorder import describe, field_value, is_secret, record

TRACKED_APPS = frozenset({"tenants", "candidates", "policies", "progress", "council"})
TRACKED_MODELS = frozenset({"auth.user", "auth.group"})
EXCLUDED = frozenset({
    "candidates.candidatescore",  # kept by database triggers, from the assessments it adds up
    "policies.consentrecord",
    "policies.reminderlog",
    "policies.versionpdf",
    "policies.versionpdfclaim",
    "progress.adoptionchange",
    "progress.reminder",
    "progress.progressdocument",
    "council.meetingpdf",
    "council.meetingnotice",
    "council.transitionlog",  # recorded as "transition" events of its subject instead
})
# Values that say nothing an event does not already say: the login event records a login.
IGNORED_FIELDS = frozenset({"last_login"})
SNAPSHOT = "_audit_before"


def is_tracked(model: type[models.Model]) -> bool:
    meta = model._meta.concrete_model._meta
    label = meta.label_lower
    if label in EXCLUDED or meta.app_label == "audit":
        return False
    return meta.app_label in TRACKED_APPS or label in TRACKED_MODELS


@functools.cache
def diff_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields a diff compares: concrete, not the primary key, not set by the clock."""
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.name not in IGNORED_FIELDS
        and not getattr(f, "auto_now", False)
        and not getattr(f, "auto_now_add", False)
    ]


def _is_transition_save(model: type[models.Model], update_fields) -> bool:
    """WorkflowModel.transition() saves `status` with update_fields and writes a TransitionLog
    in the same transaction: the status change is that "transition" event, not an update."""
    from council.workflow import WorkflowModel

    return issubclass(model, WorkflowModel) and update_fields is not None and "status" in update_fields


# --- Create, update, delete ---------------------------------------------------------------------


def before_save(sender, instance, raw=False, using=None, update_fields=None, **kwargs) -> None:
    # A new instance without a primary key is an insert for sure; one with a key given may
    # still update an existing row, so it is read like any other.
    if raw or instance.pk is None:
        return
    fields = diff_fields(sender)
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    if not fields:
        instance.__dict__[SNAPSHOT] = {}
        return
    instance.__dict__[SNAPSHOT] = (
        sender._base_manager.using(using).filter(pk=instance.pk).values(*(f.attname for f in fields)).first()
    )


def after_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    before = instance.__dict__.pop(SNAPSHOT, None)
    action = Action.BALLOT if sender._meta.label_lower == "policies.ballot" else None
    if created or before is None:  # (no row before the save: an insert, whatever Django did)
        changes = {
            f.name: [None, field_value(f, getattr(instance, f.attname))]
            for f in diff_fields(sender)
            if getattr(instance, f.attname) not in (None, "", [], {})
        }
        record(action or Action.CREATE, subject=instance, changes=changes, details=_details(instance))
        return
    changes = {}
    for f in diff_fields(sender):
        if f.attname not in before:
            continue
        raw_old, raw_new = before[f.attname], getattr(instance, f.attname)
        old, new = field_value(f, raw_old), field_value(f, raw_new)
        # A secret shows only that it changed: both sides read "[redacted]".
        if old != new or (is_secret(f.name) and raw_old != raw_new):
            changes[f.name] = [old, new]
    if _is_transition_save(sender, update_fields):
        changes.pop("status", None)
    if changes:
        record(action or Action.UPDATE, subject=instance, changes=changes, details=_details(instance))


def after_delete(sender, instance, **kwargs) -> None:
    changes = {
        f.name: [field_value(f, getattr(instance, f.attname, None)), None]
        for f in diff_fields(sender)
        if getattr(instance, f.attname, None) not in (None, "", [], {})
    }
    record(Action.DELETE, subject=instance, changes=changes, details=_details(instance))


def _details(instance: models.Model) -> dict[str, Any]:
    # A ballot belongs to its round: the round's page lists its ballots' events.
    if instance._meta.label_lower == "policies.ballot":
        return {"round": instance.round_id, "organization": instance.organization_id}
    return {}


# --- Many-to-many -----------------------------------------------------------------------------


def _names(queryset) -> dict[Any, str]:
    return {obj.pk: describe(obj) for obj in queryset}


def m2m_changed_handler(sender, instance, action, reverse, model, pk_set, using=None, **kwargs) -> None:
    field = _M2M_FIELDS.get(sender)
    if field is None or action not in ("pre_clear", "post_clear", "post_add", "post_remove"):
        return
    if reverse:
        # instance is the target (a Group); record the change on each source (each User).
        if action == "pre_clear":
            instance.__dict__[SNAPSHOT + "_m2m"] = list(model._base_manager.using(using).filter(**{field.name: instance}))
            return
        sources = (
            instance.__dict__.pop(SNAPSHOT + "_m2m", [])
            if action == "post_clear"
            else list(model._base_manager.using(using).filter(pk__in=pk_set or ()))
        )
        for source in sources:
            current = _names(getattr(source, field.name).all())
            old = dict(current)
            if action == "post_add":
                old.pop(instance.pk, None)
            else:
                old[instance.pk] = describe(instance)
            _record_m2m(source, field, old, current)
        return
    if action == "pre_clear":
        instance.__dict__[SNAPSHOT + "_m2m"] = _names(getattr(instance, field.name).all())
        return
    current = _names(getattr(instance, field.name).all())
    if action == "post_clear":
        old = instance.__dict__.pop(SNAPSHOT + "_m2m", {})
    else:
        touched = _names(model._base_manager.using(using).filter(pk__in=pk_set or ()))
        old = {k: v for k, v in current.items() if k not in touched} if action == "post_add" else {**current, **touched}
    _record_m2m(instance, field, old, current)


def _record_m2m(instance: models.Model, field: models.Field, old: dict, new: dict) -> None:
    if set(old) == set(new):
        return
    record(Action.UPDATE, subject=instance, changes={field.name: [sorted(old.values()), sorted(new.values())]})


_M2M_FIELDS: dict[type[models.Model], models.ManyToManyField] = {}


# --- Transitions ----------------------------------------------------------------------------------


def transition_logged(sender, instance, created, raw=False, **kwargs) -> None:
    # The creation row (from "" to the initial status) repeats the object's "create" event.
    if raw or not created or not instance.from_status:
        return
    subject = instance.subject
    if subject is None:
        return
    details: dict[str, Any] = {"comment": instance.comment} if instance.comment else {}
    current = context.current().user()
    if instance.by_id is not None and (current is None or current.pk != instance.by_id):
        details["by"] = instance.by.get_username()  # a command or task acting for someone
    changes = {"status": [instance.from_status, instance.to_status]}
    record(Action.TRANSITION, subject=subject, changes=changes, details=details)


# --- Logins and tokens ----------------------------------------------------------------------------


def logged_in(sender, request, user, **kwargs) -> None:
    record(Action.LOGIN, subject=user, actor=user)


def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(Action.LOGOUT, subject=user, actor=user)


def login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django masks the password in `credentials`; only the username is read anyway.
    username_field = get_user_model().USERNAME_FIELD
    tried = str(credentials.get(username_field) or credentials.get("username") or "")[:150]
    details: dict[str, Any] = {"username": tried}
    if request is not None and getattr(request, "axes_locked_out", False):
        details["locked_out"] = True
    record(Action.LOGIN_FAILED, actor=None, actor_repr=tried, details=details)


def token_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        record(Action.TOKEN_ISSUED, subject=instance.user)


def token_deleted(sender, instance, **kwargs) -> None:
    record(Action.TOKEN_REVOKED, subject=instance.user)


def connect() -> None:
    """Connect the receivers (AuditConfig.ready), once per model so that saves of models not
    recorded cost nothing."""
    for model in apps.get_models(include_auto_created=False):
        if not is_tracked(model):
            continue
        uid = f"audit:{model._meta.label_lower}"
        pre_save.connect(before_save, sender=model, dispatch_uid=uid)
        post_save.connect(after_save, sender=model, dispatch_uid=uid)
        post_delete.connect(after_delete, sender=model, dispatch_uid=uid)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            _M2M_FIELDS[through] = field
            m2m_changed.connect(m2m_changed_handler, sender=through, dispatch_uid=f"audit:{through._meta.label_lower}")
    post_save.connect(transition_logged, sender="council.TransitionLog", dispatch_uid="audit:transition")
    user_logged_in.connect(logged_in, dispatch_uid="audit:login")
    user_logged_out.connect(logged_out, dispatch_uid="audit:logout")
    user_login_failed.connect(login_failed, dispatch_uid="audit:login_failed")
    if apps.is_installed("rest_framework.authtoken"):
        post_save.connect(token_saved, sender="authtoken.Token", dispatch_uid="audit:token")
        post_delete.connect(token_deleted, sender="authtoken.Token", dispatch_uid="audit:token")
