"""Runs of scenarios (simulation, minimal beds, afbouw) as background jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from capaciteit.errors import InvalidInputError, Problem
from capaciteit.service import queue, reviews, store
from capaciteit.service.db import Job
from capaciteit.service.routes import common
from capaciteit.service.schemas import JobPublic, RunIn
from capaciteit.service.security import Id, Planner, Reader, SessionDep

router = APIRouter(tags=["runs"])
KINDS = ("simulate", "beds", "afbouw", "realisation")
"""Kinds of run listed here (a realisation report is started from its plan version)."""


@router.post("/runs", status_code=202)
def start_run(body: RunIn, session: SessionDep, who: Planner) -> JobPublic:
    """Queue a run; follow it with ``GET /v1/runs/{id}``."""
    _, region = store.scenario_of(session, body.scenario_id, who)
    if body.reference_plan_id is not None:
        reference = reviews.version_of(session, body.reference_plan_id, who)
        if body.kind != "afbouw" or reference.region_id != region.id:
            raise InvalidInputError(
                "De berekening",
                [
                    Problem(
                        "verzoek",
                        "een referentieplan hoort bij een afbouwberekening van dezelfde regio.",
                        "Kies kind 'afbouw' en een planversie van de regio van het scenario.",
                        column="reference_plan_id",
                    )
                ],
            )
    params = body.model_dump(exclude={"kind"}, exclude_none=True)
    job = queue.enqueue(session, body.kind, params, who.token_id, region.organisation_id)
    return common.job_public(session, job)


@router.get("/runs")
def list_runs(session: SessionDep, who: Reader) -> list[JobPublic]:
    """List the caller's runs, newest first."""
    rows = session.scalars(
        select(Job)
        .where(Job.kind.in_(KINDS), Job.organisation_id.in_(who.organisations))
        .order_by(Job.created_at.desc(), Job.id.desc())
    ).all()
    return [common.job_public(session, j) for j in rows]


@router.get("/runs/{run_id}")
def get_run(run_id: Id, session: SessionDep, who: Reader) -> JobPublic:
    """Show the status, progress and result files of a run."""
    return common.job_public(session, common.get_job(session, run_id, KINDS, who))


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: Id, session: SessionDep, who: Planner) -> JobPublic:
    """Cancel a queued or running run."""
    job = common.cancel(session, common.get_job(session, run_id, KINDS, who))
    return common.job_public(session, job)


@router.get("/runs/{run_id}/result")
def run_result(run_id: Id, session: SessionDep, who: Reader) -> dict[str, Any]:
    """Return the run's JSON summary (KPIs, minimal beds or the plan)."""
    return common.result(common.get_job(session, run_id, KINDS, who))


@router.get("/runs/{run_id}/files/{name:path}")
def run_file(run_id: Id, name: str, session: SessionDep, who: Reader) -> Response:
    """Send a result file (CSV, xlsx, PNG, JSON)."""
    return common.download(session, common.get_job(session, run_id, KINDS, who), name)
