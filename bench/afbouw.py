"""Afbouw plans at regional and national scale: OR-Tools CP-SAT against CBC.

Builds synthetic plan data with 50 and 300 providers x 5 care forms x 8 years (2023 =
0-meting and 2024-2030), scaled from the example region: each provider offers 1-3 care
forms with beds drawn around the example's provider sizes, the needs follow the region's
transformation (residentieel and JeugdzorgPlus down, pleegzorg and gezinshuis up), the
default targets apply, with group sizes and recruitment limits. Both backends solve the
same data for several seeds (best of --repeat); the script checks they reach the same
objective. Targets from the issue: <= 30 s for 300 providers, and the default backend
(CP-SAT) no slower than CBC.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from capaciteit.optimisation.afbouw import PlanData, Target, solve_plan

FORMS = ("pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis")
TARIFF = {
    "pleegzorg": 75,
    "gezinshuis": 164,
    "residentieel": 185,
    "jeugdzorgplus": 650,
    "crisis": 250,
}
SIZE = {"pleegzorg": 110, "gezinshuis": 24, "residentieel": 35, "jeugdzorgplus": 10, "crisis": 8}
TREND = {
    "pleegzorg": 0.05,
    "gezinshuis": 0.05,
    "residentieel": -0.06,
    "jeugdzorgplus": -0.12,
    "crisis": -0.01,
}
YEARS = list(range(2023, 2031))


def regional_targets(base: pd.Series) -> list[Target]:
    """Return the three regional targets against the 0-meting's beds per form in ``base``."""
    return [
        Target(
            ("residentieel",),
            2025,
            "max",
            0.7,
            int(0.7 * base["residentieel"]),
            int(base["residentieel"]),
            "30% minder residentieel",
        ),
        Target(
            ("pleegzorg", "gezinshuis"),
            2025,
            "min",
            1.3,
            int(np.ceil(1.3 * (base["pleegzorg"] + base["gezinshuis"]))),
            int(base["pleegzorg"] + base["gezinshuis"]),
            "30% meer pleegzorg + gezinshuis",
        ),
        Target(
            ("jeugdzorgplus",),
            2030,
            "max",
            0.0,
            0,
            int(base["jeugdzorgplus"]),
            "JeugdzorgPlus naar nul",
        ),
    ]


def synthetic(providers: int, seed: int = 1) -> PlanData:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(providers):
        offered = rng.choice(FORMS, size=int(rng.integers(1, 4)), replace=False)
        for f in offered:
            beds0 = int(max(2, rng.normal(SIZE[f], SIZE[f] * 0.4)))
            change = max(10, int(np.ceil(0.25 * beds0)))
            rows.append(
                {
                    "provider": f"P{i:03d}",
                    "care_form": str(f),
                    "beds0": beds0,
                    "max_change": change,
                    "min_group": {"residentieel": 6, "gezinshuis": 4}.get(str(f), 0),
                    "open_to_beds": True,
                    "cost_per_bed_year": TARIFF[str(f)] * 365,
                    "upper": beds0 + change * 7,
                }
            )
    pairs = pd.DataFrame(rows).set_index(["provider", "care_form"])
    base = pairs["beds0"].groupby(level="care_form").sum()
    need = {}
    for f in FORMS:
        for k, y in enumerate(YEARS[1:], start=1):
            need[(f, y)] = int(base.get(f, 0) * max(0.05, 0.85 * (1 + TREND[f]) ** k))
    targets = regional_targets(base)
    return PlanData(
        pairs=pairs,
        years=YEARS,
        need=need,
        targets=targets,
        recruitment={
            "pleegzorg": int(0.15 * base["pleegzorg"]),
            "gezinshuis": int(0.2 * base["gezinshuis"]),
        },
        pins={},
        weights={"opening": 10_000, "closing": 10_000, "fairness": 25_000, "stability": 2_000},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 300])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--gap", type=float, default=0.0, help="relative optimality gap")
    parser.add_argument(
        "--cpsat-workers",
        type=int,
        default=1,
        help="CP-SAT search workers (1: the same single thread as CBC, a fair comparison)",
    )
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        for seed in args.seeds:
            data = synthetic(n, seed)
            result = {"providers": n, "seed": seed, "pairs": len(data.pairs)}
            for solver in ("ortools", "pulp"):
                best, plan = float("inf"), None
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    plan = solve_plan(
                        data,
                        solver,  # type: ignore[arg-type]
                        args.time_limit,
                        gap=args.gap,
                        workers=args.cpsat_workers,
                    )
                    best = min(best, time.perf_counter() - started)
                assert plan is not None
                result[f"{solver}_s"] = round(best, 2)
                result[f"{solver}_status"] = plan.status
                result[f"{solver}_objective"] = plan.objective
                result[f"{solver}_gap"] = plan.gap
            result["same_optimum"] = result["ortools_objective"] == result["pulp_objective"]
            rows.append(result)
            print(result, flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    for n, part in table.groupby("providers"):
        ours, cbc = part["ortools_s"], part["pulp_s"]
        statuses = sorted(set(part["ortools_status"]) | set(part["pulp_status"]))
        print(
            f"RESULT afbouw {n} providers x 5 forms x 8 years, seeds {args.seeds}: OR-Tools "
            f"{ours.sum():.2f} s in all (slowest {ours.max():.2f} s), CBC {cbc.sum():.2f} s "
            f"(slowest {cbc.max():.2f} s); CBC/OR-Tools {cbc.sum() / ours.sum():.2f}; "
            f"statuses {statuses}; same optimum: {bool(part['same_optimum'].all())}"
        )


if __name__ == "__main__":
    main()
