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

A finished calibration can be kept as a region model of the organisation
(:func:`calibrated_region`): its model files go through the region upload's own checks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.core import nl
from capaciteit.core.privacy import HIDDEN, redact
from capaciteit.domain.records import DATE_COLUMNS
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.archive import xlsx_problems
from capaciteit.io.records import RECORDS_INPUT, StayRecords, read_records
from capaciteit.io.tables import MAX_TABLE_BYTES
from capaciteit.service.db import AuditEntry, Job, JobFile, Region, StayRecordsUpload
from capaciteit.service.routes.common import audit_read
from capaciteit.service.security import Caller
from capaciteit.service.store import XLSX_MAGIC, add_region, model_file

PRIVATE_COLUMNS = frozenset({"client_id", *DATE_COLUMNS})
"""Columns whose cell values a problem never quotes (an id, the days of a stay)."""
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


def file_name(name: str, content: bytes) -> str:
    """Name the stored file: the upload's name in plain characters, with its real suffix.

    The suffix follows the content (an .xlsx workbook is a zip), whatever the name says;
    the reader takes ``.csv`` and ``.xlsx``.
    """
    stem = _SAFE_STEM.sub("_", PurePosixPath(name.replace("\\", "/")).stem).strip("._")
    suffix = ".xlsx" if content.startswith(XLSX_MAGIC) else ".csv"
    return f"{stem[:100] or 'verblijven'}{suffix}"


def write(upload: StayRecordsUpload, folder: Path) -> Path:
    """Write stored records into ``folder`` under their name; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / upload.name
    path.write_bytes(upload.content)
    return path


def summary(records: StayRecords) -> dict[str, Any]:
    """Say what the API shows of records: counts and the extract date, no row."""
    return {
        "stays": len(records.stays),
        "care_forms": records.care_forms,
        "extract_date": records.extract_date.isoformat(),
    }


def _too_large(name: str, size: int) -> Problem:
    return Problem(
        name,
        f"is {nl.number(size / 1e6, 1)} MB; hoogstens {nl.number(MAX_TABLE_BYTES / 1e6)} MB.",
        "Upload een kleiner extract (bijvoorbeeld minder jaren).",
    )


def check(name: str, content: bytes) -> StayRecords:
    """Read records as uploaded; refuse them with every problem listed (kept private).

    Within the limits of every table (:data:`~capaciteit.io.tables.MAX_TABLE_BYTES`, its
    rows, and for a workbook the unpacked size, checked before any reader opens it).
    """
    if len(content) > MAX_TABLE_BYTES:
        raise InvalidInputError(RECORDS_INPUT, [_too_large(name, len(content))])
    with tempfile.TemporaryDirectory(prefix="capaciteit-records-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        problems = xlsx_problems(path) if path.suffix == ".xlsx" else []
        if problems:
            raise InvalidInputError(RECORDS_INPUT, problems)
        with problems_kept_private():
            return read_records(path)


def add(
    session: Session, name: str, content: bytes, organisation: int, who: Caller
) -> StayRecordsUpload:
    """Check uploaded records and store them for ``organisation`` (audited)."""
    stored = file_name(name, content)
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
    "PRIVATE_COLUMNS",
    "add",
    "calibrated_region",
    "check",
    "file_name",
    "listed",
    "private",
    "problems_kept_private",
    "records_of",
    "summary",
    "write",
]
