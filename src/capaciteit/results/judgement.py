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

import numpy as np
import pandas as pd

from capaciteit._pandas import as_int
from capaciteit.core import nl
from capaciteit.core.stats import VERDICTS_NL, at_least, verdict
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


def los_targets(scenario: Scenario, result: SimulationResult) -> pd.DataFrame:
    """Ligduur targets judged per year against the simulated mean stay (95% interval).

    The mean stay of a year is that of the stays whose treatment ended in it, from
    admission to the end of the stay itself, per care form or, for a provider's target, of
    the stays at that provider: the same quantity minimal beds and afbouw plans judge (a
    provider's mean stay). Waiting in the bed afterwards for a place elsewhere is not
    counted here; it is in ``blocking.csv`` and the KPI ``mean_los_days``.
    """
    columns = [
        "target",
        "care_form",
        "provider",
        "year",
        "max_mean_days",
        "mean",
        "ci_low",
        "ci_high",
        "verdict",
    ]
    if not scenario.los_targets:
        return pd.DataFrame(columns=columns)
    stays = result.stays
    ended = stays[stays["start_day"].notna() & stays["service_end_day"].notna()]
    bounds = result.spec.year_start_day.to_numpy(dtype="float64")
    year_of = np.searchsorted(bounds, ended["service_end_day"].to_numpy(), side="right") - 1
    los = (ended["service_end_day"] - ended["start_day"]).to_numpy(dtype="float64")
    rows = []
    for t in scenario.los_targets:
        mask = (ended["care_form"] == t.care_form).to_numpy()
        if t.provider is not None:
            mask &= (ended["provider"] == t.provider).to_numpy()
        for k, year in enumerate(scenario.years):
            if year < t.year:
                continue
            in_year = mask & (year_of == k)
            reps = ended["replication"].to_numpy()[in_year]
            values = np.array(
                [
                    los[in_year][reps == r].mean() if (reps == r).any() else np.nan
                    for r in range(result.replications)
                ]
            )
            est = at_least(values, 0.0)
            where = f" bij {t.provider}" if t.provider else ""
            rows.append(
                {
                    "target": t.label
                    or f"gemiddelde ligduur {t.care_form}{where} hoogstens "
                    f"{nl.number(t.max_mean_days)} dagen vanaf {t.year}",
                    "care_form": t.care_form,
                    "provider": t.provider or "",
                    "year": year,
                    "max_mean_days": t.max_mean_days,
                    "mean": est.mean,
                    "ci_low": est.low,
                    "ci_high": est.high,
                    "verdict": verdict(est, "max", t.max_mean_days),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def missed_los_targets(targets: pd.DataFrame) -> str:
    """Say which ligduur targets the simulation shows missed, in Dutch (empty if none)."""
    if targets.empty:
        return ""
    out = []
    for label, group in targets[targets["verdict"] == "missed"].groupby("target", sort=False):
        first = group.iloc[0]
        out.append(
            f"Doel '{label}' niet gehaald in {nl.years([int(y) for y in group['year']])}: "
            f"gemiddeld {nl.number(float(first['mean']))} dagen in {int(first['year'])}."
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
    ligduur = los_targets(scenario, result)
    said = (
        missed_norms(judged, names),
        missed_targets(targets, names),
        missed_los_targets(ligduur),
    )
    missed = " ".join(t for t in said if t)
    return {
        "missed": missed,
        "target_years": target_years(scenario),
        "norms": records(judged),
        "bed_targets": records(targets),
        "los_targets": records(ligduur),
        "verdicts_nl": VERDICTS_NL,
    }
