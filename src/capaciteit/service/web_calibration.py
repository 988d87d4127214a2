"""Web pages for calibration from stay records: upload, start, and read what came out.

A region's stay records say what its model's numbers are: how many young people enter
each care form per year, how long they stay, where they go after. A planner uploads an
extract (*Verblijfsgegevens*, ``/records``), starts a **calibration** on it (the region
model estimated from the records, with its report) or a **backtest** (a calibration on the
records before a 1 January, whose simulated quarters after it are set against what the
records show happened), optionally with a 0-meting (``beds.csv``: the beds per provider
and care form, read as the command line reads it), and reads the results like a run's:
live progress, then the figures. The pages are thin: they take the form, call the
functions the API calls (:mod:`capaciteit.service.records`,
:mod:`capaciteit.service.routes.calibration`) and show the result JSON in Dutch. Like the
API they show stay records only as counts, a refused upload's problems without a client
id or a cell's value, and another organisation's records and jobs as if they did not
exist (404).

What the result pages show, and why:

- **Kalibratie**: per care form the numbers a planner checks before planning with the
  model (instroom per year, mean stay with its distribution, doorstroom, occupied on the
  peildatum), each with its 95% interval and the records it rests on (*aantal*: few
  records, wide interval); the notes say what was assumed; the three charts show whether
  the fits follow the records.
- **Backtest**: the *coverage*, the share of realised quarters inside the simulated 95%
  band (about 95% when the model is right), and the *MAPE*, the mean absolute error of the
  predicted mean as a share of the realised value; then every quarter outside the band.
  Several quarters in a row on one side of the band mean the region changed in a way the
  model does not know.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.core import nl
from capaciteit.domain.records import RECORDS
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.pydantic_nl import dutch_error
from capaciteit.io.tables import MAX_TABLE_BYTES
from capaciteit.service import records
from capaciteit.service.calibration_views import backtest_view, calibration_view, day, downloads
from capaciteit.service.db import Job, JobFile, Organisation, Region, StayRecordsUpload
from capaciteit.service.routes import calibration as calibration_routes
from capaciteit.service.routes import common
from capaciteit.service.schemas import FIRST_YEAR, BacktestIn, CalibrationIn
from capaciteit.service.security import READERS, Caller, Id, SessionDep
from capaciteit.service.web import WebCaller, need_role, page, upload_owner

router = APIRouter(include_in_schema=False)
RECORDS_TITLE = "Verblijfsgegevens"
JOBS_TITLE = "Kalibraties en backtests"
PATHS = {"calibrate": "/calibrations", "backtest": "/backtests"}
"""Where the page of a calibration or backtest job lives."""
KIND_NL = {"calibrate": "Kalibratie", "backtest": "Backtest"}
FIELDS_NL = {
    "base_region_id": "Basismodel",
    "window_start": "Vanaf",
    "zero_date": "Peildatum",
    "name": "Naam",
    "cut": "Knip",
    "quarters": "Kwartalen",
    "replications": "Replicaties",
    "beds": "0-meting",
}
"""The form's labels, as a refused request names its fields."""
CALIBRATION_FILES = {
    "kalibratie/kalibratie.xlsx": "het rapport als werkmap: toelichting, elke schatting, "
    "verdelingen, instroom per kwartaal, doorstroom",
    "estimates.csv": "elke schatting met interval en aantal (CSV)",
    "kalibratie/calibration.json": "alles, voor andere systemen (JSON)",
    "model.yaml": "het gekalibreerde regiomodel (met de tabellen hieronder)",
}
"""The files of a calibration described first; the model's tables follow."""
CHARTS = (
    (
        "kalibratie/verblijfsduur.png",
        "Verblijfsduur per zorgvorm: het aandeel verblijven dat na zoveel dagen nog loopt, "
        "zoals de verblijven het tonen (Kaplan-Meier, met 95%-band), en de gekozen verdeling. "
        "Waar de lijn van de verdeling buiten de band komt, beschrijft ze de verblijven daar niet.",
    ),
    (
        "kalibratie/instroom.png",
        "Instroom per kwartaal als aantal per jaar; deels waargenomen kwartalen zijn gearceerd.",
    ),
    (
        "kalibratie/doorstroom.png",
        "Doorstroom: waar de afgesloten verblijven van elke zorgvorm heen gingen, met aantallen.",
    ),
)
BACKTEST_FILES = {
    "backtest.xlsx": "de backtest als werkmap: toelichting, dekking, elk kwartaal",
    "backtest.csv": "elk kwartaal per zorgvorm en grootheid (CSV)",
    "dekking.csv": "dekking en MAPE per grootheid (CSV)",
    "backtest.json": "alles, voor andere systemen (JSON)",
    "scenario.yaml": "het scenario van de simulatie (met het model in model/)",
}
LISTED = 50
"""The newest calibrations and backtests listed."""


# --- Verblijfsgegevens: the uploads, the upload form and the forms that start jobs ---


def _uploads(session: Session, who: Caller) -> list[Any]:
    """Return the caller's uploads, oldest first, as counts (the stored file not loaded)."""
    return list(
        session.execute(
            select(
                StayRecordsUpload.id,
                StayRecordsUpload.organisation_id,
                StayRecordsUpload.name,
                StayRecordsUpload.summary,
                StayRecordsUpload.created_at,
            )
            .where(StayRecordsUpload.organisation_id.in_(who.organisations))
            .order_by(StayRecordsUpload.created_at, StayRecordsUpload.id)
        ).all()
    )


def _jobs(session: Session, who: Caller) -> tuple[list[Job], dict[int, str]]:
    """Return the newest calibrations and backtests, and the names of their records."""
    jobs = list(
        session.scalars(
            select(Job)
            .where(Job.kind.in_(PATHS), Job.organisation_id.in_(who.organisations))
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(LISTED)
        ).all()
    )
    ids = {int(j.params.get("records_id", 0)) for j in jobs}
    names = session.execute(
        select(StayRecordsUpload.id, StayRecordsUpload.name).where(
            StayRecordsUpload.id.in_(ids),
            StayRecordsUpload.organisation_id.in_(who.organisations),
        )
    )
    return jobs, {int(i): str(n) for i, n in names}


def _records_context(session: Session, who: Caller) -> dict[str, Any]:
    uploads = _uploads(session, who)
    regions: dict[int, list[Any]] = {}
    for row in session.execute(
        select(Region.id, Region.name, Region.organisation_id)
        .where(Region.organisation_id.in_(who.organisations))
        .order_by(Region.name, Region.id)
    ):
        regions.setdefault(int(row.organisation_id), []).append(row)
    organisations = session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(who.organisations))
        .order_by(Organisation.name)
    ).all()
    jobs, record_names = _jobs(session, who)
    return {
        "uploads": [_upload_view(u) for u in uploads],
        "regions": regions,
        "organisations": organisations,
        "organisation_names": {o.id: o.name for o in organisations},
        "jobs": jobs,
        "record_names": record_names,
        "paths": PATHS,
        "kind_nl": KIND_NL,
        "required": [c.name for c in RECORDS.columns if c.required],
        "optional": [c.name for c in RECORDS.columns if not c.required],
    }


def _upload_view(row: Any) -> dict[str, Any]:
    """Show an upload in Dutch; the default cut is 1 January of the year before the extract."""
    extract = day(row.summary.get("extract_date"))
    return {
        "id": row.id,
        "organisation_id": row.organisation_id,
        "name": row.name,
        "stays": nl.number(row.summary.get("stays")),
        "care_forms": ", ".join(row.summary.get("care_forms", [])),
        "extract_date": nl.date(extract) if extract else "–",
        "created_at": row.created_at.strftime("%d-%m-%Y %H:%M"),
        "cut_year": extract.year - 1 if extract else "",
        "max_year": extract.year if extract else FIRST_YEAR,
    }


def _records_page(request: Request, session: Session, who: Caller, **context: Any) -> Response:
    context = _records_context(session, who) | context
    return page(request, "records.html", RECORDS_TITLE, who, **context)


@router.get("/records", response_class=HTMLResponse)
def records_page(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    added: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Show the stay records, the upload form and the forms that start a job on them."""
    who = need_role(who, "planner")
    context = _records_context(session, who)
    new = next((u for u in context["uploads"] if u["id"] == added), None)
    return page(request, "records.html", RECORDS_TITLE, who, added=new, **context)


@router.post("/records", response_class=HTMLResponse)
def upload_records(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    file: Annotated[UploadFile, File()],
    organisation_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Upload stay records with the API's checks; a refusal lists every problem, privately.

    :func:`capaciteit.service.records.add` checks them as ``POST /v1/records`` does and
    says its problems without a client id or the value of an id or date cell.
    """
    who = need_role(who, "planner")
    # a plain def: read and checked in a worker thread, off the event loop
    content = file.file.read(MAX_TABLE_BYTES + 1)
    try:
        owner = upload_owner(who, organisation_id)
        row = records.add(session, file.filename or "", content, owner, who)
    except InvalidInputError as exc:
        return _records_page(request, session, who, status_code=422, refused=exc)
    return RedirectResponse(f"/records?added={row.id}", status_code=303)


def _whole(text: str) -> int | str:
    """Read a form's number as an integer; anything else as typed (the schema refuses it)."""
    return int(text) if text.strip().isdigit() else text


def _body(fields: dict[str, str], numbers: tuple[str, ...]) -> dict[str, Any]:
    """Build the request body of the form's filled fields (empty: the API's default)."""
    return {k: _whole(v) if k in numbers else v.strip() for k, v in fields.items() if v.strip()}


def _refused_request(error: ValidationError, what: str) -> InvalidInputError:
    """Say a request refused by its schema in Dutch, naming the form's fields."""
    problems = []
    for err in error.errors():
        field = str(err.get("loc", ("",))[0])
        label = FIELDS_NL.get(field, field)
        message, fix = dutch_error(err, label)
        problems.append(Problem("formulier", message, fix, column=label))
    return InvalidInputError(what, problems)


def _beds(upload: UploadFile | None) -> list[dict[str, Any]] | None:
    """Read the form's 0-meting as the request's ``beds`` (None when no file is chosen).

    A browser sends the empty file field when none is chosen: no name, no content.
    """
    if upload is None:
        return None
    content = upload.file.read(MAX_TABLE_BYTES + 1)
    if not upload.filename and not content:
        return None
    return records.read_beds(upload.filename or "", content)


def _in_form_words(refused: InvalidInputError) -> InvalidInputError:
    """Name a request's fields in a refusal as the form labels them."""
    problems = [
        dataclasses.replace(p, column=FIELDS_NL.get(p.column, p.column)) if p.column else p
        for p in refused.problems
    ]
    return InvalidInputError(refused.what, problems)


def _start(
    request: Request,
    session: Session,
    who: Caller,
    kind: str,
    body: dict[str, Any],
    beds: UploadFile | None,
) -> Response:
    """Start a job as the API does; a refused request shows the records page with it.

    Another organisation's records are 404 before the form is judged, as on the API.
    """
    try:
        try:
            rows = _beds(beds)
        except InvalidInputError:
            records.records_of(session, int(body["records_id"]), who)
            raise
        if rows is not None:
            body = {**body, "beds": rows}
        try:
            if kind == "calibrate":
                calibration = CalibrationIn.model_validate(body)
                job = calibration_routes.start_calibration(calibration, session, who)
            else:
                backtest = BacktestIn.model_validate(body)
                job = calibration_routes.start_backtest(backtest, session, who)
        except ValidationError as exc:
            records.records_of(session, int(body["records_id"]), who)
            raise _refused_request(exc, f"De {KIND_NL[kind].lower()}") from None
    except InvalidInputError as exc:
        refused = _in_form_words(exc)
        return _records_page(request, session, who, status_code=422, refused=refused)
    return RedirectResponse(f"{PATHS[kind]}/{job.id}", status_code=303)


@router.post("/records/{records_id}/calibrations", response_class=HTMLResponse)
def start_calibration(
    request: Request,
    records_id: Id,
    session: SessionDep,
    who: WebCaller,
    base_region_id: Annotated[str, Form(max_length=10)] = "",
    window_start: Annotated[str, Form(max_length=10)] = "",
    zero_date: Annotated[str, Form(max_length=10)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    beds: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Start a calibration of the records (``POST /v1/calibrations``) and show its page.

    ``beds`` is the 0-meting on the peildatum (``beds.csv`` or .xlsx), read as the
    command line reads it.
    """
    who = need_role(who, "planner")
    fields = {
        "base_region_id": base_region_id,
        "window_start": window_start,
        "zero_date": zero_date,
        "name": name,
    }
    body = {"records_id": records_id, **_body(fields, ("base_region_id",))}
    return _start(request, session, who, "calibrate", body, beds)


@router.post("/records/{records_id}/backtests", response_class=HTMLResponse)
def start_backtest(
    request: Request,
    records_id: Id,
    session: SessionDep,
    who: WebCaller,
    cut_year: Annotated[str, Form(max_length=10)] = "",
    quarters: Annotated[str, Form(max_length=10)] = "",
    replications: Annotated[str, Form(max_length=10)] = "",
    base_region_id: Annotated[str, Form(max_length=10)] = "",
    beds: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Start a backtest from 1 January of ``cut_year`` (``POST /v1/backtests``).

    ``beds`` is the 0-meting at the cut, as for a calibration.
    """
    who = need_role(who, "planner")
    year = cut_year.strip()
    fields = {
        "cut": f"{int(year):04d}-01-01" if year.isdigit() and len(year) <= 4 else year,
        "quarters": quarters,
        "replications": replications,
        "base_region_id": base_region_id,
    }
    numbers = ("quarters", "replications", "base_region_id")
    body = {"records_id": records_id, **_body(fields, numbers)}
    return _start(request, session, who, "backtest", body, beds)


# --- The list of jobs, and what the pages of both kinds share ---


@router.get("/calibrations", response_class=HTMLResponse)
def jobs_page(request: Request, session: SessionDep, who: WebCaller) -> Response:
    """List the calibrations and backtests of the caller's organisations, newest first."""
    who = need_role(who, *READERS)
    jobs, record_names = _jobs(session, who)
    return page(
        request,
        "calibrations.html",
        JOBS_TITLE,
        who,
        jobs=jobs,
        record_names=record_names,
        paths=PATHS,
        kind_nl=KIND_NL,
    )


def _files(session: Session, job: Job) -> list[str]:
    """Return the names of a finished job's files (none before it is done)."""
    if job.status != "done":
        return []
    names = session.scalars(select(JobFile.name).where(JobFile.job_id == job.id)).all()
    return sorted(str(n) for n in names)


def _form_names(session: Session, job: Job, table: str) -> dict[str, str]:
    """Name the care forms of the written model, in its order (its ``care_forms.csv``)."""
    content = session.scalar(
        select(JobFile.content).where(JobFile.job_id == job.id, JobFile.name == table)
    )
    if content is None:
        return {}
    rows = csv.DictReader(io.StringIO(bytes(content).decode("utf-8-sig")))
    return {str(r["care_form"]): str(r.get("name") or r["care_form"]) for r in rows}


def _job_page(
    request: Request,
    session: Session,
    who: Caller,
    job: Job,
    template: str,
    **context: Any,
) -> Response:
    """Render a calibration's or backtest's page: status until done, then ``context``."""
    upload = session.execute(
        select(StayRecordsUpload.name).where(
            StayRecordsUpload.id == int(job.params.get("records_id", 0))
        )
    ).scalar()
    return page(
        request,
        template,
        f"{KIND_NL[job.kind]} {job.id}",
        who,
        job=job,
        path=PATHS[job.kind],
        records_name=upload or "",
        refresh=2 if job.status in ("queued", "running") else None,
        time_left=common.time_left_nl(job),
        **context,
    )


def _calibration(session: Session, calibration_id: int, who: Caller) -> Job:
    return common.get_job(session, calibration_id, ("calibrate",), who)


def _calibration_page(
    request: Request, session: Session, who: Caller, job: Job, **context: Any
) -> Response:
    files = _files(session, job)
    view = None
    if job.status == "done" and job.result:
        view = calibration_view(job.result, _form_names(session, job, "care_forms.csv"))
    return _job_page(
        request,
        session,
        who,
        job,
        "calibration.html",
        view=view,
        charts=[(name, text) for name, text in CHARTS if name in files],
        files=downloads(files, CALIBRATION_FILES),
        **context,
    )


@router.get("/calibrations/{calibration_id}", response_class=HTMLResponse)
def calibration_page(
    request: Request,
    calibration_id: Id,
    session: SessionDep,
    who: WebCaller,
    kept: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Show a calibration: its progress, then the window, the estimates, notes and charts.

    ``kept`` names the region model just kept from it (said when it is the caller's).
    """
    who = need_role(who, *READERS)
    job = _calibration(session, calibration_id, who)
    region = session.execute(
        select(Region.id, Region.name, Region.organisation_id).where(Region.id == kept)
    ).first()
    mine = region if region is not None and who.sees(region.organisation_id) else None
    return _calibration_page(request, session, who, job, kept=mine)


@router.post("/calibrations/{calibration_id}/region", response_class=HTMLResponse)
def keep_region(
    request: Request, calibration_id: Id, session: SessionDep, who: WebCaller
) -> Response:
    """Keep a finished calibration's model as a region model (``.../region`` of the API)."""
    who = need_role(who, "planner")
    job = _calibration(session, calibration_id, who)
    try:
        region = records.calibrated_region(session, job)
    except InvalidInputError as exc:
        return _calibration_page(request, session, who, job, status_code=422, refused=exc)
    return RedirectResponse(f"/calibrations/{job.id}?kept={region.id}", status_code=303)


# --- Backtest ---


def _backtest(session: Session, backtest_id: int, who: Caller) -> Job:
    return common.get_job(session, backtest_id, ("backtest",), who)


@router.get("/backtests/{backtest_id}", response_class=HTMLResponse)
def backtest_page(
    request: Request, backtest_id: Id, session: SessionDep, who: WebCaller
) -> Response:
    """Show a backtest: its progress, then coverage, MAPE, fan charts and misses."""
    who = need_role(who, *READERS)
    job = _backtest(session, backtest_id, who)
    files = _files(session, job)
    view = None
    if job.status == "done" and job.result:
        view = backtest_view(job.result, _form_names(session, job, "model/care_forms.csv"))
        view["charts"] = [(f, name) for f, name in view["charts"] if f in files]
    return _job_page(
        request,
        session,
        who,
        job,
        "backtest.html",
        view=view,
        files=downloads(files, BACKTEST_FILES),
    )


# --- Cancel and files, for both kinds ---


def _cancel(session: Session, job: Job) -> Response:
    """Cancel a job that has not ended; one that has just shows its page again."""
    if job.status in ("queued", "running"):
        common.cancel(session, job)
    return RedirectResponse(f"{PATHS[job.kind]}/{job.id}", status_code=303)


@router.post("/calibrations/{calibration_id}/cancel")
def cancel_calibration(calibration_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Cancel a calibration."""
    who = need_role(who, "planner")
    return _cancel(session, _calibration(session, calibration_id, who))


@router.post("/backtests/{backtest_id}/cancel")
def cancel_backtest(backtest_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Cancel a backtest."""
    who = need_role(who, "planner")
    return _cancel(session, _backtest(session, backtest_id, who))


@router.get("/calibrations/{calibration_id}/files/{name:path}")
def calibration_file(
    calibration_id: Id, name: str, session: SessionDep, who: WebCaller
) -> Response:
    """Send a file of a calibration (the report, a chart, the model's tables)."""
    who = need_role(who, *READERS)
    return common.download(session, _calibration(session, calibration_id, who), name)


@router.get("/backtests/{backtest_id}/files/{name:path}")
def backtest_file(backtest_id: Id, name: str, session: SessionDep, who: WebCaller) -> Response:
    """Send a file of a backtest (its tables, workbook, fan charts, model)."""
    who = need_role(who, *READERS)
    return common.download(session, _backtest(session, backtest_id, who), name)
