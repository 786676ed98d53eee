"""The one place that answers "which objects may this user see or change".

Every list and detail (page or API) starts from a queryset narrowed here, so a list can
never show what a detail refuses; outside a user's scope is 404, not 403.

Object permissions are django-guardian rows granted to organization groups. Reading them
through an id subquery (as paperless-ngx does) keeps filtering in the database instead of
checking objects one by one in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, router
from django.db.models import QuerySet
from django.db.models.functions import Cast
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from council.sql import per_user_subquery

from tenants.models import LOCAL_GOVERNMENT_KINDS, Membership, Organization, Role


@dataclass(frozen=True)
class Seat:
    """One membership: a role held in an organization."""

    organization_id: int
    kind: str
    role: str


class Access:
    """What one user is, loaded once per user object (one query), then answered from memory."""

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def seats(self) -> tuple[Seat, ...]:
        if not self.user.is_authenticated:
            return ()
        rows = Membership.objects.filter(user=self.user).values_list(
            "organization_id", "organization__kind", "role"
        )
        return tuple(Seat(*row) for row in rows)

    def organization_ids(self, *roles: str) -> frozenset[int]:
        """Organizations where the user holds any of `roles` (any role when none given)."""
        return frozenset(s.organization_id for s in self.seats if not roles or s.role in roles)

    @property
    def is_secretariat(self) -> bool:
        return any(s.role == Role.SECRETARIAT_STAFF for s in self.seats)

    @property
    def ministry_ids(self) -> frozenset[int]:
        return self.organization_ids(Role.MINISTRY_OFFICER)

    @property
    def association_ids(self) -> frozenset[int]:
        return self.organization_ids(Role.ASSOCIATION_REPRESENTATIVE)

    @property
    def local_government_ids(self) -> frozenset[int]:
        return frozenset(
            s.organization_id
            for s in self.seats
            if s.role == Role.LOCAL_OFFICIAL and s.kind in LOCAL_GOVERNMENT_KINDS
        )


def preload_seats(user, seats) -> None:
    """Give `user` its seats already read (e.g. in the query that authenticated it), so
    access_for() answers without a query of its own."""
    access = Access(user)
    access.__dict__["seats"] = tuple(Seat(*seat) for seat in seats)
    user._council_access = access


def access_for(user) -> Access:
    """The user's Access, cached on the user object for the length of a request."""
    if user is None:
        user = AnonymousUser()
    access = getattr(user, "_council_access", None)
    if access is None:
        access = Access(user)
        if user.is_authenticated:
            user._council_access = access
    return access


def user_organizations(user) -> QuerySet[Organization]:
    return Organization.objects.filter(pk__in=access_for(user).organization_ids()).order_by("code")


# The two ways a user holds an object permission: through a group (an organization's), or
# directly. Each is read in an id subquery.
HOLDERS = ((GroupObjectPermission, "group__user"), (UserObjectPermission, "user"))


def _holders_ids(permission_model, holder: str, codename: str, content_type, user_pk):
    """The ids of the objects `user_pk` holds `codename` on through `permission_model`."""
    # guardian stores object_pk as text; cast it once, inside the subquery.
    return (
        permission_model.objects.filter(
            permission__codename=codename, permission__content_type=content_type, **{holder: user_pk}
        )
        .annotate(object_id=Cast("object_pk", models.BigIntegerField()))
        .values("object_id")
    )


def permitted_pk_q(model: type[models.Model], user_pk: int, codename: str) -> models.Q:
    """permitted_q for the user with id `user_pk`. Each holder's id subquery is compiled once
    per database and permission (council.sql.per_user_subquery): building and compiling them
    was a fifth of a municipal official's page of studies, where they appear three times."""
    content_type = ContentType.objects.get_for_model(model)
    condition = models.Q()
    for permission_model, holder in HOLDERS:
        ids = per_user_subquery(
            ("permitted", permission_model, holder, codename, content_type.pk),
            partial(_holders_ids, permission_model, holder, codename, content_type),
            user_pk,
            using=router.db_for_read(permission_model),
        )
        condition |= models.Q(pk__in=ids)
    return condition


def permitted_q(model: type[models.Model], user, codename: str) -> models.Q:
    """A condition selecting the `model` objects on which `user` holds `codename`, through
    their organizations' groups or directly.

    The permission rows are read in id subqueries: the database does the work, and the
    model's primary-key index serves the outer lookup.
    """
    if not user.is_authenticated:
        return models.Q(pk__in=[])
    return permitted_pk_q(model, user.pk, codename)


def permitted(queryset: QuerySet, user, codename: str) -> QuerySet:
    """Narrow `queryset` to objects on which `user` holds `codename` (see permitted_q)."""
    return queryset.filter(permitted_q(queryset.model, user, codename))


def grant(organization: Organization, codename: str, obj: models.Model) -> None:
    """Give every member of `organization` the object permission `codename` on `obj`."""
    assign_perm(codename, organization.group, obj)


def revoke(organization: Organization, codename: str, obj: models.Model) -> None:
    remove_perm(codename, organization.group, obj)


COUNCIL_ROLES = frozenset({Role.SECRETARIAT_STAFF, Role.MINISTRY_OFFICER, Role.ASSOCIATION_REPRESENTATIVE})


def is_council_member(user) -> bool:
    """Secretariat staff, ministry officers and association representatives: the people who
    deliberate, and so see proposals before they are decided."""
    return any(seat.role in COUNCIL_ROLES for seat in access_for(user).seats)
