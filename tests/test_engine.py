"""Rules of the flow simulation, re-verified on real runs by an independent checker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capaciteit.domain.model import SINKS
from capaciteit.io.model_writer import write_model_dir, write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.executors import make_executor
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import SimSpec, compile_spec
from tests.checker import check_stays, conservation
from tests.conftest import BASIS, TRANSFORMATIE, one_form_tables


def spec_for(model_dir: Path, tmp: Path, **kwargs: Any) -> SimSpec:
    scenario = write_scenario_file(tmp / "scenario.yaml", model_dir, **kwargs)
    return compile_spec(load_scenario(scenario))


@pytest.fixture(scope="module")
def basis_spec() -> SimSpec:
    return compile_spec(load_scenario(BASIS))


@pytest.fixture(scope="module")
def transformatie_spec() -> SimSpec:
    return compile_spec(load_scenario(TRANSFORMATIE))


def test_example_runs_obey_every_rule(basis_spec: SimSpec, transformatie_spec: SimSpec) -> None:
    for spec in (basis_spec, transformatie_spec):
        stays = simulate_stays(spec, np.random.SeedSequence(11))
        assert check_stays(spec, stays) == []
        persons, in_bed, waiting, gone = conservation(stays, SINKS)
        assert persons == in_bed + waiting + gone
        assert in_bed > 0 and gone > 0


def test_initial_state_is_the_0_meting(basis_spec: SimSpec) -> None:
    stays = simulate_stays(basis_spec, np.random.SeedSequence(3))
    initial = stays[stays["waited_in"] == "initial"]
    counts = (
        initial.astype({"care_form": str, "provider": str})
        .groupby(["care_form", "provider"])
        .size()
    )
    expected = basis_spec.initial_occupied[basis_spec.initial_occupied > 0]
    assert counts.sort_index().to_dict() == expected.sort_index().to_dict()
    # occupants are part-way through their stays, and none is over the age limit
    assert (initial["start_day"] < 0).all()
    max_age = basis_spec.care_forms["max_age_years"]
    age_now = initial["age_years"] - initial["start_day"] / 365.25
    assert (age_now <= initial["care_form"].astype(str).map(max_age)).all()


def test_same_seed_same_stays_on_every_executor(basis_spec: SimSpec) -> None:
    from distributed import LocalCluster

    serial = run_replications(basis_spec, 3, seed=5, executor=make_executor("serial"))
    processes = run_replications(basis_spec, 3, seed=5, executor=make_executor("processes", 2))
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask = run_replications(
            basis_spec, 3, seed=5, executor=make_executor(f"dask://{cluster.scheduler_address}")
        )
    pd.testing.assert_frame_equal(serial.stays, processes.stays)
    pd.testing.assert_frame_equal(serial.stays, dask.stays)
    pd.testing.assert_frame_equal(serial.summary, dask.summary)
    other = run_replications(basis_spec, 3, seed=6)
    assert not serial.stays["end_day"].equals(other.stays["end_day"])
    # replications differ from each other
    by_rep = serial.kpis["occupied_beds"].unstack("replication")
    assert by_rep.nunique(axis=1).gt(1).all()


def test_unreachable_dask_scheduler_is_a_clear_error(basis_spec: SimSpec) -> None:
    from capaciteit.errors import ExecutorError
    from capaciteit.simulation.executors import DaskExecutor

    assert make_executor("dask://127.0.0.1:9").name == "dask://127.0.0.1:9"
    with pytest.raises(ExecutorError, match=r"Dask-scheduler op .* is niet bereikbaar"):
        run_replications(basis_spec, 2, 1, executor=DaskExecutor("tcp://127.0.0.1:9", timeout_s=1))
    with pytest.raises(ExecutorError, match="onbekende uitvoerder"):
        make_executor("threads")


def test_blocking_keeps_the_bed_until_the_next_form_has_a_place(
    write_model: Callable[..., Path], tmp_path: Path
) -> None:
    tables = {
        "care_forms": [
            {"care_form": "crisis", "name": "Crisis", "waiting_policy": "block", "priority": 0},
            {"care_form": "pleegzorg", "name": "Pleegzorg", "waiting_policy": "block"},
        ],
        "providers": [{"provider": "P1", "name": "Een"}],
        "beds": [
            {"provider": "P1", "care_form": "crisis", "beds": 4},
            {"provider": "P1", "care_form": "pleegzorg", "beds": 3},
        ],
        "instroom": [
            {"care_form": "crisis", "year": 2023, "arrivals_per_year": 60},
            {"care_form": "pleegzorg", "year": 2023, "arrivals_per_year": 20},
        ],
        "los": [
            {"care_form": "crisis", "distribution": "exponential", "mean_days": 10},
            {"care_form": "pleegzorg", "distribution": "exponential", "mean_days": 60},
        ],
        "routing": [
            {"from_care_form": "crisis", "to": "pleegzorg", "share": 1.0},
            {"from_care_form": "pleegzorg", "to": "thuis", "share": 1.0},
        ],
        "costs": [
            {"care_form": "crisis", "provider": "", "cost_per_bed_day_eur": 250},
            {"care_form": "pleegzorg", "provider": "", "cost_per_bed_day_eur": 75},
        ],
    }
    spec = spec_for(write_model(tables), tmp_path, end_year=2024)
    stays = simulate_stays(spec, np.random.SeedSequence(2))
    assert check_stays(spec, stays) == []
    crisis = stays[(stays["care_form"] == "crisis") & stays["end_day"].notna()]
    blocked = crisis["end_day"] - crisis["service_end_day"]
    assert (blocked > 0).mean() > 0.3  # pleegzorg is overloaded: crisis beds are blocked
    # a blocked child leaves the crisis bed exactly when admitted to pleegzorg
    moved = stays[(stays["care_form"] == "pleegzorg") & (stays["waited_in"] == "crisis")]
    moved = moved[moved["start_day"].notna()]
    prev = crisis.set_index("person").loc[moved["person"], "end_day"].to_numpy()
    np.testing.assert_allclose(prev, moved["start_day"].to_numpy())
    # crisis has priority: among admissions from a queue, crisis waiters go before home waiters
    pz = stays[(stays["care_form"] == "pleegzorg") & stays["start_day"].notna()].copy()
    pz = pz[pz["start_day"] > pz["requested_day"]]
    for _, row in pz[pz["waited_in"] == "home"].iterrows():
        overtaken = pz[
            (pz["waited_in"] == "crisis")
            & (pz["requested_day"] < row["requested_day"])
            & (pz["start_day"] > row["start_day"])
        ]
        assert overtaken.empty


def test_queue_policy_releases_the_bed_and_waits_at_home(
    write_model: Callable[..., Path], tmp_path: Path
) -> None:
    tables = one_form_tables(policy="queue", beds=2, arrivals_per_year=200, mean_days=5)
    tables["care_forms"].append({"care_form": "b", "name": "B", "waiting_policy": "queue"})
    tables["beds"].append({"provider": "P1", "care_form": "b", "beds": 1})
    tables["los"].append({"care_form": "b", "distribution": "exponential", "mean_days": 3})
    tables["routing"] = [
        {"from_care_form": "a", "to": "b", "share": 0.5},
        {"from_care_form": "a", "to": "thuis", "share": 0.5},
        {"from_care_form": "b", "to": "thuis", "share": 1.0},
    ]
    tables["costs"].append({"care_form": "b", "provider": "", "cost_per_bed_day_eur": 1})
    spec = spec_for(write_model(tables), tmp_path)
    stays = simulate_stays(spec, np.random.SeedSequence(4))
    assert check_stays(spec, stays) == []
    a = stays[(stays["care_form"] == "a") & stays["end_day"].notna()]
    np.testing.assert_allclose(a["end_day"], a["service_end_day"])  # never blocked
    to_b = stays[stays["care_form"] == "b"]
    waited = to_b[~(to_b["start_day"] == to_b["requested_day"])]
    assert len(waited) > 20
    assert set(waited["waited_in"].astype(str)) == {"home"}


def test_overflow_after_max_wait_and_full_waiting_list(
    write_model: Callable[..., Path], tmp_path: Path
) -> None:
    tables = one_form_tables(
        policy="overflow",
        beds=2,
        arrivals_per_year=4 * 365,
        mean_days=4,
        max_wait_days=0.5,
        max_queue_length=3,
    )
    spec = spec_for(write_model(tables), tmp_path)
    stays = simulate_stays(spec, np.random.SeedSequence(8))
    assert check_stays(spec, stays) == []
    overflow = stays[stays["outcome"] == "overflow"]
    waited = overflow["end_day"] - overflow["requested_day"]
    assert ((waited == 0) | np.isclose(waited, 0.5)).all()
    assert (waited == 0).any() and np.isclose(waited, 0.5).any()


def test_age_rule_and_foster_care_to_21(write_model: Callable[..., Path], tmp_path: Path) -> None:
    tables = one_form_tables(policy="queue", beds=200, arrivals_per_year=40, mean_days=3000)
    tables["care_forms"][0]["max_age_years"] = 21
    tables["care_forms"][0]["age_out_to"] = "zelfstandig"
    tables["age"] = [{"care_form": "a", "age_min_years": 15, "age_max_years": 18, "share": 1.0}]
    spec = spec_for(write_model(tables), tmp_path, end_year=2032)
    stays = simulate_stays(spec, np.random.SeedSequence(9))
    assert check_stays(spec, stays) == []
    done = stays[stays["service_end_day"].notna()]
    age_at_end = done["age_years"] + (done["service_end_day"] - done["requested_day"]) / 365.25
    aged_out = np.isclose(age_at_end, 21)
    assert aged_out.mean() > 0.3
    assert (done.loc[aged_out, "next"] == "zelfstandig").all()


def test_sibling_groups_arrive_together(write_model: Callable[..., Path], tmp_path: Path) -> None:
    tables = one_form_tables(policy="queue", beds=50, arrivals_per_year=300, mean_days=10)
    tables["care_forms"][0]["sibling_group_share"] = 0.4
    tables["care_forms"][0]["sibling_group_size"] = 3
    spec = spec_for(write_model(tables), tmp_path, end_year=2026)
    stays = simulate_stays(spec, np.random.SeedSequence(10))
    groups = stays[stays["sibling_group"] >= 0].groupby("sibling_group")
    assert (groups.size() == 3).all()
    assert (groups["requested_day"].nunique() == 1).all()
    # children, not events, follow arrivals_per_year: 4 years * 300
    arrived = stays[stays["requested_day"] >= 0]
    assert abs(len(arrived) - 1200 * 1461 / 1460) < 4 * np.sqrt(1200 * 2.2)
    share = groups.ngroups / (groups.ngroups + (stays["sibling_group"] < 0).sum())
    assert abs(share - 0.4) < 0.06


def test_bed_changes_and_substitution_levers(transformatie_spec: SimSpec) -> None:
    stays = simulate_stays(transformatie_spec, np.random.SeedSequence(12))
    assert check_stays(transformatie_spec, stays) == []
    jzp = stays[(stays["care_form"] == "jeugdzorgplus") & stays["start_day"].notna()]
    # no JeugdzorgPlus admissions once its beds are gone (2030 starts on day 2557)
    assert (jzp["start_day"] < 2557).all()
    referrals = stays[(stays["waited_in"] == "home") & (stays["sibling_group"] < 0)]
    early = referrals[referrals["requested_day"] < 365]
    late = referrals[referrals["requested_day"] >= 731]
    share_res = lambda s: (s["care_form"] == "residentieel").mean()  # noqa: E731
    assert share_res(late) < share_res(early) * 0.85


def test_seasonality_shapes_arrivals(basis_spec: SimSpec) -> None:
    seg = basis_spec.arrival_segments
    crisis = seg[seg["care_form"] == "crisis"]
    july = crisis.iloc[6]
    october = crisis.iloc[9]
    assert october["children_per_day"] / july["children_per_day"] == pytest.approx(1.10 / 0.85)
    per_year = (crisis["children_per_day"] * (crisis["end_day"] - crisis["start_day"])).iloc[:12]
    assert per_year.sum() == pytest.approx(157, rel=2e-3)


@st.composite
def small_models(draw: st.DrawFn) -> dict[str, Any]:
    n_forms = draw(st.integers(1, 3))
    forms = [f"f{i}" for i in range(n_forms)]
    policies = ["queue", "block", "overflow"]
    care_forms, beds, instroom, los, routing, costs = [], [], [], [], [], []
    for i, fid in enumerate(forms):
        policy = draw(st.sampled_from(policies))
        row: dict[str, Any] = {
            "care_form": fid,
            "name": fid.upper(),
            "waiting_policy": policy,
            "priority": draw(st.integers(0, 2)),
        }
        if policy == "overflow":
            row["max_wait_days"] = draw(st.sampled_from([0, 0.5, 5]))
        if draw(st.booleans()):
            row["max_queue_length"] = draw(st.integers(0, 4))
        row["sibling_group_share"] = draw(st.sampled_from([0, 0.3]))
        care_forms.append(row)
        for p in ("P1", "P2")[: draw(st.integers(1, 2))]:
            beds.append({"provider": p, "care_form": fid, "beds": draw(st.integers(0, 4))})
        instroom.append(
            {
                "care_form": fid,
                "year": 2023,
                "arrivals_per_year": draw(st.sampled_from([0, 30, 120])),
            }
        )
        dist = draw(st.sampled_from(["exponential", "gamma", "lognormal"]))
        los.append(
            {
                "care_form": fid,
                "distribution": dist,
                "mean_days": draw(st.sampled_from([2, 10, 40])),
                "cv": None if dist == "exponential" else 0.7,
            }
        )
        targets = [*forms[i:], "thuis"]  # no cycle without exit: later forms or a sink
        weights = [draw(st.integers(0, 3)) for _ in targets]
        weights[-1] += 1
        for t, w in zip(targets, weights, strict=True):
            if w:
                routing.append({"from_care_form": fid, "to": t, "share": w / sum(weights)})
        costs.append({"care_form": fid, "provider": "", "cost_per_bed_day_eur": 10})
    return {
        "care_forms": care_forms,
        "providers": [{"provider": "P1", "name": "a"}, {"provider": "P2", "name": "b"}],
        "beds": beds,
        "instroom": instroom,
        "los": los,
        "routing": routing,
        "costs": costs,
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=small_models(), seed=st.integers(0, 2**32 - 1))
def test_nobody_is_lost_and_every_rule_holds(
    tables: dict[str, Any], seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    model = write_model_dir(tmp / "m", tables)
    spec = spec_for(model, tmp, end_year=2023)
    stays = simulate_stays(spec, np.random.SeedSequence(seed))
    assert check_stays(spec, stays) == []
    persons, in_bed, waiting, gone = conservation(stays, SINKS)
    assert persons == in_bed + waiting + gone
    # the same seed gives the same stays, bit for bit
    again = simulate_stays(spec, np.random.SeedSequence(seed))
    pd.testing.assert_frame_equal(stays, again)


@settings(max_examples=40, deadline=None)
@given(shares=st.lists(st.floats(0.01, 0.99), min_size=2, max_size=4))
def test_routing_that_does_not_sum_to_one_is_always_refused(
    shares: list[float], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from capaciteit.errors import InvalidInputError
    from capaciteit.io.model_files import load_model

    tables = one_form_tables()
    sinks = ["thuis", "ambulant", "zelfstandig", "wlz"]
    tables["routing"] = [
        {"from_care_form": "a", "to": s, "share": round(x, 4)}
        for s, x in zip(sinks, shares, strict=False)
    ]
    total = sum(round(x, 4) for x in shares[: len(sinks)])
    model = write_model_dir(tmp_path_factory.mktemp("r") / "m", tables)
    if abs(total - 1) > 1e-6:
        with pytest.raises(InvalidInputError, match="tellen op tot"):
            load_model(model)
    else:
        load_model(model)


def _two_block_forms(beds: int, self_loop: float) -> dict[str, Any]:
    return {
        "care_forms": [
            {"care_form": "pz", "name": "PZ", "waiting_policy": "block"},
            {"care_form": "res", "name": "RES", "waiting_policy": "block"},
        ],
        "providers": [{"provider": "P1", "name": "Een"}],
        "beds": [
            {"provider": "P1", "care_form": "pz", "beds": beds},
            {"provider": "P1", "care_form": "res", "beds": beds},
        ],
        "instroom": [
            {"care_form": "pz", "year": 2023, "arrivals_per_year": 200},
            {"care_form": "res", "year": 2023, "arrivals_per_year": 200},
        ],
        "los": [
            {"care_form": "pz", "distribution": "exponential", "mean_days": 10},
            {"care_form": "res", "distribution": "exponential", "mean_days": 10},
        ],
        "routing": [
            {"from_care_form": "pz", "to": "pz", "share": self_loop},
            {"from_care_form": "pz", "to": "res", "share": 0.5 - self_loop},
            {"from_care_form": "pz", "to": "thuis", "share": 0.5},
            {"from_care_form": "res", "to": "pz", "share": 0.5},
            {"from_care_form": "res", "to": "thuis", "share": 0.5},
        ],
        "costs": [
            {"care_form": "pz", "provider": "", "cost_per_bed_day_eur": 1},
            {"care_form": "res", "provider": "", "cost_per_bed_day_eur": 1},
        ],
    }


@pytest.mark.parametrize(("beds", "self_loop"), [(2, 0.0), (2, 0.2), (3, 0.3)])
def test_blocking_cycles_never_gridlock(
    write_model: Callable[..., Path], tmp_path: Path, beds: int, self_loop: float
) -> None:
    """Overloaded forms that block each other (and themselves) keep admitting to the end."""
    spec = spec_for(write_model(_two_block_forms(beds, self_loop)), tmp_path, end_year=2027)
    for seed in range(3):
        stays = simulate_stays(spec, np.random.SeedSequence(seed))
        assert check_stays(spec, stays) == []
        admitted = stays["start_day"].dropna()
        last_year = spec.year_start_day[2027]
        for form in ("pz", "res"):
            starts = stays.loc[stays["care_form"] == form, "start_day"].dropna()
            assert (starts >= last_year).sum() > 20, (form, seed)  # gridlock: ~0
        assert admitted.max() > spec.end_day - 30


def test_nobody_keeps_a_bed_past_its_age_limit(basis_spec: SimSpec) -> None:
    max_age = basis_spec.care_forms["max_age_years"]
    for seed in range(3):
        stays = simulate_stays(basis_spec, np.random.SeedSequence(seed))
        held = stays[stays["end_day"].notna() & stays["start_day"].notna()]
        age_at_release = held["age_years"] + (held["end_day"] - held["requested_day"]) / 365.25
        limit = held["care_form"].astype(str).map(max_age)
        # initial occupants: age_years is the age at the start of their stay
        assert (age_at_release <= limit + 1e-6).all()
        # stays cut at the age limit go to the form's age_out_to
        ends = held[np.isclose(age_at_release, limit)]
        age_out = ends["care_form"].astype(str).map(basis_spec.care_forms["age_out_to"])
        assert (ends["next"].astype(str) == age_out).all()


def test_a_first_year_bed_cut_keeps_the_0_meting_occupants(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        BASIS.read_text(encoding="utf-8").replace(
            "model: ../models", f"model: {BASIS.parent}/../models"
        )
        + "levers:\n  bed_changes:\n    - {year: 2023, provider: P01, care_form: pleegzorg, "
        "change_beds: -40}\n",
        encoding="utf-8",
    )
    spec = compile_spec(load_scenario(path))
    stays = simulate_stays(spec, np.random.SeedSequence(1))
    initial = stays[(stays["waited_in"] == "initial") & (stays["care_form"] == "pleegzorg")]
    assert (initial["provider"] == "P01").sum() == 138  # occupied in the 0-meting
    assert check_stays(spec, stays) == []


def test_the_run_starts_at_the_0_meting_unless_a_warm_up_is_asked(tmp_path: Path) -> None:
    text = BASIS.read_text(encoding="utf-8").replace(
        "model: ../models", f"model: {BASIS.parent}/../models"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("warm_up_days: 0\n", ""), encoding="utf-8")
    assert load_scenario(path).warm_up_days == 0
    path.write_text(
        text.replace("warm_up_days: 0\n", "").replace(
            "initial_state: occupied", "initial_state: empty"
        ),
        encoding="utf-8",
    )
    assert load_scenario(path).warm_up_days == 365
