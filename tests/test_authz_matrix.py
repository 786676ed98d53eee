"""The authorization matrix (tests/authz/matrix.py) run against the real URLs.

- test_every_route_is_in_the_matrix: every URL pattern the resolver knows is in the matrix
  (or the admin, covered as a whole), and every matrix entry still exists.
- test_every_api_method_is_tried: every HTTP method an API route accepts has a case.
- test_matrix: each case, for each actor: the status DOMAIN.md gives, and for a write, rows
  changed exactly when it succeeded (a refused write changes no row).
- test_lists_and_details_agree: for every API list and every actor, each listed id opens on
  the detail (200), and each world object not listed is a 404 there.
- test_list_pages_link_exactly_the_details_that_open: the same for the pages that list objects.
- test_the_admin_is_staff_only: the admin's index and every registered model's list.

The world (tests/authz/world.py) is built once per module inside a transaction rolled back
afterwards; each test runs in a savepoint of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from tests.authz.actors import ACTORS, ADMIN_LOGIN, ANONYMOUS, LOGIN, USERS
from tests.authz.matrix import ADMIN_NAMESPACE, LISTS, MATRIX, PAGE_LISTS, Case, Route
from tests.authz.writes import recording_writes
from tests.authz.world import World, build_world
from tests.module_scope import module_transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    media = tmp_path_factory.mktemp("authz-media")
    with override_settings(MEDIA_ROOT=str(media)), module_transaction(django_db_blocker):
        world = build_world(settings.DEMO_PASSWORD)
        # Sessions made here, outside the tests' savepoints, serve every test: signing in
        # once per actor instead of once per request.
        for actor in USERS:
            client = Client()
            client.force_login(get_user_model().objects.get(username=actor))
            world.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
        yield world


# One page client and one API client, reused by every test: a new client loads the whole
# middleware stack again (WhiteNoise indexes every static file), which dominated the run.
_CLIENTS: dict[bool, tuple[Client, APIClient]] = {}


def client_for(world: World, actor: str, *, api: bool):
    """A client acting as `actor`, with nothing kept from an earlier request."""
    if not _CLIENTS:
        _CLIENTS[True] = (Client(), APIClient())
    page, rest = _CLIENTS[True]
    page.cookies.clear()
    rest.cookies.clear()
    rest.credentials()
    if api:
        if actor != ANONYMOUS:
            rest.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[actor]}")
        return rest
    if actor != ANONYMOUS:
        page.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    return page


# --- The routes the resolver knows ---------------------------------------------------------------


def resolver_routes() -> tuple[dict[str, list], list[str]]:
    """({route name: [callbacks]}, [unnamed patterns outside the admin]), walking every include."""
    named: dict[str, list] = {}
    unnamed: list[str] = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                if namespace == ADMIN_NAMESPACE:
                    continue
                if pattern.name is None:
                    unnamed.append(prefix + str(pattern.pattern))
                    continue
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                named.setdefault(name, []).append(pattern.callback)

    walk(get_resolver().url_patterns, "", None)
    return named, unnamed


def test_every_route_is_in_the_matrix():
    named, unnamed = resolver_routes()
    covered = [route.name for route in MATRIX]
    duplicates = sorted({name for name in covered if covered.count(name) > 1})
    missing = sorted(set(named) - set(covered))
    stale = sorted(set(covered) - set(named))
    problems = []
    if missing:
        problems.append("routes missing from tests/authz/matrix.py:\n  " + "\n  ".join(missing))
    if stale:
        problems.append("matrix entries whose route no longer exists:\n  " + "\n  ".join(stale))
    if unnamed:
        problems.append("unnamed URL patterns (name them so the matrix can cover them):\n  " + "\n  ".join(unnamed))
    if duplicates:
        problems.append("routes listed twice in the matrix: " + ", ".join(duplicates))
    assert not problems, "\n".join(problems)
    assert all(route.cases for route in MATRIX)
    for route in MATRIX:
        for case in route.cases:
            assert set(case.expect) == set(USERS), (route.name, case)


def view_methods(callback) -> set[str]:
    """The HTTP methods a DRF view answers (viewsets: their action map; APIViews: handlers)."""
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions} - {"HEAD", "OPTIONS"}
    cls = getattr(callback, "cls", None)
    if cls is None:
        return set()
    return {m.upper() for m in cls.http_method_names if hasattr(cls, m)} - {"HEAD", "OPTIONS"}


def test_every_api_method_is_tried():
    named, _unnamed = resolver_routes()
    tried = {route.name: {case.method for case in route.cases} for route in MATRIX}
    untried = []
    for name, callbacks in sorted(named.items()):
        supported = set().union(*(view_methods(callback) for callback in callbacks))
        if supported - tried.get(name, set()):
            untried.append(f"{name}: {sorted(supported - tried.get(name, set()))}")
    assert not untried, "methods the API answers but the matrix never tries:\n  " + "\n  ".join(untried)


# --- Each case, each actor ------------------------------------------------------------------------


def _params():
    """One test per case; the actors whose answer is a known bug (xfail) get a test each."""
    for route in MATRIX:
        for index, case in enumerate(route.cases):
            name = f"{route.name}-{case.method}-{case.target or index}"
            actors = tuple(a for a in (case.actors or ACTORS) if a not in case.xfail)
            yield pytest.param(route, case, actors, id=name)
            for actor, reason in case.xfail.items():
                yield pytest.param(route, case, (actor,), id=f"{name}-{actor}",
                                   marks=pytest.mark.xfail(strict=True, reason=reason))


def url_of(world: World, route: Route, case: Case) -> str:
    url = reverse(route.name, kwargs=route.args(world, case.target))
    if case.query:
        url += "?" + urlencode(case.query(world), doseq=True)
    return url


def send(client, world: World, route: Route, case: Case, actor: str, url: str):
    data = case.data(world, actor) if case.data else None
    method = getattr(client, case.method.lower())
    if case.method == "GET":
        return method(url, **case.headers)
    if route.api:
        return method(url, data or {}, format=case.format, **case.headers)
    return method(url, data or {}, **case.headers)


def answer_problem(response, expected) -> str | None:
    """What is wrong with the response, or None when it is the expected answer."""
    status = response.status_code
    if expected in (LOGIN, ADMIN_LOGIN):
        login = reverse("login") + "?next=" if expected == LOGIN else reverse("admin:login")
        if status != 302 or not response["Location"].startswith(login):
            return f"{status} {response.get('Location', '')}, expected a redirect to {login}"
        return None
    if status != expected:
        body = b"" if getattr(response, "streaming", False) else response.content[:200]
        return f"{status}, expected {expected} {body!r}"
    return None


def write_problem(case: Case, expected, changed: list[str]) -> str | None:
    """A refused write (or a read) must change no row; a successful write must change some."""
    succeeded = isinstance(expected, int) and 200 <= expected < 400
    if case.is_write and succeeded and case.changes:
        return None if changed else f"answered {expected} but changed no row"
    return f"changed {', '.join(changed)}" if changed else None


def run_case(world: World, route: Route, case: Case, actor: str) -> str | None:
    """One actor's request, in a savepoint rolled back afterwards; what went wrong, or None."""
    with transaction.atomic():
        client = client_for(world, actor, api=route.api)
        if case.prepare:
            case.prepare(world)
        url = url_of(world, route, case)
        with recording_writes() as writes:
            response = send(client, world, route, case, actor, url)
        expected = route.answer(case, actor)
        problem = answer_problem(response, expected) or write_problem(case, expected, writes.tables)
        transaction.set_rollback(True)
    return f"{actor} {case.method} {url}: {problem}" if problem else None


@pytest.mark.parametrize("route, case, actors", list(_params()))
def test_matrix(world, db, route: Route, case: Case, actors: tuple[str, ...]):
    problems = [p for p in (run_case(world, route, case, actor) for actor in actors) if p]
    assert not problems, "\n".join(problems)


# --- Lists and details ----------------------------------------------------------------------------


SAMPLE = 5


def listed_ids(client, url: str, key: str = "id") -> list:
    ids, page = [], f"{url}{'&' if '?' in url else '?'}page_size=500"
    while page:
        response = client.get(page)
        assert response.status_code == 200, (url, response.status_code)
        body = response.json()
        ids.extend(row[key] for row in body["results"])
        page = body["next"]
    return ids


def check_list(client, world: World, list_url: str, detail_url, world_ids, key: str = "id") -> list[str]:
    listed = listed_ids(client, list_url, key)
    problems = [f"{list_url} lists {value} twice" for value in set(listed) if listed.count(value) > 1]
    # Every listed world object, and a sample of the rest (reference lists run to hundreds).
    sample = [v for v in listed if v in world_ids] + [v for v in listed if v not in world_ids][:SAMPLE]
    for value in sample:
        status = client.get(detail_url(value)).status_code
        if status != 200:
            problems.append(f"{list_url} lists {value}, whose detail answers {status}")
    for value in world_ids:
        if value not in listed:
            status = client.get(detail_url(value)).status_code
            if status != 404:
                problems.append(f"{list_url} leaves out {value}, whose detail answers {status} (not 404)")
    return problems


@pytest.mark.parametrize("actor", USERS)
def test_lists_and_details_agree(world, db, actor):
    client = client_for(world, actor, api=True)
    problems = []
    for list_name, detail_name, keys, query, args in LISTS:
        list_url = reverse(list_name)
        if query(world):
            list_url += "?" + urlencode(query(world))
        problems += check_list(
            client, world, list_url,
            lambda value, detail_name=detail_name: reverse(detail_name, kwargs={"pk": value}),
            [world[key] for key in keys],
        )
    # Nested lists: a candidate's assessments, a policy's versions.
    for candidate in ("cand_proposed", "cand_selected"):
        try:
            list_url = reverse("candidate-assessment-list", kwargs={"candidate_pk": world[candidate]})
        except KeyError:
            continue
        if client.get(list_url).status_code == 404:
            continue
        problems += check_list(
            client, world, list_url,
            lambda value, c=candidate: reverse("candidate-assessment-detail", kwargs={"candidate_pk": world[c], "pk": value}),
            [world["assessment_proposed"]] if candidate == "cand_proposed" else [],
        )
    for meeting in ("meeting_draft", "meeting_held"):
        list_url = reverse("meeting-agenda-item-list", kwargs={"meeting_pk": world[meeting]})
        if client.get(list_url).status_code == 404:
            assert client.get(reverse("meeting-detail", kwargs={"pk": world[meeting]})).status_code == 404
            continue
        problems += check_list(
            client, world, list_url,
            lambda value, m=meeting: reverse("meeting-agenda-item-detail", kwargs={"meeting_pk": world[m], "pk": value}),
            [world[key] for key in world.ids if key.startswith(f"{meeting}.item")],
        )
    for policy in ("p_draft", "p_submitted", "p_consent", "p_revising", "p_consented"):
        list_url = reverse("policy-version-list", kwargs={"policy_pk": world[policy]})
        if client.get(list_url).status_code == 404:
            assert client.get(reverse("policy-detail", kwargs={"pk": world[policy]})).status_code == 404
            continue
        numbers = [n for key, (p, n) in world.versions.items() if p == world[policy]]
        problems += check_list(
            client, world, list_url,
            lambda value, p=policy: reverse("policy-version-detail", kwargs={"policy_pk": world[p], "number": value}),
            numbers, key="number",
        )
    assert not problems, f"{actor}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("actor", USERS)
def test_list_pages_link_exactly_the_details_that_open(world, db, actor):
    """A list page links an object's detail page exactly when that page opens (200)."""
    client = client_for(world, actor, api=False)
    problems = []
    for list_name, detail_name, keys in PAGE_LISTS:
        page = client.get(reverse(list_name))
        assert page.status_code == 200, (actor, list_name, page.status_code)
        html = page.content.decode()
        for key in keys:
            url = reverse(detail_name, kwargs={"pk": world[key]})
            listed = f'href="{url}"' in html
            status = client.get(url).status_code
            if listed != (status == 200):
                problems.append(f"{reverse(list_name)} {'links' if listed else 'leaves out'} {url} ({key}), which answers {status}")
    assert not problems, f"{actor}:\n  " + "\n  ".join(problems)


# --- The admin ---------------------------------------------------------------------------------------


def admin_pages() -> list[tuple[str, type | None]]:
    """The admin's index and every registered model's list, with the model."""
    pages: list[tuple[str, type | None]] = [(reverse("admin:index"), None)]
    for model in admin.site._registry:
        pages.append((reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"), model))
    return pages


@pytest.mark.parametrize("actor", ACTORS)
def test_the_admin_is_staff_only(world, db, actor):
    """Secretariat staff (is_staff) reach the admin; everyone else is sent to its login page."""
    client = client_for(world, actor, api=False)
    problems = []
    for url, model in admin_pages():
        expected = ADMIN_LOGIN
        if actor == "secretariat":
            # Inside the admin, Django's model permissions decide, model by model.
            user = get_user_model().objects.get(username=actor)
            allowed = model is None or user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}") \
                or user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")
            expected = 200 if allowed else 403
        with recording_writes() as writes:
            response = client.get(url)
        problem = answer_problem(response, expected) or write_problem(Case("GET", None, {}), expected, writes.tables)
        if problem:
            problems.append(f"{actor} GET {url}: {problem}")
    assert not problems, "\n".join(problems)
