"""The API's response cache (council/api/response_cache.py), from the outside: a repeated
token-authenticated GET is answered without running the view, and every kind of write — the
ORM, a queryset update, raw SQL, another user's change of permissions, a revoked token — is
seen by the very next request. Transactional tests on PostgreSQL: the cache keys on the
snapshot of committed transactions, and stands aside inside a transaction."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from council import calendar
from tenants.models import Membership, Organization

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the response cache needs PostgreSQL's snapshots"),
]

SAPPORO = "011002"


@pytest.fixture
def on(settings, world):
    from council.api import response_cache

    settings.API_RESPONSE_CACHE_SECONDS = 300
    cache.clear()
    response_cache._token_users.clear()
    yield
    cache.clear()
    response_cache._token_users.clear()


@pytest.fixture
def rates(settings):
    """The user rate set to 3 a minute for the test."""
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "5/minute", "user": "3/minute", "token": "5/minute"}}
    api_settings.reload()
    yield
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK
    api_settings.reload()


def rate_count(user) -> int:
    """The user's count in the current window, as council.security's throttle keeps it."""
    from types import SimpleNamespace

    from council.security import UserRateThrottle

    key, _timeout = UserRateThrottle().counter(SimpleNamespace(user=user, META={}), None)
    return cache.get(key) or 0


def get(client: APIClient, url: str, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries.captured_queries)


def hit(client: APIClient, url: str, **extra):
    """A request answered from the cache: the one after an identical one, with no committed
    write anywhere between them. The snapshot is the whole server's, so another test process
    writing to its own database between the two makes a (correct) miss: try again."""
    for _ in range(30):
        first, _ = get(client, url, **extra)
        second, queries = get(client, url, **extra)
        if queries == 1:  # the snapshot, nothing else
            return first, second
    pytest.fail(f"{url} was never answered from the cache")


def org_url(code: str = SAPPORO) -> str:
    return f"/api/v1/organizations/{Organization.objects.get(code=code).pk}/"


def test_a_repeated_get_is_answered_from_the_cache_with_the_same_body_and_headers(on, api):
    client = api("secretariat")
    fresh, fresh_queries = get(client, "/api/v1/organizations/?kind=prefecture")
    assert fresh_queries > 1
    first, second = hit(client, "/api/v1/organizations/?kind=prefecture")
    assert first.status_code == second.status_code == 200
    assert second.content == first.content == fresh.content
    for header in ("Content-Type", "Content-Language", "Vary", "Allow", "X-Frame-Options", "X-Request-ID"):
        assert (header in second) == (header in first), header
    assert second["Content-Type"] == first["Content-Type"]
    assert second["X-Request-ID"] != first["X-Request-ID"]  # the outer middleware still runs


@pytest.mark.parametrize(
    "url",
    ["/api/v1/dashboards/summary/", "/api/v1/criteria-weights/", "/api/v1/business-areas/", "/api/v1/organizations/{pk}/"],
)
def test_dashboards_lists_and_details_are_all_cached(on, api, url):
    client = api("sapporo")
    first, second = hit(client, url.format(pk=Organization.objects.get(code=SAPPORO).pk))
    assert second.status_code == 200 and second.content == first.content


@pytest.mark.parametrize("write", ["save", "queryset_update", "raw_sql"])
def test_any_committed_write_is_seen_by_the_next_request(on, api, write):
    client = api("secretariat")
    url = org_url()
    before, _ = get(client, url)
    assert before.json()["name"] == "札幌市"
    organization = Organization.objects.get(code=SAPPORO)
    if write == "save":
        organization.name = "札幌市（改）"
        organization.save()
    elif write == "queryset_update":
        Organization.objects.filter(pk=organization.pk).update(name="札幌市（改）")
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Organization._meta.db_table} SET name = %s WHERE id = %s", ["札幌市（改）", organization.pk])
    after, queries = get(client, url)
    assert after.json()["name"] == "札幌市（改）"
    assert queries > 1


def cached_answers() -> int:
    """How many answers the cache holds."""
    backend = cache._cache
    if hasattr(backend, "get_client"):  # Redis
        return len(backend.get_client().keys("*api-response:*"))
    return sum("api-response:" in key for key in backend)  # local memory


def test_one_answer_is_kept_per_token_and_request_however_often_the_data_changes(on, api):
    client = api("secretariat")
    url = org_url()
    for name in ("札幌市（一）", "札幌市（二）", "札幌市（三）"):
        Organization.objects.filter(code=SAPPORO).update(name=name)
        assert get(client, url)[0].json()["name"] == name
    assert cached_answers() == 1


def test_a_write_to_an_unrelated_table_also_starts_afresh(on, api):
    """The snapshot names every committed transaction: correct, if not the most economical."""
    client = api("secretariat")
    url = org_url()
    get(client, url)
    get_user_model().objects.filter(username="sapporo").update(first_name="花子")
    assert get(client, url)[1] > 1


def test_each_token_has_its_own_answers(on, api):
    """An answer cached for the secretariat is never given to a municipal official asking
    the same URL: the audit trail is the secretariat's alone."""
    url = "/api/v1/audit-events/"
    secretariat, sapporo = api("secretariat"), api("sapporo")
    assert hit(secretariat, url)[1].status_code == 200
    refused, queries = get(sapporo, url)
    assert refused.status_code == 403
    assert queries > 1


@pytest.mark.parametrize(
    "withdraw",
    [
        lambda: Token.objects.filter(user__username="sapporo").delete(),
        lambda: get_user_model().objects.filter(username="sapporo").update(is_active=False),
    ],
    ids=["token revoked", "user deactivated"],
)
def test_a_withdrawn_credential_is_refused_at_once(on, api, withdraw):
    client = api("sapporo")
    url = org_url()
    assert hit(client, url)[1].status_code == 200
    withdraw()
    assert get(client, url)[0].status_code == 401


def test_a_lost_membership_is_seen_at_once(on, api):
    """What a user may see is read from their memberships: removing one changes the answer."""
    client = api("sapporo")
    url = "/api/v1/audit-events/"
    assert get(client, url)[0].status_code == 403  # not the secretariat's
    secretariat = api("secretariat")
    assert get(secretariat, url)[0].status_code == 200
    Membership.objects.filter(user__username="secretariat").delete()
    assert get(secretariat, url)[0].status_code == 403


def test_no_cache_in_the_request_makes_the_answer_again(on, api):
    client = api("secretariat")
    url = org_url()
    get(client, url)
    again, queries = get(client, url, HTTP_CACHE_CONTROL="no-cache")
    assert again.status_code == 200 and queries > 1
    assert hit(client, url)[1].status_code == 200


def test_the_answer_is_stored_once_it_has_been_sent(on, api, monkeypatch):
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    from council.api import response_cache

    stored = []
    write = response_cache._write
    monkeypatch.setattr(response_cache, "_write", lambda *args: (stored.append(args[0]), write(*args)))
    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username="secretariat"))
    url = org_url()
    environ = RequestFactory()._base_environ(PATH_INFO=url, REQUEST_METHOD="GET", HTTP_AUTHORIZATION=f"Token {token.key}")
    answer = WSGIHandler()(environ, lambda status, headers, exc_info=None: None)
    body = b"".join(answer)
    assert stored == []  # the WSGI server writes the answer first
    answer.close()  # and then closes it
    assert len(stored) == 1
    client = api("secretariat")
    first, second = hit(client, url)
    assert second.content == first.content == body


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_ACCEPT_LANGUAGE": "en"},
        {"HTTP_ACCEPT": "application/json; indent=2"},
        {"HTTP_HOST": "council.example.jp"},
    ],
)
def test_language_type_and_host_are_part_of_the_key(on, api, settings, extra):
    settings.ALLOWED_HOSTS = ["testserver", "council.example.jp"]
    client = api("secretariat")
    url = "/api/v1/organizations/?kind=prefecture"
    get(client, url)
    assert get(client, url, **extra)[1] > 1
    assert hit(client, url, **extra)[1].status_code == 200


def test_pagination_links_keep_the_host_that_asked(on, api, settings):
    settings.ALLOWED_HOSTS = ["testserver", "council.example.jp"]
    client = api("secretariat")
    url = "/api/v1/organizations/"
    plain = get(client, url)[0].json()
    other = get(client, url, HTTP_HOST="council.example.jp")[0].json()
    assert plain["next"].startswith("http://testserver/")
    assert other["next"].startswith("http://council.example.jp/")


def test_a_new_day_in_tokyo_starts_afresh(on, api, monkeypatch):
    """Overdue flags compare due dates with today."""
    import datetime

    client = api("secretariat")
    url = org_url()
    get(client, url)
    tomorrow = calendar.today() + datetime.timedelta(days=1)
    monkeypatch.setattr(calendar, "today", lambda: tomorrow)
    assert get(client, url)[1] > 1


def test_refusals_errors_sessions_and_conditional_requests_are_not_cached(on, api, user):
    client = api("sapporo")
    for url in ("/api/v1/audit-events/", "/api/v1/organizations/999999999/"):
        first, second = get(client, url)[0], get(client, url)
        assert first.status_code in (403, 404)
        assert second[1] > 1
    session = APIClient()
    session.force_login(user("secretariat"))
    get(session, org_url())
    assert get(session, org_url())[1] > 1
    token_client = api("secretariat")
    response = get(token_client, "/api/v1/dashboards/summary/")[0]
    etag = response["ETag"]
    assert get(token_client, "/api/v1/dashboards/summary/", HTTP_IF_NONE_MATCH=etag)[0].status_code == 304


def test_inside_a_transaction_the_cache_stands_aside(on, api):
    """A transaction's own writes do not show in the snapshot: no answer is taken or kept."""
    client = api("secretariat")
    url = org_url()
    get(client, url)
    with transaction.atomic():
        Organization.objects.filter(code=SAPPORO).update(name="札幌市（仮）")
        inside, queries = get(client, url)
        assert inside.json()["name"] == "札幌市（仮）"
        assert queries > 1
        transaction.set_rollback(True)
    assert get(client, url)[0].json()["name"] == "札幌市"


def test_the_user_rate_still_applies_to_cached_answers(on, api, rates):
    client = api("secretariat")
    url = org_url()
    statuses = [get(client, url)[0].status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_every_request_is_counted_once_whether_the_cache_or_the_view_answers(on, api, user, rates):
    """After the first answer the token's user is known: each later request is counted with
    the read of its answer, and when that answer is stale the view takes the same count
    instead of counting again (else the third request here would be the fifth count, 429)."""
    client = api("sapporo")
    url = org_url()
    sapporo = user("sapporo")
    statuses = []
    for n in range(1, 5):
        Organization.objects.filter(code=SAPPORO).update(name=f"札幌市{n}")  # the kept answer is stale
        response, queries = get(client, url)
        statuses.append(response.status_code)
        assert queries > 1  # the view answered
        assert rate_count(sapporo) == n
    assert statuses == [200, 200, 200, 429]


def test_a_revoked_token_stops_counting_against_its_user(on, api, user):
    client = api("sapporo")
    url = org_url()
    sapporo = user("sapporo")
    hit(client, url)  # the token's user is known now
    Token.objects.filter(user=sapporo).delete()
    before = rate_count(sapporo)
    assert [get(client, url)[0].status_code for _ in range(3)] == [401, 401, 401]
    assert rate_count(sapporo) - before <= 1  # the request that found it revoked, at most


def test_hits_and_misses_add_up_to_the_requests_made(on, api, user):
    client = api("sapporo")
    url = org_url()
    sapporo = user("sapporo")
    before = rate_count(sapporo)
    answered = [get(client, url)[1] for _ in range(3)]
    Organization.objects.filter(code=SAPPORO).update(name="札幌市（改）")
    answered += [get(client, url)[1] for _ in range(3)]
    assert rate_count(sapporo) - before == 6
    assert 1 in answered  # some were hits (one query, the snapshot)
    assert any(queries > 1 for queries in answered[1:])  # and the view answered after the write


def test_a_hit_is_logged_with_its_route_and_user(on, api, caplog, user):
    client = api("sapporo")
    url = org_url()
    with caplog.at_level(logging.INFO, logger="council.access"):
        hit(client, url)
    record = [r for r in caplog.records if r.name == "council.access"][-1]
    assert record.route == "organization-detail"
    assert record.user_id == user("sapporo").pk
    assert record.status == 200


def test_off_when_the_setting_is_zero(settings, world, api):
    settings.API_RESPONSE_CACHE_SECONDS = 0
    client = api("secretariat")
    url = org_url()
    get(client, url)
    assert get(client, url)[1] > 1


def test_a_cache_that_fails_leaves_the_answer_to_the_view(on, api, monkeypatch, caplog):
    """The cache is an optimisation: when it cannot be read or written, the view answers."""
    from council.api import response_cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(response_cache.cache, "get", broken)
    monkeypatch.setattr(response_cache.cache, "set", broken)
    if hasattr(response_cache.cache, "get_and_count"):
        monkeypatch.setattr(response_cache.cache, "get_and_count", broken)
    client = api("secretariat")
    with caplog.at_level(logging.WARNING, logger="council.api.response_cache"):
        response, queries = get(client, org_url())
    assert response.status_code == 200 and response.json()["name"] == "札幌市"
    assert queries > 1
    assert {"api response cache: read failed (ConnectionError)", "api response cache: write failed (ConnectionError)"} <= {
        r.getMessage() for r in caplog.records
    }
