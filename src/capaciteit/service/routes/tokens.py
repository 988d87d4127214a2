"""Tokens and the audit log (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from capaciteit.service.db import AuditEntry, Organisation, Token
from capaciteit.service.schemas import (
    AuditPublic,
    OrganisationIn,
    OrganisationPublic,
    TokenCreated,
    TokenIn,
    TokenPublic,
)
from capaciteit.service.security import Admin, Id, SessionDep, create_token, hash_token

router = APIRouter(tags=["tokens"])


@router.post("/tokens", status_code=201)
def new_token(body: TokenIn, session: SessionDep, _: Admin) -> TokenCreated:
    """Create a token for a role and its organisations; the token is shown once."""
    for organisation in body.organisations or []:
        if session.get(Organisation, organisation) is None:
            raise HTTPException(404, f"Organisatie {organisation} bestaat niet.")
    token = create_token(session, body.role, body.name, body.organisations)
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token)))
    assert row is not None
    return TokenCreated(
        **TokenPublic.model_validate(row, from_attributes=True).model_dump(), token=token
    )


@router.post("/organisations", status_code=201)
def new_organisation(body: OrganisationIn, session: SessionDep, _: Admin) -> OrganisationPublic:
    """Create an organisation (a region or a matching organisation)."""
    if session.scalar(select(Organisation).where(Organisation.name == body.name)) is not None:
        raise HTTPException(409, f"Organisatie '{body.name}' bestaat al.")
    row = Organisation(name=body.name, kind=body.kind)
    session.add(row)
    session.commit()
    return OrganisationPublic.model_validate(row, from_attributes=True)


@router.get("/organisations")
def list_organisations(session: SessionDep, _: Admin) -> list[OrganisationPublic]:
    """List every organisation."""
    rows = session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return [OrganisationPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/tokens")
def list_tokens(session: SessionDep, _: Admin) -> list[TokenPublic]:
    """List every token (without the secret)."""
    rows = session.scalars(select(Token).order_by(Token.id)).all()
    return [TokenPublic.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: Id, session: SessionDep, _: Admin) -> TokenPublic:
    """Revoke a token; requests with it are refused from now on."""
    row = session.get(Token, token_id)
    if row is None:
        raise HTTPException(404, f"Token {token_id} bestaat niet.")
    row.revoked = True
    session.commit()
    return TokenPublic.model_validate(row, from_attributes=True)


@router.get("/audit")
def audit_log(
    session: SessionDep, _: Admin, limit: int = Query(100, ge=1, le=1000)
) -> list[AuditPublic]:
    """List the newest audit entries: who asked for which matching, when."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()
    return [AuditPublic.model_validate(r, from_attributes=True) for r in rows]
