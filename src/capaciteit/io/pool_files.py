"""Reading the matching tables: children on the waiting list, families, PC4 centroids.

The tables and their rules are :mod:`capaciteit.matching.pool`'s; this module reads the
files (CSV UTF-8 or xlsx) with the typed reader of the region model
(:mod:`capaciteit.io.tables`). Before any row is read, a column whose name says it holds
personal data (a name, a BSN, a date of birth, an address) refuses the file, so that such
data never enters; the rows are then checked by :func:`capaciteit.matching.pool.build`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capaciteit.core.tables import TableSpec
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.tables import UnreadableTableError, read_table
from capaciteit.matching.pool import (
    CHILDREN,
    FORBIDDEN_COLUMNS,
    MATCHING_INPUT,
    PC4,
    PLACEMENTS,
    Children,
    Pool,
    build,
    redact,
)

__all__ = ["load_pc4", "load_pool"]


def _read(path: Path, spec: TableSpec, problems: list[Problem]) -> pd.DataFrame | None:
    """Read one table; a column that looks like personal data refuses it unread."""
    if not path.is_file():
        problems.append(Problem(path.name, "bestaat niet.", f"Controleer het pad {path}."))
        return None
    if path.suffix not in (".csv", ".xlsx"):
        problems.append(
            Problem(
                path.name,
                "is geen .csv- of .xlsx-bestand.",
                "Sla het op als CSV UTF-8 of als .xlsx.",
            )
        )
        return None
    header = _header(path)
    forbidden = [c for c in header if FORBIDDEN_COLUMNS.match(c.strip())]
    for c in forbidden:
        problems.append(
            Problem(
                path.name,
                f"de kolom '{c}' lijkt persoonsgegevens te bevatten; capaciteit neemt alleen "
                "pseudonieme ids aan en bewaart geen namen, BSN, geboortedata of adressen.",
                f"Verwijder de kolom '{c}' (gebruik een pseudonieme child_id en een PC4 of "
                "coördinaten).",
                row=1,
                column=c,
            )
        )
    if forbidden:
        return None
    try:
        return read_table(path, spec, problems)
    except UnreadableTableError:
        return None


def _header(path: Path) -> list[str]:
    """Read the column names of a CSV or xlsx file, before its rows."""
    try:
        if path.suffix == ".xlsx":
            return [str(c) for c in pd.read_excel(path, nrows=0, engine="openpyxl").columns]
        first = path.read_text(encoding="utf-8-sig").splitlines()[:1]
    except Exception:  # the typed reader reports unreadable files in detail
        return []
    line = first[0] if first else ""
    sep = ";" if line.count(";") > line.count(",") else ","
    return [c.strip().strip('"') for c in line.split(sep)]


def load_pc4(path: str | Path) -> dict[str, tuple[float, float]]:
    """Read a PC4 centroid table (columns pc4, lat, lon)."""
    problems: list[Problem] = []
    frame = _read(Path(path), PC4, problems)
    if problems or frame is None:
        raise InvalidInputError(f"De PC4-tabel {Path(path).name}", problems)
    return {
        str(r["pc4"]).strip()[:4]: (float(r["lat"]), float(r["lon"]))
        for r in frame.to_dict(orient="records")
    }


def load_pool(
    children_path: str | Path,
    placements_path: str | Path,
    pc4: dict[str, tuple[float, float]] | None = None,
) -> tuple[Children, Pool]:
    """Read and check both tables; refuse them with every problem listed.

    The problems never repeat a value that looks personal (a BSN, a name, a date, a
    postcode: :func:`~capaciteit.matching.pool.redact`), whoever shows them.
    """
    problems: list[Problem] = []
    try:
        kids = _read(Path(children_path), CHILDREN, problems)
        places = _read(Path(placements_path), PLACEMENTS, problems)
        if kids is None or places is None:
            raise InvalidInputError(MATCHING_INPUT, problems)
        return build(
            kids, places, pc4, problems, Path(children_path).name, Path(placements_path).name
        )
    except InvalidInputError as exc:
        raise InvalidInputError(exc.what, [redact(p) for p in exc.problems]) from None
