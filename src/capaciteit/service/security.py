"""Bearer tokens and roles.

Tokens are 32 random bytes (URL-safe text); the database keeps only their SHA-256, which
is enough for secrets of that entropy (no password stretching needed). Every route but
``GET /v1/health`` needs a token; each route names the roles it admits:

``planner``        region models, scenarios, runs (simulation, minimal beds, afbouw);
``ontwikkeltafel`` read-only: region models, scenarios, runs and their results;
``matcher``        matching only: pools, suggestions, batch assignments;
``admin``          tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.service.db import Token

Role = Literal["planner", "ontwikkeltafel", "matcher", "admin"]
ROLES: tuple[Role, ...] = ("planner", "ontwikkeltafel", "matcher", "admin")

bearer = HTTPBearer(auto_error=False, description="A token from `capaciteit token create`.")


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, role: Role, name: str) -> str:
    """Create a token for ``role``; return it (shown once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(Token(name=name, role=role, token_hash=hash_token(token)))
    session.commit()
    return token


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's id, name and role."""

    token_id: int
    name: str
    role: Role


def get_session(request: Request):  # type: ignore[no-untyped-def]
    """Yield a database session for one request."""
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def caller(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """Identify the caller from its bearer token (401 without a valid one)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "Een bearer-token is nodig (Authorization: Bearer ...).",
            {"WWW-Authenticate": "Bearer"},
        )
    row = session.scalar(
        select(Token).where(Token.token_hash == hash_token(credentials.credentials))
    )
    if row is None or row.revoked:
        raise HTTPException(
            401, "Het token is onbekend of ingetrokken.", {"WWW-Authenticate": "Bearer"}
        )
    return Caller(row.id, row.name, row.role)  # type: ignore[arg-type]


def require(*roles: Role) -> Callable[[Caller], Caller]:
    """Build a dependency admitting only ``roles`` (403 for other roles)."""

    def check(who: Annotated[Caller, Depends(caller)]) -> Caller:
        if who.role not in roles:
            raise HTTPException(
                403, f"De rol '{who.role}' mag dit niet; nodig: {', '.join(roles)}."
            )
        return who

    return check


Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="an id (1 to 2^31 - 1)")]
"""A stored entity's id: bounded so that the database never sees an out-of-range number."""

Planner = Annotated[Caller, Depends(require("planner"))]
Reader = Annotated[Caller, Depends(require("planner", "ontwikkeltafel"))]
Matcher = Annotated[Caller, Depends(require("matcher"))]
Admin = Annotated[Caller, Depends(require("admin"))]
