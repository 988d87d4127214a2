"""KPIs and daily tables recounted from the stays by brute force."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capaciteit.core.intervals import area, count_at, mean_count
from capaciteit.core.stats import confidence_interval
from capaciteit.io.scenario_files import load_scenario
from capaciteit.results.tables import daily_occupancy, daily_queues
from capaciteit.results.writer import write_results
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.kpis import replication_kpis
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import compile_spec
from tests.conftest import BASIS, TRANSFORMATIE

intervals = st.lists(
    st.tuples(st.floats(-50, 50), st.floats(0, 30), st.booleans()), min_size=0, max_size=30
)


@settings(max_examples=200, deadline=None)
@given(items=intervals, a=st.floats(-60, 60), width=st.floats(0.01, 40))
def test_interval_integral_matches_brute_force(
    items: list[tuple[float, float, bool]], a: float, width: float
) -> None:
    starts = np.array([s for s, _, _ in items], dtype=float)
    ends = np.array([s + d if closed else np.inf for s, d, closed in items], dtype=float)
    b = a + width
    exact = sum(max(0.0, min(e, b) - max(s, a)) for s, e in zip(starts, ends, strict=True))
    got = float(np.diff(area(starts, ends, np.array([a, b])))[0])
    assert got == pytest.approx(exact, abs=1e-9 * max(1.0, abs(a) + abs(b)) * (len(items) + 1))
    mean = mean_count(starts, ends, np.array([a, b]))[0]
    assert mean == pytest.approx(exact / width, abs=1e-6)
    at = np.array([a])
    assert count_at(starts, ends, at)[0] == sum(
        1 for s, e in zip(starts, ends, strict=True) if s <= a < e
    )


@pytest.fixture(scope="module")
def run() -> tuple:  # type: ignore[type-arg]
    spec = compile_spec(load_scenario(TRANSFORMATIE))
    stays = simulate_stays(spec, np.random.SeedSequence(21))
    stays.insert(0, "replication", 0)
    return spec, stays


def test_kpis_recounted_from_stays(run: tuple) -> None:  # type: ignore[type-arg]
    spec, stays = run
    kpis = replication_kpis(spec, stays)
    year, fid = 2026, "residentieel"
    a, b = spec.year_start_day[year], spec.year_start_day[year + 1]
    s = stays[stays["care_form"] == fid]
    adm = s[s["start_day"].notna()]
    ends = adm["end_day"].fillna(np.inf)
    overlap = (np.minimum(ends, b) - np.maximum(adm["start_day"], a)).clip(lower=0)
    row = kpis.loc[(fid, year)]
    assert row["occupied_beds"] == pytest.approx(overlap.sum() / (b - a))
    tariff = spec.cost_per_bed_day.xs(fid, level="care_form")
    cost = (overlap * adm["provider"].astype(str).map(tariff)).sum()
    assert row["cost_eur"] == pytest.approx(cost)
    assert row["capacity_beds"] == spec.capacity.xs(fid, level="care_form")[year].sum()
    assert row["admissions"] == ((adm["start_day"] >= a) & (adm["start_day"] < b)).sum()
    assert row["requests"] == ((s["requested_day"] >= a) & (s["requested_day"] < b)).sum()
    ended = adm[(adm["end_day"] >= a) & (adm["end_day"] < b)]
    assert row["mean_los_days"] == pytest.approx((ended["end_day"] - ended["start_day"]).mean())
    blocked_overlap = (
        np.minimum(adm["end_day"].fillna(np.inf), b) - np.maximum(adm["service_end_day"], a)
    ).clip(lower=0)
    assert row["blocked_bed_days"] == pytest.approx(blocked_overlap.fillna(0).sum())
    # availability funding: crisis costs beds x days x tariff, occupied or not
    crisis = kpis.loc[("crisis", year)]
    cap = spec.capacity.xs("crisis", level="care_form")[year]
    tariff_c = spec.cost_per_bed_day.xs("crisis", level="care_form")
    assert crisis["cost_eur"] == pytest.approx(((b - a) * cap * tariff_c).sum())
    # overflow and waiting for jeugdzorgplus in 2030 (no beds left)
    jzp = stays[stays["care_form"] == "jeugdzorgplus"]
    a30, b30 = spec.year_start_day[2030], spec.year_start_day[2031]
    resolved = jzp["start_day"].fillna(jzp["end_day"])
    in_year = (resolved >= a30) & (resolved < b30)
    n_over = (in_year & (jzp["outcome"] == "overflow")).sum()
    assert kpis.loc[("jeugdzorgplus", 2030), "overflow_count"] == n_over > 0
    assert kpis.loc[("jeugdzorgplus", 2030), "refused_share"] == pytest.approx(
        n_over / in_year.sum()
    )


def test_waiting_at_year_end_recounted(run: tuple) -> None:  # type: ignore[type-arg]
    spec, stays = run
    kpis = replication_kpis(spec, stays)
    for fid in spec.care_forms.index:
        s = stays[stays["care_form"] == fid]
        for year in spec.years:
            moment = spec.year_start_day[year + 1] - 1e-9
            left = s["start_day"].fillna(s["end_day"]).fillna(np.inf)
            waiting = ((s["requested_day"] <= moment) & (left > moment)).sum()
            assert kpis.loc[(fid, year), "waiting_at_year_end"] == waiting, (fid, year)


def test_daily_occupancy_adds_up_to_the_yearly_kpi(run: tuple) -> None:  # type: ignore[type-arg]
    spec, stays = run
    daily = daily_occupancy(spec, stays, 1)
    kpis = replication_kpis(spec, stays)
    per_day = daily.groupby(["care_form", "date"])["occupied_beds"].sum().reset_index()
    per_day["year"] = per_day["date"].dt.year
    mean = per_day.groupby(["care_form", "year"])["occupied_beds"].mean()
    for (fid, year), value in mean.items():
        assert value == pytest.approx(kpis.loc[(fid, year), "occupied_beds"])
    # on every day occupancy at a provider is a plausible number of beds
    assert (daily["occupied_beds"] >= 0).all()
    queues = daily_queues(spec, stays, 1)
    assert len(queues) == len(daily["date"].unique()) * len(spec.care_forms)


def test_confidence_interval_against_scipy() -> None:
    from scipy import stats

    x = np.array([3.0, 5.0, 4.0, 6.5, 5.5])
    mean, low, high = confidence_interval(x)
    ref = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (low, high) == pytest.approx(ref)
    assert mean == pytest.approx(4.8)
    assert np.isnan(confidence_interval(np.array([2.0]))[1])


def test_written_results(tmp_path: Path) -> None:
    scenario = load_scenario(BASIS, replications=3)
    result = run_replications(compile_spec(scenario), 3, scenario.seed)
    files = write_results(scenario, result, tmp_path)
    summary = json.loads(files["summary"].read_text(encoding="utf-8"))
    assert summary["replications"] == 3 and summary["seed"] == scenario.seed
    cell = summary["kpis"]["pleegzorg"]["2025"]["occupied_beds"]
    assert cell["ci_low"] <= cell["mean"] <= cell["ci_high"]
    assert summary["model"]["baseline_beds"]["residentieel"] == 140
    kpis = pd.read_csv(files["kpis"])
    assert set(kpis["care_form"]) == set(summary["care_form_names"])
    stays = pd.read_csv(files["stays"])
    assert {"waited_days", "blocked_days", "los_days", "next"} <= set(stays.columns)
    assert files["chart"].stat().st_size > 10_000
    parquet = write_results(scenario, result, tmp_path / "pq", fmt="parquet")
    assert pd.read_parquet(parquet["stays"]).shape[0] == stays.shape[0]
