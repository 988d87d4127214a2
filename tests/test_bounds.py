"""No impossible figure: every KPI and judged norm stays within what it can be.

Random small models (every waiting policy, beds that go to 0 in some years, 0-meting
occupants above the first year's beds, any routing with a way out) are simulated for a few
replications and summarised; shares must lie in [0, 1], counts and amounts must not be
negative, an interval must contain its mean, and a verdict must follow from the interval
and the norm. The interval functions of :mod:`capaciteit.core.stats` are checked directly,
and the coverage of :func:`~capaciteit.core.stats.share` by simulation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy import stats

from capaciteit.core.stats import confidence_interval, share, wilson
from capaciteit.domain.norms import OCCUPANCY, norms_of
from capaciteit.domain.scenario import Scenario
from capaciteit.io.model_writer import write_model_dir
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation.judge import judge_norms
from capaciteit.simulation.kpis import KPI_COLUMNS, SHARES, summarise
from capaciteit.simulation.measures import StayColumns, occupancy
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import compile_spec

YEARS = (2023, 2024, 2025)
PROVIDERS = ("P1", "P2")
SINK_CHOICES = ("thuis", "zelfstandig", "wlz", "ambulant")


# --------------------------------------------------------------------------- random models
@st.composite
def scenarios(draw: st.DrawFn, n_years: int = 3) -> dict[str, Any]:
    """Model tables and a scenario (as plain data) of a random small region."""
    n_forms = draw(st.integers(1, 3))
    forms = [f"f{i}" for i in range(n_forms)]
    with_occupied = draw(st.booleans())
    with_age = draw(st.booleans())
    care_forms, beds, instroom, los, routing, costs, age, observed = [], [], [], [], [], [], [], []
    bed_changes, service_levels = [], {}
    for fid in forms:
        policy = draw(st.sampled_from(["queue", "block", "overflow"]))
        row: dict[str, Any] = {
            "care_form": fid,
            "name": fid.upper(),
            "waiting_policy": policy,
            "priority": draw(st.integers(0, 2)),
            "funding": draw(st.sampled_from(["occupancy", "availability"])),
            "sibling_group_share": draw(st.sampled_from([0, 0.3])),
            "sibling_group_size": draw(st.integers(2, 3)),
        }
        if policy == "overflow":
            row["max_wait_days"] = draw(st.sampled_from([0, 0.5, 1, 14]))
        if draw(st.booleans()):
            row["max_queue_length"] = draw(st.integers(0, 4))
        max_stay = draw(st.sampled_from([None, 5, 28, 200]))
        if max_stay is not None:
            row["max_stay_days"] = max_stay
        max_age = draw(st.sampled_from([18, 21]))
        row["max_age_years"] = max_age
        row["age_out_to"] = draw(st.sampled_from(SINK_CHOICES))
        care_forms.append(row)
        if with_age:
            low = draw(st.integers(0, 16))
            high = draw(st.integers(low + 1, max_age))
            age.append({"care_form": fid, "age_min_years": low, "age_max_years": high, "share": 1})
        for p in PROVIDERS[: draw(st.integers(1, 2))]:
            base = draw(st.integers(0, 4))
            bed_row: dict[str, Any] = {"provider": p, "care_form": fid, "beds": base}
            if with_occupied:
                bed_row["occupied"] = draw(st.integers(0, base))
            beds.append(bed_row)
            # beds per year; 0 in some years, and below the 0-meting in the first
            previous = base
            for year in YEARS[:n_years]:
                target = draw(st.sampled_from([previous, previous, 0, 1, 3, 5]))
                if target != previous:
                    bed_changes.append(
                        {
                            "year": year,
                            "provider": p,
                            "care_form": fid,
                            "change_beds": target - previous,
                        }
                    )
                previous = target
        for year in YEARS[: draw(st.integers(1, n_years))]:
            rate = draw(st.sampled_from([0, 10, 40, 150]))
            instroom.append({"care_form": fid, "year": year, "arrivals_per_year": rate})
        dist = draw(st.sampled_from(["exponential", "gamma", "lognormal", "empirical"]))
        if dist == "empirical":
            los.append({"care_form": fid, "distribution": dist})
            for x in draw(st.lists(st.sampled_from([0.5, 3, 20, 90, 400]), min_size=2, max_size=6)):
                observed.append({"care_form": fid, "los_days": x})
        else:
            los.append(
                {
                    "care_form": fid,
                    "distribution": dist,
                    "mean_days": draw(st.sampled_from([1, 7, 30, 200])),
                    "cv": None if dist == "exponential" else draw(st.sampled_from([0.5, 1.5])),
                }
            )
        # any form, itself included; always a way out
        targets = [*forms, draw(st.sampled_from(SINK_CHOICES))]
        weights = [draw(st.integers(0, 3)) for _ in targets]
        weights[-1] += 1
        for t, w in zip(targets, weights, strict=True):
            if w:
                routing.append({"from_care_form": fid, "to": t, "share": w / sum(weights)})
        costs.append({"care_form": fid, "provider": "", "cost_per_bed_day_eur": 100})
        level: dict[str, float | None] = {
            "placed_within_days": draw(st.sampled_from([0.5, 1, 7, 28])),
            "placed_share_min": draw(st.sampled_from([0.5, 0.8, 0.95])),
            "refused_share_max": draw(st.sampled_from([None, 0.05, 0.5])),
            "max_occupancy": draw(st.sampled_from([None, 0.85, 1.0])),
        }
        if max_stay is not None:
            level["stays_over_max_share_max"] = draw(st.sampled_from([0.1, 0.5]))
        service_levels[fid] = level
    tables: dict[str, Any] = {
        "care_forms": care_forms,
        "providers": [{"provider": p, "name": p} for p in PROVIDERS],
        "beds": beds,
        "instroom": instroom,
        "los": los,
        "routing": routing,
        "costs": costs,
    }
    if age:
        tables["age"] = age
    if observed:
        tables["los_observed"] = observed
    scenario = {
        "schema_version": 1,
        "name": "Willekeurig",
        "horizon": {"start_year": YEARS[0], "end_year": YEARS[n_years - 1]},
        "replications": 3,
        "seed": draw(st.integers(0, 2**31)),
        "warm_up_days": draw(st.sampled_from([0, 30])),
        "initial_state": "occupied" if with_occupied else "empty",
        "levers": {"bed_changes": bed_changes},
        "service_levels": service_levels,
    }
    return {"tables": tables, "scenario": scenario}


def load_case(case: dict[str, Any], tmp: Path) -> Scenario:
    """Write the model and scenario files and load them through the real loader."""
    model = write_model_dir(tmp / "model", case["tables"])
    data = {**case["scenario"], "model": str(model.resolve())}
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


# --------------------------------------------------------------------------- KPIs and norms
COUNTS = [k for k in KPI_COLUMNS if k not in SHARES]
MUST_EXIST = (
    "capacity_beds",
    "occupied_beds",
    "over_capacity_beds",
    "requests",
    "admissions",
    "overflow_count",
    "waiting_at_year_end",
    "aged_out_waiting_count",
    "waiting_mean",
    "blocked_bed_days",
    "cost_eur",
)
ULP = 1e-15  # see test_occupancy_rate_never_exceeds_one


def check_summary(summary: pd.DataFrame, replications: int) -> None:
    for rec in summary.to_dict(orient="records"):
        kpi, mean, low, high = rec["kpi"], rec["mean"], rec["ci_low"], rec["ci_high"]
        where = (rec["care_form"], rec["year"], kpi, mean, low, high)
        if kpi in MUST_EXIST:
            assert not math.isnan(mean), where
            assert rec["replications"] == replications, where
        if kpi == "capacity_beds":
            assert math.isnan(low) and math.isnan(high), where
        elif kpi in MUST_EXIST and replications >= 2:
            assert not math.isnan(low) and not math.isnan(high), where
        if kpi in SHARES:
            for x in (mean, low, high):
                assert math.isnan(x) or 0 <= x <= 1, where
        else:
            for x in (mean, low, high):
                assert math.isnan(x) or x >= 0, where
        if not math.isnan(low) or not math.isnan(high):
            assert not math.isnan(low) and not math.isnan(high), where
            assert low <= mean <= high, where
        if math.isnan(mean):
            assert math.isnan(low) and math.isnan(high), where


def expected_verdict(kind: str, target: float, mean: float, low: float, high: float) -> str:
    if math.isnan(mean):
        return "no_data"
    if math.isnan(low):
        low = high = mean
    if kind == "min":
        return "met" if low >= target else ("missed" if high < target else "undecided")
    return "met" if high <= target else ("missed" if low > target else "undecided")


def check_judged(
    judged: pd.DataFrame,
    scenario: Scenario,
    beds: pd.DataFrame,
    every_replication_has_stays: bool,
) -> None:
    norms = norms_of(scenario)
    assert len(judged) == len(norms) * len(scenario.years)
    for rec in judged.to_dict(orient="records"):
        mean, low, high = rec["mean"], rec["ci_low"], rec["ci_high"]
        where = (rec["care_form"], rec["year"], rec["measure"], mean, low, high, rec["verdict"])
        for x in (mean, low, high):
            assert math.isnan(x) or 0 <= x <= 1, where
        if not math.isnan(low):
            assert low <= mean <= high, where
        assert rec["verdict"] in ("met", "missed", "undecided", "no_data"), where
        assert rec["verdict"] == expected_verdict(rec["kind"], rec["target"], mean, low, high)
        assert rec["met"] == (rec["verdict"] in ("met", "no_data"))
        assert rec["significantly_missed"] == (rec["verdict"] == "missed")
        n_beds = int(beds.at[rec["care_form"], rec["year"]])
        assert rec["beds"] == n_beds
        if rec["measure"] == OCCUPANCY and every_replication_has_stays:
            # an occupancy exists exactly when there are beds (a replication with no stay at
            # all is test_judged_occupancy_counts_replications_without_stays, a known bug)
            assert (rec["verdict"] == "no_data") == (n_beds == 0), where


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=scenarios(), replications=st.integers(2, 3))
def test_no_impossible_figure(
    case: dict[str, Any], replications: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scenario = load_case(case, tmp_path_factory.mktemp("bounds"))
    spec = compile_spec(scenario)
    result = run_replications(spec, replications, scenario.seed)
    summary = summarise(result.kpis)
    pd.testing.assert_frame_equal(summary, result.summary)
    check_summary(summary, replications)
    beds = spec.capacity.groupby(level="care_form").sum()
    # per replication too: shares in [0, 1], the rest >= 0, occupancy rate only with beds
    kpis = result.kpis
    for kpi in SHARES:
        values = kpis[kpi].dropna()
        # occupancy_rate can come out a rounding error above 1 (a known bug, strict in
        # test_occupancy_rate_never_exceeds_one); the other shares are exact
        top = 1 + ULP if kpi == "occupancy_rate" else 1
        assert ((values >= 0) & (values <= top)).all(), (kpi, values.max())
    for kpi in COUNTS:
        assert (kpis[kpi].dropna() >= 0).all(), kpi
    assert not kpis[list(MUST_EXIST)].isna().any().any()
    cap = kpis["capacity_beds"]
    assert (kpis["occupancy_rate"].isna() == (cap == 0)).all()
    # what is in a bed is what is within the beds plus what is above them
    within = (kpis["occupancy_rate"] * cap).fillna(0)
    np.testing.assert_allclose(
        kpis["occupied_beds"], within + kpis["over_capacity_beds"], rtol=1e-9, atol=1e-9
    )
    for (fid, year), total in beds.stack().items():
        assert (kpis.xs((fid, year), level=["care_form", "year"])["capacity_beds"] == total).all()
    has_stays = result.stays["replication"].nunique() == replications
    judged = judge_norms(result, norms_of(scenario))
    check_judged(judged, scenario, beds, has_stays)
    if has_stays:
        # the judged occupancy is the occupancy KPI
        occupancy = judged[judged["measure"] == OCCUPANCY]
        kpi = result.kpi("occupancy_rate")
        for rec in occupancy.to_dict(orient="records"):
            expected = kpi.at[(rec["care_form"], rec["year"]), "mean"]
            assert rec["mean"] == pytest.approx(expected, rel=1e-9, nan_ok=True)


# --------------------------------------------------------------------------- known bugs
def test_occupancy_rate_never_exceeds_one() -> None:
    """One bed, one young person from day 0 and another from day 154.3, over [0, 365).

    min(occupied, beds) is 1 all year: the rate is exactly 1. ``occupancy`` gives
    1.0000000000000002 (occupied 1.5772602739726027, above 0.5772602739726027); the same
    number appears as the ``occupancy_rate`` KPI of a replication and as the occupancy norm's
    value in the minimal-beds search, though the module promises it never exceeds 100%.
    """
    nan = math.nan
    stays = StayColumns(
        form=np.zeros(2, dtype=np.int64),
        waited_in=np.full(2, -1, dtype=np.int64),
        initial=np.zeros(2, dtype=bool),
        requested=np.array([0.0, 154.3]),
        start=np.array([0.0, 154.3]),
        service_end=np.array([nan, nan]),
        end=np.array([nan, nan]),
        refused=np.zeros(2, dtype=bool),
    )
    _, rate, _ = occupancy(stays, 1.0, 0.0, 365.0)
    assert rate <= 1.0, repr(rate)


def one_form_case(tmp: Path, arrivals_per_year: float) -> Scenario:
    tables = {
        "care_forms": [{"care_form": "a", "name": "A", "waiting_policy": "queue"}],
        "providers": [{"provider": "P1", "name": "Een"}],
        "beds": [{"provider": "P1", "care_form": "a", "beds": 3}],
        "instroom": [{"care_form": "a", "year": 2023, "arrivals_per_year": arrivals_per_year}],
        "los": [{"care_form": "a", "distribution": "exponential", "mean_days": 100}],
        "routing": [{"from_care_form": "a", "to": "thuis", "share": 1.0}],
        "costs": [{"care_form": "a", "provider": "", "cost_per_bed_day_eur": 100.0}],
    }
    scenario = {
        "schema_version": 1,
        "name": "Leeg",
        "horizon": {"start_year": 2023, "end_year": 2023},
        "seed": 1,
        "warm_up_days": 0,
        "initial_state": "empty",
        "service_levels": {"a": {"max_occupancy": 0.9}},
    }
    return load_case({"tables": tables, "scenario": scenario}, tmp)


def test_judged_occupancy_of_empty_beds_is_zero(tmp_path: Path) -> None:
    """3 beds, no referrals, no 0-meting: the KPI says 0% occupied, the judge 'no_data'."""
    scenario = one_form_case(tmp_path, 0.0)
    result = run_replications(compile_spec(scenario), 2, 1)
    assert result.kpi("occupancy_rate")["mean"].tolist() == [0.0]
    judged = judge_norms(result, norms_of(scenario))
    occupancy_row = judged[judged["measure"] == OCCUPANCY].iloc[0]
    assert occupancy_row["verdict"] == "met", occupancy_row.to_dict()
    assert occupancy_row["mean"] == 0.0


def test_judged_occupancy_counts_replications_without_stays(tmp_path: Path) -> None:
    """1 referral a year, 10 replications: 4 have no stay at all (0% occupied).

    The occupancy KPI averages all 10 (0.0550); the judged occupancy norm only the 6 with
    stays (0.0917), so it judges a different, higher figure than the report shows.
    """
    scenario = one_form_case(tmp_path, 1.0)
    result = run_replications(compile_spec(scenario), 10, 1)
    with_stays = result.stays["replication"].nunique()
    assert with_stays < 10  # the case this test is about
    kpi = result.kpi("occupancy_rate")["mean"].iloc[0]
    judged = judge_norms(result, norms_of(scenario))
    occupancy_row = judged[judged["measure"] == OCCUPANCY].iloc[0]
    assert occupancy_row["mean"] == pytest.approx(kpi, rel=1e-9)


# --------------------------------------------------------------------------- stats
shares_in = st.floats(0, 1, allow_nan=False)
trials_in = st.floats(0.01, 1e7, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(p=shares_in, n=trials_in)
def test_wilson_is_a_share_interval_around_the_share(p: float, n: float) -> None:
    low, high = wilson(p, n)
    assert 0 <= low <= high <= 1
    # at p = 0 or 1 the bound can miss p by a rounding error (strict in the test below)
    assert low - ULP <= p <= high + ULP


@pytest.mark.parametrize(("p", "n"), [(0.0, 7.0), (1.0, 10.0)])
def test_wilson_contains_a_share_of_0_or_1(p: float, n: float) -> None:
    """wilson(0, 7) gives low = 2.8e-17 > 0; wilson(1, 10) gives high = 1 - 1.1e-16 < 1."""
    low, high = wilson(p, n)
    assert low <= p <= high, (low, high)


@settings(max_examples=300, deadline=None)
@given(p=shares_in, n=trials_in, factor=st.floats(1.01, 1000))
def test_wilson_narrows_as_trials_grow(p: float, n: float, factor: float) -> None:
    low1, high1 = wilson(p, n)
    low2, high2 = wilson(p, n * factor)
    assert high2 - low2 <= high1 - low1 + 1e-12


def test_wilson_without_trials_or_share_is_empty() -> None:
    assert all(math.isnan(x) for x in wilson(0.5, 0))
    assert all(math.isnan(x) for x in wilson(math.nan, 10))


def test_wilson_for_p_half_equals_the_normal_interval_with_many_trials() -> None:
    z = stats.norm.ppf(0.975)
    for n in (1e4, 1e5, 1e6):
        low, high = wilson(0.5, n)
        half = z * math.sqrt(0.25 / n)
        assert low == pytest.approx(0.5 - half, abs=half * 1e-3)
        assert high == pytest.approx(0.5 + half, abs=half * 1e-3)


replicated_shares = st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30)


@settings(max_examples=500, deadline=None)
@example(values=[1.0, 1.0 - 2**-53], trials=None, nans=0)  # mean rounds to 1, var > 0
@given(
    values=replicated_shares,
    trials=st.none() | st.floats(0, 1e6),
    nans=st.integers(0, 3),
)
def test_share_stays_in_0_1_and_contains_its_mean(
    values: list[float], trials: float | None, nans: int
) -> None:
    x = np.array([*values, *([math.nan] * nans)])
    est = share(x, trials)
    assert est.n == len(values)
    assert est.mean == pytest.approx(float(np.mean(values)), abs=1e-12)
    assert 0 <= est.mean <= 1
    if len(values) == 1:
        assert math.isnan(est.low) and math.isnan(est.high)
        return
    assert 0 <= est.low <= est.mean <= est.high <= 1
    spread = max(values) - min(values)
    if spread > 1e-9:  # (below, the variance can underflow)
        assert est.high > est.low  # different replications: never a point


def test_share_with_nothing_is_no_data() -> None:
    est = share(np.array([math.nan, math.nan]))
    assert not est.known and est.n == 0 and math.isnan(est.low)


def test_share_of_all_placed_does_not_collapse_when_trials_are_known() -> None:
    """The module's own example: 1,200 requests all placed reads [99.7% - 100%]."""
    est = share(np.ones(20), trials=1200)
    assert est.mean == 1 and est.high == 1
    assert 0.996 < est.low < 0.998


@settings(max_examples=300, deadline=None)
@given(
    r=st.integers(10, 40),
    noise=st.lists(st.floats(-0.02, 0.02), min_size=40, max_size=40),
)
def test_share_equals_the_t_interval_near_one_half(r: int, noise: list[float]) -> None:
    """Far from 0 and 1 and with many effective trials, Wilson on n* is the t-interval."""
    x = 0.5 + np.array(noise[:r])
    est = share(x)
    mean, low, high = confidence_interval(x)
    half = (high - low) / 2
    assert est.mean == pytest.approx(mean, abs=1e-15)
    assert est.low == pytest.approx(low, abs=0.01 * half + 1e-12)
    assert est.high == pytest.approx(high, abs=0.01 * half + 1e-12)


@pytest.mark.parametrize("p", [0.02, 0.5, 0.97])
@pytest.mark.parametrize("with_trials", [False, True])
def test_share_covers_the_true_share(p: float, with_trials: bool) -> None:
    """2,000 experiments of 20 replications, each a binomial share of 50 trials."""
    rng = np.random.default_rng(20240 + int(p * 100) + with_trials)
    experiments, replications, n = 2000, 20, 50
    shares = rng.binomial(n, p, size=(experiments, replications)) / n
    covered = 0
    for values in shares:
        est = share(values, replications * n if with_trials else None)
        assert 0 <= est.low <= est.mean <= est.high <= 1
        covered += est.low <= p <= est.high
    assert covered / experiments >= 0.92, covered / experiments
