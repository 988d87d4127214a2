"""A simulation judged against the scenario's norms, per care form and year.

Every norm (:mod:`capaciteit.domain.norms`) is measured per replication and year from the
stays (:mod:`capaciteit.simulation.measures`), summarised over replications with an
interval that stays within [0, 1] (:func:`capaciteit.core.stats.share`) and judged:
``met``, ``missed``, ``undecided`` (the interval contains the norm) or ``no_data``.
The simulation summary, the minimal-beds search and the afbouw plan all judge this way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.core import nl
from capaciteit.core.stats import share, verdict
from capaciteit.domain.norms import OCCUPANCY, Norm
from capaciteit.simulation.measures import StayColumns, measure_norms
from capaciteit.simulation.replications import SimulationResult

COLUMNS = (
    "care_form",
    "year",
    "beds",
    "measure",
    "kind",
    "target",
    "days",
    "mean",
    "ci_low",
    "ci_high",
    "verdict",
    "met",
    "significantly_missed",
)


def norm_values(
    result: SimulationResult, norms: Sequence[Norm]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per replication, year and norm: the measure and its outcomes; and the beds per form.

    Returns ``values`` and ``trials`` of shape (replications, years, norms) and ``beds``
    of shape (years, forms).
    """
    spec = result.spec
    forms = [str(f) for f in spec.care_forms.index]
    years = spec.years
    bounds = spec.year_start_day.to_numpy(dtype="float64")
    per_form = spec.capacity[years].groupby(level="care_form").sum()
    beds = np.array([[as_float(per_form.at[f, y]) for f in forms] for y in years])
    values = np.full((result.replications, len(years), len(norms)), np.nan)
    trials = np.zeros_like(values)
    # Every replication, also one without a single stay (its beds stood empty all year).
    groups = dict(iter(result.stays.groupby("replication", sort=True)))
    empty = result.stays.iloc[:0]
    for rep in range(result.replications):
        cols = StayColumns.from_frame(groups.get(rep, empty), forms)
        for k in range(len(years)):
            totals = {f: beds[k, i] for i, f in enumerate(forms)}
            window = (float(bounds[k]), float(bounds[k + 1]))
            v, t, _ = measure_norms(cols, norms, forms, window, totals)
            values[rep, k], trials[rep, k] = v, t
    return values, trials, beds


def judge_norms(result: SimulationResult, norms: Sequence[Norm]) -> pd.DataFrame:
    """One row per norm and year: beds, the measure's mean and 95% interval, the verdict."""
    spec = result.spec
    forms = [str(f) for f in spec.care_forms.index]
    values, trials, beds = norm_values(result, norms)
    rows = []
    for k, year in enumerate(spec.years):
        for j, norm in enumerate(norms):
            n = None if norm.family == OCCUPANCY else float(trials[:, k, j].sum())
            est = share(values[:, k, j], n)
            judged = verdict(est, norm.kind, norm.target)
            row = norm.judged_row(year, int(beds[k, forms.index(norm.care_form)]), est, judged)
            row["met"] = judged in ("met", "no_data")
            row["significantly_missed"] = judged == "missed"
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def missed_norms(judged: pd.DataFrame, names: dict[str, str]) -> str:
    """Say plainly, in Dutch, which norms are missed in which years (empty if none).

    One sentence per care form and norm, with the years and the worst year's figure, e.g.
    ``Gezinshuis: 'minstens 80% binnen 28 dagen geplaatst' niet gehaald in 2028–2030
    (in 2030: 45,2% [38,0% – 52,1%]).``
    """
    if judged.empty:
        return ""
    missed = judged[judged["verdict"] == "missed"]
    sentences = []
    for (fid, _), group in missed.groupby(["care_form", "measure"], sort=False):
        records = group.to_dict(orient="records")
        norm = Norm.of_row(records[0])
        sign = 1.0 if norm.kind == "min" else -1.0
        worst = min(records, key=lambda r: sign * (float(r["mean"]) - norm.target))
        years = [int(r["year"]) for r in records]
        sentences.append(
            f"{names.get(str(fid), str(fid))}: '{norm.describe()}' niet gehaald in "
            f"{nl.years(years)} (in {int(worst['year'])}: {nl.percent(worst['mean'], 1)} "
            f"{nl.interval(worst['ci_low'], worst['ci_high'], 'percent', 1)} {norm.what()})."
        )
    return " ".join(sentences)
