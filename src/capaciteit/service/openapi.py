"""The OpenAPI document says what the server does: every answer and its media type.

FastAPI documents the success answer of each route and a 422 as ``application/json``. The
server answers more: every error is ``application/problem+json`` (:mod:`.problems`); a
route behind a token can answer 401 (no or a revoked token) and 403 (a role that may not);
a route that names a stored object (a path id, or ``scenario_id``/``pool_id``/``region_id``
in its body) 404; a cancel 409 (the run has ended), a result 409 (the run has not
finished, or failed or was cancelled), the routes in ``CONFLICTS`` 409; a
request with a body 400 (a body that cannot be parsed), 413 (over the size limit) and 422
(invalid); any route 500. Result files are declared with the media types they are sent
as. Routes are not changed, only their description.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from capaciteit.service.problems import MEDIA_TYPE, TITLES

PROBLEM = {
    "title": "Problem",
    "type": "object",
    "description": "An error as RFC 9457 problem+json; refused input adds every problem.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object"}},
    },
}
FILE_TYPES = (
    "text/csv",
    "application/json",
    "image/png",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.apache.parquet",
    "application/octet-stream",
)
OPEN = {"/v1/health"}
CONFLICTS = {
    ("post", "/v1/organisations"),  # the name is taken
    ("post", "/v1/plans"),  # the run has no plan (yet)
    ("post", "/v1/plans/{plan_id}/verdicts"),  # the version is no proposal any more
    ("post", "/v1/plans/{plan_id}/agree"),  # the version is no proposal any more
    ("post", "/v1/plans/{plan_id}/report"),  # no realisation uploaded yet
    ("post", "/v1/calibrations/{job_id}/region"),  # the calibration has not finished
}
"""Routes that answer 409 besides a run's cancel and result."""
"""Routes that need no token."""


def _problem_answer(status: int) -> dict[str, Any]:
    return {
        "description": TITLES.get(status, str(status)),
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _names_an_object(operation: dict[str, Any], spec: dict[str, Any]) -> bool:
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        return True
    body = operation.get("requestBody", {}).get("content", {})
    for media in body.values():
        ref = media.get("schema", {}).get("$ref", "")
        schema = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        if any(
            name.endswith("_id") or name == "organisations" for name in schema.get("properties", {})
        ):
            return True
    return False


def document(app: FastAPI) -> dict[str, Any]:
    """Build the OpenAPI document of ``app`` with every answer declared (see the module)."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            answers: dict[str, Any] = operation.setdefault("responses", {})
            answers.pop("422", None)
            statuses = {500}
            if path not in OPEN:
                statuses |= {401, 403}
            if _names_an_object(operation, spec):
                statuses.add(404)
            if path.endswith(("/cancel", "/result")) or (method, path) in CONFLICTS:
                statuses.add(409)  # a run that has ended or not finished; see CONFLICTS
            if "requestBody" in operation:
                statuses |= {400, 413, 422}
            if operation.get("parameters"):
                statuses.add(422)
            for status in sorted(statuses):
                answers[str(status)] = _problem_answer(status)
            if "/files/" in path and method == "get":
                answers["200"]["content"] = {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in FILE_TYPES
                }
    app.openapi_schema = spec
    return spec


def install(app: FastAPI) -> None:
    """Serve :func:`document` as the app's OpenAPI document."""
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
