"""Two afbouw plans compared: read both plan.csv files, line them up, write the differences.

The command-line side of what an ontwikkeltafel sees on the difference page: which cells
change by how many places and euros, totals per care form and year, and, with the
scenario, every target judged in both plans. Writes ``verschillen.csv`` (every changed
cell), ``verschillen_totalen.csv``, ``verschillen.xlsx`` (sheet *Verschillen*) and
``verschillen.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capaciteit.plans.diff import PlanDiff


@dataclass(frozen=True)
class DiffReport:
    """The differences of two plans, the names used, and the files written."""

    diff: PlanDiff
    names: dict[str, str]
    files: dict[str, Path]


def plan_diff_report(
    plan_a: Path, plan_b: Path, out: Path, *, scenario_file: Path | None = None
) -> DiffReport:
    """Compare ``plan_b`` with ``plan_a``; with ``scenario_file`` names and targets too."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.optimisation.afbouw_plan import plan_data
    from capaciteit.plans.diff import diff_plans
    from capaciteit.plans.table import read_plan_csv
    from capaciteit.plans.workbook import diff_chart, write_diff_workbook
    from capaciteit.results.cells import write_csv

    a, b = read_plan_csv(plan_a), read_plan_csv(plan_b)
    names: dict[str, str] = {}
    data = None
    if scenario_file is not None:
        scenario = load_scenario(scenario_file)
        model = scenario.model
        names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
        names |= {str(k): str(v) for k, v in model.providers["name"].items()}
        data = plan_data(scenario, {})
    diff = diff_plans(a, b, data)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "cells": write_csv(diff.cells[diff.cells["changed"]], out / "verschillen.csv"),
        "totals": write_csv(diff.totals, out / "verschillen_totalen.csv"),
        "workbook": write_diff_workbook(
            diff, out / "verschillen.xlsx", names, plan_a.name, plan_b.name
        ),
        "chart": diff_chart(diff, out / "verschillen.png", names),
    }
    return DiffReport(diff, names, files)
