"""Shared pools (bovenregionaal): the minimal beds of a pool and the afbouw of its providers.

JeugdzorgPlus (closed youth care) is bought by several jeugdregio's together: they share
one pool of providers, one waiting list and the costs. Think of a shared car park for a
few villages: how many places it needs follows from all the villages' cars together, and
where the places are decides how far each village has to drive. Nationally the pool must
shrink towards about zero beds in 2030 and become small-scale and close to home.

Concepts
--------
pool's minimal beds (:func:`pool_minimal_beds`)
    The regions' arrivals add up to one Poisson stream, ``lam`` a day, with a mean stay of
    ``t`` days: offered load ``a = lam t``. JZ+ has the waiting policy ``overflow`` (a
    young person waiting longer than ``max_wait_days`` is placed elsewhere), so the norm is
    the share placed elsewhere, at most Erlang B ``B(c, a)`` (an upper bound: waiting a
    little first only lowers it). The fewest beds ``c`` meeting every norm given is the
    answer, and the table shows every norm at ``c`` and at ``c - 1``: one bed fewer fails.
provider path
    Beds ``b[p,y]`` per provider and year, a whole number: never above the 0-meting's,
    from ``small_scale_from`` on never above ``max_beds`` (the largest small-scale location
    the provider may keep), and at most ``max_change_beds`` up or down per year, from the
    0-meting to the first year too (providers need multi-year certainty). ``open[p,y]``
    says the provider still takes young people: an open provider keeps at least
    ``min_beds_open`` beds (below that a location is not viable), a closed one none, and
    once closed it stays closed.
pool rules
    ``sum_p b[p,y] >= required_beds[y]`` (the pool's minimal beds) and, with an agreed
    path towards zero, ``<= ceiling_beds[y]``.
assignment
    Each region's expected occupied beds ``load[r,y]`` are split over the providers,
    ``x[r,p,y] >= 0`` with ``sum_p x = load[r,y]``, and a provider is not planned fuller
    than ``target_occupancy``: ``sum_r x[r,p,y] <= target_occupancy b[p,y]``.
objective (euros a year, summed over the years)
    beds x tariff x days in the year + ``travel_eur_per_minute_bed_year`` x minutes x
    assigned beds + ``change_eur_per_bed`` x beds changed. The travel weight prices what
    distance costs a young person and the family; its default
    (:data:`TRAVEL_EUR_PER_MINUTE_BED_YEAR`) is indicative: a weekly visit by the parents
    is about 104 trips a year of the travel time each, at about €0,40 a minute (value of
    time for non-business trips plus car costs) -- roughly €40 per minute per occupied
    bed-year. A bed of several hundred euros a day outweighs it, so the plan keeps the
    beds the pool needs at least cost and, among such plans, the ones close to home.
integers, the same on both solvers
    Every number the solvers read is a whole number, so OR-Tools CP-SAT and PuLP/CBC solve
    exactly the same model and reach the same optimum. Assigned beds are whole hundredths
    of a bed (:data:`LOAD_SCALE`; the loads rounded to the nearest hundredth), the
    occupancy is whole percent (rounded down: never looser), the objective whole cents:
    ``round(tariff x days x 100)`` per bed, ``round(weight x minutes x 100 / LOAD_SCALE)``
    per hundredth of a bed, ``round(change_eur_per_bed x 100)`` per bed changed (exact for
    tariffs in whole cents and a whole number of euros per minute). The reported objective
    and costs are those cents in euros.
explanation
    A plan no rule allows is explained before any solve where the rules can tell
    (:func:`explain_infeasible`), in Dutch and in the words of an ontwikkeltafel, naming
    the year, the pool and the providers: a provider that cannot become small-scale in
    time, a year whose need is above the ceiling or above what the providers can keep, a
    ceiling the providers cannot shrink to in time, a total no mix of open providers
    makes. When only the years together conflict, the solve says so, and each year's
    need or ceiling is loosened in turn to find, in numbers, the year the others put out
    of reach ("binnen de plafonds van de andere jaren ... hoogstens 10"); failing that,
    the rules are loosened one at a time to name the one that blocks the plan.
time limits
    Every solve has one and reports a :data:`~capaciteit.core.solve.Status`, objective,
    best bound and gap. At the limit the best plan found is returned as ``feasible`` with
    its gap (CBC's bound read from its log); without any plan, ``timeout``. A plan is
    checked against every row of the model before it is returned: CBC stopped right after
    its root LP has been seen to hand back that LP's fractional solution as optimal.
"""

from __future__ import annotations

import itertools
import math
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pandas as pd

from capaciteit._pandas import as_float, as_int, items
from capaciteit.core import nl
from capaciteit.core.solve import Status
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.optimisation.beds_model import cbc_solver
from capaciteit.optimisation.demand import is_leap
from capaciteit.optimisation.queueing import (
    erlang_b,
    min_beds_occupancy,
    min_beds_refusal,
    min_beds_wait,
    wait_within,
)

LOAD_SCALE = 100
"""Assigned beds in whole hundredths of a bed (and the occupancy in whole percent)."""
TRAVEL_EUR_PER_MINUTE_BED_YEAR = 40.0
"""Indicative price of a minute of travel per occupied bed-year (see the module)."""
CHANGE_EUR_PER_BED = 1_000.0
"""A small price per bed changed in a year: of two equal plans, the steadier."""
FAR_MINUTES = 60.0
"""Travel beyond this many minutes counts as far from home in :attr:`PoolAfbouwPlan.travel`."""
CPSAT_WORKERS = 2
SolverChoice = Literal["cp-sat", "cbc"]
RULES = ("ceiling", "max_change", "small_scale", "min_beds_open", "shrink_only")
"""Rules the explanation may loosen one at a time when only the years together conflict."""


def days_in(year: int) -> int:
    """Days in ``year`` (366 in a leap year)."""
    return 366 if is_leap(year) else 365


# --------------------------------------------------------------------------------------
# The pool's minimal beds
# --------------------------------------------------------------------------------------


def pool_minimal_beds(
    arrivals_per_year: pd.Series,
    mean_los_days: pd.Series | float,
    *,
    max_refused: float | None = 0.05,
    within_days: float | None = None,
    min_share: float | None = None,
    max_occupancy: float | None = None,
) -> pd.DataFrame:
    """Return the fewest beds per year for the pool's summed arrivals, shown minimal.

    Parameters
    ----------
    arrivals_per_year
        Placements a year of all the pool's regions together, indexed by year.
    mean_los_days
        Mean stay in days, per year (a Series indexed by year) or one number.
    max_refused
        At most this share placed elsewhere (Erlang B); ``None`` for no such norm.
    within_days, min_share
        At least ``min_share`` placed within ``within_days`` days (Erlang C, M/M/c); both
        or neither.
    max_occupancy
        Offered load per bed at most this; ``None`` for no such norm.

    Returns
    -------
    pandas.DataFrame
        Indexed by year: ``arrivals_per_year``, ``mean_los_days``, ``offered_load_beds``
        (``a``), ``beds`` (the fewest meeting every norm); per norm given its value at
        ``beds`` and at ``beds - 1`` (``refused_share``, ``wait_within_share``,
        ``occupancy_share``, each also ``..._one_less``; NaN at 0 beds);
        ``binding`` (the norms one bed fewer misses) and ``one_less_fails`` (whether it
        misses any: always, except at 0 beds, where there is no bed to take away).
    """
    if (within_days is None) != (min_share is None):
        raise ValueError("within_days and min_share go together")
    if max_refused is None and within_days is None and max_occupancy is None:
        raise ValueError(
            "give at least one norm: max_refused, within_days/min_share or max_occupancy"
        )
    records = []
    for year, arrivals in items(arrivals_per_year.sort_index()):
        los = (
            as_float(mean_los_days[year])
            if isinstance(mean_los_days, pd.Series)
            else float(mean_los_days)
        )
        lam = float(arrivals) / days_in(int(year))
        norms = _norms(lam, los, max_refused, within_days, min_share, max_occupancy)
        beds = max(norm.minimum for norm in norms.values())
        row: dict[str, Any] = {
            "year": int(year),
            "arrivals_per_year": float(arrivals),
            "mean_los_days": los,
            "offered_load_beds": lam * los,
            "beds": beds,
        }
        failing = []
        for name, norm in norms.items():
            row[name] = norm.value(beds)
            row[f"{name}_one_less"] = norm.value(beds - 1) if beds > 0 else math.nan
            if beds > 0 and not norm.met(beds - 1):
                failing.append(name)
        row["binding"] = ", ".join(failing)
        row["one_less_fails"] = bool(failing)
        records.append(row)
    return pd.DataFrame(records).set_index("year")


class _Norm(NamedTuple):
    """A norm of the pool: the fewest beds meeting it, its value and verdict at ``c`` beds."""

    minimum: int
    value: Callable[[int], float]
    met: Callable[[int], bool]


def _norms(
    lam: float,
    los: float,
    max_refused: float | None,
    within_days: float | None,
    min_share: float | None,
    max_occupancy: float | None,
) -> dict[str, _Norm]:
    """Return the norms given, by the name of their column."""
    a = lam * los
    norms: dict[str, _Norm] = {}
    if max_refused is not None:
        refused = max_refused
        norms["refused_share"] = _Norm(
            min_beds_refusal(a, refused),
            lambda c: erlang_b(c, a),
            lambda c: erlang_b(c, a) <= refused,
        )
    if within_days is not None and min_share is not None:
        days, share = within_days, min_share
        norms["wait_within_share"] = _Norm(
            min_beds_wait(lam, los, days, share),
            lambda c: wait_within(c, lam, los, days),
            lambda c: wait_within(c, lam, los, days) >= share,
        )
    if max_occupancy is not None:
        most = max_occupancy
        norms["occupancy_share"] = _Norm(
            min_beds_occupancy(a, most),
            lambda c: a / c if c > 0 else (0.0 if a <= 0 else math.inf),
            lambda c: a <= 0 if c <= 0 else a / c <= most + 1e-12,
        )
    return norms


def region_load_beds(
    arrivals_per_year: pd.DataFrame, mean_los_days: pd.Series | float
) -> pd.DataFrame:
    """Return each region's expected occupied beds: arrivals a day x mean stay (Little).

    ``arrivals_per_year`` is indexed by region with years as columns; so is the answer,
    the ``load`` of :class:`PoolAfbouwProblem`. ``mean_los_days``: one number, or per year.
    """
    years = arrivals_per_year.columns
    days = pd.Series([days_in(int(y)) for y in years], index=years, dtype="float64")
    los = mean_los_days if isinstance(mean_los_days, pd.Series) else float(mean_los_days)
    return arrivals_per_year.div(days, axis="columns").mul(los, axis="columns")


# --------------------------------------------------------------------------------------
# The afbouw of the pool's providers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolAfbouwProblem:
    """The data of a pool's afbouw plan (see the module for the model).

    Attributes
    ----------
    years
        Plan years, increasing; the 0-meting lies before the first.
    providers
        Indexed by ``provider``: ``beds`` (0-meting, whole beds), ``cost_per_bed_day_eur``,
        ``max_beds`` (largest small-scale location it may keep, whole, >= 0),
        ``min_beds_open`` (an open provider keeps at least this many); optionally
        ``max_change_beds`` (overrides :attr:`max_change_beds` for that provider).
    required_beds
        The pool's minimal beds per year (e.g. ``pool_minimal_beds(...)["beds"]``).
    load
        Expected occupied beds per region (index) and year (columns).
    travel_minutes
        Minutes from each region (index) to each provider (columns).
    ceiling_beds
        The agreed path towards zero: at most this many beds per year (years not named
        have no ceiling), or None.
    max_change_beds
        At most this many beds up or down per provider and year.
    target_occupancy
        A provider's assigned load at most its beds x this (used in whole percent).
    small_scale_from
        From this year on a provider keeps at most ``max_beds``.
    travel_eur_per_minute_bed_year, change_eur_per_bed
        Weights of the objective (euros; see the module).
    far_minutes
        Travel beyond this counts as far in :attr:`PoolAfbouwPlan.travel`.
    pool
        The pool's name, used in explanations.
    shrink_only
        An afbouw: a provider's beds never go up from one year to the next (else they may
        regrow within the 0-meting, up to the change limit).
    """

    years: list[int]
    providers: pd.DataFrame
    required_beds: pd.Series
    load: pd.DataFrame
    travel_minutes: pd.DataFrame
    ceiling_beds: pd.Series | None = None
    max_change_beds: int = 4
    target_occupancy: float = 0.85
    small_scale_from: int = 2025
    shrink_only: bool = True
    travel_eur_per_minute_bed_year: float = TRAVEL_EUR_PER_MINUTE_BED_YEAR
    change_eur_per_bed: float = CHANGE_EUR_PER_BED
    far_minutes: float = FAR_MINUTES
    pool: str = "de pool"

    @property
    def provider_ids(self) -> list[str]:
        """Providers in the order of :attr:`providers`."""
        return [str(p) for p in self.providers.index]

    @property
    def regions(self) -> list[str]:
        """Regions in the order of :attr:`load`."""
        return [str(r) for r in self.load.index]

    def beds0(self, provider: str) -> int:
        """Return the provider's beds at the 0-meting."""
        return as_int(self.providers.at[provider, "beds"])

    def min_open(self, provider: str) -> int:
        """Return the fewest beds of an open provider."""
        return as_int(self.providers.at[provider, "min_beds_open"])

    def max_change(self, provider: str) -> int:
        """Return the most beds the provider may change in a year."""
        if "max_change_beds" in self.providers.columns:
            return as_int(self.providers.at[provider, "max_change_beds"])
        return int(self.max_change_beds)

    def upper(self, provider: str, year: int, small_scale: bool = True) -> int:
        """Return the most beds the provider may have in ``year`` (0-meting, max_beds)."""
        top = self.beds0(provider)
        if small_scale and year >= self.small_scale_from:
            top = min(top, as_int(self.providers.at[provider, "max_beds"]))
        return top

    def required(self, year: int) -> int:
        """Return the pool's minimal beds in ``year``."""
        return int(self.required_beds[year])

    def ceiling(self, year: int) -> int | None:
        """Return the agreed ceiling in ``year``, or None."""
        if self.ceiling_beds is None or year not in self.ceiling_beds.index:
            return None
        return int(self.ceiling_beds[year])

    def occupancy_units(self) -> int:
        """Return the target occupancy in whole hundredths (rounded down: never looser)."""
        return math.floor(self.target_occupancy * LOAD_SCALE + 1e-9)

    def load_units(self, region: str, year: int) -> int:
        """Return a region's load in whole hundredths of a bed (rounded to the nearest)."""
        return round(as_float(self.load.at[region, year]) * LOAD_SCALE)

    def load_need(self, year: int) -> int:
        """Return the beds the pool's load needs at the target occupancy (rounded up)."""
        total = sum(self.load_units(r, year) for r in self.regions)
        return -(-total // self.occupancy_units())


@dataclass(frozen=True)
class PoolAfbouwPlan:
    """A solver's answer for a pool.

    Attributes
    ----------
    status
        ``optimal``, ``feasible`` (time limit, with its gap), ``infeasible`` (with
        :attr:`explanation`), ``timeout`` (no plan found in time) or ``invalid``.
    objective, bound, gap
        Objective and best bound in euros, relative gap; None without a plan (the bound
        also when CBC did not report one).
    time_s, solver
        Wall time, checks included; ``ortools-cpsat`` or ``pulp-cbc``.
    beds
        Whole beds per provider (rows) and year (columns); None without a plan.
    open
        Whether each provider is open, per provider and year.
    assignment
        ``region, provider, year, beds, travel_minutes``: the load each region places at
        each provider (beds > 0 only).
    travel
        ``region, year, load_beds, mean_travel_minutes`` (load-weighted) and
        ``far_share`` (the share of the load beyond :attr:`PoolAfbouwProblem.far_minutes`).
    cost_eur
        Per year: ``beds_eur``, ``travel_eur``, ``change_eur``, ``total_eur`` (the
        objective's terms; their sum is the objective).
    explanation
        Dutch sentences saying why no plan exists (empty otherwise).
    """

    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    time_s: float
    solver: str
    beds: pd.DataFrame | None = None
    open: pd.DataFrame | None = None
    assignment: pd.DataFrame | None = None
    travel: pd.DataFrame | None = None
    cost_eur: pd.DataFrame | None = None
    explanation: list[str] = field(default_factory=list)

    @property
    def has_plan(self) -> bool:
        """Whether beds were found (optimal, or feasible at the time limit)."""
        return self.beds is not None


def check_problem(problem: PoolAfbouwProblem) -> None:
    """Raise :class:`InvalidInputError` listing every problem of the data (Dutch)."""
    found = [*_check_providers(problem), *_check_by_year(problem)]
    regions = [r for r in problem.load.index if r not in problem.travel_minutes.index]
    providers = [p for p in problem.providers.index if p not in problem.travel_minutes.columns]
    fix = "Geef de reistijd in minuten (0 of meer) van elke regio naar elke aanbieder."
    if regions or providers:
        missing = nl.join(map(str, regions + providers))
        found.append(Problem("travel_minutes", f"reistijden ontbreken voor {missing}.", fix))
    elif not (problem.travel_minutes >= 0).to_numpy().all():  # also NaN
        found.append(Problem("travel_minutes", "een reistijd is negatief of leeg.", fix))
    if not 0.01 <= problem.target_occupancy <= 1:
        message = "de bezetting ligt niet tussen 0,01 en 1."
        found.append(Problem("target_occupancy", message, "Geef bijvoorbeeld 0,85."))
    if found:
        raise InvalidInputError(f"De gegevens van {problem.pool}", found)


def _check_providers(problem: PoolAfbouwProblem) -> list[Problem]:
    columns = ["beds", "cost_per_bed_day_eur", "max_beds", "min_beds_open", "max_change_beds"]
    table = problem.providers
    missing = [c for c in columns[:4] if c not in table.columns]
    if missing:
        return [Problem("providers", f"kolommen ontbreken: {nl.join(missing)}.", "Voeg ze toe.")]
    found = []
    for column in [c for c in columns if c in table.columns]:
        whole = column != "cost_per_bed_day_eur"
        for p, value in items(table[column]):
            if not (float(value) >= 0 and (not whole or float(value).is_integer())):
                what = "geen geheel getal" if whole else "geen bedrag"
                fix = "Geef een geheel getal van 0 of meer." if whole else "Geef 0 of meer."
                message = f"{column} = {value} is {what} van 0 of meer."
                found.append(Problem("providers", message, fix, column=column, id=str(p)))
    return found


def _check_by_year(problem: PoolAfbouwProblem) -> list[Problem]:
    years = problem.years
    if not years or any(b <= a for a, b in itertools.pairwise(years)):
        return [Problem("years", "de jaren zijn leeg of niet oplopend.", "Geef oplopende jaren.")]
    found = []
    tables: list[tuple[str, list[Any]]] = [
        ("required_beds", list(problem.required_beds.index)),
        ("load", list(problem.load.columns)),
    ]
    for name, present in tables:
        absent = [y for y in years if y not in present]
        if absent:
            message = f"jaren ontbreken: {nl.years(absent)}."
            found.append(Problem(name, message, "Geef elk planjaar."))
    if not found:
        values = [*problem.required_beds[years], *problem.load[years].to_numpy().ravel()]
        if problem.ceiling_beds is not None:
            values += list(problem.ceiling_beds)
        if not all(float(v) >= 0 for v in values):  # also NaN
            message = "een aantal bedden (required_beds, ceiling_beds of load) is negatief of leeg."
            found.append(Problem("required_beds", message, "Geef 0 of meer bedden."))
    return found


# --------------------------------------------------------------------------------------
# Explanations before the solve
# --------------------------------------------------------------------------------------


def explain_infeasible(problem: PoolAfbouwProblem) -> list[str]:
    """Say in Dutch why no plan can exist, from the rules alone (empty: no reason found).

    First each provider on its own: can it follow the rules (0-meting, change per year,
    small-scale in time, open or closed) through every year? Then each year: the pool's
    need (its minimal beds, and its load at the target occupancy) against the ceiling, the
    most and the fewest beds the providers can have that year, and the totals they can
    make together. These conditions are necessary, not sufficient: the years together can
    still conflict, which the solve finds (:func:`plan_pool_afbouw` then names the rule).
    """
    values: dict[str, list[set[int]]] = {}
    stuck: list[str] = []
    for p in problem.provider_ids:
        paths, reason = _provider_paths(problem, p)
        if reason is not None:
            stuck.append(reason)
        values[p] = paths
    above = {y: _need_above_ceiling(problem, y) for y in problem.years}
    if stuck:
        return stuck + [s for s in above.values() if s]
    sentences = []
    for i, y in enumerate(problem.years):
        sentence = above[y] or _year_sentence(problem, y, {p: v[i] for p, v in values.items()})
        if sentence:
            sentences.append(sentence)
    return sentences


def _provider_paths(problem: PoolAfbouwProblem, p: str) -> tuple[list[set[int]], str | None]:
    """Return the beds per year on paths that follow the provider's rules, or why none does.

    A state is (beds, open); the 0-meting is open. Forward: the states reachable in each
    year; backward: those from which every later year can still be reached.
    """
    mc, low = problem.max_change(p), problem.min_open(p)

    def step(u: tuple[int, bool], v: tuple[int, bool]) -> bool:
        return abs(v[0] - u[0]) <= mc and (u[1] or not v[1])

    states = {(problem.beds0(p), True)}
    forward: list[set[tuple[int, bool]]] = []
    before = "in de 0-meting"
    for y in problem.years:
        allowed = [(0, False), *((v, True) for v in range(low, problem.upper(p, y) + 1))]
        reached = {v for v in allowed if any(step(u, v) for u in states)}
        if not reached:
            return [], _provider_stuck(problem, p, y, min(u for u, _ in states), before)
        forward.append(reached)
        states, before = reached, f"in {y}"
    kept = [forward[-1]]
    for reached in reversed(forward[:-1]):
        kept.insert(0, {u for u in reached if any(step(u, v) for v in kept[0])})
    return [{v for v, _ in s} for s in kept], None


def _provider_stuck(problem: PoolAfbouwProblem, p: str, year: int, fewest: int, before: str) -> str:
    """Say why provider ``p`` has no allowed beds in ``year`` (``fewest``: least before)."""
    mc, top, low = problem.max_change(p), problem.upper(p, year), problem.min_open(p)
    if fewest - mc > top:
        # never closed before (closing was out of reach): the fastest afbouw from the 0-meting
        return (
            f"Aanbieder {p} in {problem.pool} heeft in de 0-meting {problem.beds0(p)} plekken "
            f"en kan er hoogstens {mc} per jaar afbouwen (max_change_beds): in {year} heeft "
            f"zij er nog minstens {fewest - mc}, maar vanaf {problem.small_scale_from} mag zij "
            f"er hoogstens {top} houden (max_beds)."
        )
    has = f"{fewest} plekken" if before == "in de 0-meting" else f"minstens {fewest} plekken"
    return (
        f"Aanbieder {p} in {problem.pool} kan in {year} niet open blijven en ook niet sluiten: "
        f"open vraagt minstens {low} plekken (min_beds_open), maar zij mag er hoogstens {top} "
        f"houden (max_beds); sluiten kan alleen vanuit hoogstens {mc} plekken "
        f"(max_change_beds), en zij heeft {before} {has}."
    )


def _need(problem: PoolAfbouwProblem, year: int) -> tuple[int, str]:
    """Return the fewest beds the pool needs in ``year``, and why if its load sets it."""
    required, by_load = problem.required(year), problem.load_need(year)
    if by_load <= required:
        return required, ""
    load = sum(problem.load_units(r, year) for r in problem.regions) / LOAD_SCALE
    occupancy = problem.occupancy_units() / LOAD_SCALE
    return by_load, (
        f" (een verwachte bezetting van {nl.number(load, 1)} bedden bij hoogstens "
        f"{nl.percent(occupancy)} bezetting)"
    )


def _need_above_ceiling(problem: PoolAfbouwProblem, year: int) -> str:
    need, why = _need(problem, year)
    ceiling = problem.ceiling(year)
    if ceiling is None or need <= ceiling:
        return ""
    return (
        f"In {year} zijn in {problem.pool} minimaal {need} plekken nodig{why}, maar het "
        f"afgesproken plafond is {ceiling}."
    )


def _year_sentence(problem: PoolAfbouwProblem, year: int, values: dict[str, set[int]]) -> str:
    """Judge one year: can the providers' possible beds add up to the need and ceiling."""
    need, why = _need(problem, year)
    ceiling = problem.ceiling(year)
    top = ceiling if ceiling is not None else math.inf
    most = {p: max(v) for p, v in values.items()}
    fewest = {p: min(v) for p, v in values.items()}
    if sum(most.values()) < need:
        small = "kleinschalige " if year >= problem.small_scale_from else ""
        return (
            f"In {year} zijn in {problem.pool} minimaal {need} plekken nodig{why}, maar de "
            f"aanbieders kunnen samen hoogstens {sum(most.values())} {small}plekken houden "
            f"({_listing(most)}: nooit meer dan in de 0-meting, vanaf "
            f"{problem.small_scale_from} hoogstens max_beds, en hoogstens "
            f"{_change_text(problem)} per jaar erbij of eraf)."
        )
    if sum(fewest.values()) > top:
        return (
            f"In {year} mag {problem.pool} hoogstens {ceiling} plekken hebben (het plafond), "
            f"maar de aanbieders kunnen niet zo snel afbouwen: met hoogstens "
            f"{_change_text(problem)} plekken minder per aanbieder per jaar (max_change_beds) "
            f"blijven er minstens {sum(fewest.values())} ({_listing(fewest)})."
        )
    totals = {0}
    for v in values.values():
        totals = {t + b for t in totals for b in v}
    if any(need <= t <= top for t in totals):
        return ""
    below = max((t for t in totals if t < need), default=None)
    above = min((t for t in totals if t > top), default=None)
    near = nl.join([str(t) for t in (below, above) if t is not None], "of")
    wanted = f"precies {need}" if need == ceiling else f"{need} tot {ceiling}"
    return (
        f"In {year} kan geen combinatie van aanbieders in {problem.pool} op {wanted} "
        f"plekken uitkomen: een open aanbieder houdt minstens min_beds_open plekken "
        f"({_listing({p: problem.min_open(p) for p in values})}); dichtstbij liggen {near}."
    )


def _listing(beds: dict[str, int]) -> str:
    return nl.join(f"{p} {b}" for p, b in beds.items())


def _change_text(problem: PoolAfbouwProblem) -> str:
    changes = sorted({problem.max_change(p) for p in problem.provider_ids})
    return nl.join([str(c) for c in changes], "of")


# --------------------------------------------------------------------------------------
# The model, once, for both solvers
# --------------------------------------------------------------------------------------


@dataclass
class _Model:
    """Whole-number variables, linear rows ``lo <= sum c v <= hi`` and an objective (cents).

    Both solvers are handed exactly these numbers (:func:`_solve_cpsat`, :func:`_solve_cbc`).
    """

    lower: list[int] = field(default_factory=list)
    upper: list[int] = field(default_factory=list)
    rows: list[tuple[list[tuple[int, int]], int | None, int | None]] = field(default_factory=list)
    objective: dict[int, int] = field(default_factory=dict)
    term: dict[int, tuple[str, int]] = field(default_factory=dict)

    def var(self, lo: int, hi: int) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        return len(self.lower) - 1

    def add(
        self, terms: list[tuple[int, int]], lo: int | None = None, hi: int | None = None
    ) -> None:
        self.rows.append((terms, lo, hi))

    def holds(self, values: list[int]) -> bool:
        """Whether ``values`` lie within every bound and row."""
        within = zip(self.lower, values, self.upper, strict=True)
        if not all(lo <= v <= hi for lo, v, hi in within):
            return False
        for terms, lo, hi in self.rows:
            total = sum(c * values[i] for i, c in terms)
            if (lo is not None and total < lo) or (hi is not None and total > hi):
                return False
        return True

    def cost(self, var: int, cents: int, term: str, year: int) -> None:
        self.objective[var] = cents
        self.term[var] = (term, year)


@dataclass
class _Built:
    model: _Model
    b: dict[tuple[str, int], int]
    open: dict[tuple[str, int], int]
    x: dict[tuple[str, str, int], int]
    pool_row: dict[int, int] = field(default_factory=dict)
    change: dict[tuple[str, int], tuple[int, int | None, int]] = field(default_factory=dict)
    """Per (provider, year): the change, last year's beds (None: the 0-meting) and beds0."""


def _build(problem: PoolAfbouwProblem, relax: frozenset[str] = frozenset()) -> _Built:
    """Build the model; ``relax`` names rules of :data:`RULES` to leave out (explanations)."""
    m = _Model()
    built = _Built(m, {}, {}, {})
    for p in problem.provider_ids:
        _provider_rows(problem, p, built, relax)
    occupancy = problem.occupancy_units()
    per_unit = problem.travel_eur_per_minute_bed_year * 100 / LOAD_SCALE
    for y in problem.years:
        assigned: dict[str, list[tuple[int, int]]] = {p: [] for p in problem.provider_ids}
        for r in problem.regions:
            load = problem.load_units(r, y)
            if load == 0:
                continue
            for p in problem.provider_ids:
                var = built.x[(r, p, y)] = m.var(0, load)
                minutes = as_float(problem.travel_minutes.at[r, p])
                m.cost(var, round(per_unit * minutes), "travel", y)
                assigned[p].append((var, 1))
            m.add([(built.x[(r, p, y)], 1) for p in problem.provider_ids], lo=load, hi=load)
        for p, cells in assigned.items():
            m.add([*cells, (built.b[(p, y)], -occupancy)], hi=0)
        beds = [(built.b[(p, y)], 1) for p in problem.provider_ids]
        ceiling = None if "ceiling" in relax else problem.ceiling(y)
        built.pool_row[y] = len(m.rows)
        m.add(beds, lo=problem.required(y), hi=ceiling)
    return built


def _provider_rows(
    problem: PoolAfbouwProblem, p: str, built: _Built, relax: frozenset[str]
) -> None:
    """Add a provider's beds, open flag and change per year, with their rules and costs."""
    m = built.model
    beds0 = problem.beds0(p)
    low = 0 if "min_beds_open" in relax else problem.min_open(p)
    change = beds0 if "max_change" in relax else problem.max_change(p)
    tariff = as_float(problem.providers.at[p, "cost_per_bed_day_eur"])
    per_change = round(problem.change_eur_per_bed * 100)
    before: int | None = None  # the previous year's beds variable (None: the 0-meting)
    was_open: int | None = None
    for y in problem.years:
        top = problem.upper(p, y, "small_scale" not in relax)
        b = built.b[(p, y)] = m.var(0, top)
        is_open = built.open[(p, y)] = m.var(0, 1)
        m.add([(b, 1), (is_open, -low)], lo=0)
        m.add([(b, 1), (is_open, -top)], hi=0)
        if was_open is not None:
            m.add([(is_open, 1), (was_open, -1)], hi=0)
        d = m.var(0, change)
        built.change[(p, y)] = (d, before, beds0)
        if before is None:
            m.add([(d, 1), (b, -1)], lo=-beds0)
            m.add([(d, 1), (b, 1)], lo=beds0)
        else:
            m.add([(d, 1), (b, -1), (before, 1)], lo=0)
            m.add([(d, 1), (b, 1), (before, -1)], lo=0)
            if problem.shrink_only and "shrink_only" not in relax:
                m.add([(b, 1), (before, -1)], hi=0)
        m.cost(b, round(tariff * days_in(y) * 100), "beds", y)
        m.cost(d, per_change, "change", y)
        before, was_open = b, is_open


# --------------------------------------------------------------------------------------
# Solving
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: Status
    objective_cents: float | None
    bound_cents: float | None
    values: list[int] | None


def _solve_cpsat(m: _Model, limit_s: float) -> _Answer:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    v = [
        model.new_int_var(lo, hi, f"v{i}")
        for i, (lo, hi) in enumerate(zip(m.lower, m.upper, strict=True))
    ]
    for terms, lo, hi in m.rows:
        expr = sum(c * v[i] for i, c in terms)
        if lo is not None and lo == hi:
            model.add(expr == lo)
            continue
        if lo is not None:
            model.add(expr >= lo)
        if hi is not None:
            model.add(expr <= hi)
    model.minimize(sum(c * v[i] for i, c in m.objective.items()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(limit_s)
    solver.parameters.num_workers = CPSAT_WORKERS
    code = solver.solve(model)
    statuses: dict[str, Status] = {
        "OPTIMAL": "optimal",
        "FEASIBLE": "feasible",
        "INFEASIBLE": "infeasible",
        "MODEL_INVALID": "invalid",
    }
    status = statuses.get(solver.status_name(code), "timeout")
    if status not in ("optimal", "feasible"):
        return _Answer(status, None, None, None)
    values = [int(solver.value(var)) for var in v]
    return _Answer(
        status, float(solver.objective_value), float(solver.best_objective_bound), values
    )


def _solve_cbc(m: _Model, limit_s: float) -> _Answer:
    import pulp

    prob = pulp.LpProblem("pool_afbouw", pulp.LpMinimize)
    v = [
        prob.add_variable(f"v{i}", lowBound=lo, upBound=hi, cat="Integer")
        for i, (lo, hi) in enumerate(zip(m.lower, m.upper, strict=True))
    ]
    for k, (terms, lo, hi) in enumerate(m.rows):
        expr = pulp.LpAffineExpression([(v[i], c) for i, c in terms])
        if lo is not None and lo == hi:
            prob += expr == lo, f"r{k}"
            continue
        if lo is not None:
            prob += expr >= lo, f"r{k}_lo"
        if hi is not None:
            prob += expr <= hi, f"r{k}_hi"
    prob.setObjective(pulp.LpAffineExpression([(v[i], c) for i, c in m.objective.items()]))
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "cbc.log"
        cbc = cbc_solver(limit_s)
        cbc.optionsDict["logPath"] = str(log)
        prob.solve(cbc)
        text = log.read_text(errors="replace") if log.exists() else ""
    name = pulp.LpStatus[prob.status]
    if name == "Infeasible":
        return _Answer("infeasible", None, None, None)
    if name == "Optimal" and prob.sol_status == pulp.LpSolutionOptimal:
        status: Status = "optimal"
    elif prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    else:
        return _Answer("timeout" if name == "Not Solved" else "invalid", None, None, None)
    raw = [float(var.value() or 0.0) for var in v]
    values = [round(x) for x in raw]
    if any(abs(x - r) > 1e-6 for x, r in zip(raw, values, strict=True)) or not m.holds(values):
        # CBC stopped by the limit right after the root LP has been seen to write that LP's
        # fractional solution as "Optimal" (cbcbox's CBC, under load): no plan was found
        return _Answer("timeout", None, None, None)
    objective = float(sum(c * values[i] for i, c in m.objective.items()))
    bound = objective if status == "optimal" else _cbc_bound(text)
    return _Answer(status, objective, None if bound is None else min(bound, objective), values)


def _cbc_bound(log: str) -> float | None:
    """Return the lower bound CBC reports at a time limit (``Lower bound: ...``), or None.

    CBC prints it to six digits (``5.71958e+09``), rounded either way: half a unit of the
    last digit is taken off, so that what is returned is still a bound.
    """
    found = re.findall(r"Lower bound:\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)", log)
    if not found:
        return None
    printed = Decimal(found[-1])
    return float(printed) - 10.0 ** int(printed.as_tuple().exponent) / 2


def plan_pool_afbouw(
    problem: PoolAfbouwProblem, *, time_limit_s: float, solver: SolverChoice = "cp-sat"
) -> PoolAfbouwPlan:
    """Plan the pool's beds per provider and year at least cost (see the module).

    Parameters
    ----------
    problem
        The pool's data; refused with :class:`InvalidInputError` when malformed.
    time_limit_s
        Wall time for the checks and the solve (the explanation of a plan found impossible
        only by the solve takes at least 1 s more). At the limit the best plan found is
        returned as ``feasible`` with its gap; without any, ``timeout``.
    solver
        ``cp-sat`` (OR-Tools CP-SAT) or ``cbc`` (PuLP/CBC); both read the same model.

    Returns
    -------
    PoolAfbouwPlan
        With ``infeasible``, :attr:`PoolAfbouwPlan.explanation` says why in Dutch: from
        :func:`explain_infeasible` before any solve, or else, after it, the year the other
        years put out of reach or the rule whose loosening gives a plan (both found with
        CP-SAT, whichever solver planned).
    """
    started = time.perf_counter()
    check_problem(problem)
    name = "ortools-cpsat" if solver == "cp-sat" else "pulp-cbc"
    reasons = explain_infeasible(problem)
    if reasons:
        return PoolAfbouwPlan(
            "infeasible", None, None, None, time.perf_counter() - started, name, explanation=reasons
        )
    built = _build(problem)
    limit = max(0.01, time_limit_s - (time.perf_counter() - started))
    answer = (_solve_cpsat if solver == "cp-sat" else _solve_cbc)(built.model, limit)
    if answer.values is None:
        reasons = []
        if answer.status == "infeasible":
            left = max(1.0, time_limit_s - (time.perf_counter() - started))
            reasons = _years_together(problem, built, left / 2) or _loosened(problem, left / 2)
        return PoolAfbouwPlan(
            answer.status,
            None,
            None,
            None,
            time.perf_counter() - started,
            name,
            explanation=reasons,
        )
    plan = _plan(problem, built, answer, name)
    return replace(plan, time_s=time.perf_counter() - started)


def _years_together(problem: PoolAfbouwProblem, built: _Built, limit_s: float) -> list[str]:
    """Name the first year whose ceiling or need the other years' rules put out of reach.

    Per year, the pool's row is loosened on one side and the year's beds minimised (the
    ceiling) or maximised (the need) under every other rule: a minimum above the ceiling,
    or a maximum below the need, is the conflict, in numbers.
    """
    m = built.model
    for y in problem.years:
        terms, need, ceiling = m.rows[built.pool_row[y]]
        for sign, kept in ((1, need), (-1, ceiling)):
            if sign == 1 and ceiling is None:
                continue
            rows = list(m.rows)
            rows[built.pool_row[y]] = (terms, kept, None) if sign == 1 else (terms, None, kept)
            objective = {v: sign for v, _ in terms}
            answer = _solve_cpsat(replace(m, rows=rows, objective=objective), limit_s / 20)
            if answer.status != "optimal" or answer.objective_cents is None:
                continue
            beds = round(sign * answer.objective_cents)
            change = f"hoogstens {_change_text(problem)} plekken verandering per aanbieder per jaar"
            if sign == 1 and ceiling is not None and beds > ceiling:
                return [
                    f"In {y} mag {problem.pool} hoogstens {ceiling} plekken hebben (het "
                    f"plafond), maar met de plekken die de andere jaren nodig hebben "
                    f"({_others(problem, y, lambda z: _need(problem, z)[0])}) en {change} "
                    f"(max_change_beds) blijven er in {y} minstens {beds}."
                ]
            if sign == -1 and need is not None and beds < need:
                return [
                    f"In {y} zijn in {problem.pool} minimaal {need} plekken nodig, maar binnen "
                    f"de plafonds van de andere jaren ({_others(problem, y, problem.ceiling)}), "
                    f"max_beds en {change} (max_change_beds) kunnen de aanbieders er in {y} "
                    f"hoogstens {beds} houden."
                ]
    return []


def _others(problem: PoolAfbouwProblem, year: int, value: Callable[[int], int | None]) -> str:
    """List ``value`` of the other years: ``2025: 6 en 2026: 4`` (``geen`` when none)."""
    shown = [f"{y}: {value(y)}" for y in problem.years if y != year and value(y) is not None]
    return nl.join(shown) or "geen"


def _loosened(problem: PoolAfbouwProblem, limit_s: float) -> list[str]:
    """Name the rules whose loosening alone gives a plan (the years together conflict)."""
    labels = {
        "ceiling": "het plafond (ceiling_beds)",
        "max_change": "de grootste verandering per aanbieder per jaar (max_change_beds)",
        "small_scale": f"de kleinschaligheid vanaf {problem.small_scale_from} (max_beds)",
        "min_beds_open": "het minimum van een open aanbieder (min_beds_open)",
        "shrink_only": "alleen afbouwen (een aanbieder krijgt er geen plekken bij)",
    }
    rules = [
        r
        for r in RULES
        if (r != "ceiling" or problem.ceiling_beds is not None)
        and (r != "shrink_only" or problem.shrink_only)
    ]
    freeing = []
    for rule in rules:
        answer = _solve_cpsat(_build(problem, frozenset({rule})).model, limit_s / len(rules))
        if answer.values is not None:
            freeing.append(labels[rule])
    first = (
        f"In {problem.pool} is elk jaar op zich haalbaar, maar niet de jaren "
        f"{nl.years(problem.years)} samen: de afbouw per aanbieder moet van jaar tot jaar "
        "aansluiten."
    )
    if freeing:
        return [first, f"Zonder {nl.join(freeing, 'of zonder')} is er wel een plan."]
    return [
        first,
        "Ook met één van de regels losgelaten is er geen plan; verruim er meer tegelijk.",
    ]


# --------------------------------------------------------------------------------------
# The plan's tables
# --------------------------------------------------------------------------------------


def _plan(
    problem: PoolAfbouwProblem, built: _Built, answer: _Answer, solver: str
) -> PoolAfbouwPlan:
    assert answer.values is not None
    assert answer.objective_cents is not None
    values = _tight_changes(built, answer.values)
    providers, years = problem.provider_ids, problem.years
    beds = pd.DataFrame(
        [[values[built.b[(p, y)]] for y in years] for p in providers],
        index=pd.Index(providers, name="provider"),
        columns=years,
        dtype="int64",
    )
    is_open = pd.DataFrame(
        [[values[built.open[(p, y)]] == 1 for y in years] for p in providers],
        index=beds.index,
        columns=years,
        dtype="bool",
    )
    assignment = pd.DataFrame(
        [
            (r, p, y, values[v] / LOAD_SCALE, as_float(problem.travel_minutes.at[r, p]))
            for (r, p, y), v in built.x.items()
            if values[v] > 0
        ],
        columns=["region", "provider", "year", "beds", "travel_minutes"],
    )
    objective = sum(c * values[v] for v, c in built.model.objective.items()) / 100
    bound = None if answer.bound_cents is None else answer.bound_cents / 100
    return PoolAfbouwPlan(
        answer.status,
        objective,
        bound,
        _gap(objective, bound),
        0.0,
        solver,
        beds,
        is_open,
        assignment,
        _travel(problem, assignment),
        _costs(built.model, values, years),
    )


def _tight_changes(built: _Built, values: list[int]) -> list[int]:
    """Set each change variable to the change it stands for.

    ``d >= |b - b_before|`` is all the model asks; an optimum has equality, a plan found
    at a time limit may not. Lowering ``d`` keeps every rule and only lowers the cost, so
    the plan's objective and costs are those of its beds.
    """
    tight = list(values)
    for (p, y), (d, before, beds0) in built.change.items():
        previous = beds0 if before is None else values[before]
        tight[d] = abs(values[built.b[(p, y)]] - previous)
    return tight


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return 0.0 if objective == 0 else abs(objective - bound) / abs(objective)


def _travel(problem: PoolAfbouwProblem, assignment: pd.DataFrame) -> pd.DataFrame:
    """Per region and year: load, load-weighted mean minutes, share beyond far_minutes."""
    records = []
    for r in problem.regions:
        for y in problem.years:
            mine = assignment[(assignment["region"] == r) & (assignment["year"] == y)]
            load = float(mine["beds"].sum())
            minutes = mine["travel_minutes"].to_numpy(dtype="float64")
            weights = mine["beds"].to_numpy(dtype="float64")
            far = weights[minutes > problem.far_minutes].sum()
            records.append(
                {
                    "region": r,
                    "year": y,
                    "load_beds": load,
                    "mean_travel_minutes": float((minutes * weights).sum() / load)
                    if load > 0
                    else math.nan,
                    "far_share": float(far / load) if load > 0 else math.nan,
                }
            )
    return pd.DataFrame(records)


def _costs(m: _Model, values: list[int], years: Iterable[int]) -> pd.DataFrame:
    """Sum the objective's terms per year in euros (the same cents the solvers read)."""
    cents = {(t, y): 0 for t in ("beds", "travel", "change") for y in years}
    for var, coefficient in m.objective.items():
        cents[m.term[var]] += coefficient * values[var]
    table = pd.DataFrame(
        {f"{t}_eur": [cents[(t, y)] / 100 for y in years] for t in ("beds", "travel", "change")},
        index=pd.Index(list(years), name="year"),
    )
    table["total_eur"] = table.sum(axis="columns")
    return table
