"""API authentication. A module of its own, importing little: DRF imports it while defining
its views (DEFAULT_AUTHENTICATION_CLASSES)."""

from django.db.models import F
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tenants.access import preload_seats

# DRF's own messages, translated by DRF's catalogue (not extracted into ours).
INVALID_TOKEN = "Invalid token."
INACTIVE_USER = "User inactive or deleted."


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
        rows = list(
            self.get_model().objects.filter(key=key).select_related("user").annotate(
                seat_organization=F("user__memberships__organization_id"),
                seat_kind=F("user__memberships__organization__kind"),
                seat_role=F("user__memberships__role"),
            )
        )
        if not rows:
            raise AuthenticationFailed(_(INVALID_TOKEN))
        user = rows[0].user
        if not user.is_active:
            raise AuthenticationFailed(_(INACTIVE_USER))
        preload_seats(
            user, [(r.seat_organization, r.seat_kind, r.seat_role) for r in rows if r.seat_organization is not None]
        )
        return user, rows[0]
