import pytest

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/organizations/", "/api/v1/business-areas/", "/api/schema/"]


def test_a_demo_user_gets_a_token_and_uses_it(api, demo_password):
    response = api().post("/api/v1/auth/token/", {"username": "sapporo", "password": demo_password}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/organizations/?kind=association").status_code == 200


def test_the_same_user_gets_the_same_token_twice(api, demo_password):
    body = {"username": "soumu", "password": demo_password}
    first = api().post("/api/v1/auth/token/", body, format="json").json()["token"]
    assert api().post("/api/v1/auth/token/", body, format="json").json()["token"] == first


def test_a_wrong_password_is_a_400_with_a_message(api):
    response = api().post("/api/v1/auth/token/", {"username": "sapporo", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"]
    assert "token" not in response.json()


def test_missing_fields_are_400_with_field_errors(api):
    response = api().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_an_inactive_user_gets_no_token(api, user, demo_password):
    sapporo = user("sapporo")
    sapporo.is_active = False
    sapporo.save()
    response = api().post("/api/v1/auth/token/", {"username": "sapporo", "password": demo_password}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_requests_get_401(api, path):
    response = api().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_bad_token_gets_401(api, path):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(path).status_code == 401


def test_the_reference_endpoints_are_read_only(api):
    client = api("secretariat")
    assert client.post("/api/v1/organizations/", {"code": "x"}, format="json").status_code == 405
    assert client.delete("/api/v1/business-areas/1/").status_code == 405


def test_browser_sessions_work_too(client, demo_password):
    assert client.login(username="hokkaido", password=demo_password)
    assert client.get("/api/v1/organizations/").status_code == 200


def test_the_schema_describes_the_api(api):
    response = api("soumu").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/auth/token/", "/api/v1/organizations/", "/api/v1/organizations/{id}/",
                 "/api/v1/business-areas/", "/api/v1/business-areas/{id}/"]:
        assert path in paths
    parameters = {p["name"] for p in paths["/api/v1/organizations/"]["get"]["parameters"]}
    assert {"kind", "prefecture", "page"} <= parameters


def test_the_docs_page_sends_anonymous_browsers_to_login(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_docs_page_serves_swagger_ui_from_our_own_static_files(client, demo_password):
    client.login(username="soumu", password=demo_password)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()


def test_a_token_of_a_user_made_inactive_is_refused(api, user):
    client = api("sapporo")
    assert client.get("/api/v1/policies/").status_code == 200
    sapporo = user("sapporo")
    sapporo.is_active = False
    sapporo.save()
    response = client.get("/api/v1/policies/")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_the_token_query_brings_the_users_seats(api, user):
    """One query authenticates and says what the user is: the seats read with the token are
    the user's memberships, so what each role may see is unchanged."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.access import access_for
    from tenants.models import Membership

    client = api("soumu")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/organizations/?code=soumu").status_code == 200
    assert not any("tenants_membership" in q["sql"] and "authtoken_token" not in q["sql"] for q in queries.captured_queries)
    soumu = user("soumu")
    expected = set(Membership.objects.filter(user=soumu).values_list("organization_id", "organization__kind", "role"))
    assert {(s.organization_id, s.kind, s.role) for s in access_for(soumu).seats} == expected


@pytest.mark.parametrize("username", ["soumu", "sapporo", "secretariat"])
def test_the_token_statement_reads_what_the_orm_reads(user, username):
    """On PostgreSQL the token, its user and the seats come from one statement written from
    the models' metadata; it gives the same user, token and seats as the ORM's query."""
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from council.api.authentication import TokenAuthentication
    from tenants.models import Membership, Organization

    account = user(username)
    if username == "soumu":  # a second seat, so the statement's rows multiply
        Membership.objects.create(user=account, organization=Organization.objects.get(code="011002"), role="local_official")
    key = Token.objects.get_or_create(user=account)[0].key
    auth = TokenAuthentication()
    token, found, seats = auth._read(key) if connection.vendor == "postgresql" else auth._read_with_orm(key)
    orm_token, orm_user, orm_seats = auth._read_with_orm(key)
    assert token.pk == orm_token.pk and token.user_id == orm_user.pk and token.created == orm_token.created
    for field in type(found)._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(orm_user, field.attname), field.attname
    assert sorted(map(tuple, seats)) == sorted(map(tuple, orm_seats))
    assert len(seats) == Membership.objects.filter(user=account).count()
    if connection.vendor == "postgresql":
        assert auth._read("no-such-token") == (None, None, [])
