"""Names and small helpers the calibration report's workbook and charts share.

The care forms in the model's order with their Dutch names (:class:`Forms`), the Dutch
names of distribution families and destinations, the chosen family per form, and the
entries per quarter as a rate per year (:func:`quarter_rates`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from capaciteit.calibration.model import Calibration
from capaciteit.realisation.quarters import Quarter
from capaciteit.results.charts import FORM_LABELS
from capaciteit.results.sheets import plain

FAMILY_NL = {
    "exponential": "exponentieel",
    "lognormal": "lognormaal",
    "weibull": "Weibull",
    "gamma": "gamma",
    "empirical": "empirisch",
}
DESTINATION_NL = {
    "thuis": "Thuis",
    "ambulant": "Ambulante hulp",
    "zelfstandig": "Zelfstandig",
    "wlz": "Wlz",
    "buiten_regio": "Buiten de regio",
    "": "Onbekend",
}
FULL_QUARTER = 0.99
"""A quarter is partly observed below this share; 1 day of 91 missing is 1,1%."""
DAYS_PER_YEAR = 365.25


class Forms:
    """The care forms in the model's order, with their Dutch names."""

    def __init__(self, calibration: Calibration) -> None:
        self.names: dict[str, str] = {}
        table = calibration.tables.get("care_forms")
        if table is not None and "name" in table.columns:
            ids = table["care_form"] if "care_form" in table.columns else table.index
            for fid, name in zip(ids, table["name"], strict=True):
                if isinstance(name, str) and name:
                    self.names[str(fid)] = name
        order = list(self.names)
        for frame, column in (
            (calibration.los_fits, "care_form"),
            (calibration.survival, "care_form"),
            (calibration.instroom_quarters, "care_form"),
            (calibration.routing_counts, "from_care_form"),
            (calibration.estimates, "care_form"),
        ):
            if column in frame.columns:
                order += [str(f) for f in frame[column].unique() if str(f) not in order]
        self.order = [f for f in order if f]

    def name(self, form: object) -> str:
        """Name a care form in Dutch (its id when the model has no name for it)."""
        fid = str(form)
        return self.names.get(fid) or FORM_LABELS.get(fid, fid)

    def place(self, destination: object) -> str:
        """Name a destination in Dutch: a care form or a sink (``thuis``)."""
        to = str(destination)
        if to in self.names or to not in DESTINATION_NL:
            return self.name(to)
        return DESTINATION_NL[to]

    def key(self, form: object) -> int:
        """Sort by the model's order."""
        fid = str(form)
        return self.order.index(fid) if fid in self.order else len(self.order)

    def present(self, frame: pd.DataFrame, column: str = "care_form") -> list[str]:
        """Return the care forms that have rows in ``frame``, in the model's order."""
        found = {str(f) for f in frame[column]} if column in frame.columns else set()
        return sorted(found, key=lambda f: (self.key(f), f))


def sorted_records(
    frame: pd.DataFrame, forms: Forms, column: str = "care_form"
) -> list[dict[str, Any]]:
    """Rows of ``frame`` sorted by care form in the model's order (stable within a form)."""
    rows = [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]
    return sorted(rows, key=lambda r: forms.key(r[column]))


def number(value: Any) -> float:
    """Return a cell as a float; missing as NaN."""
    value = plain(value)
    return math.nan if value is None else float(value)


def yes(value: Any) -> bool:
    """Read a cell as yes or no (missing is no)."""
    return bool(plain(value))


def stays_per_form(calibration: Calibration) -> dict[str, tuple[int, int]]:
    """Stays and ended stays per care form (the same on each family's row)."""
    out: dict[str, tuple[int, int]] = {}
    for r in calibration.los_fits.to_dict(orient="records"):
        out.setdefault(str(r["care_form"]), (int(r["n"]), int(r["events"])))
    return out


def chosen_families(calibration: Calibration) -> dict[str, tuple[str, float]]:
    """Return the chosen family and its AIC per care form."""
    fits = calibration.los_fits
    return {
        str(r["care_form"]): (str(r["family"]), number(r["aic"]))
        for r in fits.to_dict(orient="records")
        if yes(r["chosen"])
    }


def family_nl(family: str) -> str:
    """Name a distribution family in Dutch."""
    return FAMILY_NL.get(family, family)


def quarter_rates(calibration: Calibration) -> pd.DataFrame:
    """Entries per quarter with ``observed_share`` of the quarter, ``partial`` and ``rate``.

    ``rate`` is entries per year (``entries / exposure_years``, NaN without exposure); the
    observed share compares the exposure with the quarter's calendar length, so a quarter
    cut by the window start or the extract date is ``partial``.
    """
    q = calibration.instroom_quarters.copy()
    exposure = q["exposure_years"].astype(float)
    length = [
        (Quarter.of(label).next_first_day - Quarter.of(label).first_day).days / DAYS_PER_YEAR
        for label in q["quarter"]
    ]
    q["observed_share"] = (exposure / pd.Series(length, index=q.index, dtype=float)).clip(upper=1)
    q["partial"] = q["observed_share"] < FULL_QUARTER
    q["rate"] = q["entries"].astype(float) / exposure.where(exposure > 0)
    return q
