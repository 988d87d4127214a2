"""Region models and scenarios: planners upload, ontwikkeltafels read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, UploadFile
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
    _: Planner,
) -> RegionPublic:
    """Upload a region model; refused with every problem listed (422) when invalid."""
    # a plain def: FastAPI runs it in a worker thread, so that unpacking and validating a
    # large upload never blocks the event loop (health and other users keep answering)
    content = [(f.filename or "upload", f.file.read()) for f in files]
    region = store.add_region(session, content)
    return RegionPublic.model_validate(region, from_attributes=True)


@router.get("/regions")
def list_regions(session: SessionDep, _: Reader) -> list[RegionPublic]:
    """List every region model."""
    rows = session.scalars(select(Region).order_by(Region.id)).all()
    return [RegionPublic.model_validate(r, from_attributes=True) for r in rows]


def _region(session: SessionDep, region_id: Id) -> Region:
    region = session.get(Region, region_id)
    if region is None:
        raise HTTPException(404, f"Regiomodel {region_id} bestaat niet.")
    return region


@router.get("/regions/{region_id}")
def get_region(region_id: Id, session: SessionDep, _: Reader) -> RegionPublic:
    """Show one region model."""
    return RegionPublic.model_validate(_region(session, region_id), from_attributes=True)


@router.get("/regions/{region_id}/availability")
def region_availability(region_id: Id, session: SessionDep, _: Reader) -> list[dict[str, Any]]:
    """List beds, occupied and free places per provider and care form (0-meting)."""
    return store.region_beds(_region(session, region_id))


@router.post("/scenarios", status_code=201)
def add_scenario(body: ScenarioIn, session: SessionDep, _: Planner) -> ScenarioPublic:
    """Add a scenario for a region; refused with every problem listed (422) when invalid."""
    row = store.add_scenario(session, _region(session, body.region_id), body.text, body.name)
    return ScenarioPublic.model_validate(row, from_attributes=True)


@router.get("/scenarios")
def list_scenarios(session: SessionDep, _: Reader) -> list[ScenarioPublic]:
    """List every scenario."""
    rows = session.scalars(select(Scenario).order_by(Scenario.id)).all()
    return [ScenarioPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/scenarios/{scenario_id}")
def get_scenario(scenario_id: Id, session: SessionDep, _: Reader) -> ScenarioPublic:
    """Show one scenario."""
    row = session.get(Scenario, scenario_id)
    if row is None:
        raise HTTPException(404, f"Scenario {scenario_id} bestaat niet.")
    return ScenarioPublic.model_validate(row, from_attributes=True)
