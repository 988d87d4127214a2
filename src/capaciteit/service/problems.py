"""Errors as RFC 9457 ``application/problem+json``, never with a stack trace.

Every error response has ``type``, ``title``, ``status`` and ``detail``; input refused by
the validation of :mod:`capaciteit` (a region model, a scenario, a matching pool) adds
``problems``: every problem with file, row, id and the fix, as the CLI lists them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from capaciteit.errors import CapaciteitError, InvalidInputError, count_problems
from capaciteit.io.pydantic_nl import dutch_error

log = logging.getLogger("capaciteit.service")
MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Ongeldig verzoek",
    401: "Niet aangemeld",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    406: "Niet aanvaardbaar",
    409: "Conflict",
    411: "Lengte ontbreekt",
    413: "Verzoek te groot",
    415: "Mediatype niet ondersteund",
    422: "Invoer afgekeurd",
    429: "Te veel verzoeken",
    500: "Interne fout",
    502: "Ongeldig antwoord van een andere server",
    503: "Dienst niet beschikbaar",
    504: "Geen tijdig antwoord van een andere server",
}
"""The ``title`` of a problem+json answer per status, in Dutch (``type`` stays English)."""
_SOURCES = ("body", "query", "path", "header", "cookie")


def title(status: int) -> str:
    """Dutch title of an HTTP status (``Fout 418`` for a status without one)."""
    return TITLES.get(status, f"Fout {status}")


def _detail(status: int, detail: object) -> str:
    """Replace the framework's own detail (the English phrase, ``Not Found``) by Dutch."""
    text = str(detail)
    if status == 400:
        # Starlette's own words on a body it cannot parse ("Invalid multipart data", ...)
        return "De inhoud van het verzoek kan niet worden gelezen (geen geldige JSON of multipart)."
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return text
    return f"{title(status)}." if text == phrase else text


def _request_problem(err: Mapping[str, Any]) -> dict[str, str]:
    """One error of a request's validation: where (as FastAPI says it) and what, in Dutch."""
    loc = [str(p) for p in err.get("loc", ())]
    parts = loc[1:] if loc and loc[0] in _SOURCES else loc
    if err.get("type") == "json_invalid" or not parts:
        name = "de inhoud van het verzoek"
    else:
        name = f"'{'.'.join(parts)}'"
    message, _ = dutch_error(err, name)
    return {"location": ".".join(loc), "message": message}


def problem(
    status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Build a problem+json response."""
    phrase = HTTPStatus(status).phrase
    body = {
        "type": f"https://capaciteit.example/problems/{phrase.lower().replace(' ', '-')}",
        "title": title(status),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _allowed(app: FastAPI, request: Request) -> list[str]:
    """Every method the API answers on the request's path (from the OpenAPI document)."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {m.upper() for m in operations}
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405 and (allowed := _allowed(app, request)):
            # Starlette names only the methods of the first route on the path
            headers["Allow"] = ", ".join(allowed)
        return problem(exc.status_code, _detail(exc.status_code, exc.detail), headers=headers)

    @app.exception_handler(HTTPException)
    async def fastapi_http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, _detail(exc.status_code, exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_request_problem(err) for err in exc.errors()]
        return problem(422, "Het verzoek is ongeldig.", problems=problems)

    @app.exception_handler(InvalidInputError)
    async def input_invalid(_: Request, exc: InvalidInputError) -> JSONResponse:
        problems = [
            {
                "file": p.file,
                "row": p.row,
                "column": p.column,
                "id": p.id,
                "message": p.message,
                "fix": p.fix,
            }
            for p in exc.problems
        ]
        return problem(
            422, f"{exc.what} is ongeldig ({count_problems(len(problems))}).", problems=problems
        )

    @app.exception_handler(CapaciteitError)
    async def user_error(_: Request, exc: CapaciteitError) -> JSONResponse:
        return problem(422, str(exc))
