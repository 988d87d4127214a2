"""What each kind of job runs: the command line's use cases, on inputs from the database.

A job finds its scenario (and the region model it belongs to), its matching pool or its
stay records in the database, writes them where the use case of
:mod:`capaciteit.pipelines` reads them, and returns the result JSON;
:mod:`capaciteit.service.queue` stores it with the files written. Runs take the serial
executor: the worker processes are the service's parallelism.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from capaciteit.io.archive import unpack_model
from capaciteit.io.scenario_files import scenario_next_to
from capaciteit.service.db import AuditEntry, PlanVersion, Region, Scenario

if TYPE_CHECKING:
    from capaciteit.service.queue import JobContext

RESULT_JSON = {
    "simulate": "summary.json",
    "beds": "beds.json",
    "afbouw": "plan.json",
    "realisation": "realisation.json",
    "match_batch": "match.json",
    "calibrate": "kalibratie/calibration.json",
    "backtest": "backtest.json",
}


def _scenario_file(sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path) -> Path:
    with sessions() as session:
        scenario = session.get(Scenario, int(params["scenario_id"]))
        assert scenario is not None
        region = session.get(Region, scenario.region_id)
        assert region is not None
        archive, text = region.archive, scenario.text
    model_dir = unpack_model(archive, tmp / "model")
    return scenario_next_to(text, model_dir, tmp)


def _reference_csv(sessions: sessionmaker[Any], version_id: int, tmp: Path) -> Path:
    """Write a stored plan version as the plan.csv an afbouw run plans close to."""
    import csv

    with sessions() as session:
        version = session.get(PlanVersion, version_id)
        assert version is not None
        rows = list(version.plan)
    path = tmp / "referentieplan.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["provider", "care_form", "year", "beds"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in ("provider", "care_form", "year", "beds")} for r in rows)
    return path


def _result_json(out: Path, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Read the run's JSON summary, naming stored ids instead of the worker's temp paths.

    The file itself is rewritten too, so that the download and the API say the same.
    """
    path = out / RESULT_JSON[kind]
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get("scenario"), dict) and "scenario_id" in params:
        data["scenario"]["file"] = None
        data["scenario"]["scenario_id"] = int(params["scenario_id"])
    if isinstance(data.get("model"), dict) and "path" in data["model"]:
        data["model"]["path"] = None
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return data


def _say(ctx: JobContext, scale: float = 1.0) -> Callable[[float | None, str], None]:
    """Pass a use case's progress on to the job (``fraction`` scaled to leave room)."""
    return lambda fraction, text: ctx.progress(None if fraction is None else scale * fraction, text)


def _simulate(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: JobContext
) -> dict[str, Any]:
    from capaciteit.pipelines.simulate import simulate

    simulate(
        _scenario_file(sessions, params, tmp),
        out,
        replications=params.get("replications"),
        seed=params.get("seed"),
        progress=_say(ctx, 0.95),
    )
    return _result_json(out, "simulate", params)


def _beds(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: JobContext
) -> dict[str, Any]:
    from capaciteit.pipelines.beds import minimal_beds_report

    minimal_beds_report(
        _scenario_file(sessions, params, tmp),
        out,
        replications=params.get("replications"),
        progress=_say(ctx),
    )
    return _result_json(out, "beds", params)


def _afbouw(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: JobContext
) -> dict[str, Any]:
    from capaciteit.pipelines.afbouw import afbouw_report

    reference = None
    if params.get("reference_plan_id") is not None:
        reference = _reference_csv(sessions, int(params["reference_plan_id"]), tmp)
    afbouw_report(
        _scenario_file(sessions, params, tmp),
        out,
        solver=params.get("solver", "ortools"),
        replications=params.get("replications"),
        reference=reference,
        progress=_say(ctx),
    )
    return _result_json(out, "afbouw", params)


def _realisation(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: JobContext
) -> dict[str, Any]:
    """Compare a version's uploaded realisation with it and the simulated band."""
    from capaciteit.pipelines.realisation import realisation_report
    from capaciteit.realisation.workbook import headline, off_track_lines
    from capaciteit.results.jsonable import clean
    from capaciteit.service.db import Realisation

    with sessions() as session:
        version = session.get(PlanVersion, int(params["plan_id"]))
        assert version is not None
        uploads = session.scalars(
            select(Realisation)
            .where(Realisation.version_id == version.id)
            .order_by(Realisation.created_at, Realisation.id)
        ).all()
        actuals = []
        for number, upload in enumerate(uploads, start=1):
            path = tmp / "realisatie" / f"{number:02d}-{Path(upload.name).name}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(upload.content)
            actuals.append(path)
        plan = _reference_csv(sessions, version.id, tmp)
        params = {**params, "scenario_id": version.scenario_id}
    done = realisation_report(
        _scenario_file(sessions, params, tmp),
        plan,
        actuals,
        out,
        replications=params.get("replications"),
        progress=_say(ctx, 0.95),
    )
    model = done.scenario.model
    names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
    summary = {
        "scenario": {"scenario_id": version.scenario_id},
        "plan_id": version.id,
        "headline": headline(done.comparison, names),
        "off_track": off_track_lines(done.comparison, names),
        "replications": done.band.replications,
        "comparison": clean(done.comparison.reset_index().to_dict(orient="records")),
        "elapsed_s": round(done.elapsed_s, 2),
        "pdf_s": round(done.pdf_s, 2),
    }
    (out / RESULT_JSON["realisation"]).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return _result_json(out, "realisation", params)


def _match_batch(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: JobContext
) -> dict[str, Any]:
    from capaciteit.matching import MatchWeights
    from capaciteit.pipelines.match import assign
    from capaciteit.service.store import built_pool

    with sessions() as session:
        built = built_pool(session, int(params["pool_id"]))
        assert built is not None
        children, pool = built
    assigned = assign(
        children,
        pool,
        out,
        weights=MatchWeights.model_validate(params.get("weights") or {}),
        time_limit_s=float(params.get("time_limit_s", 30.0)),
        progress=_say(ctx),
    )
    result = assigned.result
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


def _records_inputs(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path
) -> tuple[Path, Path | None, Path | None]:
    """Write the job's stay records, its base region model and its 0-meting into ``tmp``.

    The base model and the 0-meting (``beds.csv``) only if the job has them.
    """
    from capaciteit.service import records
    from capaciteit.service.db import StayRecordsUpload

    beds = records.write_beds(params["beds"], tmp / "0-meting") if params.get("beds") else None

    with sessions() as session:
        upload = session.get(StayRecordsUpload, int(params["records_id"]))
        assert upload is not None
        path = records.write(upload, tmp / "verblijven")
        region = (
            session.get(Region, int(params["base_region_id"]))
            if params.get("base_region_id") is not None
            else None
        )
        archive = region.archive if region is not None else None
    base = unpack_model(archive, tmp / "basis") if archive is not None else None
    return path, base, beds


def _day(params: dict[str, Any], key: str) -> dt.date | None:
    value = params.get(key)
    return dt.date.fromisoformat(value) if value is not None else None


def _finite(value: Any) -> Any:
    """Return a JSON value with ``null`` for every NaN or infinity in it (at any depth).

    An estimate without an interval is NaN; PostgreSQL's JSON (and RFC 8259) has no NaN.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _records_result(out: Path, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Return the result JSON with the stored records' id; no worker's path in any file."""
    for path in out.rglob("*.yaml"):  # the backtest's scenario names its model's folder
        path.write_text(path.read_text(encoding="utf-8").replace(f"{out}/", ""), "utf-8")
    data: dict[str, Any] = _finite(_result_json(out, kind, params))
    data["records"]["records_id"] = int(params["records_id"])
    (out / RESULT_JSON[kind]).write_text(
        json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )
    return data


@contextlib.contextmanager
def _problems_said_to_the_api() -> Iterator[None]:
    """Refused records said privately, and the command line's options as the API's fields."""
    from capaciteit.service.records import problems_kept_private, problems_named_for_the_api

    with problems_named_for_the_api(), problems_kept_private():
        yield


def _calibrate(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: JobContext
) -> dict[str, Any]:
    """Calibrate a region model from stored stay records (the model and its report)."""
    from capaciteit.pipelines.calibrate import calibrate_records

    records_file, base, beds = _records_inputs(sessions, params, tmp)
    name = params.get("name") or (None if base else f"Gekalibreerd uit {records_file.name}")
    with _problems_said_to_the_api():
        calibrate_records(
            records_file,
            out,
            base_dir=base,
            beds_file=beds,
            window_start=_day(params, "window_start"),
            zero_date=_day(params, "zero_date"),
            extract_date=_day(params, "extract_date"),
            name=name,
            progress=_say(ctx),
        )
    return _records_result(out, "calibrate", params)


def _backtest(
    sessions: sessionmaker[Any], params: dict[str, Any], tmp: Path, out: Path, ctx: JobContext
) -> dict[str, Any]:
    """Backtest a calibration of stored stay records from their cut (serial executor)."""
    from capaciteit.pipelines.calibrate import backtest_records
    from capaciteit.simulation.executors import SerialExecutor

    records_file, base, beds = _records_inputs(sessions, params, tmp)
    with _problems_said_to_the_api():
        backtest_records(
            records_file,
            dt.date.fromisoformat(params["cut"]),
            out,
            quarters=int(params["quarters"]),
            replications=int(params["replications"]),
            seed=int(params["seed"]),
            base_dir=base,
            beds_file=beds,
            window_start=_day(params, "window_start"),
            extract_date=_day(params, "extract_date"),
            executor=SerialExecutor(),
            progress=_say(ctx, 0.95),
        )
    return _records_result(out, "backtest", params)


RUNNERS: dict[
    str,
    Callable[[sessionmaker[Any], dict[str, Any], Path, Path, JobContext], dict[str, Any]],
] = {
    "simulate": _simulate,
    "beds": _beds,
    "afbouw": _afbouw,
    "realisation": _realisation,
    "match_batch": _match_batch,
    "calibrate": _calibrate,
    "backtest": _backtest,
}
