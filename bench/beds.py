"""Minimal beds for the example region, 5 care forms x 8 years, verified by simulation.

Measures the whole pipeline (demand, Erlang start, optimisation, verification by simulation
on local processes) for ``simulations/voorbeeldregio-basis.yaml`` and
``...-transformatie.yaml``, and the optimisation step alone with OR-Tools CP-SAT and with
PuLP/CBC on the same model data (best of 3 each), checking that both reach the same
objective. Target from the issue: the verified run <= 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from capaciteit.io.scenario_files import load_scenario
from capaciteit.optimisation.beds_model import build_problem, solve
from capaciteit.optimisation.demand import FormRules, compute_demand
from capaciteit.optimisation.minimal_beds import DEFAULT_SPAN, cost_per_bed_day, minimal_beds
from capaciteit.simulation.executors import make_executor

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("voorbeeldregio-basis.yaml", "voorbeeldregio-transformatie.yaml")


def optimisation_only(path: Path, repeat: int) -> dict[str, object]:
    scenario = load_scenario(path)
    demand = compute_demand(scenario)
    rules = {f: FormRules.of(scenario, f) for f in scenario.model.care_form_ids}
    # The crisis stay norm is out of reach of beds in the example; leave it out as the
    # pipeline does, so that both solvers see the model the pipeline solves.
    import dataclasses
    import math

    rules = {f: dataclasses.replace(r, stays_over_max_share_max=math.nan) for f, r in rules.items()}
    problem = build_problem(
        demand, rules, cost_per_bed_day(scenario), pd.Series(dtype="int64"), DEFAULT_SPAN
    )
    out: dict[str, object] = {"candidates": len(problem.candidates)}
    for name in ("ortools", "pulp"):
        best = float("inf")
        solution = None
        for _ in range(repeat):
            started = time.perf_counter()
            solution = solve(problem, name, 60.0)  # type: ignore[arg-type]
            best = min(best, time.perf_counter() - started)
        assert solution is not None
        out[f"{name}_s"] = best
        out[f"{name}_status"] = solution.status
        out[f"{name}_objective"] = solution.objective_eur
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    executor = make_executor("processes")
    rows = []
    for name in SCENARIOS:
        path = ROOT / "simulations" / name
        started = time.perf_counter()
        result = minimal_beds(
            load_scenario(path), executor=executor, replications=args.replications
        )
        total = time.perf_counter() - started
        opt = optimisation_only(path, args.repeat)
        rows.append(
            {
                "scenario": name,
                "status": result.status,
                "rounds": len(result.iterations),
                "verified_run_s": round(total, 2),
                "candidates": opt["candidates"],
                "ortools_s": round(float(opt["ortools_s"]), 3),  # type: ignore[arg-type]
                "cbc_s": round(float(opt["pulp_s"]), 3),  # type: ignore[arg-type]
                "same_optimum": opt["ortools_objective"] == opt["pulp_objective"],
                "objective_eur": opt["ortools_objective"],
            }
        )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    worst = table["verified_run_s"].max()
    ratio = (table["cbc_s"] / table["ortools_s"]).round(2).tolist()
    print(
        f"RESULT minimal beds 5 forms x 8 years, {args.replications} replications per round: "
        f"verified in <= {worst:.1f} s (target <= 60 s: {'met' if worst <= 60 else 'NOT met'}); "
        f"optimisation step CBC/OR-Tools time ratio {ratio}; same optimum: "
        f"{bool(table['same_optimum'].all())}"
    )


if __name__ == "__main__":
    main()
