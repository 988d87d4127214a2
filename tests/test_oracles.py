"""Oracle tests: the simulation against exact results of queueing theory.

Every expected value here is computed in this file from textbook formulas (Erlang B and C,
the birth-death chain of M/M/c/K, Jackson's product form, the two-machine line with a
finite buffer and a small CTMC solved with numpy), never from earlier output of the code.

Each statistical assertion works on one estimate per replication: a 95% Student-t
confidence interval over the replications must contain the exact value, and its half-width
must be below a stated fraction of that value, so that the test has power. Seeds are fixed
(the engine gives the same stays for the same seed), so the tests are deterministic.

Times are days from 1 January of the first horizon year; everything before day 0 is
warm-up and is left out of the statistics. Horizons are non-leap years (2025-2027), so the
arrival rate per day is ``arrivals_per_year / 365``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from capaciteit.io.model_writer import write_model_dir, write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation.replications import SimulationResult, run_replications
from capaciteit.simulation.spec import SimSpec, compile_spec

LEVEL = 0.95
START_YEAR = 2025  # 2025-2027 are not leap years
DAYS_PER_YEAR = 365.0


# --------------------------------------------------------------------------- exact values
def erlang_b(c: int, a: float) -> float:
    """Erlang loss probability B(c, a) by the stable recursion."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load ``a`` (requires ``a < c``)."""
    b = erlang_b(c, a)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def mmc_wait(c: int, lam: float, mu: float) -> tuple[float, float, float]:
    """Erlang C, the mean wait and the decay rate ``c mu - lam`` of M/M/c (FCFS)."""
    pw = erlang_c(c, lam / mu)
    rate = c * mu - lam
    return pw, pw / rate, rate


def mmck_distribution(c: int, k: int, lam: float, mu: float) -> np.ndarray:
    """Stationary number in system of M/M/c/K from the birth-death balance equations."""
    p = np.ones(k + 1)
    for n in range(1, k + 1):
        p[n] = p[n - 1] * lam / (min(n, c) * mu)
    return p / p.sum()


def jackson_rates(external: np.ndarray, routing: np.ndarray) -> np.ndarray:
    """Solve the traffic equations ``lam = external + routing.T @ lam``."""
    n = len(external)
    return np.linalg.solve(np.eye(n) - routing.T, external)


def tandem_throughput_formula(n_buffer: int, mu: float) -> float:
    """Two equal exponential machines, first never starved, buffer ``n_buffer``."""
    return mu * (n_buffer + 2) / (n_buffer + 3)


def tandem_throughput_ctmc(n_buffer: int, mu: float) -> float:
    """Same line from its CTMC on (A blocked, jobs in buffer, B busy), solved with numpy.

    Blocking after service: a job that finishes on A while the buffer is full (or, without
    a buffer, while B is busy) stays on A until a place frees. A is never starved.
    """
    states = []
    for b_busy in (0, 1):
        for n in range(n_buffer + 1):
            for a_blocked in (0, 1):
                if n > 0 and not b_busy:
                    continue
                if a_blocked and not (b_busy and n == n_buffer):
                    continue
                states.append((a_blocked, n, b_busy))
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (a_blocked, n, b_busy), i in index.items():
        if not a_blocked:  # A finishes a job
            if not b_busy:
                nxt = (0, 0, 1)
            elif n < n_buffer:
                nxt = (0, n + 1, 1)
            else:
                nxt = (1, n, 1)
            q[i, index[nxt]] += mu
        if b_busy:  # B finishes a job
            if n > 0:
                nxt = (0, n, 1) if a_blocked else (0, n - 1, 1)
            elif a_blocked:
                nxt = (0, 0, 1)
            else:
                nxt = (0, 0, 0)
            q[i, index[nxt]] += mu
    np.fill_diagonal(q, -q.sum(axis=1))
    lhs = np.vstack([q.T, np.ones(len(states))])
    rhs = np.zeros(len(states) + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    busy = sum(pi[i] for (_, _, b_busy), i in index.items() if b_busy)
    return mu * busy


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Interval:
    """Mean and Student-t confidence interval over replications."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def __str__(self) -> str:
        return f"{self.mean:.5g} [{self.low:.5g}, {self.high:.5g}] (n={self.n})"


def t_interval(values: Any) -> Interval:
    """95% Student-t interval of independent per-replication estimates."""
    x = np.asarray(values, dtype="float64")
    assert not np.isnan(x).any(), "a replication gave no estimate"
    n = len(x)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def assert_covers(values: Any, exact: float, rel_half_width: float, what: str) -> Interval:
    """Assert the CI of ``values`` contains ``exact`` and is narrower than asked."""
    ci = t_interval(values)
    assert ci.low <= exact <= ci.high, f"{what}: exact {exact:.5g} outside CI {ci}"
    assert ci.half_width <= rel_half_width * abs(exact), (
        f"{what}: CI {ci} too wide (half-width above {rel_half_width:.0%} of {exact:.5g})"
    )
    return ci


def overlap_mean(starts: np.ndarray, ends: np.ndarray, t0: float, t1: float) -> float:
    """Time-average number of intervals ``[start, end)`` open during ``[t0, t1)``.

    Missing starts (never admitted) are left out; missing ends (still open when the run
    stopped) count as open until ``t1``.
    """
    s = np.asarray(starts, dtype="float64")
    e = np.asarray(ends, dtype="float64")
    used = ~np.isnan(s)  # never admitted: no interval
    s, e = s[used], np.where(np.isnan(e[used]), np.inf, e[used])
    return float(np.clip(np.minimum(e, t1) - np.maximum(s, t0), 0.0, None).sum() / (t1 - t0))


def per_replication(
    stays: pd.DataFrame, func: Callable[[pd.DataFrame], float], replications: int
) -> np.ndarray:
    """``func`` applied to the stays of each replication (in replication order)."""
    groups = dict(tuple(stays.groupby("replication", sort=True)))
    empty = stays.iloc[:0]
    return np.array([func(groups.get(r, empty)) for r in range(replications)], dtype="float64")


# --------------------------------------------------------------------------- models
@dataclass(frozen=True)
class Form:
    """One care form of a test network, one provider, exponential stays."""

    beds: int
    mean_los: float
    arrivals_per_day: float = 0.0
    policy: str = "queue"
    max_wait_days: float | None = None
    max_queue_length: int | None = None


@dataclass(frozen=True)
class Case:
    """A test network and how to run it."""

    forms: Mapping[str, Form]
    routing: Mapping[tuple[str, str], float]
    years: int
    warm_up_days: float
    replications: int
    seed: int
    little_margin_days: float  # stays starting this close to the end may be unfinished


@dataclass(frozen=True)
class Run:
    """A case, its compiled spec and the simulation result."""

    case: Case
    spec: SimSpec
    result: SimulationResult

    @property
    def end_day(self) -> float:
        return self.spec.end_day

    def form_stays(self, form: str) -> pd.DataFrame:
        s = self.result.stays
        return s[s["care_form"] == form]


def write_case(directory: Path, case: Case) -> Path:
    """Write the model directory and scenario file of ``case``; return the scenario."""
    care_forms: list[dict[str, Any]] = []
    for fid, f in case.forms.items():
        row: dict[str, Any] = {"care_form": fid, "name": fid, "waiting_policy": f.policy}
        row["max_wait_days"] = f.max_wait_days
        row["max_queue_length"] = f.max_queue_length
        care_forms.append(row)
    tables = {
        "care_forms": pd.DataFrame(care_forms).astype(
            {"max_wait_days": "float64", "max_queue_length": "Int64"}
        ),
        "providers": [{"provider": "P1", "name": "Aanbieder"}],
        "beds": [
            {"provider": "P1", "care_form": fid, "beds": f.beds} for fid, f in case.forms.items()
        ],
        "instroom": [
            {
                "care_form": fid,
                "year": START_YEAR,
                "arrivals_per_year": f.arrivals_per_day * DAYS_PER_YEAR,
            }
            for fid, f in case.forms.items()
        ],
        "los": [
            {"care_form": fid, "distribution": "exponential", "mean_days": f.mean_los}
            for fid, f in case.forms.items()
        ],
        "routing": [
            {"from_care_form": src, "to": dst, "share": share}
            for (src, dst), share in case.routing.items()
        ],
        "costs": [
            {"care_form": fid, "provider": "", "cost_per_bed_day_eur": 100.0} for fid in case.forms
        ],
    }
    model_dir = write_model_dir(directory / "model", tables, baseline_year=START_YEAR)
    return write_scenario_file(
        directory / "scenario.yaml",
        model_dir,
        start_year=START_YEAR,
        end_year=START_YEAR + case.years - 1,
        warm_up_days=case.warm_up_days,
        replications=case.replications,
        seed=case.seed,
    )


def run_case(directory: Path, case: Case) -> Run:
    """Write, load, compile and simulate ``case`` (serial executor)."""
    spec = compile_spec(load_scenario(write_case(directory, case)))
    # The inputs are what we think they are: a constant rate per day after the warm-up.
    seg = spec.arrival_segments[spec.arrival_segments["start_day"] >= 0]
    for fid, f in case.forms.items():
        rates = seg.loc[seg["care_form"] == fid, "children_per_day"].to_numpy()
        np.testing.assert_allclose(rates, f.arrivals_per_day, rtol=1e-12, atol=0)
    assert spec.end_day == case.years * DAYS_PER_YEAR
    result = run_replications(spec, case.replications, case.seed)
    return Run(case, spec, result)


def _loss(beds: int, lam: float, los: float, reps: int, seed: int, years: int = 3) -> Case:
    form = Form(beds, los, lam, policy="overflow", max_wait_days=0.0)
    # a stay longer than 30 mean stays has probability e^-30: every stay in the window ends
    margin = 30.0 * los
    return Case({"crisis": form}, {("crisis", "thuis"): 1.0}, years, 200.0, reps, seed, margin)


def _tandem(n_buffer: int) -> Case:
    mu_los = 1.0
    forms = {
        # A: always a queue of referrals (at most 5), so it is (nearly) never idle
        "a": Form(1, mu_los, 3.0, policy="queue", max_queue_length=5),
    }
    routing: dict[tuple[str, str], float] = {}
    if n_buffer:
        forms["buffer"] = Form(n_buffer, 1e-6, policy="block")
        routing[("a", "buffer")] = 1.0
        routing[("buffer", "b")] = 1.0
    else:
        routing[("a", "b")] = 1.0
    forms["b"] = Form(1, mu_los, policy="block")
    routing[("b", "thuis")] = 1.0
    return Case(forms, routing, 1, 30.0, 40, 500 + n_buffer, 30.0)


# Jackson network: external referrals to a and b; a <-> b loop, b -> c -> b loop.
JACKSON_FORMS = ("a", "b", "c")
JACKSON_EXTERNAL = np.array([1.5, 0.5, 0.0])
JACKSON_ROUTING = np.array(
    [
        [0.0, 0.4, 0.0],
        [0.25, 0.0, 0.25],
        [0.0, 0.3, 0.0],
    ]
)
JACKSON_BEDS = {"a": 3, "b": 4, "c": 1}
JACKSON_LOS = {"a": 1.0, "b": 2.0, "c": 0.5}

SELF_LOOP_SHARE = 0.5

CASES: dict[str, Case] = {
    # Erlang B: the case (lam = 1/day, LOS 14 d, 19 beds), a larger and a small one
    "erlang_b_19": _loss(19, 1.0, 14.0, 60, 101),
    "erlang_b_23": _loss(23, 18.0 / 14.0, 14.0, 60, 112),
    "erlang_b_3": _loss(3, 2.0, 1.0, 30, 113, years=1),
    # Erlang C: 5 beds, rho = 0.8
    "erlang_c": Case(
        {"x": Form(5, 1.0, 4.0, policy="queue")},
        {("x", "thuis"): 1.0},
        2,
        30.0,
        40,
        201,
        30.0,
    ),
    # M/M/3/7: 3 beds and at most 4 on the waiting list
    "mmck": Case(
        {"x": Form(3, 1.0, 2.7, policy="queue", max_queue_length=4)},
        {("x", "thuis"): 1.0},
        1,
        30.0,
        40,
        301,
        30.0,
    ),
    "jackson": Case(
        {
            f: Form(JACKSON_BEDS[f], JACKSON_LOS[f], float(JACKSON_EXTERNAL[i]), policy="queue")
            for i, f in enumerate(JACKSON_FORMS)
        },
        {
            ("a", "b"): 0.4,
            ("a", "thuis"): 0.6,
            ("b", "a"): 0.25,
            ("b", "c"): 0.25,
            ("b", "ambulant"): 0.5,
            ("c", "b"): 0.3,
            ("c", "zelfstandig"): 0.7,
        },
        3,  # long replications: the per-replication mean wait is a ratio estimator
        40.0,
        40,
        401,
        60.0,
    ),
    # One form feeding back to itself: a Jackson network of one node (M/M/c with feedback)
    "self_loop": Case(
        {"x": Form(5, 1.0, 4.0 * (1 - SELF_LOOP_SHARE), policy="queue")},
        {("x", "x"): SELF_LOOP_SHARE, ("x", "thuis"): 1 - SELF_LOOP_SHARE},
        2,
        30.0,
        100,
        601,
        30.0,
    ),
    "tandem_0": _tandem(0),
    "tandem_1": _tandem(1),
    "tandem_2": _tandem(2),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """Run each case once per module, on first use."""
    cache: dict[str, Run] = {}

    def get(name: str) -> Run:
        if name not in cache:
            cache[name] = run_case(tmp_path_factory.mktemp(name), CASES[name])
        return cache[name]

    return get


def requests_in(stays: pd.DataFrame, t0: float, t1: float) -> pd.DataFrame:
    """Requests made in ``[t0, t1)``."""
    r = stays["requested_day"]
    return stays[(r >= t0) & (r < t1)]


def waits(stays: pd.DataFrame) -> np.ndarray:
    """Wait from request to admission; every request must have been admitted."""
    assert stays["start_day"].notna().all(), "a request in the window was never admitted"
    return (stays["start_day"] - stays["requested_day"]).to_numpy()


# --------------------------------------------------------------------------- 1. Erlang B
@pytest.mark.parametrize(
    ("name", "beds", "lam", "los"),
    [
        ("erlang_b_19", 19, 1.0, 14.0),
        ("erlang_b_23", 23, 18.0 / 14.0, 14.0),
        ("erlang_b_3", 3, 2.0, 1.0),
    ],
)
def test_erlang_b_refused_share(
    runs: Callable[[str], Run], name: str, beds: int, lam: float, los: float
) -> None:
    run = runs(name)
    a = lam * los
    exact = erlang_b(beds, a)
    if name == "erlang_b_19":
        assert exact == pytest.approx(0.04424, abs=5e-5)  # the number
    stays = requests_in(run.form_stays("crisis"), 0.0, run.end_day)
    # a loss system resolves every request at once: admitted or refused (buiten_regio)
    refused = stays["outcome"] == "overflow"
    assert (stays.loc[refused, "next"] == "buiten_regio").all()
    assert (stays.loc[refused, "end_day"] == stays.loc[refused, "requested_day"]).all()
    assert (stays.loc[~refused, "start_day"] == stays.loc[~refused, "requested_day"]).all()

    n = run.case.replications
    share = per_replication(stays, lambda g: float((g["outcome"] == "overflow").mean()), n)
    assert_covers(share, exact, 0.15, f"{name}: refused share B({beds}, {a:.4g})")

    # carried load: mean busy beds = a (1 - B)
    admitted = run.form_stays("crisis")
    busy = per_replication(
        admitted,
        lambda g: overlap_mean(g["start_day"], g["end_day"], 0.0, run.end_day),
        n,
    )
    assert_covers(busy, a * (1 - exact), 0.05, f"{name}: mean busy beds a(1-B)")


# --------------------------------------------------------------------------- 2. Erlang C
def test_erlang_c_waiting(runs: Callable[[str], Run]) -> None:
    run = runs("erlang_c")
    form = run.case.forms["x"]
    mu = 1.0 / form.mean_los
    pw, mean_wait, rate = mmc_wait(form.beds, form.arrivals_per_day, mu)
    window = (0.0, run.end_day - run.case.little_margin_days)
    stays = requests_in(run.form_stays("x"), *window)
    n = run.case.replications

    w = per_replication(stays, lambda g: float(waits(g).mean()), n)
    assert_covers(w, mean_wait, 0.15, "M/M/5 mean wait Wq = C/(c mu - lam)")

    for t in (0.0, 0.5, 1.5):
        exact = 1.0 - pw * math.exp(-rate * t)
        p = per_replication(stays, lambda g, t=t: float((waits(g) <= t).mean()), n)
        assert_covers(p, exact, 0.05, f"M/M/5 P(W <= {t})")


# --------------------------------------------------------------------------- 3. M/M/c/K
def test_mmck_blocking_and_queue(runs: Callable[[str], Run]) -> None:
    run = runs("mmck")
    form = run.case.forms["x"]
    assert form.max_queue_length is not None
    c, k = form.beds, form.beds + form.max_queue_length
    lam, mu = form.arrivals_per_day, 1.0 / form.mean_los
    p = mmck_distribution(c, k, lam, mu)
    blocking = float(p[k])
    lq = float(sum((m - c) * p[m] for m in range(c + 1, k + 1)))
    n = run.case.replications
    all_stays = run.form_stays("x")
    stays = requests_in(all_stays, 0.0, run.end_day)

    refused = per_replication(stays, lambda g: float((g["outcome"] == "overflow").mean()), n)
    assert_covers(refused, blocking, 0.10, f"M/M/{c}/{k} blocking P_K")

    def mean_waiting(g: pd.DataFrame) -> float:
        admitted = g["start_day"].notna()
        start = np.where(admitted, g["start_day"], g["end_day"])
        return overlap_mean(g["requested_day"].to_numpy(), start, 0.0, run.end_day)

    queue = per_replication(all_stays, mean_waiting, n)
    assert_covers(queue, lq, 0.10, f"M/M/{c}/{k} mean number waiting Lq")

    # and the mean wait of those admitted, by Little's law on the waiting list
    admitted = stays[stays["outcome"] != "overflow"]
    admitted = requests_in(admitted, 0.0, run.end_day - run.case.little_margin_days)
    wq = lq / (lam * (1 - blocking))
    w = per_replication(admitted, lambda g: float(waits(g).mean()), n)
    assert_covers(w, wq, 0.10, f"M/M/{c}/{k} mean wait of the admitted")


# --------------------------------------------------------------------------- 4. Jackson
@pytest.mark.parametrize("form", JACKSON_FORMS)
def test_jackson_network(runs: Callable[[str], Run], form: str) -> None:
    run = runs("jackson")
    lam = jackson_rates(JACKSON_EXTERNAL, JACKSON_ROUTING)
    i = JACKSON_FORMS.index(form)
    beds, mu = JACKSON_BEDS[form], 1.0 / JACKSON_LOS[form]
    _, mean_wait, _ = mmc_wait(beds, float(lam[i]), mu)
    n = run.case.replications
    all_stays = run.form_stays(form)
    t1 = run.end_day - run.case.little_margin_days

    requests = per_replication(
        all_stays, lambda g: len(requests_in(g, 0.0, run.end_day)) / run.end_day, n
    )
    assert_covers(requests, float(lam[i]), 0.03, f"Jackson {form}: requests per day lam_i")

    w = per_replication(requests_in(all_stays, 0.0, t1), lambda g: float(waits(g).mean()), n)
    assert_covers(w, mean_wait, 0.15, f"Jackson {form}: mean wait = M/M/{beds} Wq")

    busy = per_replication(
        all_stays, lambda g: overlap_mean(g["start_day"], g["end_day"], 0.0, run.end_day), n
    )
    assert_covers(busy, float(lam[i]) / mu, 0.05, f"Jackson {form}: occupied beds lam_i/mu_i")


def test_self_loop_is_a_jackson_node(runs: Callable[[str], Run]) -> None:
    """M/M/c with Bernoulli feedback: per visit, an M/M/c queue with the total rate."""
    run = runs("self_loop")
    form = run.case.forms["x"]
    mu = 1.0 / form.mean_los
    lam = float(jackson_rates(np.array([form.arrivals_per_day]), np.array([[SELF_LOOP_SHARE]]))[0])
    pw, mean_wait, _ = mmc_wait(form.beds, lam, mu)
    n = run.case.replications
    stays = requests_in(run.form_stays("x"), 0.0, run.end_day - run.case.little_margin_days)

    no_wait = t_interval(per_replication(stays, lambda g: float((waits(g) <= 0).mean()), n))
    w = t_interval(per_replication(stays, lambda g: float(waits(g).mean()), n))
    report = (
        f"self-loop: P(W = 0) exact {1 - pw:.5g}, simulated {no_wait}; "
        f"mean wait per visit exact {mean_wait:.5g}, simulated {w}"
    )
    assert no_wait.low <= 1 - pw <= no_wait.high, report
    assert w.low <= mean_wait <= w.high, report
    assert no_wait.half_width <= 0.05 * (1 - pw), report
    assert w.half_width <= 0.15 * mean_wait, report


# --------------------------------------------------------------------------- 5. tandem
@pytest.mark.parametrize("n_buffer", [0, 1, 2])
def test_tandem_blocking_throughput(runs: Callable[[str], Run], n_buffer: int) -> None:
    run = runs(f"tandem_{n_buffer}")
    mu = 1.0 / run.case.forms["b"].mean_los
    exact = tandem_throughput_formula(n_buffer, mu)
    # the formula agrees with the CTMC solved here
    assert tandem_throughput_ctmc(n_buffer, mu) == pytest.approx(exact, rel=1e-12)
    n = run.case.replications
    end = run.end_day

    # A is (nearly) never idle: its bed is occupied, working or blocked, all the time
    a_busy = per_replication(
        run.form_stays("a"), lambda g: overlap_mean(g["start_day"], g["end_day"], 0.0, end), n
    )
    assert a_busy.min() > 0.99, f"A idle too often: {a_busy.min()}"

    def admissions_per_day(g: pd.DataFrame) -> float:
        start = g["start_day"]
        return float(((start >= 0) & (start < end)).sum() / end)

    thr = per_replication(run.form_stays("b"), admissions_per_day, n)
    assert_covers(thr, exact, 0.02, f"tandem N={n_buffer}: throughput mu (N+2)/(N+3)")
    # B's bed is busy exactly when B is producing: utilisation = throughput / mu
    b_busy = per_replication(
        run.form_stays("b"), lambda g: overlap_mean(g["start_day"], g["end_day"], 0.0, end), n
    )
    assert_covers(b_busy, exact / mu, 0.02, f"tandem N={n_buffer}: utilisation of B")


def test_tandem_ctmc_without_buffer_by_hand() -> None:
    """The N = 0 line has three states, each with probability 1/3."""
    assert tandem_throughput_ctmc(0, 1.0) == pytest.approx(2.0 / 3.0, rel=1e-12)
    assert tandem_throughput_ctmc(0, 0.25) == pytest.approx(0.25 * 2.0 / 3.0, rel=1e-12)


# --------------------------------------------------------------------------- 6. Little
LITTLE_FORMS = [
    ("erlang_b_19", "crisis"),
    ("erlang_b_23", "crisis"),
    ("erlang_b_3", "crisis"),
    ("erlang_c", "x"),
    ("mmck", "x"),
    ("jackson", "a"),
    ("jackson", "b"),
    ("jackson", "c"),
    ("self_loop", "x"),
    ("tandem_0", "a"),
    ("tandem_0", "b"),
    ("tandem_1", "a"),
    ("tandem_1", "buffer"),
    ("tandem_1", "b"),
    ("tandem_2", "a"),
    ("tandem_2", "buffer"),
    ("tandem_2", "b"),
]


@pytest.mark.parametrize(("name", "form"), LITTLE_FORMS)
def test_littles_law(runs: Callable[[str], Run], name: str, form: str) -> None:
    """Occupied beds = admission rate x mean realised stay (blocking included).

    Over ``[0, t1)`` with ``t1`` far enough from the end that every stay starting in the
    window has ended; the per-replication difference must be zero within its CI.
    """
    run = runs(name)
    t1 = run.end_day - run.case.little_margin_days
    n = run.case.replications
    stays = run.form_stays(form)

    def occupied(g: pd.DataFrame) -> float:
        return overlap_mean(g["start_day"], g["end_day"], 0.0, t1)

    def rate_times_stay(g: pd.DataFrame) -> float:
        start = g["start_day"]
        adm = g[(start >= 0) & (start < t1)]
        assert adm["end_day"].notna().all(), "a stay in the window did not end"
        return float((adm["end_day"] - adm["start_day"]).sum() / t1)

    occ = per_replication(stays, occupied, n)
    diff = per_replication(stays, rate_times_stay, n) - occ
    ci = t_interval(diff)
    assert ci.low <= 0.0 <= ci.high, f"{name}/{form}: lam W - L = {ci}, L = {occ.mean():.5g}"
    assert ci.half_width <= 0.01 * occ.mean(), f"{name}/{form}: CI {ci} too wide"

    # the KPI table's occupied beds are the same time average over each full year
    kpi = run.result.kpis.xs(form, level="care_form")["occupied_beds"]
    for (rep, year), value in kpi.items():
        g = stays[stays["replication"] == rep]
        t0 = (year - START_YEAR) * DAYS_PER_YEAR
        mine = overlap_mean(g["start_day"], g["end_day"], t0, t0 + DAYS_PER_YEAR)
        assert value == pytest.approx(mine, rel=1e-9, abs=1e-9), (name, form, rep, year)


# --------------------------------------------------------------------------- invariant
def idle_bed_while_waiting_days(stays: pd.DataFrame, beds: int, t0: float, t1: float) -> float:
    """Days in ``[t0, t1)`` during which someone waits for the form while a bed is free.

    Waiting: from request to admission (or to leaving, or to the end of the run).
    Occupied: from admission to leaving the bed.
    """
    admitted = stays["start_day"].notna().to_numpy()
    requested = stays["requested_day"].to_numpy()
    start = stays["start_day"].to_numpy()
    end = np.where(stays["end_day"].isna(), t1, stays["end_day"])
    wait_end = np.where(admitted, start, end)
    times = np.concatenate([start[admitted], end[admitted], requested, wait_end, [t0, t1]])
    occ_delta = np.concatenate(
        [np.ones(admitted.sum()), -np.ones(admitted.sum()), np.zeros(2 * len(stays) + 2)]
    )
    wait_delta = np.concatenate(
        [np.zeros(2 * admitted.sum()), np.ones(len(stays)), -np.ones(len(stays)), [0, 0]]
    )
    grid, inverse = np.unique(times, return_inverse=True)
    occ = np.cumsum(np.bincount(inverse, occ_delta, len(grid)))
    waiting = np.cumsum(np.bincount(inverse, wait_delta, len(grid)))
    lengths = np.diff(grid)
    bad = (waiting[:-1] > 0) & (occ[:-1] < beds) & (grid[:-1] >= t0) & (grid[1:] <= t1)
    return float(lengths[bad].sum())


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("erlang_c", "x"),
        ("mmck", "x"),
        ("jackson", "a"),
        ("jackson", "b"),
        ("jackson", "c"),
        ("tandem_1", "a"),
        ("tandem_1", "buffer"),
        ("tandem_1", "b"),
        ("self_loop", "x"),
    ],
)
def test_no_bed_idle_while_someone_waits(runs: Callable[[str], Run], name: str, form: str) -> None:
    """Work conservation: a free bed goes to the waiting list at once (all policies)."""
    run = runs(name)
    beds = run.case.forms[form].beds
    stays = run.form_stays(form)
    total = 0.0
    worst: tuple[float, int] = (0.0, -1)
    for rep, g in stays.groupby("replication"):
        days = idle_bed_while_waiting_days(g, beds, -run.case.warm_up_days, run.end_day)
        total += days
        worst = max(worst, (days, int(rep)))
    assert total <= 1e-9, (
        f"{name}/{form}: {total:.4g} days with a free bed and a waiting list "
        f"(worst replication {worst[1]}: {worst[0]:.4g} days)"
    )
