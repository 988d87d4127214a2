"""The afbouw of shared pools end to end: demand, minimal beds, plan, plan simulated again."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from capaciteit.io.national_files import load_national_scenario
from capaciteit.pipelines.national_afbouw import plan_national_afbouw
from capaciteit.simulation.executors import SerialExecutor
from tests.national_models import example_pool


def erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def scenario_file(folder: Path, ceiling: float) -> Path:
    model = example_pool(folder / "model")
    path = folder / "afbouw.yaml"
    path.write_text(
        f"""schema_version: 1
name: Afbouw JZ+
national: {model}
horizon: {{start_year: 2023, end_year: 2026}}
replications: 3
seed: 7
region_levers:
  instroom_change_pct:
    jeugdzorgplus: {{2024: -50, 2025: -70, 2026: -85}}
  los_change_pct:
    jeugdzorgplus: {{2024: -35, 2025: -50, 2026: -60}}
pool_afbouw:
  max_refused_share: 0.10
  ceiling_share_of_baseline: {{2026: {ceiling}}}
  max_change_beds: 6
  small_scale_from: 2026
  max_rounds: 2
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_plan_is_minimal_small_scale_and_simulated_again(tmp_path: Path) -> None:
    file = scenario_file(tmp_path, ceiling=0.9)
    run = plan_national_afbouw(file, tmp_path / "out", executor=SerialExecutor())
    (item,) = run.plans
    assert item.plan.status == "optimal"
    assert item.plan.beds is not None
    # the formula's minimum: Erlang B meets the norm there and misses it one bed lower
    for year, row in item.minimal.iterrows():
        c, a = int(row["formula_beds"]), float(row["offered_load_beds"])
        assert erlang_b(c, a) <= 0.10 + 1e-12, year
        if c > 0:
            assert erlang_b(c - 1, a) > 0.10, year
        assert row["beds"] == c + row["extra_beds"]
    # every planned year keeps at least the minimum, within the 0-meting and small-scale
    planned = item.plan.beds.sum()
    for year in item.problem.years:
        assert planned[year] >= item.minimal.at[year, "beds"]
    assert (item.plan.beds.max(axis=1) <= item.problem.providers["beds"]).all()
    # the plan file is what the check simulated: read it back as a national scenario
    plan = pd.read_csv(tmp_path / "out" / "pool_capacity.csv")
    again = load_national_scenario(file, pool_plan=str(tmp_path / "out" / "pool_capacity.csv"))
    capacity = again.model.pool_capacity.loc["jzp"]
    for row in plan.itertuples():
        assert capacity.at[row.provider, row.year] == row.beds
    check = run.check.set_index("year")
    for year in item.problem.years:
        assert check.at[year, "beds"] == planned[year]
        assert 0 <= check.at[year, "refused_share"] <= 1
    # a person reads the workbook: Dutch sheets, no NaN anywhere
    book = load_workbook(tmp_path / "out" / "afbouw-pools.xlsx")
    assert book.sheetnames == [
        "Toelichting",
        "Per pool",
        "Aanbieders",
        "Kosten",
        "Minimale bedden",
        "Reistijd",
        "Controle",
    ]
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and v.lower() in ("nan", "inf") for v in row)
            assert not any(isinstance(v, float) and v != v for v in row)


@pytest.mark.slow
def test_a_ceiling_below_the_need_is_explained_and_keeps_the_beds(tmp_path: Path) -> None:
    file = scenario_file(tmp_path, ceiling=0.0)
    run = plan_national_afbouw(file, tmp_path / "out", executor=SerialExecutor())
    (item,) = run.plans
    assert item.plan.status == "infeasible"
    assert item.plan.explanation
    assert any("plafond" in line and "2026" in line for line in item.plan.explanation)
    # no plan: the pool keeps its 0-meting (no rows), and the check simulated that
    assert pd.read_csv(tmp_path / "out" / "pool_capacity.csv").empty
    assert (run.check["beds"] == 14).all()
