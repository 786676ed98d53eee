from django.utils.functional import SimpleLazyObject

from tenants.access import user_organizations


def organizations(request) -> dict:
    """The signed-in user's organizations for the page header, queried only if a page uses them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_organizations": []}
    return {"user_organizations": SimpleLazyObject(lambda: list(user_organizations(user)))}
