"""A scenario's simulation judged against its norms and targets, for people to read.

Two kinds of promise are judged per year:

*norms* (service levels: placed within 28 days, refused, stays over 28 days, occupancy)
    measured in the simulation and judged with their 95% interval
    (:func:`capaciteit.simulation.judge.judge_norms`): met, missed, or not distinguishable;
*targets* on beds (30% less residentieel and 30% more pleegzorg + gezinshuis in 2025,
    JeugdzorgPlus to zero in 2030, against the 0-meting)
    inputs of the scenario, so judged exactly: met or missed.

What is missed is said plainly, in Dutch, at the top of every output.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from capaciteit._pandas import as_int
from capaciteit.core import nl
from capaciteit.core.stats import VERDICTS_NL
from capaciteit.domain.norms import Norm, norms_of
from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.afbouw_plan import targets_of
from capaciteit.results.jsonable import records
from capaciteit.simulation.judge import judge_norms, missed_norms
from capaciteit.simulation.replications import SimulationResult


def bed_targets(scenario: Scenario) -> pd.DataFrame:
    """Every bed target in every horizon year it applies to: bound, beds, met."""
    per_form = scenario.capacity.groupby(level="care_form").sum()
    rows = []
    for t in targets_of(scenario):
        for y in scenario.years:
            if y < t.year:
                continue
            beds = sum(as_int(per_form.at[f, y]) for f in t.care_forms if f in per_form.index)
            rows.append(t.judged_row(y, beds))
    return pd.DataFrame(
        rows,
        columns=[
            "target",
            "care_forms",
            "year",
            "kind",
            "share_of_0_meting",
            "baseline_beds",
            "bound_beds",
            "beds",
            "met",
        ],
    )


def target_years(scenario: Scenario) -> list[int]:
    """List the years targets start in (2025, 2030 by default), within the horizon."""
    return sorted({t.year for t in targets_of(scenario) if t.year in scenario.years})


def missed_targets(targets: pd.DataFrame, names: dict[str, str]) -> str:
    """Say which bed targets the scenario's beds miss, in Dutch (empty if none)."""
    if targets.empty:
        return ""
    out = []
    for label, group in targets[~targets["met"]].groupby("target", sort=False):
        years = [int(y) for y in group["year"]]
        first = group.iloc[0]
        sign = "hoogstens" if first["kind"] == "max" else "minstens"
        forms = " + ".join(names.get(f, f) for f in str(first["care_forms"]).split(" + "))
        out.append(
            f"Doel '{label}' niet gehaald in {nl.years(years)}: {forms} "
            f"{sign} {nl.number(first['bound_beds'])} plaatsen, het scenario heeft er in "
            f"{years[0]} {nl.number(first['beds'])}."
        )
    return " ".join(out)


def judgement(scenario: Scenario, result: SimulationResult) -> dict[str, Any]:
    """Norms and targets judged per year, and what is missed in plain Dutch."""
    names = {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()}
    norms = norms_of(scenario)
    judged = judge_norms(result, norms)
    judged["description"] = [Norm.of_row(r).describe() for r in judged.to_dict("records")]
    judged["verdict_nl"] = judged["verdict"].map(VERDICTS_NL)
    targets = bed_targets(scenario)
    missed = " ".join(t for t in (missed_norms(judged, names), missed_targets(targets, names)) if t)
    return {
        "missed": missed,
        "target_years": target_years(scenario),
        "norms": records(judged),
        "bed_targets": records(targets),
        "verdicts_nl": VERDICTS_NL,
    }
