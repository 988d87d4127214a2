"""Norms: what a scenario promises per care form, as measures with a bound.

A scenario's service levels (``service_levels`` in the scenario, with defaults per form)
become :class:`Norm` records, one per measure:

``placed_within_{t}_days_share`` (``min``)
    of the requests *decided* in a year, the share that got a bed within ``t`` days. A
    request is decided when it is placed, refused or given up, or when ``t`` days have
    passed without a bed (then it counts as a miss at that moment, even if it is placed
    later), so every request counts once and a growing waiting list shows in the year it
    grows, not years later.
``refused_share`` (``max``)
    of the requests resolved in a year, the share placed outside the region.
``stays_over_max_share`` (``max``)
    of the stays *decided* in a year, the share longer than the form's ``max_stay_days``
    (crisis: 28). A stay is decided when it ends, or when it reaches ``max_stay_days``.
``occupancy_rate`` (``max``)
    time-average of the occupied beds (at most the beds) over the beds.

The measures themselves are computed from the simulated stays in
:mod:`capaciteit.simulation.measures`; judging them against the bound is
:func:`capaciteit.core.stats.verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capaciteit._pandas import as_float
from capaciteit.core import nl
from capaciteit.core.stats import Estimate, Kind
from capaciteit.domain.scenario import Scenario

PLACED = "placed_within_days_share"
REFUSED = "refused_share"
STAY = "stays_over_max_share"
OCCUPANCY = "occupancy_rate"


@dataclass(frozen=True)
class Norm:
    """One measure of one care form with its bound.

    ``family`` is one of :data:`PLACED`, :data:`REFUSED`, :data:`STAY`, :data:`OCCUPANCY`;
    ``days`` is the ``t`` of a placement norm or the ``max_stay_days`` of a stay norm.
    """

    care_form: str
    family: str
    kind: Kind
    target: float
    days: float = math.nan

    @staticmethod
    def of_row(row: Mapping[Any, Any]) -> Norm:
        """Rebuild the norm of a judged table's row (``measure``, ``kind``, ``target``, ...)."""
        measure = str(row["measure"])
        family = PLACED if measure.startswith("placed_within_") else measure
        kind: Kind = "min" if str(row["kind"]) == "min" else "max"
        days = row.get("days")
        return Norm(
            str(row["care_form"]),
            family,
            kind,
            float(row["target"]),
            math.nan if days is None else float(days),
        )

    @property
    def measure(self) -> str:
        """The measure's name in tables (e.g. ``placed_within_28_days_share``)."""
        if self.family == PLACED:
            return f"placed_within_{self.days:g}_days_share"
        return self.family

    @property
    def owned_by_beds(self) -> bool:
        """Whether more beds of this form itself can reach the norm (not so the stay norm)."""
        return self.family != STAY

    def judged_row(self, year: int, beds: int, est: Estimate, judged: str) -> dict[str, Any]:
        """Make one row of a table of judged norms: the norm, the year's beds, mean, interval."""
        return {
            "care_form": self.care_form,
            "year": year,
            "beds": beds,
            "measure": self.measure,
            "kind": self.kind,
            "target": self.target,
            "days": self.days,
            "mean": est.mean,
            "ci_low": est.low,
            "ci_high": est.high,
            "verdict": judged,
        }

    def _days(self) -> str:
        """Write the norm's days in Dutch: ``1 dag``, ``0,5 dag``, ``1,5 dagen``, ``28 dagen``."""
        days = float(self.days)
        text = nl.number(days) if days.is_integer() else nl.number(days, 2).rstrip("0")
        return f"{text} dag" if days <= 1 else f"{text} dagen"

    def describe(self) -> str:
        """Describe the norm in Dutch, e.g. ``minstens 80% binnen 28 dagen geplaatst``."""
        share = nl.percent(self.target)
        if self.family == PLACED:
            days = self._days()
            return f"minstens {share} binnen {days} geplaatst"
        if self.family == REFUSED:
            return f"hoogstens {share} buiten de regio geplaatst"
        if self.family == STAY:
            return f"hoogstens {share} van de verblijven langer dan {self._days()}"
        return f"bezettingsgraad hoogstens {share}"

    def what(self) -> str:
        """Say what the measure is, to follow a percentage: ``binnen 28 dagen geplaatst``."""
        if self.family == PLACED:
            days = self._days()
            return f"binnen {days} geplaatst"
        if self.family == REFUSED:
            return "buiten de regio geplaatst"
        if self.family == STAY:
            return f"van de verblijven langer dan {self._days()}"
        return "bezetting"


def norms_of(scenario: Scenario) -> list[Norm]:
    """Every norm of ``scenario``, per care form in the model's order."""
    sl = scenario.service_levels
    max_stay = scenario.model.care_forms["max_stay_days"]
    out: list[Norm] = []
    for fid in scenario.model.care_form_ids:
        row = sl.loc[fid]
        placed_days = as_float(row["placed_within_days"])
        if not math.isnan(placed_days):
            out.append(Norm(fid, PLACED, "min", as_float(row["placed_share_min"]), placed_days))
        refused = as_float(row["refused_share_max"])
        if not math.isnan(refused):
            out.append(Norm(fid, REFUSED, "max", refused))
        stay = as_float(row["stays_over_max_share_max"])
        if not math.isnan(stay) and not math.isnan(as_float(max_stay[fid])):
            out.append(Norm(fid, STAY, "max", stay, as_float(max_stay[fid])))
        occupancy = as_float(row["max_occupancy"])
        if not math.isnan(occupancy):
            out.append(Norm(fid, OCCUPANCY, "max", occupancy))
    return out
