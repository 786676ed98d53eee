"""Building blocks of the stage 1–2 API tests (tests/test_api_*.py).

Objects are made through candidates.actions, as users would make them; where a test needs
a starting state, `put_in` forces it with a queryset update (bypassing the workflow on
purpose). `snapshot()` reads every row a stage 1–2 write could touch, so a test can show
that a refused request changed nothing.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.utils import timezone
from guardian.models import GroupObjectPermission

from candidates import actions
from candidates.models import (
    Assessment,
    AssessmentEvidence,
    Candidate,
    CriteriaWeights,
    FeasibilityStudy,
    StudyAttachment,
)
from council import calendar
from council.models import TransitionLog
from tenants.models import Organization

# One user per kind of seat: secretariat, the owning ministry (soumu owns the candidates
# made here), another ministry, an association, a prefecture and a municipality.
ROLES = ("secretariat", "soumu", "mhlw", "chijikai", "hokkaido", "sapporo")
COUNCIL = frozenset({"secretariat", "soumu", "mhlw", "chijikai"})
LOCAL = frozenset({"hokkaido", "sapporo"})

TINY_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64

FILLED_STUDY = {
    "findings": "全国の団体で同じ機能を個別に調達しており、共通化の効果が大きい。",
    "affected_local_governments": 1741,
    "cost_initial_yen": 1_200_000_000,
    "cost_annual_yen": 300_000_000,
    "expected_effect": "調達・運用費用の削減と制度改正への一括対応。",
    "conclusion": "feasible",
}


def every_result(client, url: str, params: dict) -> list:
    """Every row a paginated list answers `params` with, following its `next` links."""
    listed, page = [], client.get(url, {**params, "page_size": 500}).json()
    while True:
        listed += page["results"]
        if not page["next"]:
            return listed
        page = client.get(page["next"]).json()


def count_and_every_result(response, client, url: str, query: str) -> tuple[int, dict, list]:
    """A list's answer to `url + query` (200): its `count`, the query's filters (paging left
    out), and every row the list answers those filters with."""
    assert response.status_code == 200, response.content
    params = {k: v for k, v in parse_qsl(query.lstrip("?")) if k not in ("page", "page_size")}
    return response.json()["count"], params, every_result(client, url, params)


def token_client(user):
    """An APIClient authenticated by `user`'s token, asking for JSON."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT="application/json")
    return client


def get_json(client, path: str):
    """(status, JSON body or None): what bench.endpoints.discover asks of a GET."""
    response = client.get(path)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def get_user(username: str):
    return get_user_model().objects.get(username=username)


def org(code: str) -> Organization:
    return Organization.objects.get(code=code)


def propose(title: str = "公金受取口座の登録支援", *, ministry: str = "soumu", description: str = "住民の口座登録を支援する。",
            areas=()) -> Candidate:
    return actions.propose_candidate(
        get_user("secretariat"), title=title, description=description, owning_ministry=org(ministry),
        business_areas=areas,
    )


def put_in(obj, status: str, **fields):
    """Force a status for a test's starting point (bypassing the workflow on purpose)."""
    if isinstance(obj, Candidate) and status in ("selected", "not_selected"):
        fields.setdefault("track", "commonization")
    type(obj).objects.filter(pk=obj.pk).update(status=status, **fields)
    obj.refresh_from_db()
    return obj


def assess(candidate: Candidate, username: str = "secretariat", scores=(4, 3, 5)) -> Assessment:
    return actions.assess(
        candidate, get_user(username), user_need=scores[0], expected_effect=scores[1], feasibility=scores[2],
        rationale="根拠となる理由", viewpoints=["i"],
    )


def candidate_in(status: str, title: str = "公金受取口座の登録支援", **kwargs) -> Candidate:
    candidate = propose(title, **kwargs)
    if status == "selected":
        assess(candidate)
    return put_in(candidate, status)


def future(days: int = 30):
    return calendar.next_business_day(calendar.today() + timedelta(days=days))


def study_in(status: str = "assigned", *, filled: bool = False, title: str = "公金受取口座の登録支援") -> FeasibilityStudy:
    """A study of a selected soumu candidate, assigned by the secretariat, in `status`."""
    study, _moved = actions.assign_study(candidate_in("selected", title), get_user("secretariat"), due_date=future())
    if filled or status in ("submitted", "accepted"):
        study = actions.save_study(study, get_user("soumu"), dict(FILLED_STUDY))
    now = timezone.now()
    stamps = {
        "assigned": {},
        "submitted": {"submitted_at": now},
        "accepted": {"submitted_at": now, "decided_at": now},
        "returned": {"submitted_at": now, "decided_at": now},
    }[status]
    return put_in(study, status, **stamps)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


SNAPSHOT_MODELS: tuple[type[Model], ...] = (
    Candidate,
    Candidate.business_areas.through,
    Assessment,
    AssessmentEvidence,
    CriteriaWeights,
    FeasibilityStudy,
    StudyAttachment,
    TransitionLog,
    GroupObjectPermission,
)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table a stage 1–2 write touches, to compare before and after."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS}
