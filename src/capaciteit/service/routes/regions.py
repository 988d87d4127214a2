"""Region models and scenarios: planners upload, ontwikkeltafels read, each their own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from sqlalchemy import select

from capaciteit.service import store
from capaciteit.service.db import Region, Scenario
from capaciteit.service.schemas import RegionPublic, ScenarioIn, ScenarioPublic
from capaciteit.service.security import Id, Planner, Reader, SessionDep

router = APIRouter(tags=["regions"])


@router.post("/regions", status_code=201)
def upload_region(
    files: Annotated[list[UploadFile], File(description="model.yaml and tables, or a .zip")],
    session: SessionDep,
    who: Planner,
    organisation_id: Annotated[
        int | None, Form(ge=1, le=2**31 - 1, description="needed for a token of several")
    ] = None,
) -> RegionPublic:
    """Upload a region model; refused with every problem listed (422) when invalid."""
    owner = who.owner(organisation_id)
    # a plain def: FastAPI runs it in a worker thread, so that unpacking and validating a
    # large upload never blocks the event loop (health and other users keep answering)
    content = [(f.filename or "upload", f.file.read()) for f in files]
    region = store.add_region(session, content, owner)
    return RegionPublic.model_validate(region, from_attributes=True)


@router.get("/regions")
def list_regions(session: SessionDep, who: Reader) -> list[RegionPublic]:
    """List the caller's region models."""
    rows = session.scalars(
        select(Region)
        .where(Region.organisation_id.in_(who.organisations))
        .order_by(Region.created_at, Region.id)
    ).all()
    return [RegionPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/regions/{region_id}")
def get_region(region_id: Id, session: SessionDep, who: Reader) -> RegionPublic:
    """Show one region model."""
    region = store.region_of(session, region_id, who)
    return RegionPublic.model_validate(region, from_attributes=True)


@router.get("/regions/{region_id}/availability")
def region_availability(region_id: Id, session: SessionDep, who: Reader) -> list[dict[str, Any]]:
    """List beds, occupied and free places per provider and care form (0-meting)."""
    return store.region_beds(store.region_of(session, region_id, who))


@router.post("/scenarios", status_code=201)
def add_scenario(body: ScenarioIn, session: SessionDep, who: Planner) -> ScenarioPublic:
    """Add a scenario for a region; refused with every problem listed (422) when invalid."""
    region = store.region_of(session, body.region_id, who)
    row = store.add_scenario(session, region, body.text, body.name)
    return ScenarioPublic.model_validate(row, from_attributes=True)


@router.get("/scenarios")
def list_scenarios(session: SessionDep, who: Reader) -> list[ScenarioPublic]:
    """List the caller's scenarios."""
    rows = session.scalars(
        select(Scenario)
        .join(Region, Region.id == Scenario.region_id)
        .where(Region.organisation_id.in_(who.organisations))
        .order_by(Scenario.created_at, Scenario.id)
    ).all()
    return [ScenarioPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/scenarios/{scenario_id}")
def get_scenario(scenario_id: Id, session: SessionDep, who: Reader) -> ScenarioPublic:
    """Show one scenario."""
    scenario, _ = store.scenario_of(session, scenario_id, who)
    return ScenarioPublic.model_validate(scenario, from_attributes=True)
