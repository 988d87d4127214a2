"""``GET /v1/health``: open, for load balancers and monitoring."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from capaciteit import __version__
from capaciteit.service.schemas import Health
from capaciteit.service.security import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: SessionDep) -> Health:
    """Answer when the service and its database do."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__, database=session.get_bind().dialect.name)
