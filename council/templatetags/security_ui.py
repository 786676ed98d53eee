"""What the pages show about a user's own sign-in security."""

from django import template

from council.security import has_device, may_enroll, must_enroll

register = template.Library()


@register.simple_tag
def otp_state(user) -> dict[str, bool]:
    """Whether `user` may set up two-factor authentication, has it, and must have it."""
    allowed = may_enroll(user)
    return {"may_enroll": allowed, "enrolled": allowed and has_device(user), "required": must_enroll(user)}
