"""Helpers the routers share: jobs as responses, files as downloads."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.service.db import AuditEntry, Job, JobFile, now
from capaciteit.service.schemas import JobPublic
from capaciteit.service.security import Caller

STATUS_NL = {
    "queued": "in de wachtrij",
    "running": "bezig",
    "done": "klaar",
    "cancelled": "geannuleerd",
    "failed": "mislukt",
}
"""A job's status (an English id in the API) as a sentence names it."""


def _status(job: Job) -> str:
    return STATUS_NL.get(job.status, job.status)


def seconds_left(job: Job) -> float | None:
    """Estimate the seconds a running job still needs, from its progress so far.

    The elapsed time scaled by what is left (``elapsed × (1 − p) / p``); none before 2% is
    done, when the first stage (reading, the first replications) says little of the rest.
    """
    if job.status != "running" or job.started_at is None or job.progress < 0.02:
        return None
    elapsed = max(0.0, (now() - job.started_at).total_seconds())
    return round(elapsed * (1.0 - job.progress) / job.progress, 1)


def time_left_nl(job: Job) -> str:
    """Say how long a running job still needs, in Dutch (empty when unknown)."""
    left = seconds_left(job)
    if left is None:
        return ""
    if left < 60:
        return "nog minder dan een minuut"
    minutes = round(left / 60)
    return f"nog ongeveer {minutes} {'minuut' if minutes == 1 else 'minuten'}"


def job_public(session: Session, job: Job) -> JobPublic:
    """Show a job as the API does."""
    names = session.scalars(select(JobFile.name).where(JobFile.job_id == job.id)).all()
    return JobPublic(
        id=job.id,
        kind=job.kind,
        params={k: v for k, v in job.params.items() if k != "token_id"},
        status=job.status,  # type: ignore[arg-type]
        progress_pct=round(100 * job.progress, 1),
        message=job.message,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        files=sorted(names),
        seconds_left=seconds_left(job),
    )


def get_job(session: Session, job_id: int, kinds: tuple[str, ...], who: Caller) -> Job:
    """Return the job if it is one of ``kinds`` and the caller's (404 otherwise)."""
    job = session.get(Job, job_id)
    if job is None or job.kind not in kinds or not who.sees(job.organisation_id):
        raise HTTPException(404, f"Berekening {job_id} bestaat niet.")
    audit_read(session, who, "job", job.id, job.organisation_id)
    return job


def audit_read(session: Session, who: Caller, what: str, object_id: int, owner: int) -> None:
    """Log a read by a token of several organisations (who read what, of which one)."""
    if len(who.organisations) > 1:
        session.add(
            AuditEntry(
                token_id=who.token_id,
                action="read",
                subject_ids=[],
                detail={"object": what, "id": object_id, "organisation_id": owner},
            )
        )
        session.commit()


def cancel(session: Session, job: Job) -> Job:
    """Cancel a queued job at once, a running one at its next progress report."""
    if job.status == "queued":
        job.status, job.finished_at, job.message = "cancelled", now(), STATUS_NL["cancelled"]
    elif job.status == "running":
        job.cancel_requested = True
        job.message = "annuleren gevraagd"
    else:
        raise HTTPException(409, f"Berekening {job.id} is al {_status(job)}.")
    session.commit()
    return job


def result(job: Job) -> dict[str, Any]:
    """Return the result JSON of a finished job (409 before)."""
    if job.status != "done" or job.result is None:
        still = "nog " if job.status in ("queued", "running") else ""
        raise HTTPException(
            409, f"Berekening {job.id} is {_status(job)}; er is {still}geen resultaat."
        )
    return job.result


def download(session: Session, job: Job, name: str) -> Response:
    """Send a result file of a job."""
    row = session.scalar(select(JobFile).where(JobFile.job_id == job.id, JobFile.name == name))
    if row is None:
        raise HTTPException(404, f"Berekening {job.id} heeft geen bestand '{name}'.")
    filename = name.rsplit("/", 1)[-1]
    return Response(
        row.content,
        media_type=row.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
