"""Bearer tokens and roles.

Tokens are 32 random bytes (URL-safe text); the database keeps only their SHA-256, which
is enough for secrets of that entropy (no password stretching needed). Every route but
``GET /v1/health`` needs a token; each route names the roles it admits:

``planner``        region models, scenarios, runs (simulation, minimal beds, afbouw);
``ontwikkeltafel`` reads region models, scenarios, runs and their results; comments on
                   plan versions and gives verdicts;
``voorzitter``     the chair of an ontwikkeltafel: as a member, and marks a proposal agreed;
``landelijk``      read-only like an ontwikkeltafel, over several regions (bovenregionaal);
``matcher``        matching only: pools, suggestions, batch assignments;
``admin``          tokens and organisations.

**Tenancy.** Every region model, scenario, run and matching pool belongs to one
organisation (a region, or a matching organisation). A token sees the organisations an
admin gave it and nothing else: another organisation's object answers 404, as if it did
not exist, on the API and the web pages alike. Ids are random (:func:`.db.new_id`). A read
by a token of several organisations is written to the audit log.
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

from capaciteit.service.db import DEFAULT_ORGANISATION, Organisation, Token, TokenOrganisation

Role = Literal["planner", "ontwikkeltafel", "voorzitter", "landelijk", "matcher", "admin"]
ROLES: tuple[Role, ...] = (
    "planner",
    "ontwikkeltafel",
    "voorzitter",
    "landelijk",
    "matcher",
    "admin",
)
READERS: tuple[Role, ...] = ("planner", "ontwikkeltafel", "voorzitter", "landelijk")
"""Roles that read region models, scenarios, runs and plans of their organisations."""
MEMBERS: tuple[Role, ...] = ("planner", "ontwikkeltafel", "voorzitter")
"""Members of an ontwikkeltafel: they comment on plans."""

bearer = HTTPBearer(auto_error=False, description="A token from `capaciteit token create`.")


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def organisation_named(session: Session, name: str) -> int:
    """Return the id of the organisation called ``name`` (made if it is not there)."""
    found = session.scalar(select(Organisation.id).where(Organisation.name == name))
    if found is not None:
        return int(found)
    row = Organisation(name=name, kind="region")
    session.add(row)
    session.flush()
    return row.id


def create_token(
    session: Session, role: Role, name: str, organisations: list[int] | None = None
) -> str:
    """Create a token for ``role`` seeing ``organisations`` (default: ``standaard``).

    Returns the token (shown once, stored hashed).
    """
    token = secrets.token_urlsafe(32)
    row = Token(name=name, role=role, token_hash=hash_token(token))
    session.add(row)
    session.flush()
    chosen = organisations or [organisation_named(session, DEFAULT_ORGANISATION)]
    chosen = list(dict.fromkeys(chosen))  # a token sees a set: naming one twice is once
    session.add_all(TokenOrganisation(token_id=row.id, organisation_id=o) for o in chosen)
    session.commit()
    return token


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's id, name, role and the organisations it may see."""

    token_id: int
    name: str
    role: Role
    organisations: frozenset[int] = frozenset()

    def sees(self, organisation_id: int | None) -> bool:
        """Whether an object of ``organisation_id`` is visible to this caller."""
        return organisation_id is not None and organisation_id in self.organisations

    def owner(self, asked: int | None) -> int:
        """Choose the organisation a new object of this caller belongs to.

        ``asked`` must be one of the caller's; without it, the caller's only organisation.
        """
        if asked is not None:
            if asked not in self.organisations:
                raise HTTPException(404, f"Organisatie {asked} bestaat niet.")
            return asked
        if len(self.organisations) != 1:
            raise HTTPException(
                422,
                "Dit token hoort bij meer dan één organisatie; geef organisation_id op.",
            )
        return next(iter(self.organisations))


def caller_of(session: Session, token: str) -> Caller | None:
    """Find the caller a token names, with its organisations (``None``: unknown, revoked)."""
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token)))
    if row is None or row.revoked:
        return None
    organisations = session.scalars(
        select(TokenOrganisation.organisation_id).where(TokenOrganisation.token_id == row.id)
    ).all()
    return Caller(row.id, row.name, row.role, frozenset(organisations))  # type: ignore[arg-type]


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
    who = caller_of(session, credentials.credentials)
    if who is None:
        raise HTTPException(
            401, "Het token is onbekend of ingetrokken.", {"WWW-Authenticate": "Bearer"}
        )
    return who


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
Reader = Annotated[Caller, Depends(require(*READERS))]
Member = Annotated[Caller, Depends(require(*MEMBERS))]
Judge = Annotated[Caller, Depends(require("ontwikkeltafel", "voorzitter"))]
Chair = Annotated[Caller, Depends(require("voorzitter"))]
Matcher = Annotated[Caller, Depends(require("matcher"))]
Admin = Annotated[Caller, Depends(require("admin"))]
