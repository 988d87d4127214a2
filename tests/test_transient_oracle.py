"""Per-year service levels and minimal beds against an exact transient Markov chain.

One care form, Poisson referrals (a different rate every year), exponential stays and a
0-meting with ``n0`` occupants: the system is a continuous-time Markov chain started in the
0-meting's state on 1 January of the first year, and the per-year service levels follow
exactly from the Kolmogorov forward equations ``p'(t) = p(t) Q`` (matrix exponentials:
:func:`scipy.linalg.expm` for the small loss chain, uniformisation for the sparse waiting
chain, both checked against each other). Nothing of ``capaciteit`` is used by the oracle.

*Loss form* (``overflow`` with ``max_wait_days: 0``): state ``N``, admissions only while
``N < c``; after a bed cut the occupants above ``c`` stay until they leave, as in the
engine (:class:`~capaciteit.simulation.engine.BedPool` admits only while occupied < beds).
Arrivals are Poisson, so by PASTA the refused share of year ``y`` is ``(1/T) * integral of
P(N(t) >= c_y)``, from the augmented generator ``[[Q, f], [0, 0]]``. A refused request is
resolved at once, so "resolved in the year" is "requested in the year".

*Waiting form* (``queue``: unbounded, first come first served, nobody gives up): state
``(B, Q)`` (beds occupied, waiting; two numbers because after a bed cut ``B > c`` while
others wait); on 1 January the list takes the new free beds at once. "Placed within ``t``
days" counts a request in the year it is *decided* (placed, or ``t`` days without a bed;
:func:`capaciteit.simulation.measures.placed_within`), and so does the oracle. A tagged
request's wait follows from the chain ``(B, k)`` (``k`` ahead of it; later requests do not
matter under FCFS): with ``B = c`` it is ``Gamma(k + 1, c mu)``; after a bed cut the ``B -
c`` extra departures come first; a wait into the next year gets that year's beds. For year
``[a, b)``: requests of ``[a, b - t)`` are decided in it, placed in time with ``P(W <= t |
state)``; requests of ``[b - t, b)`` are decided (and placed) in it if placed before ``b``,
the rest count in the next year, placed in time if placed by arrival + ``t``. Integrals
over the last ``t`` days by Simpson's rule (56 steps). Truncation (``B <= b_max``, ``Q <=
K``) loses arrivals at ``Q = K``: their expected number must stay below 1e-9.

*Which share.* The project's figure for a year is the mean over replications of each
replication's share, an estimate of ``E[hits / requests]``; PASTA gives ``E[hits] /
E[requests]``. They differ by a ratio's bias, O(1/requests): 0.001-0.004 here (80-150
requests a year), in the direction that flatters the norm. So the simulation is compared
with PASTA through the pooled estimate ``sum(hits) / sum(requests)`` (delta-method
interval), and for the loss form its mean of shares also with ``E[refused / requests]``,
computed exactly from the chain ``(N, requests so far)`` (:func:`loss_mean_share`).

*0-meting occupants*: :meth:`capaciteit.simulation.engine._Run.initial_state` picks a stay
with probability proportional to its length and a uniform point in it. For exponential
stays the length-biased stay is Gamma(2) and the rest after a uniform point of it is
exponential with the same mean (memoryless), so the start is ``N = n0`` without memory (up
to O(1/512): the engine picks from a pool of ``max(512, 8 n0)`` drawn stays). All stays
have the same mean here (no ``los_change_pct``), so ``mu`` is one number; 2025-2027 have
365 days each.

Tests: the oracle itself (uniformisation = ``expm``; the steady state is Erlang B / C; the
tagged wait is Gamma), the simulated per-year levels with fixed beds (test A), the per-year
minimal beds of the search against the exact sequential minimum and the long-run figure
against Erlang (test B), and a waiting form in heavy traffic whose long-run figure is one
bed below Erlang C if the long simulation, too short for its waiting list to settle, were
trusted (it is not: one bed fewer is only tried where the list settles in the warm-up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import sparse, stats
from scipy.linalg import expm

from capaciteit.domain.norms import norms_of
from capaciteit.domain.scenario import Scenario
from capaciteit.io.model_writer import write_model_dir, write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.optimisation.minimal_beds import MinimalBedsResult, minimal_beds
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.measures import StayColumns, measure_norms
from capaciteit.simulation.spec import compile_spec

START_YEAR = 2025  # 2025-2027: no leap year, every year has 365 days
YEARS = (2025, 2026, 2027)
T = 365.0
TRUNCATION = 1e-9


# --------------------------------------------------------------------------- the loss form
def loss_generator(lam: float, mu: float, c: int, n_max: int) -> np.ndarray:
    """Generator of the number in a loss system with ``c`` beds (states ``0..n_max``)."""
    q = np.zeros((n_max + 1, n_max + 1))
    for n in range(n_max + 1):
        if n < c:
            q[n, n + 1] = lam
        if n > 0:
            q[n, n - 1] = n * mu
        q[n, n] = -q[n].sum()
    return q


def loss_year(p0: np.ndarray, lam: float, mu: float, c: int) -> tuple[float, np.ndarray]:
    """Refused share of the year's requests (PASTA) and the distribution at its end.

    The augmented generator ``[[Q, f], [0, 0]]`` with ``f = 1{N >= c}`` carries
    ``integral of P(N(t) >= c) dt`` in its last coordinate.
    """
    n = len(p0)
    q = loss_generator(lam, mu, c, n - 1)
    m = np.zeros((n + 1, n + 1))
    m[:n, :n] = q
    m[c:n, n] = 1.0
    x = np.append(p0, 0.0) @ expm(m * T)
    return float(x[n] / T), x[:n]


# --------------------------------------------------------------------------- uniformisation
def uniformised(g: sparse.csr_matrix, v: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``expm(g * times[j]) @ v[:, j]`` for every column, by uniformisation.

    With ``L >= max exit rate`` and ``P = I + g / L`` (a stochastic matrix),
    ``expm(g r) = sum_k Poisson(k; L r) P^k``: nonnegative terms, cut where the Poisson
    tail is below 1e-16. ``g`` acts on columns (backward); pass ``g.T`` for the forward
    equations of row vectors.
    """
    rate = float(max(-g.diagonal().min(), 1e-12))
    step = sparse.identity(g.shape[0], format="csr") + g / rate
    terms = int(stats.poisson.isf(1e-16, rate * float(times.max()))) + 2
    weights = stats.poisson.pmf(np.arange(terms)[:, None], rate * times[None, :])
    out = np.zeros_like(v)
    power = v.copy()
    for k in range(terms):
        out += weights[k] * power
        power = step @ power
    return out


def propagate(g: sparse.csr_matrix, p: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Forward: ``p expm(g tau)`` and ``integral over [0, tau] of p expm(g s) ds``.

    The integral by uniformisation: ``(1 / L) sum_k P(Poisson(L tau) > k) p P^k``.
    """
    rate = float(max(-g.diagonal().min(), 1e-12))
    step = (sparse.identity(g.shape[0], format="csr") + g / rate).T.tocsr()
    terms = int(stats.poisson.isf(1e-16, rate * tau)) + 2
    k = np.arange(terms)
    at, beyond = stats.poisson.pmf(k, rate * tau), stats.poisson.sf(k, rate * tau)
    end, integral = np.zeros_like(p), np.zeros_like(p)
    power = p.copy()
    for i in range(terms):
        end += at[i] * power
        integral += beyond[i] * power
        power = step @ power
    return end, integral / rate


def loss_mean_share(p0: np.ndarray, lam: float, mu: float, c: int, steps: int = 364) -> float:
    """Exact ``E[refused / requests]`` of a year of the loss form (given requests > 0).

    What the project averages over replications is each replication's share, whose
    expectation is not ``E[refused] / E[requests]`` (a ratio's bias, O(1/requests)). A
    request refused at ``s`` adds ``1 / D`` with ``D = A + 1 + M``: ``A`` requests since 1
    January (tracked in the chain ``(N, A)``) and ``M ~ Poisson(lam (b - s))`` still to
    come (independent of the past). Simpson's rule over the year.
    """
    n = len(p0)
    a_max = int(stats.poisson.isf(1e-13, lam * T)) + 1
    size = n * (a_max + 1)
    i = np.arange(size)
    num, arrived = np.divmod(i, a_max + 1)
    move = arrived < a_max  # arrivals beyond a_max have probability < 1e-13
    up = np.where(num < c, a_max + 2, 1)  # one more arrival, and one more occupied if < c
    rows = np.concatenate([i[move], i[num > 0]])
    cols = np.concatenate([(i + up)[move], (i - (a_max + 1))[num > 0]])
    vals = np.concatenate([np.full(move.sum(), lam), (num * mu)[num > 0]])
    g = sparse.csr_matrix((vals, (rows, cols)), shape=(size, size))
    g = (g - sparse.diags(np.asarray(g.sum(axis=1)).ravel())).tocsr()
    p = np.zeros(size)
    p[np.arange(n) * (a_max + 1)] = p0
    ks = np.arange(a_max + 1)
    refused = num >= c
    dt = T / steps
    total = 0.0
    for j, w in enumerate(simpson(steps) * dt):
        rest = lam * (T - j * dt)
        ms = np.arange(int(stats.poisson.isf(1e-16, rest)) + 2) if rest > 0 else np.zeros(1)
        phi = (1.0 / (ks[:, None] + 1.0 + ms[None, :])) @ stats.poisson.pmf(ms, rest)
        total += w * float(p[refused] @ phi[arrived[refused]])
        if j < steps:
            p = propagate(g, p, dt)[0]
    return lam * total / (1.0 - math.exp(-lam * T))


# --------------------------------------------------------------------------- the waiting form
@dataclass
class YearEnd:
    """What a year of the waiting form leaves for the next: the state on its last ``t`` days."""

    lam: float
    beds: int
    grid: np.ndarray  # p(s) at s = b - t + j * step, j = 0..steps (rows); the last is p(b)


@dataclass
class WaitChain:
    """The waiting form: system ``(B, Q)`` and a tagged request's ``(B, k)``.

    States are ``B * (K + 1) + Q`` for ``B <= b_max`` beds occupied and ``Q <= K`` waiting;
    the tagged chain has one more state, ``placed`` (the last). ``t`` is the norm's days.
    """

    mu: float
    t: float
    b_max: int
    k_max: int
    steps: int = 56  # Simpson intervals over the last t days (half a day for t = 28)
    _tagged: dict[int, sparse.csr_matrix] = field(default_factory=dict)
    _within: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return (self.b_max + 1) * (self.k_max + 1)

    def index(self, b: int, q: int) -> int:
        return b * (self.k_max + 1) + q

    def states(self) -> tuple[np.ndarray, np.ndarray]:
        """Beds occupied and waiting of every state."""
        b, q = np.divmod(np.arange(self.size), self.k_max + 1)
        return b, q

    def generator(self, lam: float, c: int) -> sparse.csr_matrix:
        """Generator of ``(B, Q)`` with ``c`` beds; arrivals at ``Q = K`` are lost."""
        b, q = self.states()
        at_once = (b < c) & (q == 0)
        arrive = np.where(at_once, self.index(1, 0), 1)  # next state: index + this
        has_arrival = at_once | (q < self.k_max)
        # a departure; with a bed free then, the first waiting takes it at once
        takes = (q > 0) & (b - 1 < c)
        depart = np.where(takes, -1, -(self.k_max + 1))
        has_departure = b > 0
        i = np.arange(self.size)
        rows = np.concatenate([i[has_arrival], i[has_departure]])
        cols = np.concatenate([(i + arrive)[has_arrival], (i + depart)[has_departure]])
        vals = np.concatenate([np.full(has_arrival.sum(), lam), (b * self.mu)[has_departure]])
        g = sparse.csr_matrix((vals, (rows, cols)), shape=(self.size, self.size))
        return (g - sparse.diags(np.asarray(g.sum(axis=1)).ravel())).tocsr()

    def new_year(self, c: int) -> sparse.csr_matrix:
        """1 January with ``c`` beds: the waiting list takes the free beds (a 0/1 matrix)."""
        b, q = self.states()
        moved = np.minimum(q, np.maximum(c - b, 0))
        n = self.size
        target = np.arange(n) + moved * (self.k_max + 1) - moved
        return sparse.csr_matrix((np.ones(n), (np.arange(n), target)), shape=(n, n))

    def placed_at_once(self, c: int) -> np.ndarray:
        """States in which a new request gets a bed at once (a free bed, nobody waiting)."""
        b, q = self.states()
        return (b < c) & (q == 0)

    def tagged(self, c: int) -> sparse.csr_matrix:
        """Generator of a waiting request: ``(B, k)`` and ``placed`` (the last state).

        A departure (rate ``B mu``) frees a bed if ``B - 1 < c``: the first of the ``k``
        ahead takes it, or the tagged request when ``k = 0``; after a bed cut (``B > c``)
        the bed closes. Requests behind the tagged one do not matter (FCFS).
        """
        if c not in self._tagged:
            n = self.size
            b, k = self.states()
            i = np.arange(n)
            frees = b - 1 < c
            target = np.where(frees, np.where(k > 0, i - 1, n), i - (self.k_max + 1))
            m = b > 0
            g = sparse.csr_matrix(((b * self.mu)[m], (i[m], target[m])), shape=(n + 1, n + 1))
            self._tagged[c] = (g - sparse.diags(np.asarray(g.sum(axis=1)).ravel())).tocsr()
        return self._tagged[c]

    def placed_within(self, c: int) -> np.ndarray:
        """``u[j, state] = P(placed within j * step days | arrives in state)``, ``c`` beds."""
        if c not in self._within:
            e = np.zeros((self.size + 1, self.steps + 1))
            e[-1] = 1.0
            times = np.linspace(0.0, self.t, self.steps + 1)
            u = uniformised(self.tagged(c), e, times).T[:, : self.size].copy()
            u[:, self.placed_at_once(c)] = 1.0
            self._within[c] = u
        return self._within[c]

    def carried_over(self, before: YearEnd, c: int) -> tuple[float, float]:
        """Requests of the last ``t`` days of the year before that are decided this year.

        Returns (decided, placed within ``t`` days), expected numbers. A request that
        arrived ``r`` days before 1 January is decided this year if it still waits then; it
        is placed in time if placed by ``t - r`` days into the year (with ``c`` beds).
        """
        j = np.arange(self.steps + 1)
        r = self.t - j * (self.t / self.steps)  # days to 1 January of grid point j
        h = self.placed_within(before.beds)[self.steps - j]  # placed before 1 January
        weights = simpson(self.steps) * (self.t / self.steps)
        decided = float(weights @ np.einsum("js,js->j", before.grid, 1.0 - h))
        # P(placed by arrival + t | waiting on 1 January): the new beds from 1 January on;
        # (arrival + t) - 1 January = j * step
        after = (self.new_year(c) @ self.placed_within(c).T).copy()  # state x j
        z = np.vstack([after, np.zeros((1, self.steps + 1))])  # placed before: not counted
        z = uniformised(self.tagged(before.beds), z, r)[: self.size]
        z[self.placed_at_once(before.beds)] = 0.0
        placed = float(weights @ np.einsum("js,sj->j", before.grid, z))
        return before.lam * decided, before.lam * placed

    def year(
        self, p0: np.ndarray, lam: float, c: int, before: YearEnd | None
    ) -> tuple[float, YearEnd, float]:
        """Placed-within-``t`` share of the requests decided this year; the year's end.

        ``p0`` is the distribution on 1 January before the new beds; ``before`` what the
        year before left (None in the first year: the 0-meting has no waiting list).
        Also returns the expected number of arrivals lost at the truncation ``Q = K``.
        """
        p = p0 @ self.new_year(c)
        gen = self.generator(lam, c)
        full = self.states()[1] == self.k_max
        u = self.placed_within(c)
        # requests of [a, b - t): decided this year, placed in time with P(W <= t | state)
        p_last, spent = propagate(gen, p, T - self.t)
        placed = lam * float(spent @ u[-1])
        decided = lam * (T - self.t)
        lost = lam * float(spent[full].sum())
        # the last t days, on a grid: placed before 1 January means decided this year
        times = np.linspace(0.0, self.t, self.steps + 1)
        columns = np.repeat(p_last[:, None], self.steps + 1, axis=1)
        grid = uniformised(gen.T.tocsr(), columns, times).T
        weights = simpson(self.steps) * (self.t / self.steps)
        j = np.arange(self.steps + 1)
        last = float(weights @ np.einsum("js,js->j", grid, u[self.steps - j]))
        placed += lam * last
        decided += lam * last
        lost += lam * float(weights @ grid[:, full].sum(axis=1))
        if before is not None:
            more_decided, more_placed = self.carried_over(before, c)
            decided += more_decided
            placed += more_placed
        return placed / decided, YearEnd(lam, c, grid), lost


def simpson(intervals: int) -> np.ndarray:
    """Simpson weights for ``intervals`` (even) equal steps of length 1."""
    assert intervals % 2 == 0
    w = np.ones(intervals + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w / 3.0


# --------------------------------------------------------------------------- the region
@dataclass(frozen=True)
class Region:
    """One care form: referrals per year, mean stay, the 0-meting and a norm."""

    kind: str  # "loss" or "wait"
    arrivals: tuple[float, ...]  # per year from 2025 on
    los_days: float
    beds0: int  # beds in the 0-meting (weights only; the search chooses the beds)
    n0: int  # occupied in the 0-meting
    norm: float  # loss: refused share at most; wait: placed-within share at least
    days: float = 28.0  # wait: the norm's days

    @property
    def lams(self) -> list[float]:
        return [a / T for a in self.arrivals]

    @property
    def mu(self) -> float:
        return 1.0 / self.los_days

    def service_level(self) -> dict[str, Any]:
        if self.kind == "loss":
            return {
                "placed_within_days": None,
                "placed_share_min": None,
                "refused_share_max": self.norm,
            }
        return {"placed_within_days": self.days, "placed_share_min": self.norm}


def write_region(tmp: Path, region: Region, replications: int, seed: int) -> Scenario:
    """Model folder and scenario file for ``region``, read back through the real loader."""
    form: dict[str, Any] = {"care_form": "a", "name": "A"}
    if region.kind == "loss":
        form |= {"waiting_policy": "overflow", "max_wait_days": 0}
    else:
        form |= {"waiting_policy": "queue"}  # no max_wait_days, no max_queue_length
    tables = {
        "care_forms": [form],
        "providers": [{"provider": "P1", "name": "Een"}],
        "beds": [{"provider": "P1", "care_form": "a", "beds": region.beds0, "occupied": region.n0}],
        "instroom": [
            {"care_form": "a", "year": YEARS[0] + i, "arrivals_per_year": a}
            for i, a in enumerate(region.arrivals)
        ],
        "los": [{"care_form": "a", "distribution": "exponential", "mean_days": region.los_days}],
        "routing": [{"from_care_form": "a", "to": "thuis", "share": 1.0}],
        "costs": [{"care_form": "a", "provider": "", "cost_per_bed_day_eur": 100.0}],
    }
    model = write_model_dir(tmp / "model", tables, baseline_year=START_YEAR)
    file = write_scenario_file(
        tmp / "scenario.yaml",
        model,
        start_year=YEARS[0],
        end_year=YEARS[0] + len(region.arrivals) - 1,
        replications=replications,
        seed=seed,
        warm_up_days=0.0,
        initial_state="occupied",
    )
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data["service_levels"] = {"a": region.service_level()}
    data["optimisation"] = {"replications": replications}
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(file)


# --------------------------------------------------------------------------- year by year
class Oracle:
    """Exact per-year service level of a region, year by year from the 0-meting.

    A *state* is what 1 January of a year hands on: the distribution of the chain (and, for
    the waiting form, the last ``t`` days of the year before). :meth:`year` gives the
    year's level with ``c`` beds, the state for the next year and the arrivals lost at the
    truncation (expected number).
    """

    def __init__(self, region: Region, b_max: int, k_max: int = 0) -> None:
        self.region = region
        self.b_max = b_max
        if region.kind == "wait":
            self.chain = WaitChain(region.mu, region.days, b_max, k_max)

    def start(self) -> Any:
        """The 0-meting: ``n0`` occupied, nobody waiting, nothing carried over."""
        if self.region.kind == "loss":
            p = np.zeros(self.b_max + 1)
            p[self.region.n0] = 1.0
            return p
        p = np.zeros(self.chain.size)
        p[self.chain.index(self.region.n0, 0)] = 1.0
        return (p, None)

    def year(self, state: Any, y: int, c: int) -> tuple[float, Any, float]:
        """Level of year index ``y`` with ``c`` beds from ``state``; next state; lost."""
        assert 0 <= c <= self.b_max
        lam, mu = self.region.lams[y], self.region.mu
        if self.region.kind == "loss":
            share, p = loss_year(state, lam, mu, c)
            return share, p, 0.0
        p, before = state
        share, end, lost = self.chain.year(p, lam, c, before)
        return share, (end.grid[-1], end), lost

    def meets(self, level: float) -> bool:
        """Whether an exact level meets the norm."""
        return meets(self.region, level)


# --------------------------------------------------------------------------- steady state
def erlang_b(c: int, a: float) -> float:
    """Erlang's loss formula ``(a^c / c!) / sum_{k <= c} a^k / k!`` (in log space)."""
    terms = [math.exp(k * math.log(a) - math.lgamma(k + 1)) for k in range(c + 1)]
    return terms[-1] / math.fsum(terms)


def erlang_wait_within(c: int, lam: float, mu: float, t: float) -> float:
    """``P(W <= t)`` in M/M/c: ``1 - C(c, a) exp(-(c mu - lam) t)`` (0 when unstable)."""
    a = lam / mu
    if c <= a:
        return 0.0
    b = erlang_b(c, a)
    waits = b / (1.0 - a / c * (1.0 - b))  # Erlang C from Erlang B
    return 1.0 - waits * math.exp(-(c * mu - lam) * t)


def steady_level(region: Region, y: int, c: int) -> float:
    """The long-run level of year ``y``'s parameters held for ever."""
    lam = region.lams[y]
    if region.kind == "loss":
        return erlang_b(c, lam / region.mu) if c > 0 else 1.0
    return erlang_wait_within(c, lam, region.mu, region.days)


def meets(region: Region, level: float) -> bool:
    """Whether a level meets the region's norm."""
    return level <= region.norm if region.kind == "loss" else level >= region.norm


def steady_minimum(region: Region, y: int) -> int:
    """Fewest beds whose long-run level meets the norm, stepping up from one bed."""
    c = 1
    while not meets(region, steady_level(region, y, c)):
        c += 1
    return c


# --------------------------------------------------------------------------- simulation
def simulate_years(
    scenario: Scenario, beds: list[int], replications: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per replication and year: the project's measured share and the requests behind it.

    The engine runs the scenario with ``beds`` per year; every year is measured by
    :func:`capaciteit.simulation.measures.measure_norms`, as the minimal-beds search does.
    """
    spec = compile_spec(scenario)
    capacity = pd.DataFrame([beds], index=spec.capacity.index, columns=spec.years)
    spec = spec.with_capacity(capacity)
    norms = norms_of(scenario)
    assert len(norms) == 1
    bounds = spec.year_start_day.to_numpy(dtype="float64")
    values = np.zeros((replications, len(YEARS)))
    requests = np.zeros((replications, len(YEARS)))
    for r, seed_r in enumerate(np.random.SeedSequence(seed).spawn(replications)):
        stays = StayColumns.from_frame(simulate_stays(spec, seed_r), ["a"])
        for y in range(len(YEARS)):
            window = (float(bounds[y]), float(bounds[y + 1]))
            v, n, _ = measure_norms(stays, norms, ["a"], window, {"a": float(beds[y])})
            values[r, y], requests[r, y] = v[0], n[0]
    return values, requests


def t_interval(x: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean and Student-t interval over replications."""
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def ratio_interval(hits: np.ndarray, n: np.ndarray, level: float) -> tuple[float, float, float]:
    """``sum(hits) / sum(n)`` over replications with its delta-method t-interval.

    This estimates ``E[hits] / E[n]``, the share of all requests (what PASTA gives).
    """
    ratio = float(hits.sum() / n.sum())
    residual = hits - ratio * n
    se = residual.std(ddof=1) / math.sqrt(len(n)) / n.mean()
    half = float(stats.t.ppf(0.5 + level / 2, len(n) - 1) * se)
    return ratio, ratio - half, ratio + half


# --------------------------------------------------------------------------- the cases
LOSS = Region("loss", arrivals=(150.0, 80.0, 120.0), los_days=120.0, beds0=45, n0=20, norm=0.05)
"""Crisis-like: refused when full; the 0-meting far below the first year's equilibrium
(20 occupied, ~47 offered), a drop in referrals in 2026 (beds cut below the occupants),
then growth again. Stays of four months: each year starts far from equilibrium."""
WAIT = Region("wait", arrivals=(150.0, 90.0, 130.0), los_days=90.0, beds0=35, n0=20, norm=0.8)
"""A waiting list at home, norm 80% placed within 28 days; the same shape of referrals."""
LOSS_B_MAX = 80
SEARCH_SEED = 7
WAIT_B_MAX, WAIT_K_MAX = 45, 200


# --------------------------------------------------------------------------- the oracle itself
def test_uniformisation_matches_scipy_expm() -> None:
    chain = WaitChain(mu=1 / 7, t=5.0, b_max=4, k_max=6, steps=10)
    gen = chain.generator(0.5, 3)
    p = np.zeros(chain.size)
    p[chain.index(4, 2)] = 1.0  # above the beds, with a waiting list
    dense = gen.toarray()
    end, integral = propagate(gen, p, 30.0)
    assert np.allclose(end, p @ expm(dense * 30.0), atol=1e-13)
    aug = np.zeros((2 * chain.size, 2 * chain.size))  # [[Q, I], [0, 0]]: the integral
    aug[: chain.size, : chain.size] = dense
    aug[: chain.size, chain.size :] = np.eye(chain.size)
    assert np.allclose(integral, (np.append(p, 0 * p) @ expm(aug * 30.0))[chain.size :])
    columns = np.eye(chain.size)[:, :3]
    times = np.array([0.0, 1.5, 20.0])
    got = uniformised(gen, columns, times)
    for j, r in enumerate(times):
        assert np.allclose(got[:, j], expm(dense * r) @ columns[:, j], atol=1e-13)


def test_oracle_reaches_erlang_in_steady_state() -> None:
    """With the same referrals and beds for years, both chains settle at Erlang B and C."""
    mu, lam, c = 1 / 10, 1.6, 20  # a = 16; ten-day stays: equilibrium within weeks
    p = np.zeros(41)
    p[0] = 1.0  # empty on the first 1 January
    for _ in range(3):
        share, p = loss_year(p, lam, mu, c)
    assert share == pytest.approx(erlang_b(c, lam / mu), rel=1e-9)
    chain = WaitChain(mu=mu, t=3.0, b_max=c, k_max=120, steps=12)
    state, before = np.zeros(chain.size), None
    state[0] = 1.0
    for _ in range(3):
        share, before, lost = chain.year(state, lam, c, before)
        state = before.grid[-1]
    assert lost < TRUNCATION
    assert share == pytest.approx(erlang_wait_within(c, lam, mu, 3.0), rel=1e-8)
    # the tagged wait with B = c beds busy and k ahead is Gamma(k + 1, c mu)
    u = chain.placed_within(c)[-1]
    for k in (0, 3, 10):
        assert u[chain.index(c, k)] == pytest.approx(
            stats.gamma.cdf(3.0, k + 1, scale=1 / (c * mu))
        )


# --------------------------------------------------------------------------- test A
def exact_with_neighbours(oracle: Oracle, beds: list[int]) -> list[tuple[float, float, float]]:
    """Per year: the exact level with ``beds``, and with one bed fewer / more that year only.

    The neighbours show the test's power: an interval that excludes them would notice an
    engine that behaves as if it had one bed more or fewer.
    """
    state, out = oracle.start(), []
    for y, c in enumerate(beds):
        fewer, _, lost_fewer = oracle.year(state, y, c - 1)
        more, _, _ = oracle.year(state, y, c + 1)
        level, state, lost = oracle.year(state, y, c)
        assert max(lost, lost_fewer) < TRUNCATION
        out.append((level, fewer, more))
    return out


def test_loss_form_per_year_levels_match_the_chain(tmp_path: Path) -> None:
    """Refused share per year with fixed beds: simulation within its interval of the chain."""
    beds = [44, 34, 38]  # 2026: 34 beds for ~45 occupants on 1 January
    replications = 600
    scenario = write_region(tmp_path, LOSS, replications=20, seed=1)
    values, requests = simulate_years(scenario, beds, replications, seed=20250101)
    level = 1 - 0.05 / 6  # Bonferroni: six intervals, 95% together
    oracle = Oracle(LOSS, LOSS_B_MAX)
    exact = exact_with_neighbours(oracle, beds)
    state = oracle.start()
    for y, c in enumerate(beds):
        share, fewer, more = exact[y]
        # the share of all requests refused (PASTA): the pooled estimate
        _, low, high = ratio_interval(values[:, y] * requests[:, y], requests[:, y], level)
        assert low <= share <= high, (YEARS[y], c, share, (low, high))
        assert not low <= fewer <= high and not low <= more <= high  # power
        # the project's figure: the mean of the per-replication shares, E[refused / requests]
        per_year = loss_mean_share(state, LOSS.lams[y], LOSS.mu, c)
        _, low, high = t_interval(values[:, y], level)
        assert low <= per_year <= high, (YEARS[y], c, per_year, (low, high))
        _, state, _ = oracle.year(state, y, c)


def test_waiting_form_per_year_levels_match_the_chain(tmp_path: Path) -> None:
    """Placed within 28 days per year with fixed beds, counted in the year decided."""
    beds = [33, 30, 29]  # queues carried over 1 January, beds cut under the occupants
    replications = 1000
    scenario = write_region(tmp_path, WAIT, replications=20, seed=1)
    values, requests = simulate_years(scenario, beds, replications, seed=2026)
    level = 1 - 0.05 / 3
    exact = exact_with_neighbours(Oracle(WAIT, WAIT_B_MAX, WAIT_K_MAX), beds)
    for y, c in enumerate(beds):
        share, fewer, more = exact[y]
        _, low, high = ratio_interval(values[:, y] * requests[:, y], requests[:, y], level)
        assert low <= share <= high, (YEARS[y], c, share, (low, high))
        assert not low <= fewer <= high and not low <= more <= high  # power


# --------------------------------------------------------------------------- test B
def standard_error(low: float, high: float) -> float:
    """Standard error behind a 95% interval (half-width / 1.96)."""
    return (high - low) / (2 * 1.959964)


def at_the_edge(region: Region, level: float, se: float) -> bool:
    """Whether an exact level is within two standard errors of the norm (noise decides)."""
    return abs(level - region.norm) <= 2 * se


def check_long_run(result: MinimalBedsResult, region: Region) -> None:
    """The long-run figures are the Erlang B / C minimum of each year's referrals.

    ``analytic_beds`` exactly; ``long_run_beds`` (checked by a long simulation) may be one
    bed off only where the steady-state level in between is within two standard errors (of
    the long simulation's interval) of the norm.
    """
    levels = result.long_run_levels.set_index("year")
    for y in range(len(region.arrivals)):
        year = YEARS[0] + y
        erlang = steady_minimum(region, y)
        assert int(result.table.at[("a", year), "analytic_beds"]) == erlang
        long_run = int(result.table.at[("a", year), "long_run_beds"])
        if long_run != erlang:
            edge = min(long_run, erlang)
            se = standard_error(float(levels.at[year, "ci_low"]), float(levels.at[year, "ci_high"]))
            steady = steady_level(region, y, edge)
            message = (year, long_run, erlang, f"steady level with {edge}: {steady:.4f}", se)
            assert abs(long_run - erlang) == 1, message
            assert at_the_edge(region, steady, se), message


def searched(region: Region, state: Any, y: int, c: int, levels: dict[int, float]) -> float:
    """The exact value of what the search estimates: the mean of per-replication shares.

    For the loss form exactly ``E[refused / requests]`` (its ratio bias is up to ~0.003
    here); for the waiting form the share of all requests (``levels[c]``), whose ratio bias
    (~0.003 by simulation) is far below the search's standard error.
    """
    if region.kind == "loss":
        return loss_mean_share(state, region.lams[y], region.mu, c)
    return levels[c]


def check_search(
    result: MinimalBedsResult, region: Region, b_max: int, k_max: int
) -> list[tuple[int, int, dict[int, float]]]:
    """Every year's minimum is the exact one given the beds of the years before.

    For year ``y`` the chain starts from its distribution at the end of ``y - 1`` under
    the beds the search chose there; the exact minimum is the fewest beds whose exact level
    meets the norm. The search may be one bed off only where the exact value of what it
    estimates (:func:`searched`) at the count in between is within two standard errors
    (from the search's own interval) of the norm. Returns per year the chosen and the exact
    minimum and the exact levels computed.
    """
    oracle = Oracle(region, b_max, k_max)
    state = oracle.start()
    out = []
    for y in range(len(region.arrivals)):
        year = YEARS[0] + y
        chosen = int(result.table.at[("a", year), "minimal_beds"])
        assert chosen <= b_max - 2
        exact, levels = exact_minimum_near(oracle, state, y, chosen)
        row = result.evidence.loc[("a", year)]
        message = (year, chosen, exact, {c: round(v, 4) for c, v in sorted(levels.items())})
        if abs(chosen - exact) == 1:
            # one bed off: only where the noise decides, at the count in between (the
            # search's interval there: at its minimum, or with one bed fewer)
            edge = min(chosen, exact)
            side = "at_minimum" if edge == chosen else "at_one_fewer"
            se = standard_error(float(row[f"{side}_ci_low"]), float(row[f"{side}_ci_high"]))
            assert at_the_edge(region, searched(region, state, y, edge, levels), se), message
        else:
            assert chosen == exact, message
        out.append((chosen, exact, levels))
        _, state, lost = oracle.year(state, y, chosen)
        assert lost < TRUNCATION
    return out


@pytest.mark.parametrize(
    ("region", "b_max", "k_max"),
    [
        pytest.param(LOSS, LOSS_B_MAX, 0, id="loss"),
        pytest.param(WAIT, WAIT_B_MAX, WAIT_K_MAX, id="wait"),
    ],
)
def test_minimal_beds_per_year_equal_the_exact_sequential_minimum(
    tmp_path: Path, region: Region, b_max: int, k_max: int
) -> None:
    """The search's minimum per year from the 0-meting, and the long-run figure."""
    result = minimal_beds(write_region(tmp_path, region, replications=200, seed=SEARCH_SEED))
    assert result.status == "verified"
    check_search(result, region, b_max, k_max)
    check_long_run(result, region)


def exact_minimum_near(
    oracle: Oracle, state: Any, y: int, guess: int
) -> tuple[int, dict[int, float]]:
    """Fewest beds meeting the norm in year ``y`` from ``state``, stepping from ``guess``.

    More beds never give a worse level, so the minimum is where the level turns from
    failing to meeting; every level used must be exact (nothing lost at the truncation).
    """
    levels: dict[int, float] = {}

    def ok(c: int) -> bool:
        if c < 0:
            return False
        if c not in levels:
            level, _, lost = oracle.year(state, y, c)
            assert lost < TRUNCATION, (y, c, lost)
            levels[c] = level
        return oracle.meets(levels[c])

    c = guess
    if ok(c):
        while ok(c - 1):
            c -= 1
    else:
        while not ok(c):
            c += 1
    return c, levels


# --------------------------------------------------------------------------- heavy traffic
HEAVY = Region("wait", arrivals=(80.0,), los_days=180.0, beds0=40, n0=0, norm=0.8, days=90.0)
"""A new form (nobody in it yet) at rho ~0.94: Erlang C needs 42 beds for 80% placed within
90 days (41 give 66%). Its waiting list takes years to reach equilibrium."""


@pytest.fixture(scope="module")
def heavy(tmp_path_factory: pytest.TempPathFactory) -> MinimalBedsResult:
    """The search for :data:`HEAVY` (one year)."""
    scenario = write_region(tmp_path_factory.mktemp("heavy"), HEAVY, 200, seed=SEARCH_SEED)
    return minimal_beds(scenario)


def test_minimal_beds_in_heavy_traffic_equal_the_exact_minimum(heavy: MinimalBedsResult) -> None:
    assert heavy.status == "verified"
    check_search(heavy, HEAVY, b_max=40, k_max=WAIT_K_MAX)


def test_long_run_beds_equal_erlang_c_in_heavy_traffic(heavy: MinimalBedsResult) -> None:
    check_long_run(heavy, HEAVY)
