"""Backtest: whether the calibrated model would have predicted what happened next.

Idea
----
A model that reproduces the past it was fitted on proves little. The backtest cuts the
records at a day T (1 January), calibrates on what was known then
(:meth:`~capaciteit.io.records.StayRecords.until`), and simulates the following quarters
**from the real state at T**: the young people in care at T, each in their own bed with
the time already spent there (their remaining stays are drawn conditional on it, so a
child three years into foster care is not treated like a new one), and, when referral
dates tell, the young people waiting at T for a form that was full
(:func:`waiting_for_a_bed`). Per care form and quarter the prediction
band across replications (2.5%-97.5%, as in :mod:`capaciteit.realisation.band`) is then
set against what the records show happened: the time-average number in care, the stays
started (instroom and doorstroom) and, with referral dates, the waiting list at the end
of the quarter.

Two figures summarise it: the **coverage** (the share of form-quarters whose realised
value lies inside the band; about 95% when the model is right) and the **mean absolute
percentage error** of the predicted mean. The band holds the chance in referrals and
stays and, by default, the uncertainty of the estimated referral rates and mean stays
(each replication draws its own from their spread); the routing shares and the shape of
the stays are taken as estimated, so coverage can stay somewhat below 95% even for a
correct model. A trend the model does not have (instroom growing every year) shows as a
run of quarters on one side of the band.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capaciteit.calibration.estimate import calibrate, default_window_start
from capaciteit.calibration.figures import DAYS_PER_YEAR
from capaciteit.calibration.model import Calibration
from capaciteit.calibration.write import write_calibrated_model
from capaciteit.core import nl
from capaciteit.domain.model import RegionModel
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.model_writer import write_scenario_file
from capaciteit.io.records import StayRecords
from capaciteit.io.scenario_files import load_scenario
from capaciteit.realisation.band import MEASURES, QUANTILES, quarter_values
from capaciteit.realisation.quarters import Quarter
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.executors import Executor, SerialExecutor
from capaciteit.simulation.replications import replication_seeds
from capaciteit.simulation.spec import SimSpec, compile_spec

MIN_QUARTERS, MAX_QUARTERS = 4, 8
DEFAULT_REPLICATIONS = 100
MIN_REPLICATIONS = 20


@dataclass(frozen=True)
class Backtest:
    """A backtest's outcome.

    Attributes
    ----------
    table
        One row per care form, quarter and measure (``occupied``, ``admissions``,
        ``waiting``): ``predicted`` (mean over replications), ``low``/``high`` (the 95%
        prediction band), ``q25``/``q75``, ``realised`` (NaN where the records cannot
        tell: waiting without referral dates, quarters after the extract), ``inside``
        and ``ape`` (absolute percentage error; NaN when the realised value is 0).
    coverage
        Per measure and ``alle``: ``cells`` compared, ``inside``, ``coverage`` (share) and
        ``mape``.
    calibration
        The calibration made on the records up to :attr:`cut`.
    """

    table: pd.DataFrame
    coverage: pd.DataFrame
    calibration: Calibration
    model: RegionModel
    cut: dt.date
    quarters: list[Quarter]
    replications: int
    seed: int
    occupants: int
    waiting: int
    waiting_not_for_a_bed: int = 0


def _replication(
    spec: SimSpec,
    seed: np.random.SeedSequence,
    forms: list[str],
    windows: np.ndarray,
    instroom_factor: np.ndarray,
    los_factor: np.ndarray,
) -> np.ndarray:
    """One replication's quarter values, with this replication's draw of the parameters.

    ``instroom_factor`` and ``los_factor`` (one per form) multiply the estimated referral
    rate and mean stay. A module function, so that processes can run it.
    """
    segments = spec.arrival_segments.copy()
    by_form = dict(zip(forms, instroom_factor.tolist(), strict=True))
    segments["children_per_day"] = segments["children_per_day"] * segments["care_form"].map(
        by_form
    ).astype("float64")
    los = spec.los_factor.mul(pd.Series(los_factor, index=forms), axis=0)
    drawn = dataclasses.replace(spec, arrival_segments=segments, los_factor=los)
    return quarter_values(simulate_stays(drawn, seed), forms, windows)


def parameter_draws(
    calibration: Calibration, forms: list[str], replications: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each replication's referral rate and mean stay from their estimates' spread.

    The referral rate of a form is Poisson: given ``n`` entries in an exposure ``t`` its
    spread is Gamma(n + 1/2, 1/t) (the Jeffreys posterior); the mean stay's is lognormal
    with the width of its 95% interval. Both are returned as factors on the estimate
    (shape ``(replications, forms)``); a number without an interval keeps factor 1. The
    draws come from their own stream, so the replications' random numbers stay as they
    are without them.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA11B]))
    e = calibration.estimates
    instroom = np.ones((replications, len(forms)))
    los = np.ones((replications, len(forms)))
    z = 1.959963984540054
    for f, form in enumerate(forms):
        rows = e[(e["quantity"] == "instroom") & (e["care_form"] == form)].dropna(
            subset=["estimate"]
        )
        written = calibration.tables["instroom"]
        single = int((written["care_form"] == form).sum()) == 1
        chosen = rows[rows["key"] == "alle jaren"] if single else rows[rows["key"] != "alle jaren"]
        if len(chosen) and float(chosen.iloc[-1]["estimate"]) > 0:
            row = chosen.iloc[-1]
            count, rate = float(row["n"]), float(row["estimate"])
            exposure = count / rate
            instroom[:, f] = rng.gamma(count + 0.5, 1.0 / exposure, replications) / rate
        stay = e[(e["quantity"] == "los_mean") & (e["care_form"] == form)].dropna(
            subset=["low", "high"]
        )
        if len(stay) and float(stay.iloc[0]["low"]) > 0:
            low, high = float(stay.iloc[0]["low"]), float(stay.iloc[0]["high"])
            sd = (math.log(high) - math.log(low)) / (2 * z)
            los[:, f] = np.exp(rng.normal(0.0, sd, replications))
    return instroom, los


def backtest(
    records: StayRecords,
    cut: dt.date,
    work_dir: Path,
    *,
    quarters: int = MAX_QUARTERS,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 1,
    window_start: dt.date | None = None,
    beds: pd.DataFrame | None = None,
    base: RegionModel | None = None,
    parameter_uncertainty: bool = True,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> Backtest:
    """Calibrate on the records before ``cut`` and compare the next quarters' prediction.

    ``cut`` must be a 1 January inside the records; ``work_dir`` receives the calibrated
    model (``model/``) and the scenario used. ``beds`` is the 0-meting at ``cut`` (else
    the highest occupancy of the year before). With ``parameter_uncertainty`` every
    replication draws its own referral rates and mean stays from their estimates' spread
    (:func:`parameter_draws`), so the band holds what the records could not pin down as
    well as chance. The same seed gives the same backtest on every executor.
    """
    if (cut.month, cut.day) != (1, 1):
        raise ValueError("the backtest starts on 1 January")
    if not MIN_QUARTERS <= quarters <= MAX_QUARTERS:
        raise ValueError(f"quarters must be {MIN_QUARTERS}..{MAX_QUARTERS}")
    if replications < MIN_REPLICATIONS:
        raise ValueError(f"at least {MIN_REPLICATIONS} replications")
    # the window is the whole extract's: records cut at T have no stay ending before T, so
    # their own default would reach back to the earliest start of the survivors
    start = window_start if window_start is not None else default_window_start(records)
    if not start < cut:
        raise InvalidInputError(
            "De opdracht",
            [
                Problem(
                    "--knip",
                    f"{nl.date(cut)} is niet na het begin van het waarnemingsvenster "
                    f"({nl.date(start)}): voor de knip is niets gezien om op te kalibreren.",
                    f"Kies 1 januari van een later jaar, bijvoorbeeld {start.year + 1}-01-01.",
                )
            ],
        )
    known = records.until(cut)
    calibration = calibrate(
        known,
        window_start=start,
        zero_date=known.extract_date,
        beds=beds,
        base=base,
        seed=seed,
    )
    model = write_calibrated_model(
        calibration, work_dir / "model", name="Backtest", source=f"{records.file} tot {cut}"
    )
    wanted = [Quarter(cut.year, 1)]
    while len(wanted) < quarters:
        wanted.append(wanted[-1].next())
    scenario_path = write_scenario_file(
        work_dir / "scenario.yaml",
        work_dir / "model",
        start_year=cut.year,
        end_year=wanted[-1].year,
        replications=replications,
        seed=seed,
        warm_up_days=0.0,
        initial_state="occupied",
        name=f"Backtest vanaf {cut.isoformat()}",
    )
    scenario = load_scenario(scenario_path)
    occupants = initial_occupants(known, cut)
    compiled = compile_spec(scenario)
    referred = initial_waiting(records, cut)
    waiting = waiting_for_a_bed(referred, occupants, compiled.capacity[cut.year])
    spec = dataclasses.replace(
        compiled,
        initial_occupants=occupants,
        initial_waiting=waiting if int(waiting.sum()) > 0 else None,
    )
    forms = [str(f) for f in spec.care_forms.index]
    windows = np.array([q.window(cut.year) for q in wanted])
    runner = executor or SerialExecutor()
    seeds = replication_seeds(seed, replications)
    if parameter_uncertainty:
        instroom, los = parameter_draws(calibration, forms, replications, seed)
    else:
        instroom = los = np.ones((replications, len(forms)))
    tasks = [(spec, s, forms, windows, instroom[r], los[r]) for r, s in enumerate(seeds)]
    outputs = runner.map(_replication, tasks, progress)
    values = np.stack(outputs)
    realised = realised_values(records, forms, wanted)
    table = _table(values, realised, forms, wanted)
    return Backtest(
        table=table,
        coverage=_coverage(table),
        calibration=calibration,
        model=model,
        cut=cut,
        quarters=wanted,
        replications=replications,
        seed=seed,
        occupants=len(occupants),
        waiting=int(waiting.sum()),
        waiting_not_for_a_bed=int(referred.sum()) - int(waiting.sum()),
    )


def initial_occupants(known: StayRecords, cut: dt.date) -> pd.DataFrame:
    """List the young people in care at the start of ``cut``, with the time already spent."""
    stays = known.stays
    day = pd.Timestamp(cut)
    ongoing = stays[stays["end"].isna() & (stays["start"] < day)]
    elapsed = (day - ongoing["start"]).dt.days.astype("float64")
    return pd.DataFrame(
        {
            "care_form": ongoing["care_form"].to_numpy(),
            "provider": ongoing["provider"].to_numpy(),
            "elapsed_days": elapsed.to_numpy(),
            "age_years": (ongoing["age_at_start_years"] + elapsed / DAYS_PER_YEAR).to_numpy(),
        }
    )


def initial_waiting(records: StayRecords, cut: dt.date) -> pd.Series:
    """Count per form the young people referred before ``cut`` whose stay began later."""
    stays = records.stays
    day = pd.Timestamp(cut)
    waiting = stays[(stays["referral"] < day) & (stays["start"] >= day)]
    return waiting.groupby("care_form").size().astype("int64")


def waiting_for_a_bed(referred: pd.Series, occupants: pd.DataFrame, beds: pd.Series) -> pd.Series:
    """Keep the waiting list of the forms that were full at the cut.

    The model lets a young person wait only for a bed: with a bed free, a referral is
    placed at once. Referred young people whose stay had not begun at the cut while their
    form had beds free were waiting for something else (a match, an intake), which the
    model does not have; placing them all on the first day would count them on top of
    the instroom, which already holds their later starts. They are left out (and counted
    in :attr:`Backtest.waiting_not_for_a_bed`).
    """
    in_care = occupants.groupby("care_form").size()
    total_beds = beds.groupby(level="care_form").sum()
    full = [
        str(form)
        for form in referred.index
        if int(in_care.get(form, 0)) >= int(total_beds.get(form, 0))
    ]
    return referred[referred.index.isin(full)].astype("int64")


def realised_values(records: StayRecords, forms: list[str], quarters: list[Quarter]) -> np.ndarray:
    """Count what the records show per form and quarter: ``(forms, quarters, measures)``.

    Occupied is the time-average number in care over the quarter (stays counted per day
    from their start day up to, not including, their end day), admissions the stays
    started in it, waiting the referrals not yet started at its last day. A quarter that
    ends after the extract date is NaN (not yet known). Waiting is NaN for a form whose
    stays have no referral dates, and for a quarter that ends less than the form's longest
    usual wait (95th percentile of referral to start) before the extract date: who was
    still waiting then may have no stay in the extract yet, so the list would be short.
    """
    stays = records.stays
    extract = pd.Timestamp(records.extract_date)
    out = np.full((len(forms), len(quarters), len(MEASURES)), math.nan)
    for f, form in enumerate(forms):
        mine = stays[stays["care_form"] == form]
        start = mine["start"]
        end = mine["end"].fillna(extract + pd.Timedelta(days=1))
        waits = (mine["start"] - mine["referral"]).dt.days.dropna()
        known_until = (
            extract - pd.Timedelta(days=float(np.quantile(waits, 0.95))) if len(waits) else None
        )
        for k, quarter in enumerate(quarters):
            a, b = pd.Timestamp(quarter.first_day), pd.Timestamp(quarter.next_first_day)
            if b - pd.Timedelta(days=1) > extract:
                continue
            lo = start.where(start > a, a)
            hi = end.where(end < b, b)
            days = (hi - lo).dt.days.clip(lower=0)
            out[f, k, 0] = float(days.sum()) / (b - a).days
            out[f, k, 1] = float(((start >= a) & (start < b)).sum())
            last = b - pd.Timedelta(days=1)
            if known_until is not None and last <= known_until:
                out[f, k, 2] = float(((mine["referral"] <= last) & (mine["start"] > last)).sum())
    return out


def _table(
    values: np.ndarray, realised: np.ndarray, forms: list[str], quarters: list[Quarter]
) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for f, form in enumerate(forms):
        for k, quarter in enumerate(quarters):
            for j, measure in enumerate(MEASURES):
                sample = values[:, f, k, j]
                low, q25, q75, high = np.quantile(
                    sample,
                    [QUANTILES["low"], QUANTILES["q25"], QUANTILES["q75"], QUANTILES["high"]],
                )
                actual = float(realised[f, k, j])
                predicted = float(sample.mean())
                known = not math.isnan(actual)
                rows.append(
                    {
                        "care_form": form,
                        "quarter": quarter.label,
                        "measure": measure,
                        "predicted": predicted,
                        "low": float(low),
                        "q25": float(q25),
                        "q75": float(q75),
                        "high": float(high),
                        "realised": actual,
                        # whole counts against a band of averages: the band's bounds are
                        # rounded outwards for admissions and waiting, as in realisation
                        # unknown where nothing was realised yet: not a miss
                        "inside": _inside(measure, actual, float(low), float(high))
                        if known
                        else pd.NA,
                        "ape": abs(predicted - actual) / actual
                        if known and actual > 0
                        else math.nan,
                    }
                )
    table = pd.DataFrame(rows)
    table["inside"] = table["inside"].astype("boolean")
    return table


def _inside(measure: str, actual: float, low: float, high: float) -> bool:
    if measure == "occupied":
        return low - 1e-9 <= actual <= high + 1e-9
    return math.floor(low + 1e-9) <= actual <= math.ceil(high - 1e-9)


def _coverage(table: pd.DataFrame) -> pd.DataFrame:
    known = table[table["realised"].notna()]
    rows = []
    for measure, group in [*known.groupby("measure", sort=False), ("alle", known)]:
        rows.append(
            {
                "measure": measure,
                "cells": len(group),
                "inside": int(group["inside"].sum()),
                "coverage": float(group["inside"].mean()) if len(group) else math.nan,
                "mape": float(group["ape"].mean()) if group["ape"].notna().any() else math.nan,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "Backtest",
    "backtest",
    "initial_occupants",
    "initial_waiting",
    "realised_values",
    "waiting_for_a_bed",
]
