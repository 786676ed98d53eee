"""The OpenAPI schema describes the stage 1–2 API and stays free of warnings."""

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/candidates/": {"get", "post"},
    "/api/v1/candidates/{id}/": {"get", "put", "patch"},
    "/api/v1/candidates/{id}/transition/": {"post"},
    "/api/v1/candidates/{id}/history/": {"get"},
    "/api/v1/candidates/{candidate_pk}/assessments/": {"get", "post"},
    "/api/v1/candidates/{candidate_pk}/assessments/{id}/": {"get", "put", "patch"},
    "/api/v1/criteria-weights/": {"get", "put"},
    "/api/v1/feasibility-studies/": {"get", "post"},
    "/api/v1/feasibility-studies/{id}/": {"get", "patch"},
    "/api/v1/feasibility-studies/{id}/transition/": {"post"},
    "/api/v1/feasibility-studies/{id}/history/": {"get"},
    "/api/v1/feasibility-studies/{id}/attachments/": {"post"},
}


@pytest.fixture
def schema(api) -> dict:
    response = api("soumu").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_endpoint_and_method_is_described(schema):
    for path, methods in PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path


def test_list_filters_are_described(schema):
    def names(path):
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    assert {"status", "track", "owning_ministry", "business_area", "score_min", "q", "ordering", "page"} <= names(
        "/api/v1/candidates/")
    assert {"status", "ministry", "candidate", "overdue", "ordering", "page"} <= names("/api/v1/feasibility-studies/")


def test_transitions_describe_their_body_and_the_409(schema):
    operation = schema["paths"]["/api/v1/candidates/{id}/transition/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][body]["properties"]
    assert {"to", "comment", "track"} <= set(properties)
    assert {"200", "400", "403", "404", "409"} <= set(operation["responses"])


def test_the_history_is_a_plain_list(schema):
    response = schema["paths"]["/api/v1/feasibility-studies/{id}/history/"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["type"] == "array"


def test_uploads_are_described_as_multipart(schema):
    attachments = schema["paths"]["/api/v1/feasibility-studies/{id}/attachments/"]["post"]["requestBody"]["content"]
    assert set(attachments) == {"multipart/form-data"}
    assessments = schema["paths"]["/api/v1/candidates/{candidate_pk}/assessments/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in assessments


def test_the_schema_validates_without_warnings(tmp_path):
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"),
                 stdout=out, stderr=out)
    assert (tmp_path / "schema.yaml").stat().st_size > 0
