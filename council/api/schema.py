"""OpenAPI schema post-processing (drf-spectacular POSTPROCESSING_HOOKS).

The views document their successful answers; every operation can also answer with the
errors the API's plumbing produces for any request, whatever the view: 400 (field errors
or `detail`), 401 (no or bad token), 403 (role or tenant), 404 (unknown or invisible
object, page past the end), 409 (a state conflict, on writes) and 429 (throttled). They
are added here, where a view did not document them itself, so the schema describes every
answer a client can get (the API fuzz test, tests/test_api_fuzz.py, checks it does).
"""

from __future__ import annotations

from typing import Any

DETAIL = {
    "type": "object",
    "description": "An error: `detail` says what went wrong, in the user's language.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION = {
    "type": "object",
    "description": "Field errors: {field: [messages]} (`non_field_errors` for the whole input), or `detail`.",
    "additionalProperties": True,
}
CONFLICT = {
    "type": "object",
    "description": "A conflict with the object's state (a workflow move not allowed from `from`, a stale revision…).",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "additionalProperties": True,
}
ERRORS = (
    ("400", "Invalid input", "ValidationErrors"),
    ("401", "No valid token or session", "ErrorDetail"),
    ("403", "Not allowed for this user, role or organization", "ErrorDetail"),
    ("404", "Not found, or not visible to this user", "ErrorDetail"),
    ("429", "Throttled (see Retry-After)", "ErrorDetail"),
)
WRITES = {"post", "put", "patch", "delete"}
# JSON Schema's "time" is RFC 3339's full-time, which needs a UTC offset; the API writes
# Django's local times as HH:MM[:SS[.ffffff]].
TIME_PATTERN = r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"


def _ref(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _fix_time_formats(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            node.pop("format")
            node["pattern"] = TIME_PATTERN
        for value in node.values():
            _fix_time_formats(value)
    elif isinstance(node, list):
        for value in node:
            _fix_time_formats(value)


def add_error_responses(result: dict, generator, request, public) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", DETAIL)
    schemas.setdefault("ValidationErrors", VALIDATION)
    schemas.setdefault("ConflictError", CONFLICT)
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in WRITES | {"get"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description, component in ERRORS:
                responses.setdefault(code, {"description": description, "content": _ref(component)})
            if method in WRITES:
                responses.setdefault("409", {"description": "Conflict with the object's state", "content": _ref("ConflictError")})
    _fix_time_formats(result)
    # A proxy of two serializers where one's fields are a subset of the other's (a study's
    # summary and its whole): an answer is valid under one or both, so "anyOf", not "oneOf".
    for schema in schemas.values():
        if "oneOf" in schema and "discriminator" not in schema and len(schema) == 1:
            schema["anyOf"] = schema.pop("oneOf")
    return result
