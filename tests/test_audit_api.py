"""`GET /api/v1/audit-events/`: read-only, secretariat only, filterable, in the OpenAPI schema."""

import pytest
from django.urls import reverse

from council.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LIST = "/api/v1/audit-events/"


def detail(sequence: int) -> str:
    return f"{LIST}{sequence}/"


@pytest.mark.parametrize(
    "username, status",
    [("secretariat", 200), ("soumu", 403), ("chijikai", 403), ("hokkaido", 403), ("sapporo", 403), (None, 401)],
)
def test_only_the_secretariat_reads_audit_events(api, username, status):
    client = api(username)
    newest = AuditEvent.objects.order_by("-sequence").first()
    assert client.get(LIST).status_code == status
    assert client.get(detail(newest.sequence)).status_code == status
    # Read-only for everyone: the secretariat is told the method is not there.
    for method in ("post", "put", "patch", "delete"):
        expected = 405 if username == "secretariat" else status
        assert getattr(client, method)(detail(newest.sequence), {}, format="json").status_code == expected
    assert AuditEvent.objects.filter(pk=newest.pk, hash=newest.hash).exists()


def test_an_event_reads_as_recorded(api):
    event = AuditEvent.objects.filter(action="create", organization__isnull=False).order_by("sequence").first() \
        or AuditEvent.objects.order_by("sequence").first()
    body = api("secretariat").get(detail(event.sequence)).json()
    assert body["sequence"] == event.sequence and body["hash"] == event.hash and body["prev_hash"] == event.prev_hash
    assert body["action"] == event.action and body["model"] == event.model_label
    assert body["changes"] == event.changes and body["actor_repr"] == event.actor_repr
    assert api("secretariat").get(detail(999_999_999)).status_code == 404


def test_the_list_is_newest_first_and_paginated(api):
    body = api("secretariat").get(LIST, {"page_size": 5}).json()
    assert {"count", "next", "previous", "results"} <= set(body)
    sequences = [e["sequence"] for e in body["results"]]
    assert sequences == sorted(sequences, reverse=True) and len(sequences) == min(5, body["count"])
    assert body["count"] == AuditEvent.objects.count()


def test_the_filters(api, client, demo_password):
    client.post(reverse("login"), {"username": "sapporo", "password": "wrong-password-9"}, REMOTE_ADDR="192.0.2.44")
    secretariat = api("secretariat")
    failed = secretariat.get(LIST, {"action": "login_failed"}).json()["results"]
    assert failed and {e["action"] for e in failed} == {"login_failed"}
    assert {e["actor_repr"] for e in secretariat.get(LIST, {"actor": "sappo"}).json()["results"]} == {"sapporo"}
    assert {e["ip"] for e in secretariat.get(LIST, {"ip": "192.0.2.44"}).json()["results"]} == {"192.0.2.44"}
    users = secretariat.get(LIST, {"model": "auth.user"}).json()["results"]
    assert users and {e["model"] for e in users} == {"auth.user"}
    one = users[0]
    by_object = secretariat.get(LIST, {"model": "auth.user", "object": one["object_id"]}).json()["results"]
    assert {e["object_id"] for e in by_object} == {one["object_id"]}


def test_bad_filters_are_400_with_field_errors(api):
    response = api("secretariat").get(LIST, {"since": "yesterday", "action": "nothing"})
    assert response.status_code == 400
    assert {"since", "action"} <= set(response.json())


def test_the_schema_describes_the_endpoint(api):
    schema = api("soumu").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/audit-events/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"actor", "organization", "action", "model", "object", "since", "until", "page"} <= names
    assert set(schema["paths"]["/api/v1/audit-events/{sequence}/"]) == {"get"}
    component = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    event = schema["components"]["schemas"][component]["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert {"sequence", "at", "actor", "actor_repr", "organization", "ip", "action", "model", "object_id",
            "changes", "details", "prev_hash", "hash"} <= set(schema["components"]["schemas"][event]["properties"])
