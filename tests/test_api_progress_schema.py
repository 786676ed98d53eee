"""The OpenAPI schema describes the stage 4 API (shared/API.md); test_api_schema.py checks that
the whole schema validates without warnings."""

import pytest

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/reporting-schedules/": {"get", "post"},
    "/api/v1/reporting-schedules/{id}/": {"get"},
    "/api/v1/progress-reports/": {"get"},
    "/api/v1/progress-reports/{id}/": {"get", "patch"},
    "/api/v1/progress-reports/{id}/transition/": {"post"},
    "/api/v1/progress-reports/{id}/history/": {"get"},
    "/api/v1/progress-reports/{id}/attachments/": {"post"},
    "/api/v1/progress-reports/kpi-trend/": {"get"},
    "/api/v1/adoption/": {"get"},
    "/api/v1/adoption/{id}/": {"get", "patch"},
    "/api/v1/adoption/{id}/history/": {"get"},
    "/api/v1/adoption/import/": {"post"},
    "/api/v1/usage-reports/": {"get", "post"},
    "/api/v1/usage-reports/{id}/": {"get"},
    "/api/v1/measure-requests/": {"get", "post"},
    "/api/v1/measure-requests/{id}/": {"get"},
    "/api/v1/measure-requests/{id}/transition/": {"post"},
    "/api/v1/measure-requests/{id}/history/": {"get"},
}


@pytest.fixture
def schema(api) -> dict:
    response = api("sapporo").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def request_schema(schema: dict, path: str, method: str, media: str = "application/json") -> dict:
    return component(schema, schema["paths"][path][method]["requestBody"]["content"][media]["schema"]["$ref"])


def parameters(schema: dict, path: str) -> set[str]:
    return {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}


def test_every_endpoint_and_method_is_described(schema):
    for path, methods in PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path


def test_list_filters_are_described(schema):
    assert {"policy", "frequency"} <= parameters(schema, "/api/v1/reporting-schedules/")
    assert {"policy", "status", "overdue", "fiscal_year", "ordering", "page"} <= parameters(schema, "/api/v1/progress-reports/")
    assert {"policy", "organization", "status", "prefecture", "page"} <= parameters(schema, "/api/v1/adoption/")
    assert {"layer", "reporter"} <= parameters(schema, "/api/v1/usage-reports/")
    assert {"status", "policy", "ministry", "overdue"} <= parameters(schema, "/api/v1/measure-requests/")
    assert "policy" in parameters(schema, "/api/v1/progress-reports/kpi-trend/")


def test_the_state_and_choice_names_of_the_contract(schema):
    enums = schema["components"]["schemas"]
    assert enums["ProgressReportStatusEnum"]["enum"] == ["due", "submitted", "accepted", "returned"]
    assert enums["AdoptionStatusEnum"]["enum"] == ["not_planned", "considering", "planned", "migrating", "in_use", "not_applicable"]
    assert enums["MeasureRequestStatusEnum"]["enum"] == ["open", "responded", "closed"]
    assert enums["FrequencyEnum"]["enum"] == ["quarterly", "semiannual", "annual"]


def test_write_bodies_name_the_contracts_fields(schema):
    assert {"policy", "frequency", "due_days_after_period"} <= set(
        request_schema(schema, "/api/v1/reporting-schedules/", "post")["properties"])
    report = request_schema(schema, "/api/v1/progress-reports/{id}/", "patch")["properties"]
    assert {"summary", "milestones", "kpis", "risks"} <= set(report)
    milestone = component(schema, report["milestones"]["items"]["$ref"])
    assert {"name", "percent"} <= set(milestone["properties"])
    kpi = component(schema, report["kpis"]["items"]["$ref"])
    assert {"name", "target", "actual"} <= set(kpi["properties"])
    assert {"status", "target_fiscal_year"} <= set(request_schema(schema, "/api/v1/adoption/{id}/", "patch")["properties"])
    imported = request_schema(schema, "/api/v1/adoption/import/", "post", "multipart/form-data")
    assert {"policy", "file"} <= set(imported["properties"])
    assert {"policy", "ministry", "request", "due_date", "report"} <= set(
        request_schema(schema, "/api/v1/measure-requests/", "post")["properties"])
    answer = request_schema(schema, "/api/v1/measure-requests/{id}/transition/", "post")["properties"]
    assert {"to", "comment", "response"} <= set(answer)


def test_transitions_describe_the_409(schema):
    for path in ("/api/v1/progress-reports/{id}/transition/", "/api/v1/measure-requests/{id}/transition/"):
        assert {"200", "400", "403", "404", "409"} <= set(schema["paths"][path]["post"]["responses"])


def test_reports_read_with_overdue_and_overall_progress(schema):
    ref = schema["paths"]["/api/v1/progress-reports/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    properties = component(schema, ref["$ref"])["properties"]
    assert {"status", "overdue", "period", "due_date", "overall_progress", "attachments"} <= set(properties)


def test_uploads_are_described_as_multipart(schema):
    for path in ("/api/v1/progress-reports/{id}/attachments/", "/api/v1/adoption/import/"):
        assert set(schema["paths"][path]["post"]["requestBody"]["content"]) == {"multipart/form-data"}, path
