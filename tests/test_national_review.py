"""Review of regions sharing pools (issue 16): truths from outside the code under test.

Every expected number here comes from a textbook formula (Erlang C for M/M/c, written out
from Poisson terms), from a recount of the stays with plain pandas, or from a rule stated
in the README ("one waiting list per pool", "the nearest provider with a free bed", "after
the stay back to the forms of their own region", "the regions' costs add up to the
pool's", "the same seed gives identical results on every executor"). Nothing is compared
with an earlier output of capaciteit.

The bugs found were fixed; their tests stay, each saying what went wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import poisson

from capaciteit.domain.scenario import Horizon, Levers
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.national_files import load_national
from capaciteit.national.compose import groups
from capaciteit.national.model import NationalModel, NationalScenario, PoolAfbouwIn
from capaciteit.national.results import national_results
from capaciteit.national.run import USE_COLUMNS, run_national, task_seed
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.executors import SerialExecutor, make_executor
from tests.national_models import example_pool, write

START = 2023


# --------------------------------------------------------------------------------------
# Builders: a pool of one-form regions with any providers, policy and travel times
# --------------------------------------------------------------------------------------


def one_form_region(
    folder: Path, arrivals_per_year: float, los_days: float, policy: str, max_wait: str
) -> Path:
    """A region whose only form is JeugdzorgPlus (no beds of its own): exponential stays."""
    return write(
        folder,
        {
            "model.yaml": "schema_version: 1\nname: Regio\nbaseline_year: 2023\n"
            "synthetic: true\nhome_priority: 1\n",
            "care_forms.csv": "care_form,name,waiting_policy,max_wait_days,max_age_years,"
            f"age_out_to\njeugdzorgplus,JeugdzorgPlus,{policy},{max_wait},18,zelfstandig",
            "providers.csv": "provider,name\nEIGEN,Eigen aanbieder",
            "beds.csv": "provider,care_form,beds,occupied\nEIGEN,jeugdzorgplus,0,0",
            "instroom.csv": "care_form,year,arrivals_per_year\n"
            f"jeugdzorgplus,2023,{arrivals_per_year}",
            "los.csv": "care_form,distribution,mean_days,cv\n"
            f"jeugdzorgplus,exponential,{los_days},",
            "routing.csv": "from_care_form,to,share\njeugdzorgplus,thuis,1",
            "costs.csv": "care_form,provider,cost_per_bed_day_eur\njeugdzorgplus,,600",
        },
    )


def pool_folder(
    folder: Path,
    arrivals: dict[str, float],
    providers: dict[str, tuple[int, int]],
    travel: dict[tuple[str, str], float] | None,
    *,
    los_days: float,
    policy: str = "overflow",
    max_wait: str = "0",
    occupied: dict[str, int] | None = None,
) -> Path:
    """Regions (name -> referrals a year) sharing one pool of providers (beds, occupied)."""
    occupied = occupied or {r: 0 for r in arrivals}
    assert sum(occupied.values()) == sum(o for _, o in providers.values())
    for region, lam in arrivals.items():
        one_form_region(folder / f"m_{region}", lam, los_days, policy, max_wait)
    files = {
        "national.yaml": "schema_version: 1\nname: Review\nbaseline_year: 2023\nsynthetic: true\n",
        "regions.csv": "region,name,model,inhabitants\n"
        + "\n".join(f"{r},{r.title()},m_{r},{100_000 * (i + 1)}" for i, r in enumerate(arrivals)),
        "pools.csv": "pool,name,care_form,cost_key\njzp,JZ+ samen,jeugdzorgplus,use",
        "pool_regions.csv": "pool,region,fixed_share,occupied\n"
        + "\n".join(f"jzp,{r},,{occupied[r]}" for r in arrivals),
        "pool_beds.csv": "pool,provider,name,beds,occupied,cost_per_bed_day_eur\n"
        + "\n".join(
            f"jzp,{p},{p},{b},{o},{600 + 10 * i}" for i, (p, (b, o)) in enumerate(providers.items())
        ),
    }
    if travel:
        files["travel.csv"] = "region,provider,minutes\n" + "\n".join(
            f"{r},{p},{m}" for (r, p), m in travel.items()
        )
    return write(folder, files)


def loaded_or_problems(load: Callable[[], NationalModel]) -> NationalModel | list[Problem]:
    """The national model, or the problems it was refused with (never another error)."""
    try:
        return load()
    except InvalidInputError as err:
        return list(err.problems)


def scenario_of(model: NationalModel, replications: int, seed: int) -> NationalScenario:
    return NationalScenario("review", "", None, model, replications, seed, PoolAfbouwIn())


# --------------------------------------------------------------------------------------
# Queueing truths
# --------------------------------------------------------------------------------------


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c, from its definition with Poisson terms (a < c)."""
    last = poisson.pmf(c, a) * c / (c - a)
    return float(last / (poisson.cdf(c - 1, a) + last))


def within(values: np.ndarray, truth: float, extra: float = 0.0) -> bool:
    """Whether ``truth`` lies in the 99.9% t interval of the replications' mean (+ extra)."""
    half = stats.t.ppf(0.9995, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return bool(abs(values.mean() - truth) <= half + extra)


def test_three_regions_waiting_on_one_list_are_one_mmc_queue(tmp_path: Path) -> None:
    """A shared `queue` pool is M/M/c on the summed arrivals; every region waits as long.

    Three regions of different sizes (20, 50 and 90 referrals a year), 16 beds at two
    providers with travel times, stays of 30 days: a = 160/365.25 x 30 = 13.1 beds.
    Erlang C gives P(wait > 0) and the mean wait C / (c mu - lambda). One FIFO list means
    each region's young people (Poisson arrivals: they see the time averages) wait as long
    as everyone's.
    """
    arrivals = {"klein": 20.0, "midden": 50.0, "groot": 90.0}
    los = 30.0
    providers = {"A": (9, 7), "B": (7, 6)}
    travel = {
        ("klein", "A"): 10, ("klein", "B"): 50,
        ("midden", "A"): 40, ("midden", "B"): 20,
        ("groot", "A"): 35, ("groot", "B"): 30,
    }  # fmt: skip
    folder = pool_folder(
        tmp_path,
        arrivals,
        providers,
        travel,
        los_days=los,
        policy="queue",
        max_wait="",
        occupied={"klein": 2, "midden": 4, "groot": 7},
    )
    model = load_national(folder, Horizon(start_year=START, end_year=START + 29))
    (group,) = groups(model)
    # a year's referrals come over that year's days: on average 365.25 a year
    lam = sum(arrivals.values()) / 365.25
    c, a = 16, lam * los
    p_wait, mean_wait = erlang_c(c, a), erlang_c(c, a) / (c / los - lam)
    warm = float(group.spec.year_start_day.loc[START + 2])
    waited, mean_w = [], []
    per_region: dict[str, list[float]] = {r: [] for r in arrivals}
    for replication in range(24):
        stays = simulate_stays(group.spec, task_seed(5, 0, replication))
        pool = stays[(stays["care_form"] == "jzp") & (stays["requested_day"] >= warm)]
        pool = pool[pool["start_day"].notna()]  # nobody leaves the list in `queue`
        wait = (pool["start_day"] - pool["requested_day"]).to_numpy()
        waited.append(float((wait > 1e-9).mean()))
        mean_w.append(float(wait.mean()))
        for region in arrivals:
            mine = pool["home"].astype(str) == region
            per_region[region].append(float(wait[mine.to_numpy()].mean()))
        # one list, served in order: nobody is admitted before someone who asked earlier
        order = pool.sort_values("requested_day")["start_day"].to_numpy()
        assert (np.diff(order) >= -1e-9).all()
    assert within(np.array(waited), p_wait), (np.mean(waited), p_wait)
    assert within(np.array(mean_w), mean_wait), (np.mean(mean_w), mean_wait)
    for region, values in per_region.items():
        assert within(np.array(values), mean_wait), (region, np.mean(values), mean_wait)


def occupied_at(stays: pd.DataFrame, provider: str, t: float) -> int:
    """Young people in a bed of ``provider`` just before moment ``t`` (recount)."""
    at = stays[stays["provider"].astype(str) == provider]
    end = at["end_day"].fillna(np.inf)
    return int(((at["start_day"] < t) & (end > t)).sum())


@pytest.mark.parametrize(("policy", "max_wait"), [("overflow", "0"), ("overflow", "5")])
def test_a_farther_provider_only_when_every_nearer_one_is_full(
    tmp_path: Path, policy: str, max_wait: str
) -> None:
    """Scarce beds: a farther provider only when every nearer one is full.

    Each admission at a provider that is not the young person's nearest finds all nearer
    providers full at that moment (recounted from the stays), for both ways a bed is
    given: at once on arrival, or from the waiting list when a bed frees.
    """
    providers = {"A": (4, 0), "B": (3, 0), "C": (4, 0)}
    beds = {p: b for p, (b, _) in providers.items()}
    rank = {"noord": ["A", "B", "C"], "zuid": ["C", "B", "A"]}
    travel = {(r, p): 10.0 + 30.0 * i for r, order in rank.items() for i, p in enumerate(order)}
    folder = pool_folder(
        tmp_path,
        {"noord": 60.0, "zuid": 40.0},
        providers,
        travel,
        los_days=40.0,
        policy=policy,
        max_wait=max_wait,
    )
    model = load_national(folder, Horizon(start_year=START, end_year=START + 2))
    (group,) = groups(model)
    stays = simulate_stays(group.spec, task_seed(9, 0, 0))
    pool = stays[stays["care_form"] == "jzp"]
    admitted = pool[pool["start_day"].notna()]
    farther = 0
    for row in admitted.itertuples():
        order = rank[str(row.home)]
        for nearer in order[: order.index(str(row.provider))]:
            farther += 1
            assert occupied_at(pool, nearer, float(row.start_day)) >= beds[nearer], row
    assert farther > 20  # the scarce case is really tested
    # and a bed at the nearest provider whenever one was free
    nearest = admitted["provider"].astype(str) == admitted["home"].astype(str).map(
        {r: o[0] for r, o in rank.items()}
    )
    assert 0.2 < nearest.mean() < 1.0


# --------------------------------------------------------------------------------------
# Conservation: who enters a pool, and where they go after
# --------------------------------------------------------------------------------------


def test_every_entry_into_the_pool_comes_from_home_or_from_the_own_regions_forms(
    tmp_path: Path,
) -> None:
    """Per young person, recounted from the stays of two replications.

    * a stay in a region's own form is of a young person of that region;
    * the stay before a pool stay (if any) was in the young person's own region;
    * every own-form stay of region r that moved on to the pool is followed by a pool
      request of the same young person, with home r;
    * the young people who enter the pool without a stay before (referrals) number about
      the region's JeugdzorgPlus instroom (Poisson, 4 standard deviations).
    """
    model = load_national(example_pool(tmp_path), Horizon(start_year=START, end_year=START + 3))
    group = next(g for g in groups(model) if g.pools)
    pool_id = group.pools[0]
    members = set(model.pool_regions.loc[pool_id].index)
    bounds = group.spec.year_start_day
    horizon_days = float(bounds.iloc[-1] - bounds.iloc[0])
    first_requests: dict[str, int] = dict.fromkeys(members, 0)
    for replication in range(2):
        stays = simulate_stays(group.spec, task_seed(3, group.key, replication))
        stays = stays.assign(
            form=stays["care_form"].astype(str),
            home_s=stays["home"].astype(str),
            next_s=stays["next"].astype(str),
            seq=np.arange(len(stays)),
        )
        own = ~stays["form"].eq(pool_id)
        assert (stays.loc[own, "form"].str.split("/").str[0] == stays.loc[own, "home_s"]).all()
        assert set(stays.loc[~own, "home_s"]) <= members
        in_care = stays[stays["waited_in"].astype(str) != "initial"]
        ordered = in_care.sort_values(["person", "requested_day", "seq"], kind="stable")
        previous = ordered.groupby("person")["form"].shift(1)
        following = ordered.groupby("person")["form"].shift(-1)
        is_pool = ordered["form"] == pool_id
        before = previous[is_pool]
        came_from_region = before.dropna().str.split("/").str[0]
        assert (came_from_region == ordered.loc[before.dropna().index, "home_s"]).all()
        moved_on = (~is_pool) & (ordered["next_s"] == pool_id) & ordered["end_day"].notna()
        # a move to the pool starts a pool request of the same young person at once
        assert (following[moved_on] == pool_id).all()
        referrals = ordered[is_pool & previous.isna()]
        for region, count in referrals["home_s"].value_counts().items():
            first_requests[str(region)] += int(count)
    for region in members:
        scenario = model.scenarios[region]
        per_year = scenario.instroom.loc["jeugdzorgplus"]
        expected = 2 * float(per_year.mean()) * horizon_days / 365.25
        z = (first_requests[region] - expected) / math.sqrt(expected)
        assert abs(z) < 4, (region, first_requests[region], expected)


# --------------------------------------------------------------------------------------
# Recounts of what a national run sends back
# --------------------------------------------------------------------------------------


def year_bounds(years: list[int]) -> dict[int, tuple[float, float]]:
    origin = pd.Timestamp(START, 1, 1)
    return {
        y: (
            float((pd.Timestamp(y, 1, 1) - origin).days),
            float((pd.Timestamp(y + 1, 1, 1) - origin).days),
        )
        for y in years
    }


def test_pool_use_recounted_from_the_parquet_stays(tmp_path: Path) -> None:
    """Every column of the pool use, recounted from the Parquet stays with plain pandas.

    Per (replication, pool, region, year); and the regions' use adds up to the pool's own
    KPIs (requests, admissions, refusals, occupied beds).
    """
    model = load_national(
        example_pool(tmp_path / "m"), Horizon(start_year=START, end_year=START + 2)
    )
    outcome = run_national(scenario_of(model, 2, 13), SerialExecutor(), stays_dir=tmp_path / "s")
    stays = pd.concat(pd.read_parquet(p) for p in sorted((tmp_path / "s").rglob("*.parquet")))
    pool = stays[stays["care_form"].astype(str) == "jzp"].copy()
    assert len(pool) > 0
    minutes = {("noord", "A"): 20, ("noord", "B"): 70, ("zuid", "A"): 65, ("zuid", "B"): 15}
    pool["minutes"] = [
        minutes.get((str(h), str(p)), 0.0)
        for h, p in zip(pool["home"], pool["provider"], strict=True)
    ]
    use = outcome.use
    checked = 0
    for year, (a, b) in year_bounds(model.years).items():
        for (replication, home), mine in pool.groupby(["replication", "home"], observed=True):
            row = use.loc[(int(replication), "jzp", str(home), year)]  # type: ignore[index]
            start, end = mine["start_day"], mine["end_day"].fillna(b)
            began = start.ge(a) & start.lt(b)
            days = (np.minimum(end, b) - np.maximum(start, a)).clip(lower=0).fillna(0.0)
            overflow = (mine["outcome"].astype(str) == "overflow") & mine["end_day"].between(
                a, b, inclusive="left"
            )
            expect = {
                "requests": float(mine["requested_day"].between(a, b, inclusive="left").sum()),
                "admissions": float(began.sum()),
                "bed_days": float(days.sum()),
                "overflow_count": float(overflow.sum()),
                "wait_days": float((start - mine["requested_day"])[began].sum()),
                "travel_minutes": float(mine.loc[began, "minutes"].sum()),
            }
            for column in USE_COLUMNS:
                assert row[column] == pytest.approx(expect[column], rel=1e-9, abs=1e-6), (
                    column,
                    replication,
                    home,
                    year,
                )
            checked += 1
    assert checked == 2 * 2 * 3
    # the regions' use adds up to the pool's own KPIs
    kpis = outcome.kpis.xs("jzp", level="care_form")
    summed = use.xs("jzp", level="pool").groupby(level=["replication", "year"]).sum()
    days = pd.Series({y: b - a for y, (a, b) in year_bounds(model.years).items()})
    for (replication, year), row in summed.iterrows():  # type: ignore[misc]
        k = kpis.loc[(replication, year)]
        assert row["requests"] == k["requests"]
        assert row["admissions"] == k["admissions"]
        assert row["overflow_count"] == k["overflow_count"]
        assert row["bed_days"] / days[year] == pytest.approx(k["occupied_beds"], rel=1e-9)


def test_costs_add_up_from_pools_to_regions_to_the_nation(tmp_path: Path) -> None:
    """Costs add up: pool-year split to the pool, regions to the nation.

    Each pool-year's cost split adds up to the pool's cost; each region's total is its own
    forms plus its pool shares; the regions' totals add up to the national cost; every
    share shown lies in [0, 1] and nothing shown is NaN where a number is due.
    """
    model = load_national(
        example_pool(tmp_path / "m"), Horizon(start_year=START, end_year=START + 2)
    )
    results = national_results(run_national(scenario_of(model, 3, 8), SerialExecutor()))
    kpis = results.per_replication["kpis"].reset_index()
    n = 3
    # pool cost (mean over replications) = the sum of the regions' mean shares
    pool_cost = kpis[kpis["care_form"] == "jzp"].groupby("year")["cost_eur"].sum() / n
    split = results.costs.groupby("year")["mean"].sum()
    pd.testing.assert_series_equal(
        split.sort_index(), pool_cost.sort_index(), check_names=False, rtol=1e-9
    )
    assert results.costs["key_share"].between(0, 1).all()
    assert results.costs.groupby("year")["key_share"].sum().to_numpy() == pytest.approx(1.0)
    # a region's own cost recounted from its own forms
    kpis["region"] = kpis["care_form"].str.split("/").str[0].where(kpis["care_form"] != "jzp")
    own = kpis.dropna(subset=["region"]).groupby(["region", "year"])["cost_eur"].sum() / n
    rc = results.region_costs.set_index(["region", "year"])
    assert set(rc.index.get_level_values("region")) == {"noord", "zuid", "oost"}
    for (region, year), value in own.items():  # type: ignore[misc]
        assert rc.at[(region, year), "own_eur"] == pytest.approx(value, rel=1e-9)
    pools = results.costs.groupby(["region", "year"])["mean"].sum()
    for (region, year), row in rc.iterrows():  # type: ignore[misc]
        assert row["pools_eur"] == pytest.approx(pools.get((region, year), 0.0), rel=1e-9)
        assert row["total_eur"] == pytest.approx(row["own_eur"] + row["pools_eur"], rel=1e-9)
        assert row["total_ci_low"] <= row["total_eur"] <= row["total_ci_high"]
    # the nation: every region's total adds up to the national cost of every form
    national = results.national[results.national["kpi"] == "cost_eur"].groupby("year")["mean"]
    pd.testing.assert_series_equal(
        national.sum().sort_index(),
        rc.groupby(level="year")["total_eur"].sum().sort_index(),
        check_names=False,
        rtol=1e-9,
    )
    # shares shown lie in [0, 1] with their intervals
    use = results.use[results.use["measure"] == "use_share"].dropna(subset=["mean"])
    assert ((use["ci_low"] >= 0) & (use["ci_low"] <= use["mean"])).all()
    assert ((use["mean"] <= use["ci_high"]) & (use["ci_high"] <= 1)).all()
    shares = results.pools[results.pools["kpi"].isin(["occupancy_rate", "refused_share"])]
    assert shares["mean"].dropna().between(0, 1).all()
    for table in (results.costs, results.region_costs):
        assert not table.select_dtypes("number").isna().any().any()


# --------------------------------------------------------------------------------------
# One seed, one answer
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_same_seed_gives_the_same_national_results_on_every_executor(
    tmp_path: Path,
) -> None:
    model = load_national(example_pool(tmp_path), Horizon(start_year=START, end_year=START + 1))
    serial = run_national(scenario_of(model, 3, 17), SerialExecutor())
    processes = run_national(scenario_of(model, 3, 17), make_executor("processes", 2))
    pd.testing.assert_frame_equal(serial.kpis, processes.kpis)
    pd.testing.assert_frame_equal(serial.use, processes.use)
    other = run_national(scenario_of(model, 3, 18), SerialExecutor())
    assert not serial.use["bed_days"].equals(other.use["bed_days"])
    assert not serial.kpis["requests"].equals(other.kpis["requests"])


# --------------------------------------------------------------------------------------
# Region data on a pooled form: applied, refused, or (bugs) lost and mixed up
# --------------------------------------------------------------------------------------


def test_substitution_out_of_a_pool_keeps_young_people_in_their_own_region(
    tmp_path: Path,
) -> None:
    """Both regions send 30% of their JeugdzorgPlus referrals to their own residentieel.

    The lever is refused, named once: composed side by side, the shares of both regions
    were added up and half of the substituted went to the other region's form (found so).
    """
    substitution = {"year": START, "from": "jeugdzorgplus", "to": "residentieel", "share": 0.3}
    levers = Levers.model_validate({"substitution": [substitution]})
    with pytest.raises(InvalidInputError) as err:
        load_national(
            example_pool(tmp_path), Horizon(start_year=START, end_year=START + 3), None, levers
        )
    named = [p for p in err.value.problems if "substitution" in (p.column or "")]
    assert len(named) == 1, err.value.problems


def test_a_regions_stay_lever_on_a_pooled_form_is_applied_or_refused(tmp_path: Path) -> None:
    """Zuid halves its JeugdzorgPlus stays (its own scenario file), noord does not.

    Either the national model is refused (levers on a shared form must agree), or zuid's
    young people stay about half as long in the pool as noord's.
    """
    folder = pool_folder(
        tmp_path, {"noord": 100.0, "zuid": 100.0}, {"A": (100, 0), "B": (100, 0)}, None,
        los_days=60.0,
    )  # fmt: skip
    write(
        folder,
        {
            "zuid.yaml": "schema_version: 1\nname: Zuid\nmodel: .\n"
            "horizon: {start_year: 2023, end_year: 2030}\n"
            "levers:\n  los_change_pct:\n    jeugdzorgplus: {2023: -50}\n",
            "regions.csv": "region,name,model,inhabitants,scenario\n"
            "noord,Noord,m_noord,100000,\nzuid,Zuid,m_zuid,300000,zuid.yaml",
        },
    )
    model = loaded_or_problems(
        lambda: load_national(folder, Horizon(start_year=START, end_year=START + 5))
    )
    if isinstance(model, list):
        assert any("los_change_pct" in p.message + p.fix for p in model)
        return
    (group,) = groups(model)
    stays = simulate_stays(group.spec, task_seed(2, 0, 0))
    done = stays[stays["start_day"].ge(0) & stays["end_day"].notna()]
    los = (done["end_day"] - done["start_day"]).groupby(done["home"].astype(str)).mean()
    assert los["zuid"] == pytest.approx(0.5 * los["noord"], rel=0.15), los.to_dict()


def test_a_regions_waiting_list_for_a_pooled_form_is_kept_or_refused(tmp_path: Path) -> None:
    """Noord's beds.csv has 7 young people waiting for JeugdzorgPlus on the 0-meting.

    Either refused (the pool's waiting list belongs in the national tables) or the 7 ask
    for the pool at the start, with noord as their home.
    """
    folder = pool_folder(
        tmp_path, {"noord": 50.0, "zuid": 50.0}, {"A": (5, 0), "B": (5, 0)}, None,
        los_days=60.0, policy="queue", max_wait="",
    )  # fmt: skip
    (folder / "m_noord" / "beds.csv").write_text(
        "provider,care_form,beds,occupied,waiting\nEIGEN,jeugdzorgplus,0,0,7\n", encoding="utf-8"
    )
    model = loaded_or_problems(
        lambda: load_national(folder, Horizon(start_year=START, end_year=START + 1))
    )
    if isinstance(model, list):
        assert any("waiting" in p.message + p.fix for p in model)
        return
    (group,) = groups(model)
    stays = simulate_stays(group.spec, task_seed(4, 0, 0))
    at_start = stays[(stays["care_form"] == "jzp") & (stays["requested_day"] == 0.0)]
    assert (at_start["home"].astype(str) == "noord").sum() == 7


def test_a_regions_bed_change_on_a_pooled_form_is_applied_or_refused(tmp_path: Path) -> None:
    """Beds a region adds to a pooled form are not lost without a word."""
    folder = pool_folder(
        tmp_path, {"noord": 50.0, "zuid": 50.0}, {"A": (5, 0), "B": (5, 0)}, None, los_days=60.0
    )
    levers = Levers.model_validate(
        {"bed_changes": [{"year": 2024, "provider": "EIGEN", "care_form": "jeugdzorgplus",
                          "change_beds": 5}]}
    )  # fmt: skip
    model = loaded_or_problems(
        lambda: load_national(folder, Horizon(start_year=START, end_year=START + 1), None, levers)
    )
    if isinstance(model, list):
        assert any("bed_changes" in p.message + p.fix for p in model)
        return
    (group,) = groups(model)
    assert int(group.spec.capacity[START + 1].sum()) > 10
