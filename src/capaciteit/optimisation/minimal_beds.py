"""Minimal beds per care form and year: from where the region stands, and in the long run.

Two figures answer two questions.

**Minimal beds per year** (``minimal_beds``): the fewest beds per care form and year such
that every norm of that year is shown met by simulation, starting from the 0-meting (its
occupants part-way through their stays) and given the beds already decided for the
earlier years; one bed fewer is shown not to be enough (missed, or not provably met). This
is the figure a region defends: :mod:`capaciteit.optimisation.transient_beds`.

**Long-run need** (``long_run_beds``): what the year's instroom and stays would need if
they held for ever (steady state):

1. **Demand**: requests and stays per form and year from the scenario
   (:mod:`capaciteit.optimisation.demand`).
2. **Analytic start**: per form, the Erlang minimum for its norms when nobody blocks a bed
   (``analytic_beds``).
3. **Optimise**: the coupled model (:mod:`capaciteit.optimisation.beds_model`, OR-Tools
   CP-SAT or PuLP/CBC) chooses beds per form and year at least cost, trading e.g. crisis
   beds against pleegzorg places through bed blocking.
4. **Long simulation**: those beds are simulated as a stationary region (the year's
   parameters held constant, after a warm-up of twice the longest mean stay) over five
   years. The analytic figure stands unless the simulation shows it wrong: a norm *missed*
   there (its whole 95% interval on the wrong side) raises the form that owns it, by one
   bed the first time and twice the previous step after that, up to ``max_iterations``
   rounds; then every form is tried with one bed fewer (all at once, up to
   ``LONG_RUN_TRIM_ROUNDS`` times), and a form keeps the bed less where its own norms are
   still *shown met* (the whole interval on the right side) -- the analytic coupling is
   cautious (first come, first served downstream while crisis has priority). Where Erlang
   is exact (one form), this leaves the exact figure as it is.

   A waiting list close to full load settles slowly: an M/M/c queue relaxes to its steady
   state in about ``1 / (c mu (1 - sqrt(rho))^2)`` days (:func:`relaxation_days`), decades
   for pleegzorg at 97% load. A simulation that has not settled shows the waits of a list
   still building up, too short, so one bed fewer is only tried for a form whose queue
   settles within a third of the warm-up; otherwise the analytic figure stands (a raise is
   always safe: an unsettled list only grows).

The first year's search starts from the long-run figure, so the two differ only where the
region is not in steady state; the difference is explained per form in Dutch.

A norm no number of beds can meet (e.g. crisis stays that last over 28 days by themselves)
is reported with the reason and left out; an infeasible long-run model (a budget below the
cheapest plan) or a solver time-out is reported as such, never as zero beds.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float, as_int, items
from capaciteit.core import nl
from capaciteit.domain.model import AMBULANT, WOONPLEK
from capaciteit.domain.norms import STAY, Norm, norms_of
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
from capaciteit.optimisation.transient_beds import (
    Evaluation,
    TransientResult,
    judge,
    split_total,
    transient_minimal_beds,
)
from capaciteit.simulation.executors import Executor, ProcessExecutor, SerialExecutor
from capaciteit.simulation.spec import SimSpec, compile_spec
from capaciteit.simulation.stepping import (
    LocalShards,
    ProcessShards,
    Shards,
    measure_whole_run,
    stack,
)

DEFAULT_SPAN = 12
FIXED_NOTE = (
    "niet gezocht: ambulante plekken en woonplekken komen uit het scenario (de bedden zijn "
    "gezocht met deze plekken erbij)"
)
COUPLING_FACTORS = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
DOWNSTREAM_FORMS = ("pleegzorg", "gezinshuis")
LONG_RUN_YEARS = 5
"""Years measured in a long-run simulation, after its warm-up."""
LONG_RUN_TRIM_ROUNDS = 2
Progress = Callable[[str], None]


@dataclass(frozen=True)
class MinimalBedsResult:
    """The outcome of :func:`minimal_beds`.

    Attributes
    ----------
    status
        ``verified`` (every form and year has a minimum with its evidence),
        ``not_reached`` (in some year even the most beds tried do not show every norm
        met), or the long-run model's ``infeasible`` / ``timeout``.
    message
        One paragraph for the planner (Dutch).
    table
        Per (care_form, year): ``baseline_beds`` (0-meting), ``current_beds`` (scenario),
        ``analytic_beds`` (Erlang start, no blocking), ``long_run_beds`` (steady state),
        ``minimal_beds`` (this year, from where the region stands), ``reached``,
        ``surplus_beds`` (current - minimal; negative is a shortfall),
        ``cost_per_bed_year_eur``, ``cost_difference_eur`` ((minimal - current) beds x cost
        per bed-year), the same two against the 0-meting (``surplus_vs_0_meting_beds``,
        ``cost_difference_vs_0_meting_eur``), and ``why_not_one_fewer`` (Dutch).
    evidence
        Per (care_form, year): the minimum, the norm that one bed fewer fails, and its
        mean and 95% interval at the minimum and with one bed fewer (see
        :class:`~capaciteit.optimisation.transient_beds.TransientResult`).
    service_levels
        Long table at the minimum: care_form, year, beds, measure, kind (min / max),
        target, mean, ci_low, ci_high, verdict, met, significantly_missed.
    long_run_levels
        The same, measured in the long simulation of the long-run beds (``year`` is the
        year whose parameters were held constant).
    explanations
        Dutch sentences: where and why the per-year minimum differs from the long run.
    unreachable
        Norms no number of beds can meet, with the reason (Dutch).
    iterations
        One row per long-run round: solver status, objective, bound, gap, time, the
        form-years raised after the long simulation.
    coupling
        Per year: crisis minimum for growing pleegzorg + gezinshuis capacity (analytic).
    solution
        The long-run solver answer (status, objective, bound, gap, time).
    per_provider
        The minimal beds per year spread over providers (in proportion to the scenario's
        beds of that year), as they were simulated.
    search
        The per-year search: ``evaluations`` (candidates simulated), ``replications``,
        ``time_s``.
    los_targets
        Ligduur targets per year against the minimal beds spread over providers
        (:func:`los_targets_at`).
    """

    status: str
    message: str
    table: pd.DataFrame
    evidence: pd.DataFrame
    service_levels: pd.DataFrame
    long_run_levels: pd.DataFrame
    explanations: list[str]
    unreachable: list[str]
    iterations: pd.DataFrame
    coupling: pd.DataFrame
    solution: Solution
    per_provider: pd.DataFrame
    search: dict[str, float]
    los_targets: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)


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


def harmonic_mean_los(beds: Mapping[str, float], los_days: Mapping[str, float]) -> float:
    """Mean stay over the stays of a form whose beds are spread over providers.

    A provider with ``b`` beds (equally full) and mean stay ``L`` has ``b / L`` stays per
    bed-day, so the mean over all stays is ``sum b / sum (b / L)``: the bed-weighted
    harmonic mean of the providers' stays (NaN without beds).
    """
    total = sum(b for b in beds.values())
    if total <= 0:
        return math.nan
    return total / sum(b / los_days[p] for p, b in beds.items() if b > 0)


def los_targets_at(scenario: Scenario, per_provider: pd.DataFrame) -> pd.DataFrame:
    """Ligduur targets judged against the beds ``per_provider`` (care_form, provider x year).

    The expected mean stay per year follows from the providers' own mean stays (levers
    applied) and their share of the beds (:func:`harmonic_mean_los`); a provider's target
    is its own mean stay. Both are inputs of the scenario, so judged exactly.
    """
    rows = []
    for t in scenario.los_targets:
        for year in scenario.years:
            if year < t.year or t.care_form not in per_provider.index.get_level_values(0):
                continue
            part = per_provider.xs(t.care_form, level="care_form")[year]
            los = {str(p): scenario.mean_los_days(t.care_form, str(p), year) for p in part.index}
            if t.provider is not None:
                mean = los.get(t.provider, math.nan)
            else:
                mean = harmonic_mean_los({str(p): float(b) for p, b in part.items()}, los)
            rows.append(
                {
                    "target": t.label,
                    "care_form": t.care_form,
                    "provider": t.provider or "",
                    "year": year,
                    "max_mean_days": t.max_mean_days,
                    "expected_mean_days": mean,
                    "met": bool(mean <= t.max_mean_days + 1e-9) if not math.isnan(mean) else None,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "target",
            "care_form",
            "provider",
            "year",
            "max_mean_days",
            "expected_mean_days",
            "met",
        ],
    )


def _ligduur_explanations(targets: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """Say in Dutch which ligduur targets the minimal beds miss, and which lever helps."""
    out = []
    missed = targets[targets["met"] == False]  # noqa: E712 (None = no beds: not judged)
    for (form, provider), group in missed.groupby(["care_form", "provider"], sort=False):
        first = group.iloc[0]
        where = f" bij {provider}" if provider else ""
        lever = (
            "levers.provider_los_change_pct"
            if provider
            else "levers.los_change_pct of levers.provider_los_change_pct (de langste eerst)"
        )
        out.append(
            f"{names.get(str(form), str(form))}{where}: de gemiddelde ligduur is in "
            f"{int(first['year'])} {nl.number(float(first['expected_mean_days']))} dagen, het "
            f"doel is hoogstens {nl.number(float(first['max_mean_days']))} "
            f"(niet gehaald in {nl.years([int(y) for y in group['year']])}). Meer of minder "
            f"bedden veranderen dat niet; kort de verblijven in met {lever}."
        )
    return out


def split_over_providers(beds: pd.Series, reference: pd.DataFrame) -> pd.DataFrame:
    """Spread beds per (care_form, year) over providers in proportion to ``reference``.

    ``reference`` holds beds per (care_form, provider) x year; the largest-remainder rule
    keeps the totals exact (:func:`~capaciteit.optimisation.transient_beds.split_total`).
    """
    out = pd.DataFrame(0, index=reference.index, columns=reference.columns, dtype="int64")
    for (fid, year), total in items(beds):
        ref = reference.xs(fid, level="care_form")[year]
        parts = split_total(int(total), ref.to_numpy(dtype="float64"))
        for provider, value in zip(ref.index, parts, strict=True):
            out.loc[(fid, provider), year] = value
    return out


def _stay_norms_off(
    scenario: Scenario, demand: Demand, rules: dict[str, FormRules], names: dict[str, str]
) -> tuple[set[tuple[str, int]], list[str]]:
    """Stay norms that the stays miss by themselves (analytic), with a Dutch note per form."""
    off: set[tuple[str, int]] = set()
    notes: list[str] = []
    for fid, r in rules.items():
        if math.isnan(r.stays_over_max_share_max):
            continue
        years = []
        share_over = 0.0
        for year in scenario.years:
            stays = demand.stay_samples[(fid, year)]
            if blocking_allowed_by_stay_norm(r, stays) < 0:
                off.add((fid, year))
                years.append(year)
                share_over = max(share_over, float((stays > r.max_stay_days).mean()))
        if years:
            notes.append(
                f"{names[fid]} ({nl.years(years)}): {nl.percent(share_over)} van de verblijven "
                f"duurt uit zichzelf al langer dan {nl.number(r.max_stay_days)} dagen, nog "
                "voordat iemand op een volgende plek wacht; de norm is hoogstens "
                f"{nl.percent(r.stays_over_max_share_max)}. Meer bedden lossen dit niet op: "
                "kort de verblijven in (los_change_pct) of herzie de norm. Deze norm telt "
                "daarom niet mee bij het bepalen van het minimum en wordt als niet gehaald "
                "gemeld."
            )
    return off, notes


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


def stationary_scenario(
    scenario: Scenario,
    year: int,
    beds: dict[str, int],
    warm_up_days: float,
    measure_years: int = LONG_RUN_YEARS,
) -> Scenario:
    """``scenario`` with ``year``'s instroom, stays and substitution held for ever.

    The horizon becomes ``measure_years`` years from ``year`` after ``warm_up_days`` of
    warm-up, starting from the 0-meting's occupants (when the model has them; else empty);
    ``beds`` per care form are spread over the providers as in ``year``.
    """
    years = list(range(year, year + measure_years))
    instroom = pd.DataFrame({y: scenario.instroom[year] for y in years})
    los_factor = pd.DataFrame({y: scenario.los_factor[year] for y in years})
    pair_factor = scenario.los_pair_factor
    if not pair_factor.empty:
        pair_factor = pd.DataFrame({y: pair_factor[year] for y in years})
    sub = scenario.substitution
    if not sub.empty and year in sub.index.get_level_values("year"):
        this = sub.xs(year, level="year")
        sub = pd.concat({y: this for y in years}, names=["year"])
    else:
        sub = sub.iloc[0:0]
    reference = scenario.capacity[[year]]
    per_pair = split_over_providers(
        pd.Series({(f, year): v for f, v in beds.items()}, dtype="int64"), reference
    )[year]
    capacity = pd.DataFrame({y: per_pair for y in years}).astype("int64")
    return dataclasses.replace(
        scenario,
        start_year=year,
        end_year=years[-1],
        instroom=instroom,
        los_factor=los_factor,
        los_pair_factor=pair_factor,
        substitution=sub,
        capacity=capacity,
        warm_up_days=warm_up_days,
        # from the 0-meting's occupants where the model has them: a shorter way to balance
        initial_state="occupied" if scenario.model.beds["occupied"].notna().all() else "empty",
    )


def _owner(norm: Norm, forms: list[str], ev: Evaluation) -> int | None:
    """Return the form whose beds must grow for a norm that is missed on average.

    A stay norm belongs to the form whose shortage blocks the most bed-days; none when the
    stays are too long by themselves.
    """
    if norm.family != STAY:
        return forms.index(norm.care_form)
    k_blocked = ev.blocking[forms.index(norm.care_form)]
    return int(np.argmax(k_blocked)) if k_blocked.sum() > 0 else None


def _failing_owners(
    norms: list[Norm],
    forms: list[str],
    ev: Evaluation,
    year: int,
    off: set[tuple[str, int]],
    failing: tuple[str, ...],
) -> set[int]:
    """Forms owning a norm whose verdict in ``ev`` is one of ``failing``.

    Stay norms that the stays miss by themselves (``off``) are skipped.
    """
    owners = set()
    for k, norm in enumerate(norms):
        if norm.family == STAY and (norm.care_form, year) in off:
            continue
        if ev.verdicts[k] in failing:
            owner = _owner(norm, forms, ev)
            if owner is not None:
                owners.add(owner)
    return owners


def relaxation_days(
    rules: FormRules, requests_per_day: float, stay_days: float, beds: int
) -> float:
    """Days a form's waiting list needs to settle from any start (``inf`` when it never does).

    The relaxation time of an M/M/c queue, ``1 / (c mu (1 - sqrt(rho))^2)`` (heavy-traffic
    approximation, exact for c = 1); a loss form (nobody waits longer than the limit)
    settles with its stays.
    """
    if rules.is_loss or requests_per_day <= 0:
        return stay_days
    if beds <= 0:
        return math.inf
    rho = requests_per_day * stay_days / beds
    if rho >= 1:
        return math.inf
    return stay_days / (beds * (1 - math.sqrt(rho)) ** 2)


def _long_run(
    scenario: Scenario,
    demand: Demand,
    rules: dict[str, FormRules],
    norms: list[Norm],
    off: set[tuple[str, int]],
    candidate: pd.Series,
    replications: int,
    executor: Executor,
    rounds: int,
    say: Progress,
    fixed: set[str] | None = None,
) -> tuple[pd.Series, pd.DataFrame, list[list[tuple[str, int]]]]:
    """Check the long-run beds in long stationary simulations (see the module docstring).

    Forms in ``fixed`` (ambulant and housing places) keep the candidate's places.

    Years with the same parameters and analytic beds share one simulation (a *regime*).
    Returns the beds, the norms as measured at those beds (per year) and the form-years
    raised per round.
    """
    forms = list(scenario.model.care_form_ids)
    fixed = fixed or set()
    years = scenario.years
    seeds = np.random.SeedSequence([scenario.seed, 1]).spawn(replications)
    longest = max(demand.value(f, y, "stay_days") for f in forms for y in years)
    warm_up = float(min(max(2.0 * longest, 730.0), 3650.0))
    sub = scenario.substitution["share"]

    def parameters(y: int) -> tuple[object, ...]:
        subs = tuple(sorted((str(k[1]), str(k[2]), float(v)) for k, v in items(sub) if k[0] == y))
        return (
            tuple(round(as_float(v), 9) for v in scenario.instroom[y]),
            tuple(round(as_float(v), 9) for v in scenario.los_factor[y]),
            subs,
            tuple(as_int(candidate[(f, y)]) for f in forms),
        )

    grouped: dict[tuple[object, ...], list[int]] = {}
    for y in years:
        grouped.setdefault(parameters(y), []).append(y)
    regimes = list(grouped.values())
    current = [[as_int(candidate[(f, ys[0])]) for f in forms] for ys in regimes]

    def simulate(cands: list[tuple[int, list[int]]]) -> list[Evaluation]:
        tasks = []
        for r, beds in cands:
            per_form = dict(zip(forms, beds, strict=True))
            spec = compile_spec(stationary_scenario(scenario, regimes[r][0], per_form, warm_up))
            totals = {f: float(v) for f, v in per_form.items()}
            tasks += [(spec, s, norms, (0.0, spec.end_day), totals) for s in seeds]
        trials = executor.map(measure_whole_run, tasks, None)
        n = replications
        return [judge(stack(trials[i * n : (i + 1) * n]), norms) for i in range(len(cands))]

    measured: dict[int, tuple[list[int], Evaluation]] = {}
    raised_log: list[list[tuple[str, int]]] = []
    step = [[1] * len(forms) for _ in regimes]
    pending = list(range(len(regimes)))
    for round_no in range(1, rounds + 1):
        say(f"behoefte op lange termijn: lange simulatie, ronde {round_no}")
        raised: list[tuple[str, int]] = []
        evals = simulate([(r, list(current[r])) for r in pending])
        next_pending = []
        for r, ev in zip(pending, evals, strict=True):
            measured[r] = (list(current[r]), ev)
            owners = _failing_owners(norms, forms, ev, regimes[r][0], off, ("missed",))
            for i in sorted(owners):
                current[r][i] += step[r][i]
                step[r][i] *= 2
                raised += [(forms[i], y) for y in regimes[r]]
            if owners:
                next_pending.append(r)
        raised_log.append(raised)
        pending = next_pending
        if not pending:
            break

    # one bed fewer per form, all forms at once; a form keeps it where its norms still hold
    def settles(i: int, r: int, beds: int) -> bool:
        y = regimes[r][0]
        f = forms[i]
        lam = demand.value(f, y, "requests_per_day")
        days = relaxation_days(rules[f], lam, demand.value(f, y, "stay_days"), beds)
        return 3 * days <= warm_up

    kept: list[set[int]] = [set() for _ in regimes]  # forms that need their beds
    for trim in range(1, LONG_RUN_TRIM_ROUNDS + 1):
        say(f"behoefte op lange termijn: één plaats minder, ronde {trim}")
        cands = []
        for r in range(len(regimes)):
            if r in pending:
                continue  # never met: nothing to trim
            trial = [
                b - 1
                if b > 0 and i not in kept[r] and forms[i] not in fixed and settles(i, r, b - 1)
                else b
                for i, b in enumerate(current[r])
            ]
            if trial != current[r]:
                cands.append((r, trial))
        if not cands:
            break
        for (r, trial), ev in zip(cands, simulate(cands), strict=True):
            owners = _failing_owners(norms, forms, ev, regimes[r][0], off, ("missed", "undecided"))
            kept[r] |= owners
            current[r] = [current[r][i] if i in owners else b for i, b in enumerate(trial)]
            if not owners:
                measured[r] = (list(trial), ev)
    stale = [(r, list(current[r])) for r in range(len(regimes)) if measured[r][0] != current[r]]
    if stale:
        for (r, beds), ev in zip(stale, simulate(stale), strict=True):
            measured[r] = (beds, ev)
    rows = []
    beds_out = candidate.copy()
    for r, ys in enumerate(regimes):
        beds, ev = measured[r]
        for y in ys:
            for i, f in enumerate(forms):
                beds_out[(f, y)] = beds[i]
            rows += [
                norm.judged_row(y, beds[forms.index(norm.care_form)], est, judged)
                for norm, est, judged in zip(norms, ev.estimates, ev.verdicts, strict=True)
            ]
    levels = pd.DataFrame(rows).sort_values(["care_form", "year", "measure"])
    return beds_out, levels.reset_index(drop=True), raised_log


def shards_for(
    executor: Executor,
) -> Callable[[SimSpec, Sequence[np.random.SeedSequence]], Shards]:
    """How the per-year search keeps its paused runs on ``executor``."""
    from capaciteit.simulation.executors import DaskExecutor
    from capaciteit.simulation.stepping import DaskShards

    if isinstance(executor, ProcessExecutor) and executor.workers > 1:
        workers = executor.workers
        return lambda spec, seeds: ProcessShards(spec, seeds, workers)
    if isinstance(executor, DaskExecutor):
        address = executor.address
        if address is not None:
            return lambda spec, seeds: DaskShards(spec, seeds, address)
        # a local Dask cluster lives for one stream: the search keeps its runs in processes
        local = executor.workers or os.cpu_count() or 1
        return lambda spec, seeds: ProcessShards(spec, seeds, local)
    return LocalShards


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
    """Minimal beds per care form and year for ``scenario``, with the long-run need."""
    say = progress or (lambda _: None)
    executor = executor or SerialExecutor()
    settings = scenario.optimisation
    replications = replications or settings.replications or scenario.replications
    max_iterations = max_iterations or settings.max_iterations
    time_limit_s = time_limit_s or settings.time_limit_s
    spec = spec or compile_spec(scenario)
    forms = scenario.model.care_form_ids
    years = scenario.years
    names = {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()}

    say("behoefte op lange termijn: Erlang en optimalisatie")
    demand = compute_demand(scenario)
    rules = {f: FormRules.of(scenario, f) for f in forms}
    stay_norm_off, unreachable = _stay_norms_off(scenario, demand, rules, names)
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
    problem = build_problem(
        demand, model_rules, costs, analytic, DEFAULT_SPAN, settings.budget_eur_per_year
    )
    solution = solve(problem, solver, time_limit_s)
    log = [_log_row(1, solution, [])]
    # Ambulant and housing places are levers of the scenario (and of the afbouw plan), not
    # searched: substitution counts on them. Only beds are searched, their norms judged.
    fixed = set(scenario.model.forms_of_kind(AMBULANT, WOONPLEK))
    norms = [n for n in norms_of(scenario) if n.care_form not in fixed]
    if solution.beds is None:
        table = _table(scenario, analytic, None, None, costs, None)
        return MinimalBedsResult(
            status=solution.status,
            message=_message(solution.status, solution, None, unreachable, scenario, []),
            table=table,
            evidence=pd.DataFrame(),
            service_levels=pd.DataFrame(),
            long_run_levels=pd.DataFrame(),
            explanations=[],
            unreachable=unreachable,
            iterations=pd.DataFrame(log),
            coupling=pd.DataFrame(),
            solution=solution,
            per_provider=pd.DataFrame(),
            search={},
        )
    long_reps = max(4, replications // 2)
    candidate = solution.beds.copy()
    scenario_places = scenario.capacity.groupby(level="care_form").sum()
    for f in fixed:
        for y in years:
            candidate[(f, y)] = as_int(scenario_places.at[f, y])
    long_run, long_levels, raised = _long_run(
        scenario,
        demand,
        model_rules,
        norms,
        stay_norm_off,
        candidate,
        long_reps,
        executor,
        max_iterations,
        say,
        fixed,
    )
    log[0]["raised"] = "; ".join(f"{f} {y}" for f, y in raised[0])
    for i, r in enumerate(raised[1:], start=2):
        log.append({**_log_row(i, solution, []), "raised": "; ".join(f"{f} {y}" for f, y in r)})

    first = years[0]
    start = {f: as_int(long_run[(f, first)]) for f in forms}
    caps = {
        f: max(
            2 * max(as_int(long_run[(f, y)]) for y in years),
            max(as_int(long_run[(f, y)]) for y in years) + 50,
            2 * int(scenario.capacity.xs(f, level="care_form").to_numpy().max(initial=0)),
        )
        for f in forms
    }
    off = {
        k: {
            j for j, n in enumerate(norms) if n.family == STAY and (n.care_form, y) in stay_norm_off
        }
        for k, y in enumerate(years)
    }
    transient = transient_minimal_beds(
        spec.with_capacity(scenario.capacity),
        norms,
        start,
        caps,
        names,
        replications,
        scenario.seed,
        shards=shards_for(executor),
        off=off,
        progress=say,
        searched=[f for f in forms if f not in fixed],
    )
    unreachable = unreachable + [n for n in transient.notes if not _already(n, stay_norm_off)]
    table = _table(scenario, analytic, long_run, transient, costs, transient.evidence)
    levels = transient.levels.copy()
    levels["met"] = levels["verdict"].isin(["met", "no_data"])
    levels["significantly_missed"] = levels["verdict"] == "missed"
    status = "verified" if bool(transient.evidence["reached"].all()) else "not_reached"
    explanations = _explanations(scenario, demand, table, names)
    per_provider = split_over_providers(transient.beds, scenario.capacity)
    for f in fixed:
        per_provider.loc[f] = scenario.capacity.loc[f].to_numpy()
    ligduur = los_targets_at(scenario, per_provider)
    explanations += _ligduur_explanations(ligduur, names)
    return MinimalBedsResult(
        status=status,
        message=_message(status, solution, transient, unreachable, scenario, raised),
        table=table,
        evidence=transient.evidence.set_index(["care_form", "year"]).sort_index(),
        service_levels=levels.drop(columns=["in_search"]),
        long_run_levels=long_levels,
        explanations=explanations,
        unreachable=unreachable,
        iterations=pd.DataFrame(log),
        coupling=coupling_table(scenario, demand, model_rules, long_run, stay_norm_off),
        solution=solution,
        per_provider=per_provider,
        los_targets=ligduur,
        search={
            "evaluations": float(transient.evaluations),
            "replications": float(transient.replications),
            "time_s": transient.time_s,
        },
    )


def _already(note: str, off: set[tuple[str, int]]) -> bool:
    """Whether a search note repeats a stay norm the analytic check already left out."""
    return note[:4].isdigit() and (int(note[:4]) in {y for _, y in off})


def _log_row(
    iteration: int, solution: Solution, raised: list[tuple[str, int]]
) -> dict[str, object]:
    return {
        "iteration": iteration,
        "solver": solution.solver,
        "status": solution.status,
        "objective_eur": solution.objective_eur,
        "bound_eur": solution.bound_eur,
        "gap": solution.gap,
        "solve_time_s": solution.time_s,
        "raised": "; ".join(f"{f} {y}" for f, y in raised),
    }


def _table(
    scenario: Scenario,
    analytic: pd.Series,
    long_run: pd.Series | None,
    transient: TransientResult | None,
    costs: pd.Series,
    evidence: pd.DataFrame | None,
) -> pd.DataFrame:
    current = pd.Series(scenario.capacity.groupby(level="care_form").sum().stack())
    current.index = current.index.set_names(["care_form", "year"])
    baseline = scenario.model.baseline_beds()
    why: dict[tuple[str, int], tuple[bool, str]] = {}
    if evidence is not None and len(evidence):
        for row in evidence.to_dict(orient="records"):
            key = (str(row["care_form"]), int(row["year"]))
            why[key] = (bool(row["reached"]), str(row["why_not_one_fewer"]))
    rows = []
    for (fid, year), beds_now in items(current):
        fid, year = str(fid), int(year)
        per_bed_year = as_float(costs[(fid, year)]) * (366.0 if is_leap(year) else 365.0)
        need = None
        reached, text = why.get((fid, year), (None, None))
        if transient is not None and (fid, year) in transient.beds.index:
            need = as_int(transient.beds[(fid, year)])
        elif transient is not None:
            # ambulant and housing places are the scenario's, not searched
            need, text = int(beds_now), FIXED_NOTE
        base = int(baseline.get(fid, 0))
        rows.append(
            {
                "care_form": fid,
                "year": year,
                "baseline_beds": base,
                "current_beds": int(beds_now),
                "analytic_beds": as_int(analytic[(fid, year)]),
                "long_run_beds": None if long_run is None else as_int(long_run[(fid, year)]),
                "minimal_beds": need,
                "reached": reached,
                "surplus_beds": None if need is None else int(beds_now) - need,
                "cost_per_bed_year_eur": round(per_bed_year),
                "cost_difference_eur": None
                if need is None
                else round((need - int(beds_now)) * per_bed_year),
                "surplus_vs_0_meting_beds": None if need is None else base - need,
                "cost_difference_vs_0_meting_eur": None
                if need is None
                else round((need - base) * per_bed_year),
                "why_not_one_fewer": text,
            }
        )
    return pd.DataFrame(rows).set_index(["care_form", "year"]).sort_index()


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return nl.number(low) if low == high else f"{nl.number(low)}–{nl.number(high)}"


def _explanations(
    scenario: Scenario, demand: Demand, table: pd.DataFrame, names: dict[str, str]
) -> list[str]:
    """Per care form, in Dutch: where the per-year minimum differs from the long run, and why."""
    out = []
    for fid in scenario.model.care_form_ids:
        t = table.xs(fid, level="care_form")
        if t["minimal_beds"].isna().any() or t["long_run_beds"].isna().any():
            continue
        years = [int(y) for y in t.index]
        minimal = {y: as_int(t.at[y, "minimal_beds"]) for y in years}
        long_run = {y: as_int(t.at[y, "long_run_beds"]) for y in years}
        current = {y: as_int(t.at[y, "current_beds"]) for y in years}
        differ = [y for y in years if minimal[y] != long_run[y]]
        if not differ:
            continue
        name = names[fid]
        if all(abs(minimal[y] - long_run[y]) <= 1 for y in years):
            out.append(
                f"{name}: {_span(list(minimal.values()))} plaatsen per jaar, "
                f"{_span(list(long_run.values()))} op lange termijn; een verschil van hooguit "
                "één plaats valt binnen de onzekerheid van de simulaties."
            )
            continue
        lower = [y for y in years if minimal[y] < long_run[y]]
        higher = [y for y in years if minimal[y] > long_run[y]]
        stay_years = demand.value(fid, years[0], "stay_days") / 365.25
        if lower:
            enough = all(minimal[y] <= current[y] < long_run[y] for y in lower)
            if enough and len({current[y] for y in lower}) == 1:
                text = (
                    f"{name}: de huidige {nl.number(current[lower[0]])} plaatsen volstaan in "
                    f"{nl.years(lower)}; op lange termijn zijn "
                    f"{_span([long_run[y] for y in lower])} nodig."
                )
            else:
                text = (
                    f"{name}: in {nl.years(lower)} volstaan "
                    f"{_span([minimal[y] for y in lower])} plaatsen, minder dan de "
                    f"{_span([long_run[y] for y in lower])} die op lange termijn nodig zijn."
                )
            if stay_years >= 1:
                text += (
                    " De regio start vanuit de 0-meting: met een gemiddelde verblijfsduur van "
                    f"{nl.number(stay_years, 1)} jaar groeit de bezetting pas langzaam naar "
                    "het evenwicht."
                )
            else:
                text += (
                    " Het model voor de lange termijn rekent voorzichtig (wachten op volgorde "
                    "van aanmelding); de simulatie per jaar laat zien dat minder volstaat."
                )
            out.append(text)
        if higher:
            out.append(
                f"{name}: in {nl.years(higher)} zijn meer plaatsen nodig "
                f"({_span([minimal[y] for y in higher])}) dan op lange termijn "
                f"({_span([long_run[y] for y in higher])}): de bezetting uit de 0-meting of "
                "een wachtlijst uit een eerder jaar moet eerst afnemen."
            )
    return out


_SOLVER_STATUS = {"optimal": "optimaal", "feasible": "toelaatbaar, niet bewezen optimaal"}


def _message(
    status: str,
    solution: Solution,
    transient: TransientResult | None,
    unreachable: list[str],
    scenario: Scenario,
    raised: list[list[tuple[str, int]]],
) -> str:
    if status in ("verified", "not_reached"):
        assert transient is not None
        rounds = len(raised)
        adjusted = sum(len(r) for r in raised)
        text = (
            "Minimaal aantal plaatsen per jaar bepaald door simulatie vanuit de 0-meting "
            f"({nl.plural(transient.replications, 'replicatie', 'replicaties')}, "
            f"{nl.number(transient.evaluations)} varianten gesimuleerd): met elk minimum "
            "wordt elke norm van dat jaar gemiddeld gehaald, met één plaats minder niet "
            "(beds.csv geeft per jaar beide waarden met hun 95%-interval en de reden). "
            "Behoefte op lange termijn: het "
            f"gekoppelde Erlang-model ({_SOLVER_STATUS.get(solution.status, solution.status)}), "
            f"getoetst in een lange simulatie ({nl.plural(rounds, 'ronde', 'rondes')}"
            + (f", {nl.number(adjusted)} keer bijgesteld)." if adjusted else ").")
        )
        if status == "not_reached":
            missing = transient.evidence[~transient.evidence["reached"].astype(bool)]
            pairs = [f"{r['care_form']} {r['year']}" for r in missing.to_dict(orient="records")]
            text += (
                " Niet bereikt: in "
                + nl.join(pairs)
                + " wordt ook met de meeste geprobeerde plaatsen niet elke norm gemiddeld "
                "gehaald (zie why_not_one_fewer)."
            )
    elif status == "infeasible":
        budget = scenario.optimisation.budget_eur_per_year
        text = (
            "Geen aantal bedden haalt op lange termijn elke norm"
            + (f" binnen het budget van {nl.euro(budget)} per jaar" if budget else "")
            + ". Verhoog het budget of versoepel een norm."
        )
    else:
        text = (
            f"De solver stopte zonder antwoord ({status}); verhoog --time-limit "
            "(optimisation.time_limit_s; de jaren delen die tijd)."
        )
    if unreachable:
        text += " Niet haalbaar met bedden: " + " ".join(unreachable)
    return text
