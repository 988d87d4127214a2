"""The FastAPI application: ``create_app()`` wires settings, database, routers and workers.

On start the database is migrated to the newest schema (Alembic), running jobs left by a
crashed server are rerun by the workers once their heartbeat is stale, and
``settings.job_workers`` worker processes are started; they stop with the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from capaciteit import __version__
from capaciteit.core import nl
from capaciteit.service import openapi, problems, web
from capaciteit.service.config import ServiceSettings, service_settings
from capaciteit.service.db import make_engine, migrate, session_factory
from capaciteit.service.queue import Workers
from capaciteit.service.routes import (
    calibration,
    health,
    matching,
    plans,
    regions,
    runs,
    tokens,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuse request bodies above ``max_bytes`` with 413, declared or streamed.

    A body without ``Content-Length`` (chunked) is read here up to the limit and handed on
    in one piece; so the limit holds before any parser sees the body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on once its body is known to be small enough."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = nl.number(self.max_bytes)
        response = problems.problem(413, f"Het verzoek is groter dan {limit} bytes.")
        await response(scope, receive, send)


class CatchAll:
    """Answer any unexpected error with a 500 problem+json, logging only its type.

    Starlette's own error middleware re-raises after answering, and the server then logs
    the traceback, which may quote the request (personal data); this one does not.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; turn an exception into a 500 answer."""
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            problems.log.error("internal error: %s", type(exc).__name__)
            if scope["type"] == "http" and not started:
                response = problems.problem(
                    500, "Interne fout; die is vastgelegd, zonder persoonsgegevens."
                )
                await response(scope, receive, send)


API_ROUTERS = tuple(
    module.router for module in (health, tokens, regions, runs, plans, calibration, matching)
)
"""The routers of the API, each served under ``/v1`` (the web pages are :mod:`.web`'s)."""


def _query_names(dependant: Dependant) -> set[str]:
    """Collect the query parameter names of a route and all its dependencies."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not declare (422), as bodies refuse fields.

    The OpenAPI document lists each route's parameters; a misspelt one (``?limt=5``)
    would otherwise be ignored and the default used without a word.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "Extra inputs are not permitted",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )


def create_app(settings: ServiceSettings | None = None, start_workers: bool = True) -> FastAPI:
    """Build the application (migrating the database first)."""
    settings = settings or service_settings()
    migrate(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    workers = Workers(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            workers.start()
        try:
            yield
        finally:
            workers.stop()
            engine.dispose()

    app = FastAPI(
        title="capaciteit",
        version=__version__,
        description=(
            "Capacity planning for jeugdhulp met verblijf: region models, scenario runs "
            "(simulation, minimal beds, afbouw plans), calibration and backtests from stay "
            "records, and pleegzorg matching. Every route "
            "but /v1/health needs a bearer token; errors are RFC 9457 problem+json."
        ),
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    problems.install(app)
    for router in API_ROUTERS:
        app.include_router(router, prefix="/v1", dependencies=[Depends(known_query_only)])
    web.install(app)
    openapi.install(app)
    app.add_middleware(CatchAll)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    return app
