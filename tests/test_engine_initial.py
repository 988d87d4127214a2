"""Starting a run from a known state: given occupants, a waiting list, Weibull stays.

A backtest simulates from the actual state on 1 January: who is in which bed since when,
and who waits. The truths here come from probability, not from earlier runs: a stay known
to have lasted ``e`` days has the law ``P(X <= x | X > e)`` of its family (for the
exponential the rest is again exponential), the expected number still in care at ``t`` is
``sum S(e_i + t) / S(e_i)``, and a waiting list served first come first served can be
replayed by hand from the stays alone.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from capaciteit.domain.model import SINKS
from capaciteit.errors import InvalidInputError
from capaciteit.io.model_files import load_model
from capaciteit.io.model_writer import write_model_dir, write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.optimisation.demand import compute_demand
from capaciteit.simulation.engine import DAYS_PER_YEAR, _Run, simulate_stays, unit_stays
from capaciteit.simulation.engine import weibull_shape as engine_weibull_shape
from capaciteit.simulation.spec import SimSpec, compile_spec
from tests.checker import check_stays, conservation
from tests.conftest import one_form_tables

ALPHA = 1e-3  # KS tests: fixed seeds, so a pass is a pass; this only guards the choice


def weibull_k(cv: float) -> float:
    """The Weibull shape for ``cv``, solved from scipy's own moments (not the engine's)."""

    def gap(log_k: float) -> float:
        mean, var = stats.weibull_min(c=math.exp(log_k)).stats(moments="mv")
        return math.sqrt(float(var)) / float(mean) - cv

    return math.exp(optimize.brentq(gap, math.log(0.1), math.log(200.0), xtol=1e-13))


def family(distribution: str, mean: float, cv: float) -> Any:
    """The length-of-stay family with ``mean`` days, as a frozen scipy distribution."""
    if distribution == "exponential":
        return stats.expon(scale=mean)
    if distribution == "lognormal":
        s2 = math.log1p(cv * cv)
        return stats.lognorm(s=math.sqrt(s2), scale=mean * math.exp(-s2 / 2))
    if distribution == "gamma":
        k = 1 / (cv * cv)
        return stats.gamma(a=k, scale=mean / k)
    k = weibull_k(cv)
    return stats.weibull_min(c=k, scale=mean / math.gamma(1 + 1 / k))


def spec_of(
    tmp: Path,
    *,
    distribution: str = "exponential",
    mean_days: float = 10.0,
    cv: float | None = None,
    beds: int = 50,
    arrivals_per_year: float = 0.0,
    end_year: int = 2023,
    ages: bool = False,
) -> SimSpec:
    """A one-form model (form ``a``, provider ``P1``) read through the real loader."""
    tables: dict[str, Any] = one_form_tables(
        beds=beds, arrivals_per_year=arrivals_per_year, mean_days=mean_days
    )
    los: dict[str, Any] = {"care_form": "a", "distribution": distribution, "mean_days": mean_days}
    if cv is not None:
        los["cv"] = cv
    tables["los"] = [los]
    tables["instroom"] = [
        {"care_form": "a", "year": y, "arrivals_per_year": arrivals_per_year}
        for y in range(2023, end_year + 1)
    ]
    if ages:
        tables["age"] = [{"care_form": "a", "age_min_years": 0, "age_max_years": 17, "share": 1}]
    model = write_model_dir(tmp / "model", tables)
    scenario = write_scenario_file(tmp / "s.yaml", model, end_year=end_year)
    return compile_spec(load_scenario(scenario))


def occupants(elapsed: np.ndarray, age_years: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "care_form": "a",
            "provider": "P1",
            "elapsed_days": np.asarray(elapsed, dtype=float),
            "age_years": age_years,
        }
    )


def initial_stays(spec: SimSpec, seed: int) -> pd.DataFrame:
    stays = simulate_stays(spec, np.random.SeedSequence(seed))
    return stays[stays["waited_in"] == "initial"].sort_values("person")


# ---------------------------------------------------------------- the Weibull family


@pytest.mark.parametrize(
    ("k", "cv"),
    [(1.0, 1.0), (2.0, math.sqrt(4 / math.pi - 1)), (0.5, math.sqrt(5.0))],
)
def test_weibull_shape_matches_hand_computed_values(k: float, cv: float) -> None:
    # cv² = Γ(1+2/k)/Γ(1+1/k)² − 1: k=1 gives 2/1 − 1, k=2 gives 1/(√π/2)² − 1,
    # k=0.5 gives Γ(5)/Γ(3)² − 1 = 24/4 − 1
    assert engine_weibull_shape(cv) == pytest.approx(k, abs=1e-10)


@pytest.mark.parametrize("cv", [0.05, 0.3, 0.8, 2.0, 5.0, 10.0])
def test_weibull_shape_gives_the_cv_scipy_computes(cv: float) -> None:
    mean, var = stats.weibull_min(c=engine_weibull_shape(cv)).stats(moments="mv")
    assert math.sqrt(float(var)) / float(mean) == pytest.approx(cv, rel=1e-9)


@pytest.mark.parametrize("cv", [0.4, 1.7])
def test_weibull_stays_have_mean_1_the_cv_and_the_weibull_law(cv: float) -> None:
    n = 400_000
    x = unit_stays(np.random.default_rng(7), "weibull", cv, None, n)
    k = weibull_k(cv)
    law = stats.weibull_min(c=k, scale=1 / math.gamma(1 + 1 / k))
    _, var, _, kurt = law.stats(moments="mvsk")
    assert float(var) == pytest.approx(cv * cv, rel=1e-9)
    # standard errors of the sample mean and sample variance
    se_mean = math.sqrt(float(var) / n)
    se_var = math.sqrt((float(kurt) + 2) * float(var) ** 2 / n)
    assert abs(x.mean() - 1) < 5 * se_mean
    assert abs(x.var() - cv * cv) < 5 * se_var
    assert stats.kstest(x[:20_000], law.cdf).pvalue > ALPHA


def test_weibull_model_loads_and_its_demand_uses_the_mean(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, distribution="weibull", mean_days=40.0, cv=0.6)
    assert spec.los.at["a", "distribution"] == "weibull"
    demand = compute_demand(load_scenario(tmp_path / "s.yaml"))
    # the demand's stays are rescaled to the stated mean; the spread must be Weibull's
    samples = demand.stay_samples[("a", 2023)]
    assert samples.mean() == pytest.approx(40.0, rel=1e-9)
    assert samples.std() / samples.mean() == pytest.approx(0.6, rel=0.03)


@pytest.mark.parametrize(("cv", "fix"), [(None, "Vul cv in"), (5000.0, "tussen 0,001 en 1000")])
def test_weibull_without_a_usable_cv_is_refused(tmp_path: Path, cv: float | None, fix: str) -> None:
    tables: dict[str, Any] = one_form_tables()
    los: dict[str, Any] = {"care_form": "a", "distribution": "weibull", "mean_days": 30}
    if cv is not None:
        los["cv"] = cv
    tables["los"] = [los]
    with pytest.raises(InvalidInputError) as error:
        load_model(write_model_dir(tmp_path / "m", tables))
    assert any(fix in p.fix for p in error.value.problems)


# ---------------------------------------------------------------- given occupants


def test_exponential_occupants_have_exponential_rests_whatever_has_elapsed(
    tmp_path: Path,
) -> None:
    mean = 10.0
    spec = spec_of(tmp_path, mean_days=mean, beds=3000)
    n = 1500
    elapsed = np.r_[np.zeros(n), np.full(n, 3 * mean)]
    stays = initial_stays(dataclasses.replace(spec, initial_occupants=occupants(elapsed)), 1)
    assert len(stays) == 2 * n and stays["end_day"].notna().all()
    rest = stays["end_day"].to_numpy()  # the run starts at day 0
    fresh, old = rest[:n], rest[n:]
    assert stats.kstest(fresh, stats.expon(scale=mean).cdf).pvalue > ALPHA
    assert stats.kstest(old, stats.expon(scale=mean).cdf).pvalue > ALPHA
    assert stats.ks_2samp(fresh, old).pvalue > ALPHA


@pytest.mark.parametrize(
    ("distribution", "cv"), [("lognormal", 1.5), ("weibull", 0.5), ("weibull", 2.0), ("gamma", 0.7)]
)
def test_occupants_stay_as_long_as_their_family_given_what_has_elapsed(
    tmp_path: Path, distribution: str, cv: float
) -> None:
    mean = 10.0
    n = 2000
    spec = spec_of(
        tmp_path, distribution=distribution, mean_days=mean, cv=cv, beds=n, end_year=2027
    )
    elapsed = np.random.default_rng(3).uniform(0, 4 * mean, n)
    stays = initial_stays(dataclasses.replace(spec, initial_occupants=occupants(elapsed)), 2)
    assert stays["end_day"].notna().all()  # nobody is still in care five years on
    start = stays["start_day"].to_numpy()
    np.testing.assert_allclose(start, -elapsed)
    total = stays["end_day"].to_numpy() - start
    law = family(distribution, mean, cv)
    # P(X <= x | X > e) for each occupant's own e: uniform if the totals follow it
    conditional = (law.cdf(total) - law.cdf(elapsed)) / law.sf(elapsed)
    assert stats.kstest(conditional, "uniform").pvalue > ALPHA
    # and ignoring the elapsed time would be visibly wrong (the test has power)
    assert stats.kstest(law.cdf(total - elapsed), "uniform").pvalue < ALPHA


def test_the_number_still_in_care_follows_the_survival_of_each_occupant(tmp_path: Path) -> None:
    mean, cv = 30.0, 1.2
    spec = spec_of(tmp_path, distribution="lognormal", mean_days=mean, cv=cv)
    elapsed = np.array([0, 0, 5, 10, 20, 30, 45, 60, 90, 120, 150, 200, 250, 300, 400.0])
    spec = dataclasses.replace(spec, initial_occupants=occupants(elapsed))
    times = np.array([5.0, 20.0, 60.0, 150.0])
    law = family("lognormal", mean, cv)
    expected = np.array([(law.sf(elapsed + t) / law.sf(elapsed)).sum() for t in times])
    reps = 300
    counts = np.empty((reps, len(times)))
    for r in range(reps):
        end = initial_stays(spec, 100 + r)["end_day"].fillna(math.inf).to_numpy()
        counts[r] = (end[:, None] > times[None, :]).sum(axis=0)
    se = counts.std(axis=0, ddof=1) / math.sqrt(reps)
    assert (np.abs(counts.mean(axis=0) - expected) < 4 * se).all()


def test_an_occupant_near_the_age_limit_ages_out_by_then(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, mean_days=5000.0, ages=True)
    frame = pd.DataFrame(
        {
            "care_form": "a",
            "provider": "P1",
            "elapsed_days": [100.0, 30.0],
            "age_years": [18 - 0.01, 18.5],  # just under the limit, and already past it
        }
    )
    stays = initial_stays(dataclasses.replace(spec, initial_occupants=frame), 4)
    near, past = stays.iloc[0], stays.iloc[1]
    assert near["end_day"] == pytest.approx(0.01 * DAYS_PER_YEAR)
    assert past["end_day"] == 0.0
    # aged out: to the form's age_out_to, not along the routing (which says thuis)
    assert (stays["next"] == "zelfstandig").all()
    # the stay began when it did, at the age the young person had then
    assert near["start_day"] == -100.0
    assert near["age_years"] == pytest.approx(18 - 0.01 - 100 / DAYS_PER_YEAR)
    assert (stays["waited_in"] == "initial").all()


def test_empirical_occupants_pick_among_the_longer_observed_stays(tmp_path: Path) -> None:
    observed = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    tables: dict[str, Any] = one_form_tables(beds=4000, arrivals_per_year=0.0)
    tables["los"] = [{"care_form": "a", "distribution": "empirical"}]
    tables["los_observed"] = [{"care_form": "a", "los_days": x} for x in observed]
    model = write_model_dir(tmp_path / "m", tables)
    spec = compile_spec(load_scenario(write_scenario_file(tmp_path / "s.yaml", model)))
    n = 3000
    elapsed = np.r_[np.full(n, 5.0), [10.0, 50.0]]  # the last two: past every observed stay
    stays = initial_stays(dataclasses.replace(spec, initial_occupants=occupants(elapsed)), 5)
    total = (stays["end_day"] - stays["start_day"]).to_numpy()
    picks = total[:n]
    assert set(np.round(picks, 9)) == {6.0, 8.0, 10.0}
    counts = [(np.round(picks, 9) == x).sum() for x in (6.0, 8.0, 10.0)]
    assert stats.chisquare(counts).pvalue > ALPHA
    # past every observed stay: the stay ends as the run starts
    np.testing.assert_allclose(stays["end_day"].to_numpy()[n:], 0.0, atol=1e-5)


def test_given_occupants_set_the_occupied_beds_and_unknown_pairs_are_refused(
    tmp_path: Path,
) -> None:
    spec = spec_of(tmp_path, beds=2)
    given = dataclasses.replace(spec, initial_occupants=occupants(np.zeros(3)))
    assert given.initial_occupied.to_dict() == {("a", "P1"): 3}
    # a bed cut to nothing keeps the pair (0 beds): its occupants stay and leave
    closed = given.with_capacity(spec.capacity.iloc[:0])
    assert closed.capacity.loc[("a", "P1")].tolist() == [0]
    assert closed.initial_occupied.to_dict() == {("a", "P1"): 3}
    stays = initial_stays(closed, 6)
    assert len(stays) == 3 and stays["end_day"].notna().all()
    wrong = occupants(np.zeros(1)).assign(provider="P9")
    with pytest.raises(ValueError, match=r"\('a', 'P9'\)"):
        dataclasses.replace(spec, initial_occupants=wrong)
    with pytest.raises(ValueError, match="elapsed_days"):
        dataclasses.replace(spec, initial_occupants=occupants(np.array([-1.0])))
    with pytest.raises(ValueError, match="care forms"):
        dataclasses.replace(spec, initial_waiting=pd.Series({"b": 1}))


# ---------------------------------------------------------------- the waiting list


def test_the_waiting_list_is_served_first_come_first_served_and_nobody_is_lost(
    tmp_path: Path,
) -> None:
    beds, waiting = 5, 7
    spec = spec_of(tmp_path, mean_days=30.0, beds=beds, end_year=2025)
    spec = dataclasses.replace(
        spec,
        initial_occupants=occupants(np.array([0, 10, 20, 40, 80.0])),
        initial_waiting=pd.Series({"a": waiting}),
    )
    stays = simulate_stays(spec, np.random.SeedSequence(8))
    assert check_stays(spec, stays) == []
    persons, in_bed, still_waiting, gone = conservation(stays, SINKS)
    assert persons == in_bed + still_waiting + gone == beds + waiting
    occupant = stays[stays["waited_in"] == "initial"]
    asked = stays[stays["waited_in"] == "home"].sort_values("person")
    # at the start: every bed taken, all of them waiting, asked for at day 0
    assert len(asked) == waiting and (asked["requested_day"] == 0).all()
    assert (asked["start_day"] > 0).all()
    # replay a first-come-first-served list by hand from the stays' own lengths
    free = list(occupant["end_day"])
    heapq.heapify(free)
    for start, end in zip(asked["start_day"], asked["end_day"], strict=True):
        bed_free = heapq.heappop(free)
        assert start == bed_free
        heapq.heappush(free, end)


def test_a_model_with_a_waiting_column_starts_with_that_waiting_list(tmp_path: Path) -> None:
    tables: dict[str, Any] = one_form_tables(beds=3, arrivals_per_year=0.0, mean_days=20.0)
    tables["providers"].append({"provider": "P2", "name": "Twee"})
    tables["beds"] = [
        {"provider": "P1", "care_form": "a", "beds": 3, "occupied": 3, "waiting": 2},
        {"provider": "P2", "care_form": "a", "beds": 1, "occupied": 1, "waiting": 1},
    ]
    model = write_model_dir(tmp_path / "m", tables)
    path = write_scenario_file(tmp_path / "s.yaml", model, initial_state="occupied")
    spec = compile_spec(load_scenario(path))
    assert spec.initial_waiting is not None
    assert spec.initial_waiting.to_dict() == {"a": 3}
    stays = simulate_stays(spec, np.random.SeedSequence(9))
    asked = stays[stays["waited_in"] == "home"]
    assert len(asked) == 3 and (asked["requested_day"] == 0).all()
    assert (asked["start_day"] > 0).all()  # the four beds are occupied
    # an empty start has no waiting list, and neither has a model without the column
    empty = write_scenario_file(tmp_path / "e.yaml", model, initial_state="empty")
    assert compile_spec(load_scenario(empty)).initial_waiting is None
    for row in tables["beds"]:
        del row["waiting"]
    plain = write_model_dir(tmp_path / "p", tables)
    path = write_scenario_file(tmp_path / "p.yaml", plain, initial_state="occupied")
    assert compile_spec(load_scenario(path)).initial_waiting is None


def test_a_run_from_a_given_state_forks_and_goes_on_as_one_run(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path, distribution="weibull", mean_days=60.0, cv=0.8, beds=6, arrivals_per_year=40
    )
    spec = dataclasses.replace(
        spec,
        initial_occupants=occupants(np.array([0, 30, 60, 90, 200, 400.0])),
        initial_waiting=pd.Series({"a": 4}),
    )
    seed = np.random.SeedSequence(10)
    whole = _Run(spec, seed).run()
    paused = _Run(spec, seed)
    paused.run_until(100.0)
    fork = paused.fork()
    fork.run_until(spec.end_day)

    def plain(records: list[list[Any]]) -> set[tuple[Any, ...]]:
        return {tuple(None if x != x else x for x in r) for r in records}

    # the fork holds the stays still open at the pause and all that came after
    assert plain(fork.stays) <= plain(whole)
    ended = [r for r in paused.stays if r[8] == r[8]]
    assert plain(whole) == plain(fork.stays) | plain(ended)
