from django import template

from tenants.access import access_for

register = template.Library()


@register.simple_tag
def is_secretariat(user) -> bool:
    """`{% is_secretariat user as flag %}`: whether to show the secretariat's own links."""
    return access_for(user).is_secretariat
