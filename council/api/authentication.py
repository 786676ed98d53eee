"""API authentication. A module of its own, importing little: DRF imports it while defining
its views (DEFAULT_AUTHENTICATION_CLASSES)."""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tenants.access import preload_seats

# DRF's own messages, translated by DRF's catalogue (not extracted into ours).
INVALID_TOKEN = "Invalid token."
INACTIVE_USER = "User inactive or deleted."


@cache
def _token_sql() -> tuple[str, list[str]]:
    """The token, its user and the user's seats in one statement, written once per process
    from the models' metadata. Every API request runs it: building it with the ORM each time
    cost about a millisecond of query compilation, three times the query itself."""
    from rest_framework.authtoken.models import Token

    from tenants.models import Membership, Organization

    qn = connection.ops.quote_name
    User = get_user_model()
    user_fields = [f for f in User._meta.concrete_fields]
    token, user = Token._meta, User._meta
    membership, organization = Membership._meta, Organization._meta

    def column(meta, name: str) -> str:
        return qn(meta.get_field(name).column)

    sql = (
        f"SELECT t.{column(token, 'created')}, "
        + ", ".join(f"u.{qn(f.column)}" for f in user_fields)
        + f", m.{column(membership, 'organization')}, o.{column(organization, 'kind')}, m.{column(membership, 'role')}"
        f" FROM {qn(token.db_table)} t"
        f" JOIN {qn(user.db_table)} u ON u.{qn(user.pk.column)} = t.{column(token, 'user')}"
        f" LEFT JOIN {qn(membership.db_table)} m ON m.{column(membership, 'user')} = u.{qn(user.pk.column)}"
        f" LEFT JOIN {qn(organization.db_table)} o ON o.{qn(organization.pk.column)} = m.{column(membership, 'organization')}"
        f" WHERE t.{qn(token.pk.column)} = %s"
    )
    return sql, [f.attname for f in user_fields]


class TokenAuthentication(DrfTokenAuthentication):
    """DRF's `Authorization: Token <key>`, with the user's seats (memberships: organization,
    its kind, role) read in the same query as the token and the user, so that no request pays
    a second query to learn what its user may see."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            # Read by the response cache (council/api/response_cache.py): this answer was
            # given to this token's user.
            request._request.api_token_user_id = found[0].pk
        return found

    def authenticate_credentials(self, key):
        if connection.vendor == "postgresql":
            token, user, seats = self._read(key)
        else:  # SQLite (development) returns dates as text: let the ORM convert them
            token, user, seats = self._read_with_orm(key)
        if token is None:
            raise AuthenticationFailed(_(INVALID_TOKEN))
        if not user.is_active:
            raise AuthenticationFailed(_(INACTIVE_USER))
        preload_seats(user, seats)
        return user, token

    def _read(self, key):
        sql, attnames = _token_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            rows = cursor.fetchall()
        if not rows:
            return None, None, []
        first, width = rows[0], len(attnames)
        user = get_user_model().from_db(connection.alias, attnames, first[1 : 1 + width])
        token = self.get_model().from_db(connection.alias, ["key", "user_id", "created"], [key, user.pk, first[0]])
        token.user = user
        seats = [row[1 + width :] for row in rows if row[1 + width] is not None]
        return token, user, seats

    def _read_with_orm(self, key):
        rows = list(
            self.get_model().objects.filter(key=key).select_related("user").annotate(
                seat_organization=F("user__memberships__organization_id"),
                seat_kind=F("user__memberships__organization__kind"),
                seat_role=F("user__memberships__role"),
            )
        )
        if not rows:
            return None, None, []
        seats = [(r.seat_organization, r.seat_kind, r.seat_role) for r in rows if r.seat_organization is not None]
        return rows[0], rows[0].user, seats
