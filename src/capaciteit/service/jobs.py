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

Kinds: ``simulate``, ``beds``, ``afbouw`` (a scenario of a region model) and
``match_batch`` (a matching pool). Each runs the same pipeline as the command line.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from capaciteit.errors import CapaciteitError, InvalidInputError, Problem
from capaciteit.service.config import ServiceSettings
from capaciteit.service.db import (
    AuditEntry,
    Job,
    JobFile,
    Region,
    Scenario,
    make_engine,
    now,
    session_factory,
)
from capaciteit.service.routes.common import STATUS_NL

log = logging.getLogger("capaciteit.jobs")
KINDS = ("simulate", "beds", "afbouw", "match_batch")
MEDIA = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".png": "image/png",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".parquet": "application/vnd.apache.parquet",
}
RESULT_JSON = {
    "simulate": "summary.json",
    "beds": "beds.json",
    "afbouw": "plan.json",
    "match_batch": "match.json",
}


class JobCancelledError(Exception):
    """Raised inside a job when a cancel was requested."""


class LostClaimError(Exception):
    """The job was given to another worker (this one was considered dead)."""


def enqueue(session: Session, kind: str, params: dict[str, Any], token_id: int | None) -> Job:
    """Queue a job."""
    job = Job(
        kind=kind, params=params, status="queued", created_by=token_id, message="in de wachtrij"
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
    next_id = session.scalar(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1))
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


class _Context:
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
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(sessions, job_id, claim, settings.heartbeat_s, stop), daemon=True
    )
    beat.start()
    ctx = _Context(sessions, job_id, claim)
    try:
        with sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None
            kind, params = job.kind, dict(job.params)
        with tempfile.TemporaryDirectory(prefix=f"capaciteit-job-{job_id}-") as tmp:
            out = Path(tmp) / "out"
            out.mkdir()
            result = RUNNERS[kind](sessions, params, Path(tmp), out, ctx)
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
# The job kinds: the command line's pipelines, on files materialised from the database
# ---------------------------------------------------------------------------------------


def materialise_region(archive: bytes, target: Path) -> Path:
    """Unpack a region model archive into ``target`` (within limits); return the model folder."""
    from capaciteit.io.archive import unpack

    contents, problems = unpack(archive, "upload")
    try:
        for name, data in contents.items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except OSError as exc:
        problems.append(
            Problem(
                "upload",
                f"de bestanden kunnen niet worden uitgepakt (technische melding: "
                f"{type(exc).__name__}).",
                "Upload model.yaml en de tabellen met korte, verschillende bestandsnamen.",
            )
        )
    if problems:
        raise InvalidInputError("De upload van het regiomodel", problems)
    target.mkdir(parents=True, exist_ok=True)
    if (target / "model.yaml").is_file():
        return target
    inner = [p.parent for p in target.rglob("model.yaml")]
    return inner[0] if inner else target


def write_scenario(text: str, model_dir: Path, target: Path) -> Path:
    """Write a scenario file next to the model, pointing at it."""
    import yaml

    from capaciteit.io.yaml_files import load_yaml_text

    try:
        data = load_yaml_text(text)
    except yaml.YAMLError:
        data = None  # written as it is: the scenario loader reports where the YAML is wrong
    if isinstance(data, dict):
        data["model"] = str(model_dir)
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path = target / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _scenario_file(sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path) -> Path:
    with sessions() as session:
        scenario = session.get(Scenario, int(params["scenario_id"]))
        assert scenario is not None
        region = session.get(Region, scenario.region_id)
        assert region is not None
        archive, text = region.archive, scenario.text
    model_dir = materialise_region(archive, tmp / "model")
    return write_scenario(text, model_dir, tmp)


def _result_json(out: Path, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Read the run's JSON summary, naming stored ids instead of the worker's temp paths.

    The file itself is rewritten too, so that the download and the API say the same.
    """
    import json

    path = out / RESULT_JSON[kind]
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get("scenario"), dict) and "scenario_id" in params:
        data["scenario"]["file"] = None
        data["scenario"]["scenario_id"] = int(params["scenario_id"])
    if isinstance(data.get("model"), dict) and "path" in data["model"]:
        data["model"]["path"] = None
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return data


def _pipeline(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, ctx: _Context
) -> tuple[Any, dict[str, Any]]:
    """Load the scenario of a beds or afbouw run and the options both pipelines take."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.simulation.executors import make_executor

    scenario = load_scenario(_scenario_file(sessions, params, tmp))
    options = {
        "executor": make_executor("serial", None),
        "replications": params.get("replications"),
        "progress": lambda text: ctx.progress(None, text),
    }
    return scenario, options


def _simulate(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: _Context
) -> dict[str, Any]:
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.results.writer import write_results
    from capaciteit.simulation.executors import make_executor
    from capaciteit.simulation.replications import run_replications
    from capaciteit.simulation.spec import compile_spec

    scenario = load_scenario(
        _scenario_file(sessions, params, tmp),
        replications=params.get("replications"),
        seed=params.get("seed"),
    )
    ctx.progress(0.0, f"simulatie: {scenario.replications} replicaties")
    total = scenario.replications
    result = run_replications(
        compile_spec(scenario),
        total,
        scenario.seed,
        make_executor("serial", None),
        progress=lambda done: ctx.progress(
            0.95 * done / total, f"simulatie: {done} van {total} replicaties"
        ),
    )
    write_results(scenario, result, out, "csv")
    return _result_json(out, "simulate", params)


def _beds(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: _Context
) -> dict[str, Any]:
    from capaciteit.optimisation.minimal_beds import minimal_beds
    from capaciteit.results.beds_report import write_beds

    scenario, options = _pipeline(sessions, params, tmp, ctx)
    write_beds(scenario, minimal_beds(scenario, **options), out)
    return _result_json(out, "beds", params)


def _afbouw(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: _Context
) -> dict[str, Any]:
    from capaciteit.optimisation.afbouw_plan import afbouw_plan
    from capaciteit.results.afbouw_report import write_afbouw

    scenario, options = _pipeline(sessions, params, tmp, ctx)
    result = afbouw_plan(scenario, solver=params.get("solver", "ortools"), **options)
    write_afbouw(scenario, result, out)
    return _result_json(out, "afbouw", params)


def _match_batch(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: _Context
) -> dict[str, Any]:
    from capaciteit.matching import MatchWeights, match_batch
    from capaciteit.results.matching import write_batch
    from capaciteit.service.store import built_pool

    with sessions() as session:
        built = built_pool(session, int(params["pool_id"]))
        assert built is not None
        children, pool = built
    weights = MatchWeights.model_validate(params.get("weights") or {})
    ctx.progress(0.1, f"toewijzing: {len(children.frame)} kinderen, {len(pool)} gezinnen")
    result = match_batch(children, pool, weights, float(params.get("time_limit_s", 30.0)))
    write_batch(result, weights, out)
    with sessions() as session:
        session.add(
            AuditEntry(
                token_id=params.get("token_id"),
                action="match_batch_result",
                subject_ids=[str(c) for c in result.assignment.get("child_id", [])],
                detail={"pool_id": params["pool_id"], "placed": result.placed},
            )
        )
        session.commit()
    return _result_json(out, "match_batch", params)


RUNNERS: dict[
    str,
    Callable[[sessionmaker[Any], dict[str, Any], Path, Path, _Context], dict[str, Any]],
] = {"simulate": _simulate, "beds": _beds, "afbouw": _afbouw, "match_batch": _match_batch}


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
