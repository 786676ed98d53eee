"""Bilingual e-mails: recipients have no stored language, and officials read Japanese first.

Each e-mail is a pair of templates, templates/email/<name>_subject.txt and <name>_body.txt,
rendered twice, under translation.override("ja") and override("en"), so every string goes
through the catalogue. The subject is the Japanese one, " / ", then the English one (on one
line); the body is the Japanese text, a separator line, then the English text.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import translation

LANGUAGES = ("ja", "en")
SEPARATOR = "-" * 60


def render_one(name: str, context: dict, language: str) -> tuple[str, str]:
    """(subject, body) of one e-mail in one language."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"email/{name}_subject.txt", context).split())
        body = render_to_string(f"email/{name}_body.txt", context).strip()
    return subject, body


def render_bilingual(name: str, context: dict) -> tuple[str, str]:
    """(subject, body) in Japanese then English."""
    parts = [render_one(name, context, language) for language in LANGUAGES]
    subject = " / ".join(subject for subject, _body in parts)
    body = f"\n\n{SEPARATOR}\n\n".join(body for _subject, body in parts) + "\n"
    return subject, body


def addresses(organization_ids, roles=None) -> list[str]:
    """The e-mail addresses of the active members of these organizations (holding one of
    `roles`, when given), sorted, each once."""
    # One filter(): the organization and the role must be those of the same membership.
    seat = {"memberships__organization_id__in": organization_ids}
    if roles is not None:
        seat["memberships__role__in"] = roles
    members = get_user_model().objects.filter(is_active=True, **seat)
    return sorted(set(members.exclude(email="").values_list("email", flat=True)))
