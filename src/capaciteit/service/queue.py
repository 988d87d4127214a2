"""Background jobs whose state lives in the database, run by worker processes.

A job is a row: ``queued`` -> ``running`` -> ``done`` / ``failed`` / ``cancelled``. A worker
claims the oldest queued job with one conditional UPDATE (``... WHERE status = 'queued'``,
so two workers never get the same job, on SQLite and PostgreSQL alike), writes a heartbeat
while it runs, and stores the result JSON and files in the database, all under its claim
token: a worker that lost its claim cannot overwrite a newer run.

After a crash (kill -9 of the server and its workers) nothing is lost: a running job whose
heartbeat is older than ``stale_after_s`` goes back to the queue (at most ``max_attempts``
runs, then ``failed`` with the reason), and the rerun gives the same result because every
run is seeded. Workers leave when the server that started them is gone.

This module is the queue's mechanics; what each kind of job runs is
:mod:`capaciteit.service.tasks` (``simulate``, ``beds``, ``afbouw`` of a scenario of a region
model, ``match_batch`` of a matching pool, ``calibrate`` and ``backtest`` of stay records:
the command line's use cases).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from capaciteit.errors import CapaciteitError
from capaciteit.service.config import ServiceSettings
from capaciteit.service.db import (
    Job,
    JobFile,
    make_engine,
    now,
    session_factory,
)
from capaciteit.service.routes.common import STATUS_NL

log = logging.getLogger("capaciteit.jobs")
KINDS = ("simulate", "beds", "afbouw", "match_batch", "calibrate", "backtest")
MEDIA = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".png": "image/png",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".parquet": "application/vnd.apache.parquet",
}


class JobCancelledError(Exception):
    """Raised inside a job when a cancel was requested."""


class LostClaimError(Exception):
    """The job was given to another worker (this one was considered dead)."""


def enqueue(
    session: Session, kind: str, params: dict[str, Any], token_id: int | None, organisation: int
) -> Job:
    """Queue a job of ``organisation`` (the owner of its scenario or pool)."""
    job = Job(
        kind=kind,
        params=params,
        status="queued",
        created_by=token_id,
        message="in de wachtrij",
        organisation_id=organisation,
    )
    session.add(job)
    session.commit()
    return job


def requeue_stale(session: Session, settings: ServiceSettings) -> int:
    """Put running jobs without a recent heartbeat back in the queue (or fail them)."""
    limit = now() - dt.timedelta(seconds=settings.stale_after_s)
    stale = session.scalars(
        select(Job).where(Job.status == "running", Job.heartbeat_at < limit)
    ).all()
    for job in stale:
        if job.attempts >= settings.max_attempts:
            job.status, job.finished_at = "failed", now()
            job.error = {"detail": f"het werkproces stopte {job.attempts} keer (vastgelopen?)"}
        else:
            job.status, job.message = "queued", "opnieuw in de wachtrij: een werkproces stopte"
        job.claim = None
    session.commit()
    return len(stale)


def claim_next(session: Session) -> tuple[int, str] | None:
    """Claim the oldest queued job; return (job id, claim token) or None."""
    token = uuid.uuid4().hex
    next_id = session.scalar(
        select(Job.id)
        .where(Job.status == "queued")
        .order_by(Job.created_at, Job.id)  # ids are random: the oldest by time
        .limit(1)
    )
    if next_id is None:
        return None
    stamp = now()
    done = session.execute(
        update(Job)
        .where(Job.id == next_id, Job.status == "queued")
        .values(
            status="running",
            claim=token,
            started_at=stamp,
            heartbeat_at=stamp,
            attempts=Job.attempts + 1,
            progress=0.0,
            message="bezig",
        )
    )
    session.commit()
    return (next_id, token) if done.rowcount == 1 else None  # type: ignore[attr-defined]


class JobContext:
    """What a running job may do: report progress, check for a cancel, keep its claim."""

    def __init__(self, sessions: sessionmaker[Any], job_id: int, claim: str) -> None:
        self.sessions, self.job_id, self.claim = sessions, job_id, claim
        self._last = 0.0

    def progress(self, fraction: float | None, message: str | None = None) -> None:
        """Store progress (at most twice a second) and stop if a cancel was requested."""
        stamp = time.monotonic()
        if stamp - self._last < 0.5 and fraction not in (0.0, 1.0):
            return
        self._last = stamp
        with self.sessions() as session:
            job = session.get(Job, self.job_id)
            if job is None or job.claim != self.claim:
                raise LostClaimError
            if job.cancel_requested:
                raise JobCancelledError
            if fraction is not None:
                job.progress = max(0.0, min(1.0, fraction))
            if message:
                job.message = message[:500]
            session.commit()


def _heartbeat(
    sessions: sessionmaker[Any], job_id: int, claim: str, every: float, stop: threading.Event
) -> None:
    while not stop.wait(every):
        with sessions() as session:
            session.execute(
                update(Job).where(Job.id == job_id, Job.claim == claim).values(heartbeat_at=now())
            )
            session.commit()


def run_claimed(
    sessions: sessionmaker[Any], settings: ServiceSettings, job_id: int, claim: str
) -> None:
    """Run a claimed job to its end state."""
    from capaciteit.service.tasks import RUNNERS

    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(sessions, job_id, claim, settings.heartbeat_s, stop), daemon=True
    )
    beat.start()
    ctx = JobContext(sessions, job_id, claim)
    try:
        with sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None
            kind, params = job.kind, dict(job.params)
        with tempfile.TemporaryDirectory(prefix=f"capaciteit-job-{job_id}-") as tmp:
            out = Path(tmp) / "out"
            out.mkdir()
            result = RUNNERS[kind](sessions, params, Path(tmp), out, ctx)  # see tasks.py
            files = sorted(p for p in out.rglob("*") if p.is_file())
            _finish(sessions, job_id, claim, "done", result=result, files=files, out=out)
    except JobCancelledError:
        _finish(sessions, job_id, claim, "cancelled")
    except LostClaimError:
        log.info("job %s: claim lost to another worker", job_id)
    except CapaciteitError as exc:
        problems = getattr(exc, "problems", [])
        detail = {
            "detail": str(exc).splitlines()[0],
            "problems": [
                {"file": p.file, "row": p.row, "id": p.id, "message": p.message, "fix": p.fix}
                for p in problems
            ],
        }
        _finish(sessions, job_id, claim, "failed", error=detail)
    except Exception as exc:  # a bug must not leave the job running forever
        # where it failed, not the message: a message can hold child ids or cell values
        where = "".join(traceback.format_tb(exc.__traceback__))
        log.error("job %s failed: %s\n%s", job_id, type(exc).__name__, where)
        _finish(sessions, job_id, claim, "failed", error={"detail": type(exc).__name__})
    finally:
        stop.set()


def _finish(
    sessions: sessionmaker[Any],
    job_id: int,
    claim: str,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    files: list[Path] | None = None,
    out: Path | None = None,
) -> None:
    with sessions() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.claim != claim:
            return
        if job.cancel_requested and status == "done":
            # a cancel the API accepted holds, even when it came after the last check
            status, result, files = "cancelled", None, []
        session.query(JobFile).filter(JobFile.job_id == job_id).delete()
        for path in files or []:
            assert out is not None
            session.add(
                JobFile(
                    job_id=job_id,
                    name=str(path.relative_to(out)),
                    media_type=MEDIA.get(path.suffix, "application/octet-stream"),
                    content=path.read_bytes(),
                )
            )
        job.status, job.finished_at, job.result, job.error = status, now(), result, error
        job.progress = 1.0 if status == "done" else job.progress
        job.message = STATUS_NL.get(status, status)
        session.commit()


# ---------------------------------------------------------------------------------------
# Worker processes
# ---------------------------------------------------------------------------------------


def worker_main(settings_json: str, parent_pid: int) -> None:
    """Claim, run, repeat (a worker process); leave when the parent is gone."""
    settings = ServiceSettings.model_validate_json(settings_json)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = session_factory(engine)
    while os.getppid() == parent_pid:
        with sessions() as session:
            requeue_stale(session, settings)
            claimed = claim_next(session)
        if claimed is None:
            time.sleep(0.3)
            continue
        run_claimed(sessions, settings, *claimed)
    engine.dispose()


class Workers:
    """The worker processes of one server."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def start(self) -> None:
        """Start ``settings.job_workers`` processes."""
        context = multiprocessing.get_context("spawn")
        payload = self.settings.model_dump_json()
        for _ in range(self.settings.job_workers):
            proc = context.Process(target=worker_main, args=(payload, os.getpid()), daemon=True)
            proc.start()
            self.processes.append(proc)

    def stop(self) -> None:
        """Stop the processes (a job they were running is rerun by the next server)."""
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            proc.join(timeout=5)
        self.processes.clear()
