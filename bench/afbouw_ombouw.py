"""Afbouw with ombouw at national scale: beds and ambulant places, CP-SAT against CBC.

Synthetic plan data with 300 providers x (5 verblijf forms + 2 ambulant forms) x 8 years
(2023 = 0-meting and 2024-2030), scaled from the example region as ``bench/afbouw.py``
(each provider offers 1-3 verblijf forms with beds drawn around the example's provider
sizes; needs follow the transformation; the default targets, group sizes and recruitment
limits), plus the ombouw of ``models/voorbeeldregio-ombouw``:

- ambulant places: intensive ambulant family treatment (a trajectory of €15.000 over 180
  days, €83 a place-day) at 45% of the providers, ambulant spoedhulp (€210 a day) at 20%;
  their need is the 0-meting's places (as the plan takes the scenario's places when the
  need names none), growth limited to 10% of the region's places a year;
- a budget-neutral path: every year at most what the 0-meting's beds and places cost;
- ratio targets: at least 1 ambulant place per 10 verblijf beds from 2025, 3 per 20 from
  2028;
- with ``--ligduur``: a ligduur target, residential stays at most 250 days on average
  from 2026, each provider's mean stay drawn around 270 days (cv 0.2), 2% shorter each
  year. Over ~115 residential providers with group sizes this is a knapsack per year
  that neither solver proves optimal within minutes (see bench/README.md), so it is
  measured apart; a region's handful of providers is solved at once.

Both backends solve the same data, proven optimal (gap 0), with the same number of threads
(``--threads``, passed to CP-SAT as workers and to CBC as threads) and the garbage
collector in the same state for both (collected, then paused during each solve). The
script checks they reach the same objective and prints the times and their ratio.
Target from the issue: proven optimal within 30 s.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import pandas as pd

from afbouw import regional_targets  # bench/afbouw.py, next to this script
from capaciteit.optimisation.afbouw import LosTarget, PlanData, RatioTarget, solve_plan

VERBLIJF = ("pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis")
AMBULANT = ("ambulant_gezin", "ambulant_spoed")
TARIFF = {
    "pleegzorg": 75,
    "gezinshuis": 164,
    "residentieel": 185,
    "jeugdzorgplus": 650,
    "crisis": 250,
    "ambulant_gezin": 83,
    "ambulant_spoed": 210,
}
SIZE = {
    "pleegzorg": 110,
    "gezinshuis": 24,
    "residentieel": 35,
    "jeugdzorgplus": 10,
    "crisis": 8,
    "ambulant_gezin": 12,
    "ambulant_spoed": 6,
}
OFFERED = {"ambulant_gezin": 0.45, "ambulant_spoed": 0.2}
TREND = {
    "pleegzorg": 0.05,
    "gezinshuis": 0.05,
    "residentieel": -0.06,
    "jeugdzorgplus": -0.12,
    "crisis": -0.01,
}
YEARS = list(range(2023, 2031))


def _pair(provider: str, form: str, beds0: int) -> dict[str, object]:
    change = max(10, int(np.ceil(0.25 * beds0)))
    return {
        "provider": provider,
        "care_form": form,
        "beds0": beds0,
        "max_change": change,
        "min_group": {"residentieel": 6, "gezinshuis": 4}.get(form, 0),
        "open_to_beds": True,
        "cost_per_bed_year": TARIFF[form] * 365,
        "upper": beds0 + change * (len(YEARS) - 1),
    }


def synthetic(providers: int, seed: int = 1, ligduur: bool = False) -> PlanData:
    """Plan data of ``providers`` providers with the ombouw rules (see the module)."""
    rng = np.random.default_rng(seed)
    rows = []
    los: dict[str, float] = {}
    for i in range(providers):
        code = f"P{i:03d}"
        offered = rng.choice(VERBLIJF, size=int(rng.integers(1, 4)), replace=False)
        for f in offered:
            beds0 = int(max(2, rng.normal(SIZE[f], SIZE[f] * 0.4)))
            rows.append(_pair(code, str(f), beds0))
            if f == "residentieel":
                los[code] = float(270 * rng.lognormal(0, 0.2))
        for f, share in OFFERED.items():
            if rng.random() < share:
                rows.append(_pair(code, f, int(max(2, rng.normal(SIZE[f], SIZE[f] * 0.4)))))
    pairs = pd.DataFrame(rows).set_index(["provider", "care_form"])
    base = pairs["beds0"].groupby(level="care_form").sum()
    need = {}
    for f in VERBLIJF:
        for k, y in enumerate(YEARS[1:], start=1):
            need[(f, y)] = int(base.get(f, 0) * max(0.05, 0.85 * (1 + TREND[f]) ** k))
    for f in AMBULANT:
        for y in YEARS[1:]:
            need[(f, y)] = int(base.get(f, 0))
    targets = regional_targets(base)
    spend0 = int((pairs["beds0"] * pairs["cost_per_bed_year"]).sum())
    los_days = {(p, y): d * 0.98 ** (y - 2026) for p, d in los.items() for y in YEARS[3:]}
    return PlanData(
        pairs=pairs,
        years=YEARS,
        need=need,
        targets=targets,
        recruitment={
            "pleegzorg": int(0.15 * base["pleegzorg"]),
            "gezinshuis": int(0.2 * base["gezinshuis"]),
            "ambulant_gezin": int(0.1 * base["ambulant_gezin"]),
            "ambulant_spoed": int(0.1 * base["ambulant_spoed"]),
        },
        pins={},
        weights={"opening": 10_000, "closing": 10_000, "fairness": 25_000, "stability": 2_000},
        kinds={f: ("ambulant" if f in AMBULANT else "verblijf") for f in (*VERBLIJF, *AMBULANT)},
        budget=dict.fromkeys(YEARS[1:], spend0),
        budget_neutral_eur=spend0,
        ratio_targets=[
            RatioTarget(2025, 0.10, "1 ambulante plek per 10 bedden"),
            RatioTarget(2028, 0.15, "3 ambulante plekken per 20 bedden"),
        ],
        los_targets=[
            LosTarget("residentieel", 2026, 250.0, "ligduur residentieel <= 250 dagen", los_days)
        ]
        if ligduur
        else [],
    )


def timed(data: PlanData, solver: str, args: argparse.Namespace) -> tuple[float, object]:
    """Solve once with the collector collected and paused; return the wall time and plan."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        plan = solve_plan(
            data,
            solver,  # type: ignore[arg-type]
            args.time_limit,
            gap=0.0,
            workers=args.threads,
            cbc_threads=args.threads,
        )
        return time.perf_counter() - started, plan
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--threads", type=int, default=1, help="CP-SAT workers = CBC threads")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--ligduur", action="store_true", help="add the ligduur target")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        data = synthetic(args.providers, seed, args.ligduur)
        kinds = data.pairs.index.get_level_values("care_form").map(data.kind)
        result: dict[str, object] = {
            "seed": seed,
            "pairs": len(data.pairs),
            "ambulant_pairs": int((kinds == "ambulant").sum()),
        }
        for solver in ("ortools", "pulp"):
            seconds, plan = timed(data, solver, args)
            result[f"{solver}_s"] = round(seconds, 2)
            result[f"{solver}_status"] = plan.status  # type: ignore[attr-defined]
            result[f"{solver}_objective"] = plan.objective  # type: ignore[attr-defined]
            result[f"{solver}_gap"] = plan.gap  # type: ignore[attr-defined]
            slack = {
                "budget": sum(plan.budget_slack.values()),  # type: ignore[attr-defined]
                "ratio": sum(plan.ratio_slack.values()),  # type: ignore[attr-defined]
                "los": sum(plan.los_slack.values()),  # type: ignore[attr-defined]
            }
            result[f"{solver}_slack"] = slack
        result["same_optimum"] = result["ortools_objective"] == result["pulp_objective"]
        rows.append(result)
        print(result, flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(table.drop(columns=["ortools_slack", "pulp_slack"]).to_string(index=False))
    ours, cbc = table["ortools_s"], table["pulp_s"]
    statuses = sorted(set(table["ortools_status"]) | set(table["pulp_status"]))
    print(
        f"RESULT afbouw with ombouw{' and a ligduur target' if args.ligduur else ''}, "
        f"{args.providers} providers x (5 verblijf + 2 ambulant) "
        f"forms x 8 years, seeds {args.seeds}, {args.threads} thread(s) each: OR-Tools "
        f"{ours.sum():.2f} s in all (slowest {ours.max():.2f} s), CBC {cbc.sum():.2f} s "
        f"(slowest {cbc.max():.2f} s); CBC/OR-Tools {cbc.sum() / ours.sum():.2f}; statuses "
        f"{statuses}; same optimum: {bool(table['same_optimum'].all())}"
    )


if __name__ == "__main__":
    main()
