"""Writing a calibration: the region model folder, its estimates, and a check that it loads."""

from __future__ import annotations

from pathlib import Path

from capaciteit.calibration.model import Calibration
from capaciteit.core import nl
from capaciteit.domain.model import TABLES, RegionModel
from capaciteit.io.model_files import load_model
from capaciteit.io.model_writer import write_model_dir
from capaciteit.results.cells import write_csv


def write_calibrated_model(
    calibration: Calibration, out: Path, *, name: str, source: str
) -> RegionModel:
    """Write the model tables to ``out`` with ``estimates.csv``; load it back and return it.

    Loading it back runs the same validation a planner's model gets, so a calibration
    never hands over a model that ``capaciteit validate`` would refuse. ``source`` names
    the records (for the description in ``model.yaml``).
    """
    out.mkdir(parents=True, exist_ok=True)
    # the tables of a model the folder held go (one left would join the new model); any
    # other file stays: the folder may hold the records or the 0-meting themselves
    for stale in [*out.glob("*.csv"), *out.glob("*.xlsx")]:
        if stale.stem in TABLES or stale.name == ESTIMATES_FILE:
            stale.unlink()
    tables = {k: v for k, v in calibration.tables.items() if not v.empty or k in _REQUIRED}
    description = (
        f"Gekalibreerd uit {source}: verblijven van {nl.date(calibration.window_start)} tot "
        f"{nl.date(calibration.extract_date)}, 0-meting op {nl.date(calibration.zero_date)}. "
        "Elke schatting met 95%-interval en aantal staat in estimates.csv.\n"
    )
    write_model_dir(
        out,
        tables,
        name=name,
        baseline_year=calibration.zero_date.year,
        synthetic=False,
        description=description,
    )
    write_csv(calibration.estimates, out / ESTIMATES_FILE)
    return load_model(out)


ESTIMATES_FILE = "estimates.csv"
_REQUIRED = ("care_forms", "providers", "beds", "instroom", "los", "routing", "costs")


__all__ = ["write_calibrated_model"]
