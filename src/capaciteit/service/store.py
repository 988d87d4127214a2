"""Region models, scenarios and matching pools: validated on the way in, then stored.

Uploads are checked with the same loaders as the command line (every problem with file,
row, id and fix, as 422 problem+json) before anything is stored. Matching pools are built
once per server process and kept (a small cache keyed by pool id), so that suggestions
answer in milliseconds.
"""

from __future__ import annotations

import io
import tempfile
import threading
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.archive import Limits, unpack, unpack_model, zip_problems
from capaciteit.io.pool_files import load_pool
from capaciteit.io.scenario_files import scenario_next_to
from capaciteit.matching import Children, Pool
from capaciteit.matching.pool import MATCHING_INPUT
from capaciteit.service.db import MatchingPool, Region, Scenario
from capaciteit.service.routes.common import audit_read
from capaciteit.service.security import Caller

UploadedFiles = list[tuple[str, bytes]]
UPLOAD = "De upload"
"""``InvalidInputError.what`` of an upload that is not a set of plain files or a zip."""


def _safe_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.name:
        raise InvalidInputError(
            UPLOAD,
            [
                Problem(
                    name,
                    "is geen gewone bestandsnaam.",
                    "Upload de bestanden met alleen hun naam, zonder map of '..'.",
                )
            ],
        )
    return str(path)


def model_file(name: str) -> bool:
    """Whether a file belongs in a region model: ``model.yaml`` and tables."""
    return name == "model.yaml" or name.lower().endswith((".csv", ".xlsx"))


def region_archive(files: UploadedFiles) -> bytes:
    """Check an upload within the limits of :mod:`capaciteit.io.archive`; zip what is kept.

    A zip is unpacked here once, in chunks, and packed again with only the model's files:
    what is stored never holds more than was checked.
    """
    if len(files) == 1 and files[0][0].lower().endswith(".zip"):
        contents, problems = unpack(files[0][1], files[0][0], keep=model_file)
    else:
        contents = {_safe_name(name): data for name, data in files}
        listed = [zipfile.ZipInfo(name) for name in contents]
        for info, data in zip(listed, contents.values(), strict=True):
            info.file_size = info.compress_size = len(data)
        problems = zip_problems(listed, UPLOAD, Limits())
        problems += [
            Problem(
                name,
                "hoort niet bij een regiomodel.",
                "Laat het weg: een regiomodel is model.yaml en tabellen (.csv, .xlsx).",
            )
            for name in contents
            if not model_file(PurePosixPath(name).name)
        ]
    if problems:
        raise InvalidInputError(UPLOAD, problems)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in contents.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def region_of(session: Session, region_id: int, who: Caller) -> Region:
    """Return a region model the caller may see (404 otherwise, as if it did not exist)."""
    region = session.get(Region, region_id)
    if region is None or not who.sees(region.organisation_id):
        raise HTTPException(404, f"Regiomodel {region_id} bestaat niet.")
    audit_read(session, who, "region", region.id, region.organisation_id)
    return region


def scenario_of(session: Session, scenario_id: int, who: Caller) -> tuple[Scenario, Region]:
    """Return a scenario the caller may see, with its region (404 otherwise)."""
    scenario = session.get(Scenario, scenario_id)
    region = session.get(Region, scenario.region_id) if scenario is not None else None
    if scenario is None or region is None or not who.sees(region.organisation_id):
        raise HTTPException(404, f"Scenario {scenario_id} bestaat niet.")
    audit_read(session, who, "scenario", scenario.id, region.organisation_id)
    return scenario, region


def add_region(session: Session, files: UploadedFiles, organisation: int) -> Region:
    """Validate a region model upload (every problem listed) and store it."""
    from capaciteit.io.model_files import load_model

    archive = region_archive(files)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            model = load_model(unpack_model(archive, Path(tmp)))
        except InvalidInputError as exc:
            raise InvalidInputError("Het regiomodel", exc.problems) from None
    summary = {
        "name": model.meta.name,
        "baseline_year": model.meta.baseline_year,
        "care_forms": list(model.care_form_ids),
        "providers": list(model.provider_ids),
    }
    region = Region(
        name=model.meta.name, archive=archive, summary=summary, organisation_id=organisation
    )
    session.add(region)
    session.commit()
    return region


def region_beds(region: Region) -> list[dict[str, Any]]:
    """List beds, occupied and free places per provider and care form (0-meting)."""
    from capaciteit.io.model_files import load_model

    with tempfile.TemporaryDirectory() as tmp:
        model = load_model(unpack_model(region.archive, Path(tmp)))
    beds = model.beds.reset_index()
    out = []
    for r in beds.to_dict(orient="records"):
        occupied = int(r["occupied"]) if "occupied" in r and r["occupied"] == r["occupied"] else 0
        out.append(
            {
                "provider": str(r["provider"]),
                "care_form": str(r["care_form"]),
                "beds": int(r["beds"]),
                "occupied": occupied,
                "free": max(0, int(r["beds"]) - occupied),
            }
        )
    return out


def add_scenario(session: Session, region: Region, text: str, name: str | None) -> Scenario:
    """Validate a scenario against its region model (every problem listed) and store it."""
    from capaciteit.io.scenario_files import load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = unpack_model(region.archive, Path(tmp) / "model")
        try:
            scenario = load_scenario(scenario_next_to(text, model_dir, Path(tmp)))
        except InvalidInputError as exc:
            raise InvalidInputError("Het scenario", exc.problems) from None
    row = Scenario(region_id=region.id, name=name or scenario.name, text=text)
    session.add(row)
    session.commit()
    return row


XLSX_MAGIC = b"PK\x03\x04"
"""The first bytes of an .xlsx workbook (a zip); no CSV UTF-8 table starts with them."""


def _pool_tables(folder: Path, children: bytes, placements: bytes) -> tuple[Path, Path]:
    """Write both tables into ``folder`` as ``children`` and ``placements`` files.

    A table that is a zip is written as ``.xlsx`` and checked against the zip limits of
    :func:`~capaciteit.io.archive.xlsx_problems` before any reader opens it (the header
    check of the pool reader opens it first); anything else is read as CSV.
    """
    from capaciteit.io.archive import xlsx_problems

    paths = []
    for stem, content in (("children", children), ("placements", placements)):
        workbook = content.startswith(XLSX_MAGIC)
        path = folder / f"{stem}{'.xlsx' if workbook else '.csv'}"
        path.write_bytes(content)
        paths.append(path)
    problems = [p for path in paths if path.suffix == ".xlsx" for p in xlsx_problems(path)]
    if problems:
        raise InvalidInputError(MATCHING_INPUT, problems)
    return paths[0], paths[1]


def add_pool(
    session: Session,
    name: str,
    children: bytes,
    placements: bytes,
    organisation: int,
) -> MatchingPool:
    """Validate a waiting list and family pool (every problem listed) and store them.

    Each table is CSV or an .xlsx workbook, through the API and the web form alike; the
    stored bytes are the upload's (the ``*_csv`` columns hold a workbook as it came).
    """
    with tempfile.TemporaryDirectory() as tmp:
        kids_path, places_path = _pool_tables(Path(tmp), children, placements)
        kids, pool = load_pool(kids_path, places_path)
    summary = pool_summary(kids, pool)
    row = MatchingPool(
        name=name,
        children_csv=children,
        placements_csv=placements,
        summary=summary,
        organisation_id=organisation,
    )
    session.add(row)
    session.commit()
    return row


def pool_summary(kids: Children, pool: Pool) -> dict[str, Any]:
    """Count the children, families and free places of a pool."""
    return {
        "children": len(kids.frame),
        "families": len(pool),
        "free_places": int(pool.free_places[pool.available].sum()),
    }


def pool_availability(pool: Pool) -> list[dict[str, Any]]:
    """Count free places of available families per type and trede."""
    frame = pool.frame.assign(free=pool.free_places, ok=pool.available)
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for r in frame.to_dict(orient="records"):
        for trede in str(r["tredes"]).split("|"):
            if not trede:
                continue
            key = (str(r["type"]), trede)
            entry = rows.setdefault(key, {"families": 0, "free_places": 0})
            if r["ok"] and r["free"] > 0:
                entry["families"] += 1
                entry["free_places"] += int(r["free"])
    return [{"type": t, "trede": tr, **v} for (t, tr), v in sorted(rows.items())]


_CACHE: dict[tuple[str, int, str], tuple[Children, Pool]] = {}
_LOCK = threading.Lock()


def built_pool(session: Session, pool_id: int) -> tuple[Children, Pool] | None:
    """Return the pool's arrays, built once per process (stored pools never change)."""
    created = session.scalar(select(MatchingPool.created_at).where(MatchingPool.id == pool_id))
    if created is None:
        return None
    # the creation time guards against a database recreated under the same URL
    key = (session.get_bind().engine.url.render_as_string(), pool_id, str(created))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    row = session.get(MatchingPool, pool_id)
    if row is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        # a stored table is the CSV or the workbook that passed add_pool
        kids_path, places_path = _pool_tables(Path(tmp), row.children_csv, row.placements_csv)
        built = load_pool(kids_path, places_path)
    with _LOCK:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = built
    return built
