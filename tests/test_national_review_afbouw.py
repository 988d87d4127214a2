"""Review of the national afbouw of the pools: every rule of the plan re-checked by hand.

The checker below reads only the input files (``pool_beds.csv``, the scenario's YAML, the
region model's ``los.csv``) and the files the pipeline writes (``pool_capacity.csv``,
``check.csv``, ``minimal_beds.csv``), plus the plans' per-region requests, and checks the
rules the README and ``optimisation/shared_pools.py`` state:

* the minimal beds per pool-year: Erlang B (textbook recursion) on the summed requests
  with the mean stay recomputed from ``los.csv`` and the scenario's ``los_change_pct``
  meets the norm at the formula's beds and misses it one bed fewer;
* every provider-year: whole beds, never above the 0-meting, small-scale (``max_beds``)
  from ``small_scale_from``, at most ``max_change_beds`` up or down a year (from the
  0-meting too), never up again (shrink only), open with ``min_beds_open`` or closed;
* every pool-year: at least the minimal beds, at most the ceiling;
* each region's load (requests a day x mean stay, Little) is assigned in full, and no
  provider is planned fuller than the target occupancy;
* ``pool_capacity.csv`` is the plan and the plan is what the check simulated.

The 42-region example runs with two replications (about half a minute: slow).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from capaciteit.io.national_files import load_national_scenario
from capaciteit.pipelines.national_afbouw import NationalAfbouwRun, plan_national_afbouw
from capaciteit.simulation.executors import SerialExecutor
from tests.national_models import example_pool

ROOT = Path(__file__).resolve().parent.parent


def erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def days_in(year: int) -> int:
    return 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365


def step(levers: dict[int, float], years: list[int]) -> pd.Series:
    """A lever per year: a value holds from its year until the next one given."""
    out, value = {}, 0.0
    for year in years:
        value = float(levers.get(year, value))
        out[year] = value
    return pd.Series(out)


def check_plans(run: NationalAfbouwRun, scenario_file: Path, out: Path, los_file: Path) -> int:
    """Check every rule of every planned pool from the files; return the pool-years checked."""
    spec = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))
    settings = spec.get("pool_afbouw", {})
    norm = float(settings.get("max_refused_share", 0.05))
    max_change = int(settings.get("max_change_beds", 4))
    small_from = int(settings.get("small_scale_from", 2025))
    occupancy = float(settings.get("target_occupancy", 0.85))
    ceilings = {int(y): float(s) for y, s in settings.get("ceiling_share_of_baseline", {}).items()}
    years = list(range(spec["horizon"]["start_year"], spec["horizon"]["end_year"] + 1))
    levers = spec.get("region_levers", {}).get("los_change_pct", {}).get("jeugdzorgplus", {})
    los_table = pd.read_csv(los_file).set_index("care_form")
    los = float(los_table.at["jeugdzorgplus", "mean_days"]) * (1 + step(levers, years) / 100)

    national = (scenario_file.parent / spec["national"]).resolve()
    beds0 = pd.read_csv(national / "pool_beds.csv").set_index(["pool", "provider"])
    if "max_beds" not in beds0.columns:
        beds0["max_beds"] = math.nan
    if "min_beds_open" not in beds0.columns:
        beds0["min_beds_open"] = 0
    capacity = pd.read_csv(out / "pool_capacity.csv")
    check = pd.read_csv(out / "check.csv").set_index(["pool", "year"])
    minimal_file = pd.read_csv(out / "minimal_beds.csv").set_index(["pool", "year"])
    checked = 0
    for item in run.plans:
        pool = item.pool
        requests = item.requests  # mean requests per region (index) and year (columns)
        total = requests.sum(axis=0)
        # minimal beds by the formula, recomputed
        for year in years:
            a = float(total[year]) / days_in(year) * float(los[year])
            row = minimal_file.loc[(pool, year)]
            assert float(row["mean_los_days"]) == pytest.approx(float(los[year]), rel=1e-9)
            assert float(row["offered_load_beds"]) == pytest.approx(a, rel=1e-9)
            c = int(row["formula_beds"])
            assert erlang_b(c, a) <= norm + 1e-12, (pool, year, c, a)
            assert c == 0 or erlang_b(c - 1, a) > norm, (pool, year, c, a)
            assert int(row["beds"]) == c + int(row["extra_beds"])
        providers = beds0.loc[pool]
        total0 = int(providers["beds"].sum())
        plan_years = years[1:]
        planned_rows = capacity[capacity["pool"] == pool]
        if item.plan.beds is None:
            assert item.plan.explanation, pool
            assert planned_rows.empty
            for year in plan_years:
                assert check.at[(pool, year), "beds"] == total0
            continue
        plan = planned_rows.pivot(index="provider", columns="year", values="beds")
        assert sorted(plan.index) == sorted(providers.index), pool
        assert list(plan.columns) == plan_years
        for provider, path in plan.iterrows():
            info = providers.loc[provider]
            before = int(info["beds"])
            cap = int(info["max_beds"]) if not pd.isna(info["max_beds"]) else before
            min_open = int(info["min_beds_open"]) if not pd.isna(info["min_beds_open"]) else 0
            for year in plan_years:
                beds = int(path[year])
                assert 0 <= beds <= int(info["beds"]), (pool, provider, year, beds)
                if year >= small_from:
                    assert beds <= cap, (pool, provider, year, beds, cap)
                assert abs(beds - before) <= max_change, (pool, provider, year, before, beds)
                assert beds <= before, ("shrink only", pool, provider, year, before, beds)
                assert beds == 0 or beds >= min_open, (pool, provider, year, beds, min_open)
                before = beds
        sums = plan.sum(axis=0)
        load = requests.div([days_in(y) for y in requests.columns], axis="columns")
        load = load.mul(los.reindex(requests.columns), axis="columns")
        assignment = item.plan.assignment
        assert assignment is not None
        for year in plan_years:
            assert sums[year] >= int(minimal_file.at[(pool, year), "beds"]), (pool, year)
            if year in ceilings:
                assert sums[year] <= math.floor(ceilings[year] * total0 + 1e-9), (pool, year)
            assert check.at[(pool, year), "beds"] == sums[year]
            refused = float(check.at[(pool, year), "refused_share"])
            assert 0.0 <= refused <= 1.0
            # the load of each region assigned in full (hundredths of a bed), no provider
            # fuller than the target occupancy (whole percent, rounded down)
            of_year = assignment[assignment["year"] == year]
            given = of_year.groupby("region")["beds"].sum().reindex(load.index, fill_value=0.0)
            assert (given - load[year]).abs().max() <= 0.006, (pool, year)
            at = of_year.groupby("provider")["beds"].sum()
            for provider, assigned in at.items():
                limit = math.floor(occupancy * 100 + 1e-9) / 100 * float(plan.at[provider, year])
                assert assigned <= limit + 1e-6, (pool, provider, year, assigned, limit)
            checked += 1
    return checked


def small_scenario(folder: Path) -> Path:
    model = example_pool(folder / "model")
    path = folder / "afbouw.yaml"
    path.write_text(
        f"""schema_version: 1
name: Afbouw JZ+ (review)
national: {model.name}
horizon: {{start_year: 2023, end_year: 2027}}
replications: 3
seed: 11
region_levers:
  instroom_change_pct:
    jeugdzorgplus: {{2024: -40, 2026: -80}}
  los_change_pct:
    jeugdzorgplus: {{2024: -30, 2025: -45, 2027: -60}}
pool_afbouw:
  max_refused_share: 0.10
  ceiling_share_of_baseline: {{2027: 0.7}}
  max_change_beds: 5
  target_occupancy: 0.8
  small_scale_from: 2026
  max_rounds: 2
""",
        encoding="utf-8",
    )
    return path


def test_every_rule_of_a_small_afbouw_plan_holds(tmp_path: Path) -> None:
    file = small_scenario(tmp_path)
    out = tmp_path / "out"
    run = plan_national_afbouw(file, out, executor=SerialExecutor())
    assert check_plans(run, file, out, tmp_path / "model" / "regio" / "los.csv") > 0


def test_pool_capacity_round_trips_through_a_national_scenario(tmp_path: Path) -> None:
    file = small_scenario(tmp_path)
    out = tmp_path / "out"
    plan_national_afbouw(file, out, executor=SerialExecutor())
    written = pd.read_csv(out / "pool_capacity.csv")
    assert not written.empty
    again = load_national_scenario(file, pool_plan=str(out / "pool_capacity.csv"))
    capacity = again.model.pool_capacity
    for row in written.itertuples():
        assert capacity.at[(row.pool, row.provider), row.year] == row.beds
    # the 0-meting before the plan's first year
    beds0 = again.model.pool_beds["beds"]
    assert (capacity[2023] == beds0).all()


@pytest.mark.slow
def test_every_rule_of_the_42_region_afbouw_holds_with_two_replications(tmp_path: Path) -> None:
    file = ROOT / "simulations" / "nederland-afbouw-jeugdzorgplus.yaml"
    out = tmp_path / "out"
    run = plan_national_afbouw(file, out, replications=2, executor=SerialExecutor())
    assert len(run.plans) == 11
    checked = check_plans(run, file, out, ROOT / "models" / "nederland" / "regiomodel" / "los.csv")
    assert checked > 0
