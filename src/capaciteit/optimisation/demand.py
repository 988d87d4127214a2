"""Demand per care form and year, and the analytic service level of a bed count.

Requests per day come from the traffic equations of the routing table: a form receives its
own referrals (after the scenario's instroom levers and substitution) plus the share of the
stays of every other form that moves on to it,

    lam = e + P_eff^T lam,     P_eff[f, d] = (1 - aged_out_f) * routing[f, d].

A bed is occupied for the stay (cut short by the age limit, estimated by sampling entry
ages and stays) plus the time spent waiting in it for the next form (blocking). Blocking
in form ``f`` is the routing-weighted wait at the forms ``f`` moves on to whose waiting
policy keeps young people in their current bed (``block``, and ``overflow`` up to its
``max_wait_days``).

:func:`service_level_ok` says whether a bed count meets a form's targets with a given mean
blocking time; it is exact (Erlang) for one form with Poisson arrivals, and an
approximation, verified by simulation, for coupled forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float, items
from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.queueing import erlang_b, erlang_c, wait_within
from capaciteit.simulation.engine import unit_stays

DAYS_PER_YEAR = 365.25
MC_SAMPLES = 20_000
BLOCKING_CAP_DAYS = 3650.0


@dataclass(frozen=True)
class Demand:
    """Requests and stays per (care_form, year).

    Attributes
    ----------
    table
        Indexed by (care_form, year): ``requests_per_day``, ``stay_days`` (mean, age limit
        included), ``aged_out_share``, ``days`` (in the year).
    blocking_routes
        Share of stays of ``from_care_form`` that wait in their bed for ``to`` when ``to``
        is full (after age-outs), indexed by (from_care_form, to).
    stay_samples
        Sampled stays (days) per (care_form, year), for norms on the length of stays.
    """

    table: pd.DataFrame
    blocking_routes: pd.Series
    stay_samples: dict[tuple[str, int], np.ndarray]

    def value(self, care_form: str, year: int, column: str) -> float:
        """One number of :attr:`table`."""
        return as_float(self.table.at[(care_form, year), column])

    def routes(self) -> list[tuple[str, str, float]]:
        """Blocking routes as (from_care_form, to, share)."""
        return [(str(k[0]), str(k[1]), float(v)) for k, v in items(self.blocking_routes)]


def compute_demand(scenario: Scenario, seed: int = 12345) -> Demand:
    """Compute requests per day and mean stays per care form and year of ``scenario``."""
    model = scenario.model
    forms = model.care_form_ids
    years = scenario.years
    rng = np.random.default_rng(seed)
    cf = model.care_forms
    observed = {
        str(fid): g["los_days"].to_numpy(dtype="float64")
        for fid, g in model.los_observed.groupby("care_form")
    }
    # unit stays and entry ages once per form; scaled per year by the LOS levers
    unit: dict[str, np.ndarray] = {}
    to_limit: dict[str, np.ndarray] = {}
    for fid in forms:
        dist = str(model.los.at[fid, "distribution"])
        cv = as_float(model.los.at[fid, "cv"])
        obs = observed.get(fid)
        mean = (
            float(obs.mean())
            if dist == "empirical" and obs is not None
            else as_float(model.los.at[fid, "mean_days"])
        )
        draws = unit_stays(rng, dist, cv if not math.isnan(cv) else 1.0, obs, MC_SAMPLES)
        # rescaled so that the sample mean is the stated mean exactly (no sampling error
        # in the offered load when no age limit cuts stays short)
        unit[fid] = draws / draws.mean() * mean
        bands = model.age[model.age["care_form"] == fid]
        if bands.empty:
            to_limit[fid] = np.full(MC_SAMPLES, np.inf)
        else:
            shares = bands["share"].to_numpy(dtype="float64")
            pick = rng.choice(len(bands), MC_SAMPLES, p=shares / shares.sum())
            lo = bands["age_min_years"].to_numpy(dtype="float64")[pick]
            hi = bands["age_max_years"].to_numpy(dtype="float64")[pick]
            age = lo + (hi - lo) * rng.random(MC_SAMPLES)
            to_limit[fid] = (as_float(cf.at[fid, "max_age_years"]) - age) * DAYS_PER_YEAR

    routing = model.routing["share"]
    records = []
    samples: dict[tuple[str, int], np.ndarray] = {}
    blocking: dict[tuple[str, str], float] = {}
    index = {f: i for i, f in enumerate(forms)}
    for year in years:
        days = 366.0 if is_leap(year) else 365.0
        external = np.array([as_float(scenario.instroom.at[f, year]) / days for f in forms])
        substitution = scenario.substitution["share"]
        for (sub_year, src, dst), share in items(substitution):
            if sub_year == year:
                moved = external[index[str(src)]] * float(share)
                external[index[str(src)]] -= moved
                external[index[str(dst)]] += moved
        p_eff = np.zeros((len(forms), len(forms)))
        stay = np.zeros(len(forms))
        aged = np.zeros(len(forms))
        for fid in forms:
            i = index[fid]
            los = unit[fid] * as_float(scenario.los_factor.at[fid, year])
            effective = np.minimum(los, np.maximum(to_limit[fid], 0.0))
            samples[(fid, year)] = effective
            stay[i] = float(effective.mean())
            aged[i] = float((los > to_limit[fid]).mean())
            for (src, dst), share in items(routing):
                if src == fid and dst in index:
                    p_eff[i, index[str(dst)]] += (1.0 - aged[i]) * float(share)
        lam = np.linalg.solve(np.eye(len(forms)) - p_eff.T, external)
        for fid in forms:
            i = index[fid]
            records.append((fid, year, float(lam[i]), stay[i], aged[i], days))
            for dst in forms:
                policy = str(cf.at[dst, "waiting_policy"])
                share = p_eff[i, index[dst]]
                if share > 0 and policy in ("block", "overflow"):
                    blocking[(fid, dst)] = share
    table = pd.DataFrame(
        records,
        columns=["care_form", "year", "requests_per_day", "stay_days", "aged_out_share", "days"],
    ).set_index(["care_form", "year"])
    routes = pd.Series(blocking, dtype="float64", name="share")
    if len(routes):
        routes.index = routes.index.set_names(["from_care_form", "to"])
    return Demand(table=table, blocking_routes=routes, stay_samples=samples)


def is_leap(year: int) -> bool:
    """Whether ``year`` has 366 days."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True)
class FormRules:
    """What a care form's service levels and waiting policy mean for the formulas."""

    policy: str
    max_wait_days: float
    max_stay_days: float
    placed_within_days: float
    placed_share_min: float
    refused_share_max: float
    stays_over_max_share_max: float
    max_occupancy: float

    @staticmethod
    def of(scenario: Scenario, care_form: str) -> FormRules:
        """Rules of ``care_form`` in ``scenario`` (NaN where there is no target)."""
        cf = scenario.model.care_forms
        sl = scenario.service_levels
        return FormRules(
            policy=str(cf.at[care_form, "waiting_policy"]),
            max_wait_days=as_float(cf.at[care_form, "max_wait_days"]),
            max_stay_days=as_float(cf.at[care_form, "max_stay_days"]),
            placed_within_days=as_float(sl.at[care_form, "placed_within_days"]),
            placed_share_min=as_float(sl.at[care_form, "placed_share_min"]),
            refused_share_max=as_float(sl.at[care_form, "refused_share_max"]),
            stays_over_max_share_max=as_float(sl.at[care_form, "stays_over_max_share_max"]),
            max_occupancy=as_float(sl.at[care_form, "max_occupancy"]),
        )

    @property
    def is_loss(self) -> bool:
        """Evaluated as a loss system: overflow forms (nobody waits longer than the limit).

        With no wait this is exact (Erlang B). With a short wait (crisis: 1 day) a request is
        placed at once whenever a bed is free, so the share placed within the wait is at
        least 1 - B(c, a): Erlang B never asks too few beds, and, unlike a waiting system
        with an ever-growing queue, it does not ask many too many.
        """
        return self.policy == "overflow"


def service_level_ok(
    rules: FormRules, beds: int, lam: float, stay_days: float, blocking_days: float
) -> bool:
    """Whether ``beds`` meet the bed-dependent targets of a form (not the stay norm)."""
    t = stay_days + blocking_days
    a = lam * t
    if a <= 0:
        return True
    if rules.is_loss:
        refused = erlang_b(beds, a)
        # occupancy counts occupied beds: the load that is carried, not the refused part
        if not math.isnan(rules.max_occupancy) and a * (1 - refused) > rules.max_occupancy * beds:
            return False
        if not math.isnan(rules.refused_share_max) and refused > rules.refused_share_max:
            return False
        return math.isnan(rules.placed_share_min) or 1.0 - refused >= rules.placed_share_min
    if not math.isnan(rules.max_occupancy) and a > rules.max_occupancy * beds:
        return False
    if beds <= a:
        return False
    if not math.isnan(rules.placed_share_min) and (
        wait_within(beds, lam, t, rules.placed_within_days) < rules.placed_share_min
    ):
        return False
    if not math.isnan(rules.refused_share_max) and rules.policy == "overflow":
        refused = 1.0 - wait_within(beds, lam, t, rules.max_wait_days)
        if refused > rules.refused_share_max:
            return False
    return True


def blocking_allowed_by_stay_norm(rules: FormRules, stays: np.ndarray) -> float:
    """Largest mean blocking (days) that keeps the stay norm; -inf when even 0 fails."""
    if math.isnan(rules.stays_over_max_share_max) or math.isnan(rules.max_stay_days):
        return math.inf
    # P(stay + B > M) <= q  <=>  the (1 - q) quantile of stays + B <= M
    quantile = float(np.quantile(stays, 1.0 - rules.stays_over_max_share_max))
    return rules.max_stay_days - quantile if quantile <= rules.max_stay_days else -math.inf


def wait_in_bed(rules: FormRules, beds: int, lam: float, stay_days: float) -> float:
    """Mean time a young person moving on to this form waits in the previous bed."""
    t = stay_days
    a = lam * t
    if a <= 0 or rules.policy == "queue" or (rules.is_loss and rules.max_wait_days == 0):
        return 0.0
    if beds <= a:
        return BLOCKING_CAP_DAYS
    c = erlang_c(beds, a)
    theta = beds / t - lam
    if rules.policy == "overflow":
        # E[min(W, m)] = C (1 - exp(-theta m)) / theta
        return c * (1.0 - math.exp(-theta * rules.max_wait_days)) / theta
    return min(c / theta, BLOCKING_CAP_DAYS)
