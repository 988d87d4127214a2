"""Stay records, and the calibrations and backtests run on them, as background jobs.

Planners upload their region's stay records (:mod:`capaciteit.service.records` says how
they are kept private) and start a calibration (a region model estimated from them, with
its report) or a backtest (calibrated before a 1 January, compared with the quarters
after it). Both are followed like runs: status, cancel, result JSON, result files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.tables import MAX_TABLE_BYTES
from capaciteit.service import queue, records, store
from capaciteit.service.db import AuditEntry, Job, StayRecordsUpload
from capaciteit.service.routes import common
from capaciteit.service.schemas import (
    BacktestIn,
    CalibrationIn,
    JobPublic,
    RecordsPublic,
    RegionPublic,
)
from capaciteit.service.security import Caller, Id, Planner, Reader, SessionDep

router = APIRouter(tags=["calibration"])


def records_public(row: StayRecordsUpload) -> RecordsPublic:
    """Show stored records as the API does: counts, never a row."""
    return RecordsPublic(id=row.id, name=row.name, created_at=row.created_at, **row.summary)


@router.post("/records", status_code=201)
def upload_records(
    file: Annotated[
        UploadFile, File(description="stays.csv or stays.xlsx (pseudonymous), read as named")
    ],
    session: SessionDep,
    who: Planner,
    organisation_id: Annotated[
        int | None, Form(ge=1, le=2**31 - 1, description="needed for a token of several")
    ] = None,
) -> RecordsPublic:
    """Upload stay records; refused with every problem listed (422), none repeating a person."""
    owner = who.owner(organisation_id)
    # a plain def: read and checked in a worker thread, off the event loop
    content = file.file.read(MAX_TABLE_BYTES + 1)
    return records_public(records.add(session, file.filename or "", content, owner, who))


@router.get("/records")
def list_records(session: SessionDep, who: Planner) -> list[RecordsPublic]:
    """List the stay records of the caller's organisations (counts only)."""
    return [records_public(r) for r in records.listed(session, who)]


@router.get("/records/{records_id}")
def get_records(records_id: Id, session: SessionDep, who: Planner) -> RecordsPublic:
    """Show what stored stay records hold (counts only)."""
    return records_public(records.records_of(session, records_id, who))


def _start(session: Session, kind: str, body: CalibrationIn | BacktestIn, who: Caller) -> JobPublic:
    """Queue a job on the caller's records (and base region model, of the same owner).

    Days the records do not hold are refused here, naming the request's fields, rather
    than by the job in the worker.
    """
    upload = records.records_of(session, body.records_id, who)
    if body.base_region_id is not None:
        region = store.region_of(session, body.base_region_id, who)
        if region.organisation_id != upload.organisation_id:
            raise InvalidInputError(
                "De kalibratie",
                [
                    Problem(
                        "verzoek",
                        "het basismodel hoort bij een andere organisatie dan de verblijven.",
                        "Kies een regiomodel van de organisatie van de verblijfsgegevens.",
                        column="base_region_id",
                    )
                ],
            )
    records.check_days(upload, body)
    params = body.model_dump(mode="json", exclude_none=True)
    job = queue.enqueue(session, kind, params, who.token_id, upload.organisation_id)
    session.add(
        AuditEntry(
            token_id=who.token_id,
            action=f"records_{kind}",
            subject_ids=[],
            detail={"records_id": upload.id, "job_id": job.id},
        )
    )
    session.commit()
    return common.job_public(session, job)


@router.post("/calibrations", status_code=202)
def start_calibration(body: CalibrationIn, session: SessionDep, who: Planner) -> JobPublic:
    """Queue a calibration of a region model from stay records."""
    return _start(session, "calibrate", body, who)


@router.post("/backtests", status_code=202)
def start_backtest(body: BacktestIn, session: SessionDep, who: Planner) -> JobPublic:
    """Queue a backtest of the calibration of stay records from a 1 January."""
    return _start(session, "backtest", body, who)


def _follow(path: str, kind: str, what: str) -> None:
    """Add the routes that follow a kind of job: list, status, cancel, result, files."""
    kinds = (kind,)
    param = "{job_id}"

    def listed(session: SessionDep, who: Reader) -> list[JobPublic]:
        rows = session.scalars(
            select(Job)
            .where(Job.kind == kind, Job.organisation_id.in_(who.organisations))
            .order_by(Job.created_at.desc(), Job.id.desc())
        ).all()
        return [common.job_public(session, j) for j in rows]

    def status(job_id: Id, session: SessionDep, who: Reader) -> JobPublic:
        return common.job_public(session, common.get_job(session, job_id, kinds, who))

    def cancel(job_id: Id, session: SessionDep, who: Planner) -> JobPublic:
        job = common.cancel(session, common.get_job(session, job_id, kinds, who))
        return common.job_public(session, job)

    def result(job_id: Id, session: SessionDep, who: Reader) -> dict[str, Any]:
        return common.result(common.get_job(session, job_id, kinds, who))

    def download(job_id: Id, name: str, session: SessionDep, who: Reader) -> Response:
        return common.download(session, common.get_job(session, job_id, kinds, who), name)

    routes: list[tuple[str, str, Callable[..., Any], str]] = [
        ("GET", "", listed, f"List the caller's {what}s, newest first."),
        ("GET", f"/{param}", status, f"Show the status, progress and files of a {what}."),
        ("POST", f"/{param}/cancel", cancel, f"Cancel a queued or running {what}."),
        ("GET", f"/{param}/result", result, f"Return the {what}'s result JSON."),
        ("GET", f"/{param}/files/{{name:path}}", download, f"Send a result file of a {what}."),
    ]
    for method, tail, endpoint, summary in routes:
        router.add_api_route(
            path + tail,
            endpoint,
            methods=[method],
            name=f"{endpoint.__name__}_{path.strip('/')}",
            summary=summary.rstrip("."),
            description=summary,
        )


_follow("/calibrations", "calibrate", "calibration")
_follow("/backtests", "backtest", "backtest")


@router.post("/calibrations/{job_id}/region", status_code=201)
def keep_calibrated_model(job_id: Id, session: SessionDep, who: Planner) -> RegionPublic:
    """Keep a finished calibration's model as a region model of its organisation."""
    job = common.get_job(session, job_id, ("calibrate",), who)
    region = records.calibrated_region(session, job)
    return RegionPublic.model_validate(region, from_attributes=True)
