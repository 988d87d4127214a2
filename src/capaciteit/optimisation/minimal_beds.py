"""Minimal beds per care form and year: analytic start, OR-Tools, verified by simulation.

The pipeline (:func:`minimal_beds`):

1. **Demand**: requests and stays per form and year from the scenario
   (:mod:`capaciteit.optimisation.demand`).
2. **Analytic start**: per form, the Erlang minimum for its targets when nobody blocks a
   bed (the model's lower end; blocking only adds occupancy in the formulas).
3. **Optimise**: the coupled model (:mod:`capaciteit.optimisation.beds_model`) chooses beds
   per form and year at least cost, trading e.g. crisis beds against pleegzorg places.
4. **Verify**: the candidate capacities are simulated (all forms, all years, bed blocking
   included). A target that the simulation shows to be missed — the 95% confidence
   interval lies entirely on the wrong side — raises that form's minimum for that year, by
   one bed the first time and by twice the previous step each time the same pair misses
   again (so a large shortfall, typical of transition years, takes a few rounds, not tens),
   and the model is solved again, up to ``max_iterations`` rounds. If the limit is reached,
   the result says so. A target whose simulated mean is below the target while its interval
   still reaches it is reported as met only within the noise.
5. **Trim**: the analytic coupling is cautious (it assumes first-come-first-served waits
   downstream, while crisis has priority). Form-years whose targets the simulation shows met
   with the whole 95% interval are lowered by one bed, and kept lower only if the whole plan
   then still meets every target that way; never below the Erlang start.

A target that no number of beds can meet (e.g. crisis stays that last over 28 days by
themselves) is reported with the reason and left out of the model; an infeasible model
(a budget below the cheapest plan) or a solver time-out is reported as such, never as
zero beds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float, as_int, items
from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.beds_model import (
    Solution,
    SolverName,
    allowed_blocking,
    build_problem,
    candidate_range,
    solve,
)
from capaciteit.optimisation.demand import (
    Demand,
    FormRules,
    blocking_allowed_by_stay_norm,
    compute_demand,
    is_leap,
    wait_in_bed,
)
from capaciteit.results.kpis import confidence_interval
from capaciteit.simulation.executors import Executor
from capaciteit.simulation.replications import SimulationResult, run_replications
from capaciteit.simulation.spec import SimSpec, compile_spec

DEFAULT_SPAN = 12
COUPLING_FACTORS = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
DOWNSTREAM_FORMS = ("pleegzorg", "gezinshuis")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class MinimalBedsResult:
    """The outcome of :func:`minimal_beds`.

    Attributes
    ----------
    status
        ``verified`` (every target met or not significantly missed in simulation),
        ``iteration_limit`` (some targets still missed after the last round),
        ``infeasible`` or ``timeout`` (the model had no solution).
    message
        One paragraph for the planner.
    table
        Per (care_form, year): ``baseline_beds`` (0-meting), ``current_beds`` (scenario),
        ``analytic_beds`` (Erlang start, no blocking), ``minimal_beds``, ``surplus_beds``
        (current - minimal; negative is a shortfall), ``cost_per_bed_year_eur``,
        ``cost_difference_eur`` ((minimal - current) beds x cost per bed-year), and the
        same two against the 0-meting (``surplus_vs_0_meting_beds``,
        ``cost_difference_vs_0_meting_eur``).
    service_levels
        Long table: care_form, year, measure, kind (min / max), target, mean, ci_low,
        ci_high, met, significantly_missed.
    unreachable
        Targets no number of beds can meet, with the reason.
    iterations
        One row per round: solver status, objective, time, targets missed.
    coupling
        Per year: crisis minimum for growing pleegzorg + gezinshuis capacity.
    solution
        The last solver answer (status, objective, bound, gap, time).
    per_provider
        The minimal beds spread over providers (in proportion to the scenario's beds of
        that year), as simulated in the last verification round.
    """

    status: str
    message: str
    table: pd.DataFrame
    service_levels: pd.DataFrame
    unreachable: list[str]
    iterations: pd.DataFrame
    coupling: pd.DataFrame
    solution: Solution
    verification: SimulationResult | None
    per_provider: pd.DataFrame


def cost_per_bed_day(scenario: Scenario) -> pd.Series:
    """Mean tariff per (care_form, year), weighted by that year's beds per provider."""
    model = scenario.model
    out = {}
    for fid in model.care_form_ids:
        pairs = scenario.capacity.xs(fid, level="care_form")
        tariffs = pd.Series({p: model.cost_per_bed_day(fid, str(p)) for p in pairs.index})
        for year in scenario.years:
            weights = pairs[year].astype("float64")
            if weights.sum() <= 0:
                weights = pd.Series(1.0, index=pairs.index)
            out[(fid, year)] = float((tariffs * weights).sum() / weights.sum())
    series = pd.Series(out, dtype="float64")
    series.index = series.index.set_names(["care_form", "year"])
    return series


def split_over_providers(beds: pd.Series, reference: pd.DataFrame) -> pd.DataFrame:
    """Spread beds per (care_form, year) over providers in proportion to ``reference``.

    ``reference`` holds beds per (care_form, provider) x year; the largest-remainder rule
    keeps the totals exact. A form without reference beds in a year is spread evenly.
    """
    out = pd.DataFrame(0, index=reference.index, columns=reference.columns, dtype="int64")
    for (fid, year), total in items(beds):
        ref = reference.xs(fid, level="care_form")[year].astype("float64")
        if ref.sum() <= 0:
            ref = pd.Series(1.0, index=ref.index)
        exact = (ref / ref.sum() * int(total)).to_numpy()
        base = np.floor(exact).astype("int64")
        remainder = int(total) - int(base.sum())
        # largest remainders first; ties go to the provider listed first
        order = np.argsort(-(exact - base), kind="stable")[:remainder]
        base[order] += 1
        for provider, value in zip(ref.index, base.tolist(), strict=True):
            out.loc[(fid, provider), year] = value
    return out


def _explain_stay_norm(
    scenario: Scenario, demand: Demand, rules: dict[str, FormRules]
) -> tuple[set[tuple[str, int]], list[str]]:
    off: set[tuple[str, int]] = set()
    notes: list[str] = []
    for fid, r in rules.items():
        if math.isnan(r.stays_over_max_share_max):
            continue
        years = []
        share = 0.0
        for year in scenario.years:
            stays = demand.stay_samples[(fid, year)]
            if blocking_allowed_by_stay_norm(r, stays) < 0:
                off.add((fid, year))
                years.append(year)
                share = max(share, float((stays > r.max_stay_days).mean()))
        if years:
            notes.append(
                f"{fid} ({_years_text(years)}): {share:.0%} of stays last longer than "
                f"{r.max_stay_days:g} days by themselves, before any waiting for a next "
                f"place; the norm is at most {r.stays_over_max_share_max:.0%}. More beds "
                "cannot fix this: shorten the stays (los_change_pct) or review the norm. "
                "This target is left out of the optimisation and reported as not met."
            )
    return off, notes


def _years_text(years: list[int]) -> str:
    return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])


def measure_service_levels(
    scenario: Scenario, result: SimulationResult, beds: pd.Series
) -> pd.DataFrame:
    """Measure service levels per care form and year (95% CIs) against the targets."""
    sl = scenario.service_levels
    stays = result.stays
    spec = result.spec
    bounds = spec.year_start_day.to_numpy(dtype="float64")
    kpis = result.kpis
    rows = []
    for fid in scenario.model.care_form_ids:
        target = sl.loc[fid]
        s_form = stays[stays["care_form"] == fid]
        placed_t = as_float(target["placed_within_days"])
        per_rep_placed: dict[tuple[int, int], float] = {}
        if not math.isnan(placed_t):
            start = s_form["start_day"].to_numpy()
            resolved = np.where(np.isnan(start), s_form["end_day"].to_numpy(), start)
            waited = resolved - s_form["requested_day"].to_numpy()
            ok = ~np.isnan(start) & (waited <= placed_t)
            year_idx = np.searchsorted(bounds, resolved, side="right") - 1
            frame = pd.DataFrame(
                {"rep": s_form["replication"].to_numpy(), "y": year_idx, "ok": ok}
            )[~np.isnan(resolved) & (year_idx >= 0) & (year_idx < len(spec.years))]
            per_rep_placed = {
                (int(k[0]), int(k[1])): float(v)
                for k, v in items(frame.groupby(["rep", "y"])["ok"].mean())
            }
        for k, year in enumerate(spec.years):
            measures: list[tuple[str, str, float, np.ndarray]] = []
            if not math.isnan(placed_t):
                values = np.array(
                    [per_rep_placed.get((r, k), np.nan) for r in range(result.replications)]
                )
                measures.append(
                    (
                        f"placed_within_{placed_t:g}_days_share",
                        "min",
                        as_float(target["placed_share_min"]),
                        values,
                    )
                )
            kp = kpis.xs((fid, year), level=["care_form", "year"])
            for measure, column in (
                ("refused_share", "refused_share_max"),
                ("stays_over_max_share", "stays_over_max_share_max"),
                ("occupancy_rate", "max_occupancy"),
            ):
                goal = as_float(target[column])
                if not math.isnan(goal):
                    measures.append((measure, "max", goal, kp[measure].to_numpy(dtype=float)))
            for measure, kind, goal, values in measures:
                mean, low, high = confidence_interval(values)
                if math.isnan(low):
                    low = high = mean
                # shares: cut the interval at what a share can be (as the KPIs do)
                low, high = max(low, 0.0), min(high, 1.0)
                met = (mean >= goal) if kind == "min" else (mean <= goal)
                missed = (high < goal) if kind == "min" else (low > goal)
                rows.append(
                    {
                        "care_form": fid,
                        "year": year,
                        "beds": int(beds.get((fid, year), 0)),
                        "measure": measure,
                        "kind": kind,
                        "target": goal,
                        "mean": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "met": bool(met) if not math.isnan(mean) else True,
                        "significantly_missed": bool(missed) if not math.isnan(mean) else False,
                    }
                )
    columns = [
        "care_form",
        "year",
        "beds",
        "measure",
        "kind",
        "target",
        "mean",
        "ci_low",
        "ci_high",
        "met",
        "significantly_missed",
    ]
    return pd.DataFrame(rows, columns=columns)


def coupling_table(
    scenario: Scenario,
    demand: Demand,
    rules: dict[str, FormRules],
    minimal: pd.Series,
    stay_norm_off: set[tuple[str, int]],
) -> pd.DataFrame:
    """Crisis minimum when pleegzorg and gezinshuis have more (or fewer) places.

    For each factor, pleegzorg and gezinshuis get ``factor`` x their minimal beds, the
    other forms keep theirs; the crisis minimum is the fewest crisis beds whose allowed
    blocking covers the waits these capacities cause (the model's coupling, analytic).
    """
    forms = scenario.model.care_form_ids
    if "crisis" not in forms:
        return pd.DataFrame()
    downstream = [f for f in DOWNSTREAM_FORMS if f in forms]
    routes = demand.blocking_routes
    rows = []
    r_crisis = rules["crisis"]
    for year in scenario.years:
        lam = demand.value("crisis", year, "requests_per_day")
        stay = demand.value("crisis", year, "stay_days")
        cap = (
            math.inf
            if ("crisis", year) in stay_norm_off
            else blocking_allowed_by_stay_norm(r_crisis, demand.stay_samples[("crisis", year)])
        )
        if ("crisis", year) in stay_norm_off:
            r_crisis_y = dataclasses.replace(r_crisis, stays_over_max_share_max=math.nan)
        else:
            r_crisis_y = r_crisis
        for factor in COUPLING_FACTORS:
            blocking = 0.0
            places = 0
            for dst in forms:
                share = float(routes.get(("crisis", dst), 0.0))
                if share == 0 and dst not in downstream:
                    continue
                k = int(minimal[(dst, year)])
                if dst in downstream:
                    k = round(k * factor)
                    places += k
                blocking += share * wait_in_bed(
                    rules[dst],
                    k,
                    demand.value(dst, year, "requests_per_day"),
                    demand.value(dst, year, "stay_days"),
                )
            crisis_min: float = math.nan
            for c in candidate_range(r_crisis_y, lam, stay, 0, 400):
                if allowed_blocking(r_crisis_y, c, lam, stay, cap) >= blocking:
                    crisis_min = c
                    break
            rows.append(
                {
                    "year": year,
                    "downstream_factor": factor,
                    "pleegzorg_gezinshuis_beds": places,
                    "crisis_min_beds": crisis_min,
                    "crisis_blocking_days": blocking,
                }
            )
    return pd.DataFrame(rows)


def minimal_beds(
    scenario: Scenario,
    *,
    executor: Executor | None = None,
    solver: SolverName = "ortools",
    replications: int | None = None,
    max_iterations: int | None = None,
    time_limit_s: float | None = None,
    progress: Progress | None = None,
    spec: SimSpec | None = None,
) -> MinimalBedsResult:
    """Compute minimal beds per care form and year for ``scenario`` and verify them."""
    say = progress or (lambda _: None)
    settings = scenario.optimisation
    replications = replications or settings.replications or scenario.replications
    max_iterations = max_iterations or settings.max_iterations
    time_limit_s = time_limit_s or settings.time_limit_s
    spec = spec or compile_spec(scenario)
    forms = scenario.model.care_form_ids
    years = scenario.years

    demand = compute_demand(scenario)
    rules = {f: FormRules.of(scenario, f) for f in forms}
    stay_norm_off, unreachable = _explain_stay_norm(scenario, demand, rules)
    model_rules = {
        f: dataclasses.replace(r, stays_over_max_share_max=math.nan)
        if any((f, y) in stay_norm_off for y in years)
        else r
        for f, r in rules.items()
    }
    costs = cost_per_bed_day(scenario)
    analytic = pd.Series(
        {
            (f, y): candidate_range(
                model_rules[f],
                demand.value(f, y, "requests_per_day"),
                demand.value(f, y, "stay_days"),
                0,
                0,
            ).start
            for f in forms
            for y in years
        },
        dtype="int64",
    )
    analytic.index = analytic.index.set_names(["care_form", "year"])
    lower = analytic.copy()
    step: dict[tuple[str, int], int] = {}
    log = []
    verification: SimulationResult | None = None
    measured = pd.DataFrame()
    status = "iteration_limit"
    solution: Solution | None = None
    for iteration in range(1, max_iterations + 1):
        say(f"round {iteration}: optimising")
        problem = build_problem(
            demand, model_rules, costs, lower, DEFAULT_SPAN, settings.budget_eur_per_year
        )
        solution = solve(problem, solver, time_limit_s)
        if solution.beds is None:
            log.append(_log_row(iteration, solution, []))
            status = solution.status
            break
        say(f"round {iteration}: simulating {replications} replications")
        capacity = split_over_providers(solution.beds, scenario.capacity)
        verification = run_replications(
            spec.with_capacity(capacity), replications, scenario.seed, executor
        )
        measured = measure_service_levels(scenario, verification, solution.beds)
        missed = measured[measured["significantly_missed"]]
        keep = [
            not (m == "stays_over_max_share" and (f, y) in stay_norm_off)
            for f, y, m in zip(missed["care_form"], missed["year"], missed["measure"], strict=True)
        ]
        fixable = missed[np.array(keep, dtype=bool)] if len(missed) else missed
        log.append(
            _log_row(
                iteration,
                solution,
                sorted(set(zip(fixable["care_form"], fixable["year"], strict=True))),
            )
        )
        if fixable.empty:
            status = "verified"
            break
        for fid, year in set(zip(fixable["care_form"], fixable["year"], strict=True)):
            key = (str(fid), int(year))
            step[key] = 2 * step[key] if key in step else 1
            lower[key] = as_int(solution.beds[key]) + step[key]
    assert solution is not None
    trimmed = 0
    if status == "verified" and solution.beds is not None:
        say("trying one bed fewer where the simulation shows room")
        beds, measured, verification, trimmed = _trim(
            scenario,
            spec,
            solution.beds,
            analytic,
            measured,
            verification,
            replications,
            executor,
            stay_norm_off,
            rounds=max(1, min(3, max_iterations - len(log))),
        )
        solution = dataclasses.replace(solution, beds=beds)
    table = _table(scenario, analytic, solution.beds, costs)
    coupling = (
        coupling_table(scenario, demand, model_rules, solution.beds, stay_norm_off)
        if solution.beds is not None
        else pd.DataFrame()
    )
    message = _message(status, solution, unreachable, log, scenario, measured, stay_norm_off)
    if trimmed:
        message += (
            f" After the optimisation, {trimmed} form-year(s) were lowered by a bed where the "
            "simulation showed every target still met (the analytic model is cautious)."
        )
    return MinimalBedsResult(
        status=status,
        message=message,
        table=table,
        service_levels=measured,
        unreachable=unreachable,
        iterations=pd.DataFrame(log),
        coupling=coupling,
        solution=solution,
        verification=verification,
        per_provider=(
            split_over_providers(solution.beds, scenario.capacity)
            if solution.beds is not None
            else pd.DataFrame()
        ),
    )


def _meets(
    measured: pd.DataFrame, stay_norm_off: set[tuple[str, int]]
) -> dict[tuple[str, int], bool]:
    """Per (care_form, year): every reachable target met with its whole 95% interval.

    Lowering beds needs this stronger evidence than keeping them, so that noise in a few
    replications never takes a plan below what the targets need.
    """
    out: dict[tuple[str, int], bool] = {}
    for row in measured.to_dict(orient="records"):
        key = (str(row["care_form"]), int(row["year"]))
        skip = row["measure"] == "stays_over_max_share" and key in stay_norm_off
        sure = (
            row["ci_low"] >= row["target"]
            if row["kind"] == "min"
            else (row["ci_high"] <= row["target"])
        )
        ok = skip or bool(sure)
        out[key] = out.get(key, True) and ok
    return out


def _trim(
    scenario: Scenario,
    spec: SimSpec,
    beds: pd.Series,
    floor: pd.Series,
    measured: pd.DataFrame,
    verification: SimulationResult | None,
    replications: int,
    executor: Executor | None,
    stay_norm_off: set[tuple[str, int]],
    rounds: int,
) -> tuple[pd.Series, pd.DataFrame, SimulationResult | None, int]:
    """Lower by one bed every form-year whose targets the simulation shows met.

    A lowering is kept only if the whole plan still meets every target in simulation; a
    verified plan is never made worse.
    """
    lowered: set[tuple[str, int]] = set()
    blocked: set[tuple[str, int]] = set()
    for _ in range(rounds):
        ok = _meets(measured, stay_norm_off)
        trial = beds.copy()
        tried = [
            k
            for k, v in items(beds)
            # never below the Erlang start without blocking: exact for one form, and
            # a simulation from the 0-meting may not yet show the steady state
            if ok.get((str(k[0]), int(k[1])), False)
            and int(v) > as_int(floor[k])
            and k not in blocked
        ]
        if not tried:
            break
        for key in tried:
            trial[key] = int(trial[key]) - 1
        result = run_replications(
            spec.with_capacity(split_over_providers(trial, scenario.capacity)),
            replications,
            scenario.seed,
            executor,
        )
        trial_measured = measure_service_levels(scenario, result, trial)
        trial_ok = _meets(trial_measured, stay_norm_off)
        if all(trial_ok.values()):
            beds, measured, verification = trial, trial_measured, result
            lowered.update((str(k[0]), int(k[1])) for k in tried)
            continue
        # keep what was verified; do not try the pairs that failed again
        blocked.update(k for k in tried if not trial_ok.get((str(k[0]), int(k[1])), True))
        if not blocked.intersection(tried):
            break
    return beds, measured, verification, len(lowered)


def _log_row(
    iteration: int, solution: Solution, missed: list[tuple[str, int]]
) -> dict[str, object]:
    return {
        "iteration": iteration,
        "solver": solution.solver,
        "status": solution.status,
        "objective_eur": solution.objective_eur,
        "bound_eur": solution.bound_eur,
        "gap": solution.gap,
        "solve_time_s": solution.time_s,
        "missed": "; ".join(f"{f} {y}" for f, y in missed),
    }


def _table(
    scenario: Scenario, analytic: pd.Series, minimal: pd.Series | None, costs: pd.Series
) -> pd.DataFrame:
    current = pd.Series(scenario.capacity.groupby(level="care_form").sum().stack())
    current.index = current.index.set_names(["care_form", "year"])
    baseline = scenario.model.baseline_beds()
    rows = []
    for (fid, year), beds_now in items(current):
        fid, year = str(fid), int(year)
        per_bed_year = as_float(costs[(fid, year)]) * (366.0 if is_leap(year) else 365.0)
        need = as_int(minimal[(fid, year)]) if minimal is not None else None
        rows.append(
            {
                "care_form": fid,
                "year": year,
                "baseline_beds": int(baseline.get(fid, 0)),
                "current_beds": int(beds_now),
                "analytic_beds": as_int(analytic[(fid, year)]),
                "minimal_beds": need,
                "surplus_beds": None if need is None else int(beds_now) - need,
                "cost_per_bed_year_eur": round(per_bed_year),
                "cost_difference_eur": None
                if need is None
                else round((need - int(beds_now)) * per_bed_year),
                "surplus_vs_0_meting_beds": None
                if need is None
                else int(baseline.get(fid, 0)) - need,
                "cost_difference_vs_0_meting_eur": None
                if need is None
                else round((need - int(baseline.get(fid, 0))) * per_bed_year),
            }
        )
    return pd.DataFrame(rows).set_index(["care_form", "year"]).sort_index()


def _message(
    status: str,
    solution: Solution,
    unreachable: list[str],
    log: list[dict[str, object]],
    scenario: Scenario,
    measured: pd.DataFrame,
    stay_norm_off: set[tuple[str, int]],
) -> str:
    noisy = []
    if not measured.empty:
        below = measured[~measured["met"] & ~measured["significantly_missed"]]
        for row in below.to_dict(orient="records"):
            if (row["care_form"], row["year"]) in stay_norm_off and (
                row["measure"] == "stays_over_max_share"
            ):
                continue
            noisy.append(
                f"{row['care_form']} {row['year']} {row['measure']} {row['mean']:.2f} "
                f"[{row['ci_low']:.2f}, {row['ci_high']:.2f}] vs {row['target']:g}"
            )
    rounds = len(log)
    if status == "verified":
        text = (
            f"Minimal beds found ({solution.status} per year, {solution.solver}) and verified "
            f"by simulation in {rounds} round(s): no service level that beds can reach is "
            "significantly missed."
        )
        if noisy:
            text += (
                " Met only within the simulation's noise (mean below the target, 95% interval "
                "still reaching it): " + "; ".join(noisy) + ". More replications "
                "(optimisation.replications) would settle these."
            )
    elif status == "iteration_limit":
        text = (
            f"The iteration limit ({rounds} rounds) was reached: the simulation still shows "
            f"targets missed for {log[-1]['missed']}. Raise optimisation.max_iterations or "
            "treat these years' numbers as too low."
        )
    elif status == "infeasible":
        budget = scenario.optimisation.budget_eur_per_year
        text = (
            "No bed counts meet every service level"
            + (f" within the budget of EUR {budget:,.0f} per year" if budget else "")
            + ". Raise the budget or relax a service level."
        )
    else:
        text = (
            f"The solver stopped without an answer ({status}); raise --time-limit "
            "(optimisation.time_limit_s; it is shared by the years)."
        )
    if unreachable:
        text += " Not reachable by beds: " + " ".join(unreachable)
    return text
