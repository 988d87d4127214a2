"""Matching: pools, suggestions for one child, explanations and batch assignments.

Only the ``matcher`` role comes here. Every request about children is written to the
audit log (who, when, which pseudonymous ids); nothing else about a child is logged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.matching import Children, Pool, explain, suggest
from capaciteit.results.matching import suggestions_json
from capaciteit.service import queue, store
from capaciteit.service.db import AuditEntry, Job, MatchingPool
from capaciteit.service.routes import common
from capaciteit.service.schemas import (
    BatchIn,
    ExplainIn,
    ExplainPublic,
    JobPublic,
    PoolPublic,
    SuggestionPublic,
    SuggestionsIn,
    SuggestionsPublic,
)
from capaciteit.service.security import Caller, Id, Matcher, SessionDep

router = APIRouter(prefix="/matching", tags=["matching"])
KINDS = ("match_batch",)


def _audit(session: Session, who: Caller, action: str, ids: list[str], **detail: Any) -> None:
    session.add(AuditEntry(token_id=who.token_id, action=action, subject_ids=ids, detail=detail))
    session.commit()


def _pool(session: Session, pool_id: Id, who: Caller) -> tuple[Children, Pool]:
    row = session.get(MatchingPool, pool_id)
    built = store.built_pool(session, pool_id) if row and who.sees(row.organisation_id) else None
    if row is None or built is None:
        raise HTTPException(404, f"Matchingpool {pool_id} bestaat niet.")
    common.audit_read(session, who, "pool", pool_id, row.organisation_id)
    return built


def _known(children: Children, pool: Pool, child_id: str, placement_id: str | None = None) -> None:
    """404 for a child or family that is not in the pool: a resource that does not exist."""
    if child_id not in children.frame.index:
        raise HTTPException(404, f"Kind '{child_id}' staat niet op de wachtlijst van deze pool.")
    if placement_id is not None and placement_id not in pool.frame.index:
        raise HTTPException(404, f"Gezin '{placement_id}' staat niet in deze pool.")


@router.post("/pools", status_code=201)
def upload_pool(
    children: Annotated[UploadFile, File(description="children.csv or .xlsx (pseudonymous)")],
    placements: Annotated[UploadFile, File(description="placements.csv or .xlsx")],
    session: SessionDep,
    who: Matcher,
    name: Annotated[str, Form(max_length=200)] = "pool",
    organisation_id: Annotated[
        int | None, Form(ge=1, le=2**31 - 1, description="needed for a token of several")
    ] = None,
) -> PoolPublic:
    """Upload a waiting list and family pool; refused with every problem listed (422)."""
    owner = who.owner(organisation_id)
    # a plain def: validated in a worker thread, off the event loop
    row = store.add_pool(session, name, children.file.read(), placements.file.read(), owner)
    _audit(session, who, "pool_upload", [], pool_id=row.id, children=row.summary["children"])
    return PoolPublic.model_validate(row, from_attributes=True)


@router.get("/pools")
def list_pools(session: SessionDep, who: Matcher) -> list[PoolPublic]:
    """List the caller's pools (counts only)."""
    rows = session.scalars(
        select(MatchingPool)
        .where(MatchingPool.organisation_id.in_(who.organisations))
        .order_by(MatchingPool.created_at, MatchingPool.id)
    ).all()
    return [PoolPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/pools/{pool_id}/availability")
def pool_availability(pool_id: Id, session: SessionDep, who: Matcher) -> list[dict[str, Any]]:
    """Count free places of available families per type and trede."""
    return store.pool_availability(_pool(session, pool_id, who)[1])


@router.post("/suggestions")
def suggestions(body: SuggestionsIn, session: SessionDep, who: Matcher) -> SuggestionsPublic:
    """Suggest the best families for one child (and its siblings), with Dutch reasons."""
    children, pool = _pool(session, body.pool_id, who)
    _known(children, pool, body.child_id)
    result = suggest(children, pool, body.child_id, body.k, body.weights)
    data = suggestions_json(result)
    _audit(
        session,
        who,
        "suggestions",
        [body.child_id, *result.siblings],
        pool_id=body.pool_id,
        families=[s["placement_id"] for s in data["suggestions"]],
    )
    items = [
        SuggestionPublic(
            rank=s["rank"],
            placement_id=s["placement_id"],
            score=s["score"],
            points={
                k: v for k, v in s.items() if k not in ("rank", "placement_id", "score", "reasons")
            },
            reasons=s["reasons"],
        )
        for s in data["suggestions"]
    ]
    return SuggestionsPublic(
        child_id=result.child_id,
        siblings_placed_together=result.siblings,
        candidates=result.candidates,
        excluded_by_rule=result.excluded,
        summary=result.summary(),
        suggestions=items,
    )


@router.post("/explain")
def explain_family(body: ExplainIn, session: SessionDep, who: Matcher) -> ExplainPublic:
    """Why a family can or cannot take a child (every hard rule it fails)."""
    children, pool = _pool(session, body.pool_id, who)
    _known(children, pool, body.child_id, body.placement_id)
    result = explain(children, pool, body.child_id, body.placement_id)
    _audit(session, who, "explain", [body.child_id], pool_id=body.pool_id, family=body.placement_id)
    return ExplainPublic.model_validate(result, from_attributes=True)


@router.post("/batch", status_code=202)
def start_batch(body: BatchIn, session: SessionDep, who: Matcher) -> JobPublic:
    """Queue the best assignment of the pool's waiting list."""
    _pool(session, body.pool_id, who)
    row = session.get(MatchingPool, body.pool_id)
    assert row is not None
    params = body.model_dump(exclude_none=True) | {"token_id": who.token_id}
    job = queue.enqueue(session, "match_batch", params, who.token_id, row.organisation_id)
    _audit(session, who, "match_batch", [], pool_id=body.pool_id, job_id=job.id)
    return common.job_public(session, job)


@router.get("/batch/{job_id}")
def get_batch(job_id: Id, session: SessionDep, who: Matcher) -> JobPublic:
    """Show the status of a batch assignment."""
    return common.job_public(session, common.get_job(session, job_id, KINDS, who))


@router.post("/batch/{job_id}/cancel")
def cancel_batch(job_id: Id, session: SessionDep, who: Matcher) -> JobPublic:
    """Cancel a batch assignment."""
    return common.job_public(
        session, common.cancel(session, common.get_job(session, job_id, KINDS, who))
    )


@router.get("/batch/{job_id}/result")
def batch_result(job_id: Id, session: SessionDep, who: Matcher) -> dict[str, Any]:
    """Return the assignment: status, optimality, placed and unplaced children."""
    job: Job = common.get_job(session, job_id, KINDS, who)
    data = common.result(job)
    assignment = data.get("assignment", [])
    ids = [str(a["child_id"]) for a in assignment] if isinstance(assignment, list) else []
    _audit(session, who, "match_batch_read", ids, job_id=job_id)
    return data


@router.get("/batch/{job_id}/files/{name:path}")
def batch_file(job_id: Id, name: str, session: SessionDep, who: Matcher) -> Response:
    """Send a result file of a batch assignment (CSV or JSON)."""
    job = common.get_job(session, job_id, KINDS, who)
    _audit(session, who, "match_batch_download", [], job_id=job_id, file=name)
    return common.download(session, job, name)
