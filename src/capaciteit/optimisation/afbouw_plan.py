"""The afbouw plan for a scenario: data, solve, explain conflicts, verify by simulation.

:func:`afbouw_plan` runs the pipeline: the needs per care form and year (the verified
minimal beds, a given table, or none), :func:`plan_data`, :func:`~capaciteit.optimisation.
afbouw.solve_plan`, the explanation of every need or target the plan cannot meet
(:func:`explain`), and a simulation of the plan's beds with the service levels per year.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from capaciteit._pandas import as_float, as_int
from capaciteit.domain.scenario import DEFAULT_TARGETS, Scenario, TargetIn
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.optimisation.afbouw import (
    Plan,
    PlanData,
    SolverName,
    Target,
    beds_by_form,
    solve_plan,
    target_values,
)
from capaciteit.optimisation.minimal_beds import (
    cost_per_bed_day,
    measure_service_levels,
    minimal_beds,
)
from capaciteit.simulation.executors import Executor
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import compile_spec

Progress = Callable[[str], None]


@dataclass(frozen=True)
class AfbouwResult:
    """The plan with everything an ontwikkeltafel reviews.

    Attributes
    ----------
    status
        ``targets_met`` (every need and target holds), ``conflicts`` (the closest plan; see
        :attr:`conflicts`), or the solver's ``infeasible`` / ``timeout``.
    plan
        Beds per provider, care form and year (long table with changes and costs).
    targets
        Each target per year: bound, planned beds, met — from the plan's numbers.
    conflicts
        One sentence per need or target the plan cannot meet, with year, beds and why.
    service_levels
        Simulated service levels of the plan per care form and year (95% CIs).
    ombouw
        Per year: beds closed against the 0-meting and the yearly budget they free.
    """

    status: str
    message: str
    data: PlanData
    solution: Plan
    plan: pd.DataFrame
    targets: pd.DataFrame
    conflicts: list[str]
    service_levels: pd.DataFrame
    ombouw: pd.DataFrame
    need_source: str


def _targets(scenario: Scenario, base: pd.Series) -> list[Target]:
    settings = scenario.afbouw
    given = settings.targets
    raw = given if given is not None else [TargetIn.model_validate(t) for t in DEFAULT_TARGETS]
    forms = set(scenario.model.care_form_ids)
    out = []
    for t in raw:
        if given is None and not set(t.care_forms) <= forms:
            continue
        baseline = int(sum(int(base.get(f, 0)) for f in t.care_forms))
        kind: Literal["max", "min"]
        if t.max_share_of_0_meting is not None:
            kind, share = "max", float(t.max_share_of_0_meting)
            bound = math.floor(share * baseline + 1e-9)
        else:
            kind, share = "min", float(t.min_share_of_0_meting or 0.0)
            bound = math.ceil(share * baseline - 1e-9)
        out.append(
            Target(
                tuple(t.care_forms),
                t.year,
                kind,
                share,
                bound,
                baseline,
                t.label,
            )
        )
    return out


def plan_years(scenario: Scenario) -> list[int]:
    """Return the 0-meting year, then the scenario's years up to ``afbouw.end_year``."""
    base = scenario.model.meta.baseline_year
    end = scenario.afbouw.end_year or scenario.end_year
    later = [y for y in scenario.years if base < y <= end]
    return [base, *later]


def plan_data(scenario: Scenario, need: dict[tuple[str, int], int]) -> PlanData:
    """Integer data of the afbouw model for ``scenario`` and the needs ``need``."""
    model = scenario.model
    settings = scenario.afbouw
    years = plan_years(scenario)
    beds0 = model.beds["beds"]
    allowed = {(a.provider, a.care_form) for a in settings.allow_new}
    keys = [(str(p), str(f)) for p, f in beds0.index]
    offered = set(keys)
    keys += [k for k in sorted(allowed) if k not in offered]
    tariffs = cost_per_bed_day(scenario)
    rows = []
    for p, f in keys:
        b0 = int(beds0.get((p, f), 0))
        change = max(
            settings.max_change_per_year.beds,
            math.floor(settings.max_change_per_year.share * b0 + 1e-9),
        )
        tariff = model.cost_per_bed_day(f, p)
        if tariff is None:
            tariff = float(tariffs[(f, scenario.years[0])])
        rows.append(
            {
                "provider": p,
                "care_form": f,
                "beds0": b0,
                "max_change": change,
                "min_group": int(settings.min_group_size.get(f, 0)),
                "open_to_beds": (p, f) in offered or (p, f) in allowed,
                "cost_per_bed_year": round(tariff * 365),
                "upper": b0 + change * (len(years) - 1),
            }
        )
    pairs = pd.DataFrame(rows).set_index(["provider", "care_form"])
    _check_pins(settings, offered, allowed, beds0, years)
    w = settings.weights
    return PlanData(
        pairs=pairs,
        years=years,
        need={k: v for k, v in need.items() if k[1] in years[1:]},
        targets=_targets(scenario, model.baseline_beds()),
        recruitment=dict(settings.recruitment_per_year),
        pins={(pin.provider, pin.care_form, pin.year): pin.beds for pin in settings.pinned},
        weights={
            "opening": round(w.opening_eur_per_bed),
            "closing": round(w.closing_eur_per_bed),
            "fairness": round(w.fairness_eur_per_bed),
            "stability": round(w.stability_eur_per_bed),
        },
        mode=settings.mode,
    )


def _check_pins(
    settings: Any,
    offered: set[tuple[str, str]],
    allowed: set[tuple[str, str]],
    beds0: pd.Series,
    years: list[int],
) -> None:
    """Refuse pins the plan could only honour by ignoring them."""
    problems = []
    for i, pin in enumerate(settings.pinned):
        key = f"afbouw.pinned[{i}]"
        pair = (pin.provider, pin.care_form)
        if pair not in offered and pair not in allowed:
            message = (
                f"'{pin.provider}' does not offer '{pin.care_form}', so it cannot be pinned at "
                f"{pin.beds} beds."
            )
            fix = "Add the pair to afbouw.allow_new, or remove the pin."
        elif pin.year == years[0] and pin.beds != int(beds0.get(pair, 0)):
            message = (
                f"{pin.year} is the 0-meting ({int(beds0.get(pair, 0))} beds); a pin of "
                f"{pin.beds} beds contradicts it."
            )
            fix = "Pin a later year, or correct the 0-meting."
        elif pin.year not in years:
            message = f"pin year {pin.year} is outside the plan years {years[0]}-{years[-1]}."
            fix = "Use a plan year."
        else:
            continue
        problems.append(Problem("scenario", message, fix, column=key, id=pin.provider))
    if problems:
        raise InvalidInputError("The afbouw settings", problems)


def read_need(scenario: Scenario) -> dict[tuple[str, int], int]:
    """Read the need table named by ``afbouw.need`` (a CSV: care_form, year, beds)."""
    source = Path(scenario.afbouw.need)
    if not source.is_absolute() and scenario.path is not None:
        source = scenario.path.parent / source
    fname = source.name
    problems: list[Problem] = []
    try:
        table = pd.read_csv(source)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(
            "The need table",
            [Problem(fname, f"cannot be read ({exc}).", "Give a CSV: care_form,year,beds.")],
        ) from None
    missing = {"care_form", "year", "beds"} - set(table.columns)
    if missing:
        problems.append(
            Problem(fname, f"lacks column(s) {sorted(missing)}.", "Columns: care_form,year,beds.")
        )
        raise InvalidInputError("The need table", problems)
    need: dict[tuple[str, int], int] = {}
    for i, row in enumerate(table.to_dict(orient="records"), start=2):
        fid = str(row["care_form"])
        if fid not in scenario.model.care_form_ids:
            problems.append(
                Problem(
                    fname,
                    f"care form '{fid}' is not in the model.",
                    "Use the model's care form ids.",
                    row=i,
                    id=fid,
                )
            )
            continue
        try:
            beds = int(row["beds"])
            year = int(row["year"])
        except (TypeError, ValueError):
            problems.append(
                Problem(
                    fname, "year and beds must be whole numbers.", "Correct the row.", row=i, id=fid
                )
            )
            continue
        if beds < 0:
            problems.append(
                Problem(fname, f"beds = {beds} is negative.", "Use 0 or more.", row=i, id=fid)
            )
            continue
        need[(fid, year)] = beds
    if problems:
        raise InvalidInputError("The need table", problems)
    return need


def explain(data: PlanData, solution: Plan) -> list[str]:
    """One sentence per unmet need, target or recruitment limit, in the planners' terms."""
    notes = []
    assert solution.beds is not None
    totals = beds_by_form(solution.beds)
    for (f, y), short in sorted(solution.need_slack.items()):
        if short <= 0:
            continue
        need = data.need[(f, y)]
        notes.append(
            f"{y}: {f} needs at least {need} beds to keep its service levels, but the plan "
            f"reaches only {need - short}: beds can grow by at most the maximum change per "
            "provider per year (and pinned agreements hold)."
        )
    for key, over in sorted(solution.target_slack.items()):
        if over <= 0:
            continue
        t = data.targets[key // 10_000]
        y = key % 10_000
        planned = sum(as_int(totals.at[f, y]) for f in t.care_forms if f in totals.index)
        need = sum(data.need.get((f, y), 0) for f in t.care_forms)
        name = " + ".join(t.care_forms)
        if t.kind == "max":
            reason = (
                f"the minimal need is {need} beds"
                if need > t.bound_beds
                else "beds can fall by at most the maximum change per provider per year"
            )
            notes.append(
                f"{y}: target '{t.label or t.describe()}': {name} at most {t.share:.0%} of the "
                f"0-meting = {t.bound_beds} beds, but the plan keeps {planned}, because "
                f"{reason}."
            )
        else:
            limits = [f for f in t.care_forms if f in data.recruitment]
            reason = (
                "new places are limited by recruitment ("
                + ", ".join(f"{f} {data.recruitment[f]} a year" for f in limits)
                + ") and the maximum change per provider per year"
                if limits
                else "beds can grow by at most the maximum change per provider per year"
            )
            notes.append(
                f"{y}: target '{t.label or t.describe()}': {name} at least {t.share:.0%} of "
                f"the 0-meting = {t.bound_beds} beds, but the plan reaches only {planned}, "
                f"because {reason}."
            )
    for (f, y), over in sorted(solution.recruitment_slack.items()):
        if over > 0:
            notes.append(
                f"{y}: {f} would need {data.recruitment[f] + over} new places, more than the "
                f"{data.recruitment[f]} that can be recruited in a year."
            )
    return notes


def plan_table(data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Long table: provider, care form, year, beds, change, afbouw, opbouw, cost."""
    frame = beds.rename("beds").reset_index()
    frame = frame.sort_values(["provider", "care_form", "year"])
    frame["change"] = frame.groupby(["provider", "care_form"])["beds"].diff().fillna(0).astype(int)
    frame["afbouw"] = (-frame["change"]).clip(lower=0)
    frame["opbouw"] = frame["change"].clip(lower=0)
    base = data.pairs["beds0"]
    frame["beds_0_meting"] = [
        int(base[(p, f)]) for p, f in zip(frame["provider"], frame["care_form"], strict=True)
    ]
    per_bed = data.pairs["cost_per_bed_year"]
    frame["cost_eur"] = [
        int(b) * int(per_bed[(p, f)])
        for p, f, b in zip(frame["provider"], frame["care_form"], frame["beds"], strict=True)
    ]
    return frame.reset_index(drop=True)


def ombouw_table(data: PlanData, plan: pd.DataFrame) -> pd.DataFrame:
    """Per year: beds closed against the 0-meting and the yearly budget freed for ambulant care."""
    rows = []
    for y, g in plan.groupby("year"):
        closed = (g["beds_0_meting"] - g["beds"]).clip(lower=0)
        per_bed = [
            as_int(data.pairs.at[(p, f), "cost_per_bed_year"])
            for p, f in zip(g["provider"], g["care_form"], strict=True)
        ]
        rows.append(
            {
                "year": int(str(y)),
                "beds_closed": int(closed.sum()),
                "budget_freed_eur": int((closed * pd.Series(per_bed, index=g.index)).sum()),
            }
        )
    return pd.DataFrame(rows)


def afbouw_plan(
    scenario: Scenario,
    *,
    solver: SolverName = "ortools",
    executor: Executor | None = None,
    replications: int | None = None,
    time_limit_s: float | None = None,
    lp_file: Path | None = None,
    progress: Progress | None = None,
) -> AfbouwResult:
    """Make, explain and verify the afbouw plan of ``scenario``."""
    say = progress or (lambda _: None)
    source = scenario.afbouw.need
    if source == "minimal_beds":
        say("minimal beds per year (verified by simulation)")
        beds = minimal_beds(scenario, executor=executor, replications=replications)
        table = beds.table["minimal_beds"].dropna()
        need = {(str(k[0]), int(k[1])): int(v) for k, v in table.items()}  # type: ignore[index]
    elif source == "none":
        need = {}
    else:
        need = read_need(scenario)
    say("solving the plan")
    data = plan_data(scenario, need)
    solution = solve_plan(data, solver, time_limit_s or scenario.afbouw.time_limit_s, lp_file)
    if solution.beds is None:
        message = (
            "No plan satisfies the fixed rules (pinned agreements, maximum change per year, "
            "group sizes) together; loosen one of them."
            if solution.status == "infeasible"
            else f"The solver stopped without a plan ({solution.status}); raise time_limit_s."
        )
        return AfbouwResult(
            solution.status,
            message,
            data,
            solution,
            pd.DataFrame(),
            pd.DataFrame(),
            [],
            pd.DataFrame(),
            pd.DataFrame(),
            source,
        )
    plan = plan_table(data, solution.beds)
    targets = target_values(data, solution.beds)
    conflicts = explain(data, solution)
    say("simulating the plan")
    spec = compile_spec(scenario)
    capacity = (
        solution.beds[solution.beds.index.get_level_values("year").isin(spec.years)]
        .unstack("year")
        .swaplevel()
        .sort_index()
    )
    capacity.index = capacity.index.set_names(["care_form", "provider"])
    for year in spec.years:
        if year not in capacity.columns:
            capacity[year] = scenario.capacity[year].reindex(capacity.index, fill_value=0)
    capacity = capacity[spec.years]
    extra = capacity.index.difference(spec.cost_per_bed_day.index)
    if len(extra):
        # pairs the plan opens (afbouw.allow_new): their tariff comes from the plan data
        added = pd.Series(
            [as_float(data.pairs.at[(p, f), "cost_per_bed_year"]) / 365 for f, p in extra],
            index=extra,
            dtype="float64",
        )
        spec = dataclasses.replace(spec, cost_per_bed_day=pd.concat([spec.cost_per_bed_day, added]))
    result = run_replications(
        spec.with_capacity(capacity),
        replications or scenario.optimisation.replications or scenario.replications,
        scenario.seed,
        executor,
    )
    per_form = beds_by_form(solution.beds).stack()
    service = measure_service_levels(scenario, result, pd.Series(per_form))
    met_all = bool(targets["met"].all()) if len(targets) else True
    status = "targets_met" if solution.conflict_free and met_all else "conflicts"
    missed = service[service["significantly_missed"]] if len(service) else service
    # norms on the length of stays that beds cannot reach are reported by minimal beds
    stay_norm = missed[missed["measure"] == "stays_over_max_share"] if len(missed) else missed
    missed = missed[missed["measure"] != "stays_over_max_share"] if len(missed) else missed
    message = (
        f"The plan meets every target and need ({solution.status}, {solution.solver})."
        if status == "targets_met"
        else "The plan is the closest to the targets that the needs and rules allow: "
        + " ".join(conflicts)
    )
    if len(missed):
        message += (
            " In simulation these service levels are missed: "
            + "; ".join(
                f"{r['care_form']} {r['year']} {r['measure']} {r['mean']:.2f} vs {r['target']:g}"
                for r in missed.to_dict(orient="records")
            )
            + "."
        )
    if len(stay_norm):
        forms = ", ".join(sorted(set(stay_norm["care_form"])))
        message += (
            f" The norm on the length of stays of {forms} is missed in every plan: the stays "
            "are too long by themselves (see capaciteit beds); beds cannot fix this."
        )
    return AfbouwResult(
        status,
        message,
        data,
        solution,
        plan,
        targets,
        conflicts,
        service,
        ombouw_table(data, plan),
        source,
    )
