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

from capaciteit.core.privacy import redact
from capaciteit.core.tables import TableSpec
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.tables import UnreadableTableError, read_table, refuse_personal_columns
from capaciteit.matching.pool import (
    CHILDREN,
    MATCHING_INPUT,
    PC4,
    PLACEMENTS,
    Children,
    Pool,
    build,
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
    if refuse_personal_columns(
        path, problems, "gebruik een pseudonieme child_id en een PC4 of coördinaten"
    ):
        return None
    try:
        return read_table(path, spec, problems)
    except UnreadableTableError:
        return None


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
    postcode: :func:`~capaciteit.core.privacy.redact`), whoever shows them.
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
