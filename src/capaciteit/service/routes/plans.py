"""Plan versions: proposals, edits, comments, verdicts, the agreed plan and differences.

Thin routes over :mod:`capaciteit.service.reviews` (the rules of the review) and
:mod:`capaciteit.plans` (checks and differences of plans).
"""

from __future__ import annotations

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.service import reviews
from capaciteit.service.db import PlanComment, PlanVerdict, PlanVersion, Realisation
from capaciteit.service.routes import common
from capaciteit.service.schemas import (
    CommentIn,
    CommentPublic,
    HistoryPublic,
    JobPublic,
    OverviewPublic,
    PlanDiffPublic,
    PlanEditIn,
    PlanFromRunIn,
    PlanPublic,
    PlanSummaryPublic,
    RealisationPublic,
    ReportIn,
    VerdictIn,
    VerdictPublic,
)
from capaciteit.service.security import (
    Caller,
    Chair,
    Id,
    Judge,
    Member,
    Planner,
    Reader,
    SessionDep,
)

router = APIRouter(tags=["plans"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def summary(version: PlanVersion, names: dict[int, tuple[str, str]]) -> PlanSummaryPublic:
    """Show a version as listed."""
    targets = version.check.get("targets", [])
    return PlanSummaryPublic(
        id=version.id,
        region_id=version.region_id,
        scenario_id=version.scenario_id,
        number=version.number,
        title=version.title,
        status=version.status,  # type: ignore[arg-type]
        parent_id=version.parent_id,
        source_job_id=version.source_job_id,
        created_by=names.get(version.created_by or 0, ("onbekend", ""))[0],
        created_at=version.created_at,
        agreed_at=version.agreed_at,
        cost_eur={str(k): int(v) for k, v in version.check.get("cost_eur", {}).items()},
        targets_met=sum(1 for t in targets if t.get("met")),
        targets_judged=len(targets),
    )


def detail(session: Session, version: PlanVersion) -> PlanPublic:
    """Show a version with everything said about it."""
    comments = reviews.comments_of(session, version)
    verdicts = reviews.verdicts_of(session, version)
    history = reviews.history(session, version)
    names = reviews.names_of(
        session,
        {version.created_by}
        | {c.token_id for c in comments}
        | {v.token_id for v in verdicts}
        | {h.token_id for h in history},
    )
    return PlanPublic(
        **summary(version, names).model_dump(),
        note=version.note,
        plan=version.plan,
        check=version.check,
        comments=[comment_public(c, names) for c in comments],
        verdicts=[verdict_public(v, names) for v in verdicts],
        history=[
            HistoryPublic(
                at=h.at,
                who=names.get(h.token_id or 0, ("onbekend", ""))[0],
                action=h.action,
                detail=h.detail,
            )
            for h in history
        ],
    )


def comment_public(row: PlanComment, names: dict[int, tuple[str, str]]) -> CommentPublic:
    """Show a comment as the API does."""
    author, role = names.get(row.token_id or 0, ("onbekend", ""))
    cell = (
        {"provider": row.provider, "care_form": row.care_form, "year": row.year}
        if row.provider is not None
        else None
    )
    return CommentPublic(
        id=row.id,
        reply_to=row.parent_id,
        author=author,
        role=role,
        cell=cell,
        text=row.text,
        created_at=row.created_at,
    )


def verdict_public(row: PlanVerdict, names: dict[int, tuple[str, str]]) -> VerdictPublic:
    """Show a verdict as the API does."""
    author, role = names.get(row.token_id or 0, ("onbekend", ""))
    return VerdictPublic(
        id=row.id,
        author=author,
        role=role,
        verdict=row.verdict,  # type: ignore[arg-type]
        reason=row.reason,
        created_at=row.created_at,
    )


def _listed(session: Session, who: Caller, region_id: int | None) -> list[PlanVersion]:
    query = select(PlanVersion).where(PlanVersion.organisation_id.in_(who.organisations))
    if region_id is not None:
        query = query.where(PlanVersion.region_id == region_id)
    return list(
        session.scalars(query.order_by(PlanVersion.region_id, PlanVersion.number.desc())).all()
    )


@router.get("/plans")
def list_plans(
    session: SessionDep,
    who: Reader,
    region_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
) -> list[PlanSummaryPublic]:
    """List the plan versions of the caller's regions, newest first per region."""
    rows = _listed(session, who, region_id)
    names = reviews.names_of(session, {r.created_by for r in rows})
    return [summary(r, names) for r in rows]


@router.get("/plans/overview")
def overview(session: SessionDep, who: Reader) -> OverviewPublic:
    """Open proposals and comments nobody has answered yet."""
    rows = [r for r in _listed(session, who, None) if r.status == "proposal"]
    waiting = reviews.unanswered(session, who.organisations)
    names = reviews.names_of(session, {r.created_by for r in rows} | {c.token_id for c in waiting})
    return OverviewPublic(
        open_proposals=[summary(r, names) for r in rows],
        unanswered_comments=[
            {"version_id": c.version_id, **comment_public(c, names).model_dump(mode="json")}
            for c in waiting
        ],
    )


@router.post("/plans", status_code=201)
def propose(body: PlanFromRunIn, session: SessionDep, who: Planner) -> PlanPublic:
    """Turn a finished afbouw run into a proposal (checked against the rules)."""
    version = reviews.propose_from_run(session, body.run_id, body.title, body.note, who)
    return detail(session, version)


@router.get("/plans/{plan_id}")
def get_plan(plan_id: Id, session: SessionDep, who: Reader) -> PlanPublic:
    """Show a plan version: cells, check, comments, verdicts and history."""
    return detail(session, reviews.version_of(session, plan_id, who))


@router.post("/plans/{plan_id}/edits", status_code=201)
def edit_plan(plan_id: Id, body: PlanEditIn, session: SessionDep, who: Planner) -> PlanPublic:
    """Change cells: a new proposal, checked again (this version stays as it is)."""
    version = reviews.version_of(session, plan_id, who)
    changes = {(c.provider, c.care_form, c.year): c.beds for c in body.changes}
    new = reviews.edit(session, version, changes, body.title, body.note, who)
    return detail(session, new)


@router.post("/plans/{plan_id}/comments", status_code=201)
def add_comment(plan_id: Id, body: CommentIn, session: SessionDep, who: Member) -> CommentPublic:
    """Comment on a version, on one cell, or reply to a comment."""
    version = reviews.version_of(session, plan_id, who)
    cell = (body.cell.provider, body.cell.care_form, body.cell.year) if body.cell else None
    row = reviews.comment(session, version, body.text, cell, body.reply_to, who)
    return comment_public(row, reviews.names_of(session, {row.token_id}))


@router.post("/plans/{plan_id}/verdicts", status_code=201)
def add_verdict(plan_id: Id, body: VerdictIn, session: SessionDep, who: Judge) -> VerdictPublic:
    """Give a verdict on a proposal: akkoord, or niet akkoord with a reason."""
    version = reviews.version_of(session, plan_id, who)
    row = reviews.verdict(session, version, body.verdict, body.reason, who)
    return verdict_public(row, reviews.names_of(session, {row.token_id}))


@router.post("/plans/{plan_id}/agree")
def agree(plan_id: Id, session: SessionDep, who: Chair) -> PlanPublic:
    """Mark a proposal as the agreed plan (the chair); the previous one is kept."""
    version = reviews.agree(session, reviews.version_of(session, plan_id, who), who)
    return detail(session, version)


@router.get(
    "/plans/{plan_id}/plan.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def plan_csv(plan_id: Id, session: SessionDep, who: Reader) -> Response:
    """Send a version's cells as CSV (provider, care_form, year, beds, cost_eur)."""
    filename, content = reviews.plan_csv(reviews.version_of(session, plan_id, who))
    return Response(
        content,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/plans/{plan_id}/diff/{other_id}")
def diff(plan_id: Id, other_id: Id, session: SessionDep, who: Reader) -> PlanDiffPublic:
    """Show what changes from ``plan_id`` to ``other_id``: cells, totals, targets."""
    a, b, found = reviews.diff_of(session, plan_id, other_id, who)
    return PlanDiffPublic(
        a=a.id,
        b=b.id,
        changed_cells=int(found.changed_cells),
        cells=reviews.records(found.cells[found.cells["changed"]]),
        totals=reviews.records(found.totals),
        targets=reviews.records(found.targets),
    )


@router.get(
    "/plans/{plan_id}/diff/{other_id}/workbook",
    response_class=Response,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
def diff_workbook(plan_id: Id, other_id: Id, session: SessionDep, who: Reader) -> Response:
    """Send the differences as an xlsx workbook (sheet "Verschillen")."""
    a, b, found = reviews.diff_of(session, plan_id, other_id, who)
    filename, content = reviews.diff_workbook(session, a, b, found)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def realisation_public(row: Realisation) -> RealisationPublic:
    """Show an uploaded realisation workbook (counts, never its cells)."""
    return RealisationPublic(
        id=row.id,
        plan_id=row.version_id,
        name=row.name,
        rows=int(row.summary.get("rows", 0)),
        quarters=list(row.summary.get("quarters", [])),
        created_at=row.created_at,
    )


@router.get(
    "/plans/{plan_id}/realisation-template",
    response_class=Response,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
def realisation_template(plan_id: Id, session: SessionDep, who: Reader) -> Response:
    """Send the workbook providers fill in each quarter (places, occupied, instroom, waiting)."""
    filename, content = reviews.realisation_template(
        session, reviews.version_of(session, plan_id, who)
    )
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/plans/{plan_id}/realisations")
def list_realisations(plan_id: Id, session: SessionDep, who: Reader) -> list[RealisationPublic]:
    """List the realisation workbooks uploaded for a version."""
    version = reviews.version_of(session, plan_id, who)
    return [realisation_public(r) for r in reviews.realisations_of(session, version)]


@router.post("/plans/{plan_id}/realisations", status_code=201)
def upload_realisation(
    plan_id: Id, file: UploadFile, session: SessionDep, who: Planner
) -> RealisationPublic:
    """Upload a filled-in realisation workbook (refused with every problem listed)."""
    version = reviews.version_of(session, plan_id, who)
    content = file.file.read(reviews.XLSX_LIMIT_BYTES + 1)
    row = reviews.add_realisation(session, version, file.filename or "", content, who)
    return realisation_public(row)


@router.post("/plans/{plan_id}/report", status_code=202)
def start_report(plan_id: Id, body: ReportIn, session: SessionDep, who: Planner) -> JobPublic:
    """Start the quarterly report: realisation against the plan and the simulated band."""
    version = reviews.version_of(session, plan_id, who)
    job = reviews.start_report(session, version, body.replications, who)
    return common.job_public(session, job)
