"""Errors as RFC 9457 ``application/problem+json``, never with a stack trace.

Every error response has ``type``, ``title``, ``status`` and ``detail``; input refused by
the validation of :mod:`capaciteit` (a region model, a scenario, a matching pool) adds
``problems``: every problem with file, row, id and the fix, as the CLI lists them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from capaciteit.errors import CapaciteitError, InvalidInputError

log = logging.getLogger("capaciteit.service")
MEDIA_TYPE = "application/problem+json"


def problem(
    status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Build a problem+json response."""
    phrase = HTTPStatus(status).phrase
    body = {
        "type": f"https://capaciteit.example/problems/{phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(HTTPException)
    async def fastapi_http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "location": ".".join(str(p) for p in err.get("loc", ())),
                "message": str(err.get("msg", "")),
            }
            for err in exc.errors()
        ]
        return problem(422, "The request is invalid.", problems=problems)

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
            422, f"{exc.what} is invalid ({len(problems)} problem(s)).", problems=problems
        )

    @app.exception_handler(CapaciteitError)
    async def user_error(_: Request, exc: CapaciteitError) -> JSONResponse:
        return problem(422, str(exc))
