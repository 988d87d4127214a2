"""Realisation against the agreed plan and the simulated band: on course or not, and why.

The rule
--------
Per **care form and quarter** (all providers of the form added up) the quarter is *op
koers* when

1. the occupied beds, the admissions (instroom) and the waiting list at the end of the
   quarter each lie inside the simulated 95% band (:mod:`.band`), and
2. the form's realised beds (places) differ from the plan's beds for that year by at most
   the tolerance: ``max(1 bed, 5% of the planned beds)``.

Otherwise it is *niet op koers*, with every reason named. The realisation is reported in
whole numbers, so a value counts as inside the band when it lies between the band's lower
bound rounded down and its upper bound rounded up (a band of 3,4-7,6 admits 3 to 8).

Per **provider, care form and quarter** only rule 2 applies (the band is regional: the
model has one waiting list per form and places young people wherever a bed is free), so a
provider row says whether its places follow the plan.

The planned beds of a year are the plan's beds on 1 January of that year; a provider or
form the plan does not list has 0 planned beds. Quarters of a year the plan does not cover
cannot be judged against it (the pipeline refuses them before it gets here).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.core import nl
from capaciteit.realisation.band import MEASURES, MEASURES_NL
from capaciteit.realisation.plan import planned_beds
from capaciteit.realisation.quarters import Quarter

ON_TRACK = "op koers"
OFF_TRACK = "niet op koers"
FORM_LEVEL = "care_form"
PROVIDER_LEVEL = "provider"

COMPARISON_COLUMNS = (
    "level",
    "care_form",
    "provider",
    "quarter",
    "beds",
    "planned_beds",
    "beds_difference",
    "beds_allowed_difference",
    "occupied",
    "occupied_low",
    "occupied_high",
    "occupancy_rate",
    "admissions",
    "admissions_low",
    "admissions_high",
    "waiting",
    "waiting_low",
    "waiting_high",
    "on_track",
    "verdict",
    "reason",
)


@dataclass(frozen=True)
class Tolerance:
    """How far realised beds may lie from the plan: ``max(beds, share x planned)``."""

    beds: int = 1
    share: float = 0.05

    def allowed(self, planned: float) -> float:
        """Return the largest difference from ``planned`` beds that still follows the plan."""
        return max(float(self.beds), self.share * planned)

    def describe(self) -> str:
        """Say the rule in Dutch, as the reports state it."""
        return (
            f"de plaatsen wijken hoogstens {nl.number(self.beds)} of "
            f"{nl.percent(self.share)} van het plan af (het grootste van beide)"
        )


def band_bounds(low: float, high: float) -> tuple[int, int]:
    """Round a band to whole numbers: the lower bound down, the upper bound up."""
    return math.floor(low + 1e-9), math.ceil(high - 1e-9)


def _beds_reason(beds: int, planned: int, allowed: float) -> str | None:
    difference = beds - planned
    if abs(difference) <= allowed:
        return None
    direction = "meer" if difference > 0 else "minder"
    return (
        f"{nl.number(beds)} plaatsen, het plan heeft er {nl.number(planned)}: "
        f"{nl.number(abs(difference))} {direction} (toegestaan: "
        f"{nl.number(math.floor(allowed + 1e-9))})"
    )


def compare(
    realised: pd.DataFrame,
    plan: pd.DataFrame,
    band: pd.DataFrame,
    *,
    tolerance: Tolerance | None = None,
) -> pd.DataFrame:
    """Judge every realised quarter against the plan and the band (see the module docstring).

    Parameters
    ----------
    realised
        :func:`~capaciteit.realisation.reader.read_realisation`'s frame: indexed by
        ``(provider, care_form, quarter)`` with ``beds``, ``occupied``, ``admissions``,
        ``waiting``.
    plan
        :func:`~capaciteit.realisation.plan.read_plan`'s frame (``provider``, ``care_form``,
        ``year``, ``beds``).
    band
        :attr:`~capaciteit.realisation.band.Band.table`, with every realised form and
        quarter.
    tolerance
        How far beds may lie from the plan (default: 1 bed or 5%, the larger).

    Returns
    -------
    pd.DataFrame
        One row per care form and quarter (``level`` = ``care_form``, ``provider`` empty),
        then one per provider, care form and quarter (``level`` = ``provider``), with the
        columns of :data:`COMPARISON_COLUMNS`: realised ``beds``, ``planned_beds``, their
        difference and the allowed difference, realised ``occupied``, ``admissions`` and
        ``waiting`` with the band in whole numbers (``*_low``, ``*_high``; empty for
        provider rows), ``occupancy_rate`` (occupied / beds), ``on_track``, ``verdict``
        (``op koers`` / ``niet op koers``) and ``reason`` (Dutch, every reason named).
    """
    rule = tolerance or Tolerance()
    planned = planned_beds(plan)
    frame = realised.reset_index()
    frame["year"] = [Quarter.of(q).year for q in frame["quarter"]]
    frame["planned_beds"] = [
        int(planned.get((p, f, y), 0))
        for p, f, y in zip(frame["provider"], frame["care_form"], frame["year"], strict=True)
    ]
    # a pair the plan lists with beds that year but the realisation leaves out counts as 0
    # realised here; the pipeline refuses such incomplete uploads before comparing
    forms = (
        frame.groupby(["care_form", "quarter"], sort=False)[
            ["beds", "planned_beds", *MEASURES, "year"]
        ]
        .agg(
            {
                "beds": "sum",
                "planned_beds": "sum",
                **dict.fromkeys(MEASURES, "sum"),
                "year": "first",
            }
        )
        .reset_index()
    )
    plan_totals = planned.groupby(level=["care_form", "year"]).sum()
    forms["planned_beds"] = [
        int(plan_totals.get((f, y), 0))
        for f, y in zip(forms["care_form"], forms["year"], strict=True)
    ]
    rows: list[dict[str, object]] = []
    for record in forms.to_dict(orient="records"):
        key = (str(record["care_form"]), str(record["quarter"]))
        if key not in band.index:
            raise KeyError(f"no band for {key}")
        row = _row(FORM_LEVEL, record, "", rule)
        reasons = []
        for measure in MEASURES:
            low, high = band_bounds(
                as_float(band.at[key, f"{measure}_low"]), as_float(band.at[key, f"{measure}_high"])
            )
            value = int(record[measure])
            row[f"{measure}_low"], row[f"{measure}_high"] = low, high
            if value < low or value > high:
                side = "boven" if value > high else "onder"
                reasons.append(
                    f"{MEASURES_NL[measure]} {nl.number(value)} ligt {side} de band "
                    f"{nl.number(low)}–{nl.number(high)}"
                )
        beds_reason = _beds_reason(
            int(record["beds"]),
            int(record["planned_beds"]),
            rule.allowed(int(record["planned_beds"])),
        )
        if beds_reason:
            reasons.append(beds_reason)
        rows.append(_judged(row, reasons, "binnen de band en plaatsen volgens plan"))
    for record in frame.to_dict(orient="records"):
        row = _row(PROVIDER_LEVEL, record, str(record["provider"]), rule)
        beds_reason = _beds_reason(
            int(record["beds"]),
            int(record["planned_beds"]),
            rule.allowed(int(record["planned_beds"])),
        )
        rows.append(_judged(row, [beds_reason] if beds_reason else [], "plaatsen volgens plan"))
    out = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    for measure in MEASURES:  # whole numbers, empty in provider rows
        for bound in ("low", "high"):
            out[f"{measure}_{bound}"] = out[f"{measure}_{bound}"].astype("Int64")
    # forms in the band's (the model's) order, then quarters, then providers
    form_order = {f: i for i, f in enumerate(dict.fromkeys(band.index.get_level_values(0)))}
    out["_level"] = out["level"].map({FORM_LEVEL: 0, PROVIDER_LEVEL: 1})
    out["_form"] = out["care_form"].map(form_order).fillna(len(form_order))
    out = out.sort_values(["_level", "_form", "care_form", "quarter", "provider"], kind="stable")
    return out.drop(columns=["_level", "_form"]).reset_index(drop=True)


def _row(
    level: str, record: dict[Hashable, Any], provider: str, rule: Tolerance
) -> dict[str, object]:
    beds = int(record["beds"])
    planned = int(record["planned_beds"])
    occupied = int(record["occupied"])
    return {
        "level": level,
        "care_form": str(record["care_form"]),
        "provider": provider,
        "quarter": str(record["quarter"]),
        "beds": beds,
        "planned_beds": planned,
        "beds_difference": beds - planned,
        "beds_allowed_difference": rule.allowed(planned),
        "occupied": occupied,
        "occupied_low": pd.NA,
        "occupied_high": pd.NA,
        "occupancy_rate": occupied / beds if beds > 0 else np.nan,
        "admissions": int(record["admissions"]),
        "admissions_low": pd.NA,
        "admissions_high": pd.NA,
        "waiting": int(record["waiting"]),
        "waiting_low": pd.NA,
        "waiting_high": pd.NA,
    }


def _judged(row: dict[str, object], reasons: list[str], fine: str) -> dict[str, object]:
    row["on_track"] = not reasons
    row["verdict"] = ON_TRACK if not reasons else OFF_TRACK
    text = "; ".join(reasons) if reasons else fine
    row["reason"] = text[0].upper() + text[1:] + "."
    return row


def off_track(comparison: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of ``comparison`` that are not on course (form rows first)."""
    return comparison[~comparison["on_track"].astype(bool)]
