"""The simulated band: what a quarter may look like when the region follows the plan.

Idea
----
A quarter's realisation is *one* outcome of a random process: referrals arrive by
chance, stays last by chance. Even a region that follows its plan to the letter will see
its occupancy, instroom and waiting list move from quarter to quarter. To judge whether a
quarter is "on course" we therefore ask: *would the model, given exactly the agreed beds,
produce a quarter like this one?*

We simulate the scenario with the plan's beds per provider and year as capacity (as the
afbouw plan itself is verified, :func:`.plan.plan_capacity`), many times with independent
random streams (replications), from the 0-meting onwards. Every replication is one
possible history of the region; from its stays we compute, per care form and quarter,

``occupied``
    the time-average number of occupied beds over the quarter (blocked beds included,
    young people above the beds included): the exact integral of the stays, no sampling;
``admissions``
    the stays started in the quarter (instroom from home and doorstroom from other
    forms, and moves to another place of the same form);
``waiting``
    the young people on the waiting list at the end of the quarter (at home or in a bed
    of another form), as ``waiting_at_year_end`` in :mod:`capaciteit.simulation.kpis`.

The band is the spread of these per-replication values: from the 2.5% to the 97.5%
quantile across replications (and 25%-75% for the darker middle of the fan chart). It is
a **prediction band across replications**, not a confidence interval of a mean: it holds
about 95% of single quarters the model produces, which is what one realised quarter is
compared with. A confidence interval of the mean would shrink with more replications and
call every normal quarter off course; the prediction band only becomes more precise.

What the band does not contain: uncertainty in the model's inputs (instroom, length of
stay, routing). A quarter outside the band says that reality differs from the model *with
the plan's beds*; the reason may be the plan (other beds), the region (more referrals) or
the model (inputs to recalibrate), and the report says which figures differ.

Quantiles from ``R`` replications are themselves estimates; with the default 200
replications the 2.5% quantile rests on about five values below it. Fewer than
:data:`MIN_REPLICATIONS` are refused.

Only the years up to the last quarter asked for are simulated: stays before a moment do
not depend on what comes after it (arrivals are drawn per month in order), so the result
is the same as from the whole horizon, only faster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit._pandas import as_int
from capaciteit.core.intervals import area, count_at
from capaciteit.domain.scenario import Scenario
from capaciteit.realisation.plan import plan_capacity
from capaciteit.realisation.quarters import Quarter
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.executors import Executor, SerialExecutor
from capaciteit.simulation.replications import replication_seeds
from capaciteit.simulation.spec import SimSpec, compile_spec

MEASURES = ("occupied", "admissions", "waiting")
"""What is compared per care form and quarter (see the module docstring)."""
MEASURES_NL = {"occupied": "bezet", "admissions": "instroom", "waiting": "wachtlijst"}
DEFAULT_REPLICATIONS = 200
MIN_REPLICATIONS = 20
QUANTILES = {"low": 0.025, "q25": 0.25, "median": 0.5, "q75": 0.75, "high": 0.975}
"""Column suffixes of the band table and their quantile: ``low``-``high`` is the band."""


@dataclass(frozen=True)
class Band:
    """The simulated band per care form and quarter.

    Attributes
    ----------
    table
        Indexed by ``(care_form, quarter)`` (quarter as ``2025-K1``). For each measure
        ``m`` of :data:`MEASURES`: ``m_mean`` and the quantiles ``m_low`` (2.5%),
        ``m_q25``, ``m_median``, ``m_q75``, ``m_high`` (97.5%) across replications; and
        ``beds``, the plan's beds of the form that year as simulated, and
        ``replications``.
    values
        Per-replication values, shape ``(replications, care forms, quarters, measures)``
        in the order of :attr:`forms`, :attr:`quarters` and :data:`MEASURES`.
    """

    table: pd.DataFrame
    values: np.ndarray
    forms: list[str]
    quarters: list[Quarter]
    replications: int
    seed: int


def until_year(spec: SimSpec, last_year: int) -> SimSpec:
    """Return ``spec`` cut after ``last_year``: the same run up to then, nothing after."""
    if last_year >= spec.end_year:
        return spec
    years = [y for y in spec.years if y <= last_year]
    end_day = float(spec.year_start_day.loc[last_year + 1])
    segments = spec.arrival_segments[spec.arrival_segments["start_day"] < end_day]
    return dataclasses.replace(
        spec,
        end_year=last_year,
        year_start_day=spec.year_start_day.loc[[*years, last_year + 1]],
        arrival_segments=segments.reset_index(drop=True),
        los_factor=spec.los_factor[years],
        los_pair_factor=spec.los_pair_factor[years]
        if not spec.los_pair_factor.empty
        else spec.los_pair_factor,
        capacity=spec.capacity[years],
    )


def quarter_values(stays: pd.DataFrame, forms: Sequence[str], windows: np.ndarray) -> np.ndarray:
    """Occupied beds, admissions and waiting list per care form and window, of one run.

    ``stays`` is :func:`~capaciteit.simulation.engine.simulate_stays`'s table, ``windows``
    an array of ``[a, b)`` day windows (shape ``(quarters, 2)``). Returns an array of shape
    ``(len(forms), quarters, 3)`` in the order of :data:`MEASURES`.
    """
    out = np.zeros((len(forms), len(windows), len(MEASURES)))
    a, b = windows[:, 0], windows[:, 1]
    codes = stays["care_form"].astype(str).to_numpy()
    start_all = stays["start_day"].to_numpy(dtype="float64")
    end_all = stays["end_day"].to_numpy(dtype="float64")
    requested_all = stays["requested_day"].to_numpy(dtype="float64")
    for f, form in enumerate(forms):
        m = codes == form
        start, end, requested = start_all[m], end_all[m], requested_all[m]
        admitted = ~np.isnan(start)
        bed_end = np.where(np.isnan(end), np.inf, end)
        s, e = start[admitted], bed_end[admitted]
        out[f, :, 0] = (area(s, e, b) - area(s, e, a)) / (b - a)
        ordered = np.sort(s)
        out[f, :, 1] = np.searchsorted(ordered, b, "left") - np.searchsorted(ordered, a, "left")
        wait_end = np.where(admitted, start, bed_end)
        out[f, :, 2] = count_at(requested, wait_end, b - 1e-9)
    return out


def _replication(
    spec: SimSpec, seed: np.random.SeedSequence, forms: list[str], windows: np.ndarray
) -> np.ndarray:
    """One replication's quarter values (a module function, so that processes can run it)."""
    return quarter_values(simulate_stays(spec, seed), forms, windows)


def band_spec(scenario: Scenario, plan: pd.DataFrame, quarters: Sequence[Quarter]) -> SimSpec:
    """Compile ``scenario`` with the plan's beds, cut after the last quarter asked for."""
    spec = plan_capacity(plan, compile_spec(scenario), scenario)
    return until_year(spec, max(q.year for q in quarters))


def simulate_band(
    scenario: Scenario,
    plan: pd.DataFrame,
    quarters: Sequence[Quarter],
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> Band:
    """Simulate ``scenario`` with the plan's beds; return the band per form and quarter.

    ``quarters`` must lie inside the scenario's horizon; ``replications`` defaults to
    :data:`DEFAULT_REPLICATIONS` (at least :data:`MIN_REPLICATIONS`), ``seed`` to the
    scenario's. The same seed gives the same band on every executor. ``progress(k)`` is
    called after each replication.
    """
    wanted = sorted(set(quarters))
    outside = [q.label for q in wanted if q.year not in scenario.years]
    if outside:
        raise ValueError(f"quarters outside the scenario's horizon: {outside}")
    count = replications or DEFAULT_REPLICATIONS
    if count < MIN_REPLICATIONS:
        raise ValueError(f"a band needs at least {MIN_REPLICATIONS} replications, not {count}")
    chosen_seed = scenario.seed if seed is None else seed
    spec = band_spec(scenario, plan, wanted)
    forms = [str(f) for f in spec.care_forms.index]
    windows = np.array([q.window(spec.start_year) for q in wanted])
    runner = executor or SerialExecutor()
    seeds = replication_seeds(chosen_seed, count)
    outputs = runner.map(_replication, [(spec, s, forms, windows) for s in seeds], progress)
    values = np.stack(outputs)
    return Band(
        table=band_table(values, forms, wanted, spec),
        values=values,
        forms=forms,
        quarters=wanted,
        replications=count,
        seed=chosen_seed,
    )


def band_table(
    values: np.ndarray, forms: Sequence[str], quarters: Sequence[Quarter], spec: SimSpec
) -> pd.DataFrame:
    """Summarise per-replication values (see :attr:`Band.table`)."""
    beds = spec.capacity.groupby(level="care_form").sum()
    rows = []
    for f, form in enumerate(forms):
        for k, quarter in enumerate(quarters):
            row: dict[str, object] = {"care_form": form, "quarter": quarter.label}
            for j, measure in enumerate(MEASURES):
                sample = values[:, f, k, j]
                row[f"{measure}_mean"] = float(sample.mean())
                for suffix, q in QUANTILES.items():
                    row[f"{measure}_{suffix}"] = float(np.quantile(sample, q))
            row["beds"] = as_int(beds.at[form, quarter.year]) if form in beds.index else 0
            row["replications"] = values.shape[0]
            rows.append(row)
    return pd.DataFrame(rows).set_index(["care_form", "quarter"])
