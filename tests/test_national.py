"""Regions sharing pools: exact queueing truths, recounts, and the checks of the tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from capaciteit.errors import InvalidInputError
from capaciteit.io.national_files import load_national
from capaciteit.national.compose import groups, qualified
from capaciteit.national.model import NationalScenario, PoolAfbouwIn
from capaciteit.national.results import national_results
from capaciteit.national.run import run_national, task_seed
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.executors import SerialExecutor
from capaciteit.simulation.spec import compile_spec
from tests.national_models import example_pool, loss_pool


# Erlang B by the textbook recursion, independent of capaciteit.optimisation.queueing
def erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def scenario(folder: Path, replications: int, seed: int, end_year: int = 2030) -> NationalScenario:
    from capaciteit.domain.scenario import Horizon

    model = load_national(folder, Horizon(start_year=2023, end_year=end_year))
    return NationalScenario("test", "", None, model, replications, seed, PoolAfbouwIn())


@pytest.mark.slow
def test_two_regions_sharing_c_beds_are_one_erlang_loss_system(tmp_path: Path) -> None:
    """Refusals equal Erlang B with the summed arrivals; use in proportion to arrivals."""
    lam = (40.0, 80.0)  # a year
    los = 45.0
    beds = (6, 8)
    a = sum(lam) / 365.25 * los  # offered load (the engine's year is 365.25 days)
    c = sum(beds)
    sc = scenario(
        loss_pool(tmp_path, lam, los, beds, (5, 7)), replications=30, seed=11, end_year=2042
    )
    outcome = run_national(sc, SerialExecutor())
    pool = outcome.kpis.xs("jzp", level="care_form")
    measured = pool[pool.index.get_level_values("year") >= 2025]
    # per replication: refused share over the years after the start (the start is close
    # to the stationary state; two years are left out all the same)
    per_rep = measured.groupby(level="replication")[["overflow_count", "requests"]].sum()
    refused = (per_rep["overflow_count"] / per_rep["requests"]).to_numpy()
    mean, sem = refused.mean(), refused.std(ddof=1) / math.sqrt(len(refused))
    half = stats.t.ppf(0.995, len(refused) - 1) * sem
    assert abs(mean - erlang_b(c, a)) < half, (mean, half, erlang_b(c, a))
    # occupied beds: a (1 - B)
    occupied = measured.groupby(level="replication")["occupied_beds"].mean().to_numpy()
    half_occ = (
        stats.t.ppf(0.995, len(occupied) - 1) * occupied.std(ddof=1) / math.sqrt(len(occupied))
    )
    assert abs(occupied.mean() - a * (1 - erlang_b(c, a))) < half_occ
    # each region's share of the use is its share of the arrivals (PASTA: same refusals)
    use = outcome.use
    use = use[use.index.get_level_values("year") >= 2025]
    days = use.groupby(level=["replication", "region"])["bed_days"].sum().unstack("region")
    share = (days["noord"] / days.sum(axis=1)).to_numpy()
    half_share = stats.t.ppf(0.995, len(share) - 1) * share.std(ddof=1) / math.sqrt(len(share))
    assert abs(share.mean() - lam[0] / sum(lam)) < half_share + 0.005


def test_shared_pool_sends_young_people_back_to_their_own_region(tmp_path: Path) -> None:
    model = load_national(example_pool(tmp_path))
    group = next(g for g in groups(model) if g.pools)
    stays = simulate_stays(group.spec, np.random.SeedSequence(5))
    regional = stays[stays["care_form"] != "jzp"]
    # every stay in a region's own form is of a young person from that region
    form_region = regional["care_form"].astype(str).str.split("/").str[0]
    assert (form_region == regional["home"].astype(str)).all()
    # and doorstroom out of the pool goes to the forms of the young person's region
    out = stays[(stays["care_form"] == "jzp") & stays["next"].astype(str).str.contains("/")]
    assert len(out) > 0
    assert (out["next"].astype(str).str.split("/").str[0] == out["home"].astype(str)).all()
    # the pool takes both regions' young people
    assert set(stays.loc[stays["care_form"] == "jzp", "home"].astype(str)) == {"noord", "zuid"}


def test_nearest_free_provider_first(tmp_path: Path) -> None:
    """With a free bed at both providers, a young person goes to the nearer one."""
    sc = scenario(loss_pool(tmp_path, (20.0, 20.0), 30.0, (30, 30), (0, 0)), 1, 3)
    group = groups(sc.model)[0]
    stays = simulate_stays(group.spec, task_seed(3, group.key, 0))
    admitted = stays[stays["start_day"].notna()]
    # 60 beds for an offered load of ~3.3: a bed is always free at the nearer provider
    nearer = {"noord": "A", "zuid": "B"}
    chosen = admitted["provider"].astype(str)
    assert (chosen == admitted["home"].astype(str).map(nearer)).all()


def test_a_region_alone_runs_as_it_would_on_its_own(tmp_path: Path) -> None:
    """A group of one is the region's own simulation with its forms renamed."""
    model = load_national(example_pool(tmp_path))
    alone = next(g for g in groups(model) if g.regions == ("oost",))
    seed = np.random.SeedSequence(21)
    in_group = simulate_stays(alone.spec, seed)
    own = simulate_stays(compile_spec(model.scenarios["oost"]), seed)
    assert len(in_group) == len(own)
    renamed = in_group["care_form"].astype(str)
    assert (renamed == own["care_form"].astype(str).map(lambda f: qualified("oost", f))).all()
    for column in ("person", "provider", "outcome", "requested_day", "start_day", "end_day"):
        left, right = in_group[column], own[column]
        if column in ("provider", "outcome"):
            left, right = left.astype(str), right.astype(str)
        pd.testing.assert_series_equal(left, right, check_names=False)


def test_scale_multiplies_referrals_and_beds(tmp_path: Path) -> None:
    model = load_national(example_pool(tmp_path))
    noord, zuid = model.scenarios["noord"], model.scenarios["zuid"]
    ratio = zuid.instroom / noord.instroom
    assert np.allclose(ratio.to_numpy(), 0.5)
    beds_n = noord.model.beds["beds"]
    beds_z = zuid.model.beds["beds"]
    assert (beds_z == np.round(beds_n * 0.5).astype("int64")).all()
    assert (zuid.model.beds["occupied"] <= beds_z).all()


@pytest.mark.parametrize("cost_key", ["use", "inhabitants", "fixed"])
def test_cost_split_recounted_from_the_stays(tmp_path: Path, cost_key: str) -> None:
    """The regions' costs add up to the pool's; the use key is the bed-days recounted."""
    folder = loss_pool(tmp_path / "m", (40.0, 80.0), 45.0, (6, 8), (5, 7), cost_key=cost_key)
    sc = scenario(folder, replications=3, seed=2, end_year=2025)
    stays_dir = tmp_path / "stays"
    outcome = run_national(sc, SerialExecutor(), stays_dir=stays_dir)
    results = national_results(outcome)
    costs = results.per_replication["costs"]
    # recount from the stays written to disk, with plain pandas
    stays = pd.concat(pd.read_parquet(p) for p in sorted(stays_dir.rglob("*.parquet")))
    pool = stays[stays["care_form"] == "jzp"].copy()
    tariff = {"A": 600.0, "B": 700.0}
    for year in (2023, 2024, 2025):
        a = (pd.Timestamp(year, 1, 1) - pd.Timestamp(2023, 1, 1)).days
        b = (pd.Timestamp(year + 1, 1, 1) - pd.Timestamp(2023, 1, 1)).days
        end = pool["end_day"].fillna(b)
        pool["days"] = (np.minimum(end, b) - np.maximum(pool["start_day"], a)).clip(lower=0)
        pool["days"] = pool["days"].fillna(0.0)
        pool["eur"] = pool["days"] * pool["provider"].astype(str).map(tariff).fillna(0.0)
        for replication in range(3):
            mine = pool[pool["replication"] == replication]
            total = float(mine["eur"].sum())
            got = costs[(costs["replication"] == replication) & (costs["year"] == year)]
            got = got.set_index("region")
            assert got["cost_eur"].sum() == pytest.approx(total, rel=1e-9)
            if cost_key == "use":
                days = mine.groupby(mine["home"].astype(str))["days"].sum()
                expect = days / days.sum()
            elif cost_key == "inhabitants":
                expect = pd.Series({"noord": 0.25, "zuid": 0.75})
            else:
                expect = pd.Series({"noord": 0.25, "zuid": 0.75})
            for region in ("noord", "zuid"):
                assert got.at[region, "key_share"] == pytest.approx(expect[region], rel=1e-9)


def test_national_sums_add_regions_and_pools(tmp_path: Path) -> None:
    sc = scenario(example_pool(tmp_path), replications=2, seed=4, end_year=2025)
    results = national_results(run_national(sc, SerialExecutor()))
    kpis = results.per_replication["kpis"].reset_index()
    kpis["base"] = kpis["care_form"].str.split("/").str[-1].replace({"jzp": "jeugdzorgplus"})
    for kpi in ("capacity_beds", "admissions", "cost_eur"):
        recount = kpis.groupby(["base", "year"])[kpi].sum() / 2  # mean of 2 replications
        national = results.national[results.national["kpi"] == kpi].set_index(
            ["care_form", "year"]
        )["mean"]
        pd.testing.assert_series_equal(
            national.sort_index(), recount.sort_index(), check_names=False, rtol=1e-12
        )
    occupancy = results.national[results.national["kpi"] == "occupancy_rate"]["mean"]
    assert ((occupancy >= 0) & (occupancy <= 1)).all()


def bad(folder: Path, name: str, text: str) -> list[str]:
    (folder / name).write_text(text.strip() + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as err:
        load_national(folder)
    return [f"{p.location()}: {p.message} {p.fix}" for p in err.value.problems]


def test_every_problem_named_with_a_fix(tmp_path: Path) -> None:
    folder = example_pool(tmp_path)
    problems = bad(
        folder,
        "pool_regions.csv",
        "pool,region,fixed_share,occupied\njzp,noord,0.5,6\njzp,zuid,,2\njzp,west,,0\nxx,oost,,0",
    )
    text = "\n".join(problems)
    assert "regio 'west' staat niet in regions.csv" in text
    assert "pool 'xx' staat niet in pools.csv" in text
    assert "vast aandeel bij pool 'jzp'" in text
    assert "9 bedden bezet" in text and "tellen 8 jongeren" in text


def test_own_beds_of_a_pooled_form_refused(tmp_path: Path) -> None:
    folder = example_pool(tmp_path)
    beds = (folder / "regio" / "beds.csv").read_text(encoding="utf-8")
    (folder / "regio" / "beds.csv").write_text(
        beds.replace("P07,jeugdzorgplus,0,0", "P07,jeugdzorgplus,4,2"), encoding="utf-8"
    )
    with pytest.raises(InvalidInputError) as err:
        load_national(folder)
    messages = [p.message for p in err.value.problems]
    assert any("ook 4 bedden jeugdzorgplus" in m for m in messages)


def test_fixed_shares_must_add_up_and_travel_be_complete(tmp_path: Path) -> None:
    folder = example_pool(tmp_path)
    (folder / "pools.csv").write_text(
        "pool,name,care_form,cost_key\njzp,JZ+,jeugdzorgplus,fixed\n", encoding="utf-8"
    )
    (folder / "pool_regions.csv").write_text(
        "pool,region,fixed_share,occupied\njzp,noord,0.5,6\njzp,zuid,0.4,3\n", encoding="utf-8"
    )
    problems = bad(folder, "travel.csv", "region,provider,minutes\nnoord,A,20\nzuid,B,15")
    text = "\n".join(problems)
    assert "tellen op tot 0,90" in text and "(samen +0,10)" in text
    assert "noord→B" in text and "zuid→A" in text


def test_different_waiting_rules_in_one_pool_refused(tmp_path: Path) -> None:
    folder = example_pool(tmp_path)
    other = folder / "regio2"
    import shutil

    shutil.copytree(folder / "regio", other)
    forms = (other / "care_forms.csv").read_text(encoding="utf-8")
    (other / "care_forms.csv").write_text(
        forms.replace(
            "jeugdzorgplus,JeugdzorgPlus (gesloten),overflow,14",
            "jeugdzorgplus,JeugdzorgPlus (gesloten),overflow,30",
        ),
        encoding="utf-8",
    )
    regions = (folder / "regions.csv").read_text(encoding="utf-8")
    problems = bad(folder, "regions.csv", regions.replace("zuid,Zuid,regio,", "zuid,Zuid,regio2,"))
    assert any("verschilt van regio 'noord' in max_wait_days" in p for p in problems)


def test_too_many_regions_refused_before_any_model_is_read(tmp_path: Path) -> None:
    folder = example_pool(tmp_path)
    rows = "".join(f"r{i},R{i},regio,1.0,1000\n" for i in range(401))
    problems = bad(folder, "regions.csv", "region,name,model,scale,inhabitants\n" + rows)
    assert len(problems) == 1 and "hoogstens 400" in problems[0]
