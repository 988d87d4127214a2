"""Stay records in the service: uploaded, checked, kept to the organisation, never shown.

A region's stay records (one row per stay: a pseudonymous client id, provider, care form,
dates, where to after) are what a region model is calibrated and backtested from
(:mod:`capaciteit.pipelines.calibrate`). They are personal data in the pseudonymised
sense, so the service treats them as such:

- **Checked on the way in** by the reader of the command line
  (:func:`capaciteit.io.records.read_records`: a column named like a name, BSN, birth
  date or address refuses the file unread; an id that looks like a BSN, a name or a date
  is refused without being repeated), within the limits of every uploaded table (size,
  rows, the unpacked size of an .xlsx), off the event loop (the routes are plain ``def``).
- **Said back without a person in it**: a refusal lists every problem with file, row,
  column and fix, but no client id (the row finds it in the uploader's own file) and no
  value of an id or date cell (:func:`private`); the same holds for a calibration or
  backtest job that fails on its records.
- **Seen by their organisation only**, and there only as counts (:func:`summary`): no
  route returns a row. Jobs read the stored bytes; uploads and jobs are audited.

A job's days are checked against the stored records' summary before it is queued
(:func:`check_days`: a cut after the first start and by the extract date, a peildatum
inside the window), so that a request the pipeline would refuse is refused at once with
the API's field names; a problem the pipeline still raises names the option of the command
line (``--knip``), which the job's stored problems name as the API's field
(:func:`problems_named_for_the_api`). A 0-meting (``beds``) comes as rows in the request
(or as a ``beds.csv`` through the web form, :func:`read_beds`) and reaches the pipeline as
the ``beds.csv`` the command line takes (:func:`write_beds`).

A finished calibration can be kept as a region model of the organisation
(:func:`calibrated_region`): its model files go through the region upload's own checks.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.core import nl
from capaciteit.core.privacy import HIDDEN, redact
from capaciteit.domain.model import TABLES
from capaciteit.domain.records import DATE_COLUMNS
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.archive import xlsx_problems
from capaciteit.io.records import RECORDS_INPUT, StayRecords, read_records
from capaciteit.io.tables import MAX_TABLE_BYTES, TABLE_SUFFIXES, UnreadableTableError, read_table
from capaciteit.service.db import AuditEntry, Job, JobFile, Region, StayRecordsUpload
from capaciteit.service.routes.common import audit_read
from capaciteit.service.schemas import BacktestIn, CalibrationIn
from capaciteit.service.security import Caller
from capaciteit.service.store import add_region, model_file

PRIVATE_COLUMNS = frozenset({"client_id", *DATE_COLUMNS})
"""Columns whose cell values a problem never quotes (an id, the days of a stay)."""
API_FIELDS = {
    "--knip": "cut",
    "--peildatum": "zero_date",
    "--vanaf": "window_start",
    "--extractiedatum": "extract_date",
}
"""The command line's options as the pipelines name them, and the API's fields for them."""
REQUEST = "verzoek"
"""The ``file`` of a problem with a field of the request."""
_QUOTED = re.compile(r"'([^']*)'")
_SAFE_STEM = re.compile(r"[^A-Za-z0-9_.-]+")


def private(problem: Problem) -> Problem:
    """Return ``problem`` without anything about a person in it.

    :func:`~capaciteit.core.privacy.redact` hides what looks like a BSN, a name or a
    date; here the client id (``id``) goes too, and so does every quoted value in the
    problem of an id or date cell (a data row; the header's problems quote column names,
    and so may a cell's problem its own column).
    """
    found = redact(problem)
    message, fix = found.message, found.fix
    if found.column in PRIVATE_COLUMNS and (found.row or 0) > 1:

        def hide(quoted: re.Match[str]) -> str:
            return quoted.group(0) if quoted.group(1) == found.column else f"'{HIDDEN}'"

        message, fix = _QUOTED.sub(hide, message), _QUOTED.sub(hide, fix)
    return dataclasses.replace(found, id=None, message=message, fix=fix)


@contextlib.contextmanager
def problems_kept_private() -> Iterator[None]:
    """Re-raise refused input with every problem made :func:`private`."""
    try:
        yield
    except InvalidInputError as exc:
        raise InvalidInputError(exc.what, [private(p) for p in exc.problems]) from None


@contextlib.contextmanager
def problems_named_for_the_api() -> Iterator[None]:
    """Re-raise refused input with the command line's options named as the API's fields.

    The pipelines name a day given on the command line by its option (``--knip``); a job
    was given it as a field of its request (``cut``), so its stored problems say that.
    """
    options = re.compile("|".join(re.escape(o) for o in API_FIELDS))

    def named(problem: Problem) -> Problem:
        field = API_FIELDS.get(problem.file)
        message = options.sub(lambda m: API_FIELDS[m.group(0)], problem.message)
        fix = options.sub(lambda m: API_FIELDS[m.group(0)], problem.fix)
        if field is None:
            return dataclasses.replace(problem, message=message, fix=fix)
        return dataclasses.replace(problem, file=field, column=field, message=message, fix=fix)

    try:
        yield
    except InvalidInputError as exc:
        raise InvalidInputError(exc.what, [named(p) for p in exc.problems]) from None


def file_name(name: str, what: str = RECORDS_INPUT) -> str:
    """Name the stored file: the upload's name in plain characters, with its own suffix.

    The reader reads a file as its suffix says (``.csv`` or ``.xlsx``), so that its
    problems name the file as uploaded and the cause (a damaged workbook is not "no UTF-8
    text"); a file with another suffix is refused.
    """
    path = PurePosixPath(name.replace("\\", "/"))
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InvalidInputError(
            what,
            [
                Problem(
                    name or "upload",
                    "is geen tabel: alleen .csv of .xlsx kan worden gelezen.",
                    "Sla het op als CSV UTF-8 (.csv) of als .xlsx-werkmap.",
                )
            ],
        )
    stem = _SAFE_STEM.sub("_", path.stem).strip("._")
    return f"{stem[:100] or 'verblijven'}{suffix}"


def write(upload: StayRecordsUpload, folder: Path) -> Path:
    """Write stored records into ``folder`` under their name; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / upload.name
    path.write_bytes(upload.content)
    return path


def write_beds(rows: Sequence[dict[str, Any]], folder: Path) -> Path:
    """Write a request's 0-meting as the ``beds.csv`` the command line takes; return it.

    ``occupied`` is 0: the calibration counts the occupants from the records.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "beds.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["provider", "care_form", "beds", "occupied"])
        writer.writerows([r["provider"], r["care_form"], int(r["beds"]), 0] for r in rows)
    return path


def summary(records: StayRecords) -> dict[str, Any]:
    """Say what the API shows of records: counts, the first start and the extract date."""
    starts = records.stays["start"].dropna()
    return {
        "stays": len(records.stays),
        "care_forms": records.care_forms,
        "extract_date": records.extract_date.isoformat(),
        "first_start": starts.min().date().isoformat() if len(starts) else None,
    }


def _too_large(name: str, size: int) -> Problem:
    return Problem(
        name,
        f"is {nl.number(size / 1e6, 1)} MB; hoogstens {nl.number(MAX_TABLE_BYTES / 1e6)} MB.",
        "Upload een kleiner extract (bijvoorbeeld minder jaren).",
    )


@contextlib.contextmanager
def _uploaded(name: str, content: bytes, what: str) -> Iterator[Path]:
    """Write an uploaded table to a temporary file named ``name``, within every limit.

    The limits of every table (:data:`~capaciteit.io.tables.MAX_TABLE_BYTES`, and for a
    workbook the unpacked size, checked before any reader opens it; the reader checks the
    rows).
    """
    if len(content) > MAX_TABLE_BYTES:
        raise InvalidInputError(what, [_too_large(name, len(content))])
    with tempfile.TemporaryDirectory(prefix="capaciteit-records-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        problems = xlsx_problems(path) if path.suffix == ".xlsx" else []
        if problems:
            raise InvalidInputError(what, problems)
        yield path


def check(name: str, content: bytes) -> StayRecords:
    """Read records as uploaded; refuse them with every problem listed (kept private)."""
    with _uploaded(name, content, RECORDS_INPUT) as path, problems_kept_private():
        return read_records(path)


def read_beds(name: str, content: bytes) -> list[dict[str, Any]]:
    """Read an uploaded 0-meting (``beds.csv`` or .xlsx) as a request's ``beds`` rows.

    Read as the command line reads it (the model's ``beds`` table); refused with every
    problem listed.
    """
    what = f"De 0-meting {name}"
    problems: list[Problem] = []
    table = None
    with (
        _uploaded(file_name(name, what), content, what) as path,
        contextlib.suppress(UnreadableTableError),  # its problem is listed
    ):
        table = read_table(path, TABLES["beds"], problems)
    if problems or table is None:
        raise InvalidInputError(what, problems)
    return [
        {"provider": str(r["provider"]), "care_form": str(r["care_form"]), "beds": int(r["beds"])}
        for r in table.to_dict(orient="records")
    ]


def _first_start(upload: StayRecordsUpload) -> dt.date | None:
    """Return the records' first start (read once from records stored without it)."""
    if "first_start" not in upload.summary:
        upload.summary = {**upload.summary, **summary(check(upload.name, upload.content))}
    first = upload.summary["first_start"]
    return dt.date.fromisoformat(first) if first else None


def check_days(upload: StayRecordsUpload, body: CalibrationIn | BacktestIn) -> None:
    """Refuse a job whose days the records do not hold, naming the request's fields.

    As the pipelines would refuse it in the worker: a backtest's cut after the first start
    and on or before the extract date (and after the start of the window); a calibration's
    window starting before the extract date, its peildatum from the window's start (or the
    first start) to the extract date.
    """
    extract = body.extract_date or dt.date.fromisoformat(upload.summary["extract_date"])
    first = _first_start(upload)
    problems = []

    def add(field: str, message: str, fix: str) -> None:
        problems.append(Problem(REQUEST, message, fix, column=field))

    ws = body.window_start
    if isinstance(body, BacktestIn):
        what, cut = "De backtest", body.cut
        if first is not None and not first < cut:
            add(
                "cut",
                f"de knip ({nl.date(cut)}) ligt niet na de eerste start in de verblijven "
                f"({nl.date(first)}): ervoor is niets om op te kalibreren.",
                f"Kies 1 januari van een later jaar, bijvoorbeeld {first.year + 1}-01-01.",
            )
        elif not cut <= extract:
            add(
                "cut",
                f"de knip ({nl.date(cut)}) ligt na de extractiedatum ({nl.date(extract)}): "
                "erna is niets om mee te vergelijken.",
                f"Kies 1 januari van een eerder jaar, bijvoorbeeld {extract.year - 1}-01-01.",
            )
        if ws is not None and not ws < cut:
            add(
                "window_start",
                f"het waarnemingsvenster begint op {nl.date(ws)}, niet voor de knip "
                f"({nl.date(cut)}).",
                "Kies een eerder begin van het waarnemingsvenster, of een latere knip.",
            )
    else:
        what, zero = "De kalibratie", body.zero_date
        start = ws or first
        if ws is not None and not ws < extract:
            add(
                "window_start",
                f"het waarnemingsvenster begint op {nl.date(ws)}, niet voor de extractiedatum "
                f"({nl.date(extract)}).",
                "Kies een eerder begin van het waarnemingsvenster.",
            )
        elif zero is not None and not ((start is None or start <= zero) and zero <= extract):
            add(
                "zero_date",
                f"de peildatum ({nl.date(zero)}) ligt buiten het waarnemingsvenster "
                f"({nl.date(start) if start else 'het begin'} tot en met {nl.date(extract)}).",
                "Kies een peildatum "
                + (f"van {start.isoformat()} " if start else "")
                + f"tot en met {extract.isoformat()}.",
            )
    if problems:
        raise InvalidInputError(what, problems)


def add(
    session: Session, name: str, content: bytes, organisation: int, who: Caller
) -> StayRecordsUpload:
    """Check uploaded records and store them for ``organisation`` (audited)."""
    stored = file_name(name)
    row = StayRecordsUpload(
        organisation_id=organisation,
        name=stored,
        content=content,
        summary=summary(check(stored, content)),
        created_by=who.token_id,
    )
    session.add(row)
    session.flush()
    session.add(
        AuditEntry(
            token_id=who.token_id,
            action="records_upload",
            subject_ids=[],
            detail={"records_id": row.id, "stays": row.summary["stays"]},
        )
    )
    session.commit()
    return row


def listed(session: Session, who: Caller) -> list[StayRecordsUpload]:
    """Return the records of the caller's organisations, oldest first."""
    return list(
        session.scalars(
            select(StayRecordsUpload)
            .where(StayRecordsUpload.organisation_id.in_(who.organisations))
            .order_by(StayRecordsUpload.created_at, StayRecordsUpload.id)
        ).all()
    )


def records_of(session: Session, records_id: int, who: Caller) -> StayRecordsUpload:
    """Return records the caller may see (404 otherwise, as if they did not exist)."""
    row = session.get(StayRecordsUpload, records_id)
    if row is None or not who.sees(row.organisation_id):
        raise HTTPException(404, f"Verblijfsgegevens {records_id} bestaan niet.")
    audit_read(session, who, "records", row.id, row.organisation_id)
    return row


def calibrated_region(session: Session, job: Job) -> Region:
    """Keep the model of a finished calibration as a region model of its organisation.

    The model's files (``model.yaml`` and its tables, not the report in ``kalibratie/``)
    go through the region upload's checks, as if a planner had uploaded them.
    """
    if job.status != "done":
        raise HTTPException(409, f"Kalibratie {job.id} is niet klaar; er is nog geen regiomodel.")
    files = session.scalars(select(JobFile).where(JobFile.job_id == job.id)).all()
    model = [(f.name, f.content) for f in files if "/" not in f.name and model_file(f.name)]
    return add_region(session, model, job.organisation_id)


__all__ = [
    "API_FIELDS",
    "PRIVATE_COLUMNS",
    "add",
    "calibrated_region",
    "check",
    "check_days",
    "file_name",
    "listed",
    "private",
    "problems_kept_private",
    "problems_named_for_the_api",
    "read_beds",
    "records_of",
    "summary",
    "write",
    "write_beds",
]
