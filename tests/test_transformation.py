"""The transformation in the simulation: ambulant places, 18+ housing and provider stays.

Independent truths, computed here from textbook formulas and never from earlier output:

* an ambulant form alone is an Erlang loss system (substituted referrals that find it full
  go to the bed instead) or an Erlang C queue (direct referrals that wait);
* the bed fed by substitution receives the thinned Poisson stream
  ``lam (1 - s) + lam s B + lam s (1 - B) f`` (kept, diverted because full, failed);
* a bed whose leavers need a housing place that can be full is a small CTMC (beds taken,
  beds blocked, housing taken), solved with numpy;
* a provider's own mean stay is what its stays average.

Plus an independent checker of every rule (``tests/checker.py``) on random small models with
ambulant and housing forms, conservation of young people, validation of the new tables,
and the transformation figures recounted from the KPIs and stays.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capaciteit.domain.model import SINKS
from capaciteit.errors import InvalidInputError
from capaciteit.io.model_files import load_model
from capaciteit.io.model_writer import write_model_dir, write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import SimSpec, compile_spec
from capaciteit.simulation.transformation import (
    blocking_per_replication,
    transformation_per_replication,
)
from tests.checker import check_stays, conservation
from tests.conftest import ROOT
from tests.test_oracles import assert_covers, erlang_b, erlang_c, overlap_mean, per_replication

OMBOUW_MODEL = ROOT / "models" / "voorbeeldregio-ombouw"
OMBOUW = ROOT / "simulations" / "voorbeeldregio-transformatie-ombouw.yaml"
START = 2025  # 2025-2027 have 365 days
DAYS = 365.0


# --------------------------------------------------------------------------- models
def form_row(
    fid: str, kind: str = "verblijf", policy: str = "queue", **extra: Any
) -> dict[str, Any]:
    return {"care_form": fid, "name": fid, "kind": kind, "waiting_policy": policy, **extra}


def write_network(
    tmp: Path,
    forms: list[dict[str, Any]],
    places: dict[str, int],
    arrivals_per_day: dict[str, float],
    mean_days: dict[str, float],
    routing: dict[tuple[str, str], float],
    *,
    years: int = 3,
    warm_up_days: float = 200.0,
    replications: int = 20,
    seed: int = 7,
    levers: dict[str, Any] | None = None,
) -> SimSpec:
    """Write a one-provider network with exponential stays; return its compiled spec."""
    for row in forms:
        row.setdefault("max_wait_days", None)
        row.setdefault("failure_share", None)
    tables = {
        "care_forms": pd.DataFrame(forms).astype(
            {"max_wait_days": "float64", "failure_share": "float64"}
        ),
        "providers": [{"provider": "P1", "name": "Aanbieder"}],
        "beds": [{"provider": "P1", "care_form": f, "beds": n} for f, n in places.items()],
        "instroom": [
            {
                "care_form": f,
                "year": START,
                "arrivals_per_year": arrivals_per_day.get(f, 0.0) * DAYS,
            }
            for f in places
        ],
        "los": [
            {"care_form": f, "distribution": "exponential", "mean_days": d}
            for f, d in mean_days.items()
        ],
        "routing": [{"from_care_form": a, "to": b, "share": s} for (a, b), s in routing.items()],
        "costs": [{"care_form": f, "provider": "", "cost_per_bed_day_eur": 100.0} for f in places],
    }
    model = write_model_dir(tmp / "model", tables, baseline_year=START)
    scenario = write_scenario_file(
        tmp / "scenario.yaml",
        model,
        start_year=START,
        end_year=START + years - 1,
        warm_up_days=warm_up_days,
        replications=replications,
        seed=seed,
        levers=levers,
    )
    return compile_spec(load_scenario(scenario))


def requests(stays: pd.DataFrame, form: str, t0: float, t1: float) -> pd.DataFrame:
    r = stays["requested_day"]
    return stays[(stays["care_form"] == form) & (r >= t0) & (r < t1)]


# --------------------------------------------------------------------------- oracles
@pytest.mark.parametrize(("places", "lam", "days"), [(4, 0.5, 6.0), (10, 1.2, 7.0)])
def test_ambulant_form_alone_is_an_erlang_loss_system(
    tmp_path: Path, places: int, lam: float, days: float
) -> None:
    """All referrals to the bed go to ambulant care when a place is free (s = 1)."""
    spec = write_network(
        tmp_path,
        [form_row("bed"), form_row("amb", "ambulant", failure_share=0.0)],
        {"bed": 200, "amb": places},
        {"bed": lam},
        {"bed": 5.0, "amb": days},
        {("bed", "thuis"): 1.0, ("amb", "thuis"): 1.0},
        levers={"substitution": [{"year": START, "from": "bed", "to": "amb", "share": 1.0}]},
    )
    result = run_replications(spec, 20, 5)
    exact = erlang_b(places, lam * days)
    stays = requests(result.stays, "amb", 0.0, spec.end_day)
    n = 20
    diverted = per_replication(stays, lambda g: float((g["outcome"] == "diverted").mean()), n)
    assert_covers(diverted, exact, 0.2, f"diverted share B({places}, {lam * days})")
    busy = per_replication(
        result.stays[result.stays["care_form"] == "amb"],
        lambda g: overlap_mean(g["start_day"], g["end_day"], 0.0, spec.end_day),
        n,
    )
    assert_covers(busy, lam * days * (1 - exact), 0.05, "ambulant places in use a(1-B)")
    # every diverted referral asked for the bed at the same moment
    bed = result.stays[result.stays["care_form"] == "bed"]
    d = result.stays[result.stays["outcome"] == "diverted"]
    keys = set(zip(bed["replication"], bed["person"], bed["requested_day"], strict=True))
    assert all(
        k in keys for k in zip(d["replication"], d["person"], d["requested_day"], strict=True)
    )


def test_ambulant_form_with_direct_referrals_is_erlang_c(tmp_path: Path) -> None:
    c, lam, days = 5, 0.6, 7.0
    spec = write_network(
        tmp_path,
        [form_row("amb", "ambulant")],
        {"amb": c},
        {"amb": lam},
        {"amb": days},
        {("amb", "thuis"): 1.0},
        replications=20,
        years=3,
    )
    result = run_replications(spec, 20, 3)
    stays = requests(result.stays, "amb", 0.0, spec.end_day - 60)
    waited = per_replication(
        stays, lambda g: float(((g["start_day"] - g["requested_day"]) > 1e-9).mean()), 20
    )
    assert_covers(waited, erlang_c(c, lam * days), 0.12, "ambulant Erlang C P(wait)")


def test_bed_fed_by_substitution_gets_the_thinned_poisson_rate(tmp_path: Path) -> None:
    lam, s, f, c, days = 1.5, 0.6, 0.3, 6, 5.0
    spec = write_network(
        tmp_path,
        [form_row("bed"), form_row("amb", "ambulant", failure_share=f)],
        {"bed": 200, "amb": c},
        {"bed": lam},
        {"bed": 5.0, "amb": days},
        {("bed", "thuis"): 1.0, ("amb", "thuis"): 1.0},
        levers={"substitution": [{"year": START, "from": "bed", "to": "amb", "share": s}]},
    )
    result = run_replications(spec, 20, 11)
    b = erlang_b(c, lam * s * days)  # substituted referrals only: a loss system
    exact = lam * (1 - s) + lam * s * b + lam * s * (1 - b) * f
    t1 = spec.end_day - 30 * days  # failures of trajectories started late come after the end
    rate = per_replication(requests(result.stays, "bed", 0.0, t1), lambda g: len(g) / t1, 20)
    assert_covers(rate, exact, 0.03, "requests for the bed per day")
    failed = per_replication(
        requests(result.stays, "bed", 0.0, t1),
        lambda g: float(g["waited_in"].eq("home").mean()),
        20,
    )
    assert failed.mean() == pytest.approx(1.0)  # kept, diverted and failed all ask from home
    # ambulant trajectories that ended: a share f went back to the bed
    s_ = result.stays
    amb = s_[(s_["care_form"] == "amb") & s_["start_day"].notna() & s_["end_day"].notna()]
    back = per_replication(amb, lambda g: float((g["next"] == "bed").mean()), 20)
    assert_covers(back, f, 0.1, "failure share")


def housing_chain(c1: int, c2: int, lam: float, mu1: float, mu2: float) -> dict[str, float]:
    """Exact stationary measures of a loss bed (c1) whose leavers block for housing (c2).

    State (n1, b, n2): beds taken (blocked ones included), blocked beds, housing taken.
    Arrivals to a full bed are lost; a stay ends at rate (n1 - b) mu1 and moves to housing
    if a place is free, else blocks; a housing place frees at rate n2 mu2 and goes to the
    longest blocked young person at once.
    """
    states = [
        (n1, b, n2)
        for n1 in range(c1 + 1)
        for b in range(n1 + 1)
        for n2 in range(c2 + 1)
        if b == 0 or n2 == c2
    ]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (n1, b, n2), i in index.items():
        if n1 < c1:
            q[i, index[(n1 + 1, b, n2)]] += lam
        if n1 - b > 0:
            nxt = (n1 - 1, b, n2 + 1) if n2 < c2 else (n1, b + 1, n2)
            q[i, index[nxt]] += (n1 - b) * mu1
        if n2 > 0:
            nxt = (n1 - 1, b - 1, n2) if b > 0 else (n1, b, n2 - 1)
            q[i, index[nxt]] += n2 * mu2
    np.fill_diagonal(q, -q.sum(axis=1))
    lhs = np.vstack([q.T, np.ones(len(states))])
    rhs = np.zeros(len(states) + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    return {
        "refused": sum(p for (n1, _, _), p in zip(states, pi, strict=True) if n1 == c1),
        "blocked": sum(b * p for (_, b, _), p in zip(states, pi, strict=True)),
        "housing": sum(n2 * p for (_, _, n2), p in zip(states, pi, strict=True)),
    }


def test_housing_chain_by_hand() -> None:
    """One bed, one housing place, lam = 1, mu1 = 2, mu2 = 1, solved on paper.

    States (beds taken, blocked, housing taken): a (0,0,0), b (0,0,1), c (1,0,0),
    d (1,0,1), e (1,1,1). Balance: a: 1 a = 1 b; c: 2 c = 1 a + 1 d; d: 3 d = 1 b;
    e: 1 e = 2 d; so with b = 3: a = 3, d = 1, e = 2, c = 2 and pi = (3, 3, 2, 1, 2) / 11.
    """
    exact = housing_chain(1, 1, 1.0, 2.0, 1.0)
    assert exact["blocked"] == pytest.approx(2 / 11)  # e
    assert exact["refused"] == pytest.approx((2 + 1 + 2) / 11)  # the bed taken: c, d, e
    assert exact["housing"] == pytest.approx((3 + 1 + 2) / 11)  # b, d, e


def test_housing_that_is_full_blocks_beds_as_the_markov_chain_says(tmp_path: Path) -> None:
    c1, c2, lam, d1, d2 = 4, 2, 1.0, 3.0, 4.0
    spec = write_network(
        tmp_path,
        [
            form_row("bed", "verblijf", "overflow", max_wait_days=0.0),
            form_row("wonen", "woonplek", "block", age_out_to="zelfstandig"),
        ],
        {"bed": c1, "wonen": c2},
        {"bed": lam},
        {"bed": d1, "wonen": d2},
        {("bed", "wonen"): 1.0, ("wonen", "zelfstandig"): 1.0},
        years=3,
        replications=20,
    )
    exact = housing_chain(c1, c2, lam, 1 / d1, 1 / d2)
    result = run_replications(spec, 20, 9)
    stays, end = result.stays, spec.end_day
    bed = stays[stays["care_form"] == "bed"]
    refused = per_replication(
        requests(stays, "bed", 0.0, end), lambda g: float((g["outcome"] == "overflow").mean()), 20
    )
    assert_covers(refused, exact["refused"], 0.05, "bed refused share")
    blocked = per_replication(
        bed, lambda g: overlap_mean(g["service_end_day"], g["end_day"], 0.0, end), 20
    )
    assert_covers(blocked, exact["blocked"], 0.06, "beds blocked by young adults waiting")
    housing = per_replication(
        stays[stays["care_form"] == "wonen"],
        lambda g: overlap_mean(g["start_day"], g["end_day"], 0.0, end),
        20,
    )
    assert_covers(housing, exact["housing"], 0.03, "housing places in use")
    # the KPI "18+ wachtend op woonplek" is the same time-average
    kpi = result.kpis.xs("wonen", level="care_form")["waiting_in_bed_mean"]
    per_rep = kpi.groupby(level="replication").mean().to_numpy()
    assert_covers(per_rep, exact["blocked"], 0.06, "KPI waiting_in_bed_mean")


def test_a_providers_own_mean_stay_is_what_its_stays_average(tmp_path: Path) -> None:
    tables = {
        "care_forms": [form_row("bed")],
        "providers": [{"provider": "A", "name": "a"}, {"provider": "B", "name": "b"}],
        "beds": [
            {"provider": "A", "care_form": "bed", "beds": 60},
            {"provider": "B", "care_form": "bed", "beds": 60},
        ],
        "instroom": [{"care_form": "bed", "year": START, "arrivals_per_year": 2000}],
        "los": [{"care_form": "bed", "distribution": "exponential", "mean_days": 10}],
        "los_provider": [{"provider": "B", "care_form": "bed", "mean_days": 20}],
        "routing": [{"from_care_form": "bed", "to": "thuis", "share": 1.0}],
        "costs": [{"care_form": "bed", "provider": "", "cost_per_bed_day_eur": 1}],
    }
    model = write_model_dir(tmp_path / "m", tables, baseline_year=START)
    levers = {
        "provider_los_change_pct": [
            {"year": START + 1, "provider": "B", "care_form": "bed", "change_pct": -50}
        ]
    }
    scenario = load_scenario(
        write_scenario_file(
            tmp_path / "s.yaml", model, start_year=START, end_year=START + 1, levers=levers
        )
    )
    assert scenario.mean_los_days("bed", "B", START) == pytest.approx(20)
    assert scenario.mean_los_days("bed", "B", START + 1) == pytest.approx(10)
    assert scenario.mean_los_days("bed", "A", START + 1) == pytest.approx(10)
    result = run_replications(compile_spec(scenario), 10, 4)
    s = result.stays
    service = s["service_end_day"] - s["start_day"]
    for provider, year, mean in (("A", 0, 10.0), ("B", 0, 20.0), ("B", 1, 10.0)):
        lo, hi = year * DAYS, (year + 1) * DAYS - 200
        m = (s["provider"] == provider) & (s["start_day"] >= lo) & (s["start_day"] < hi)
        values = per_replication(
            s[m].assign(service=service[m]), lambda g: float(g["service"].mean()), 10
        )
        assert_covers(values, mean, 0.1, f"mean stay at {provider} in year {year}")


# --------------------------------------------------------------------------- every rule
@st.composite
def transformation_models(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A bed, an ambulant form and a housing form with random sizes and policies."""
    bed_policy = draw(st.sampled_from(["queue", "block", "overflow"]))
    amb_policy = draw(st.sampled_from(["queue", "overflow"]))
    forms = [
        form_row(
            "bed",
            policy=bed_policy,
            max_wait_days=draw(st.sampled_from([0.0, 3.0])) if bed_policy == "overflow" else None,
            age_out_to="wonen",
            max_age_years=18,
        ),
        form_row(
            "amb",
            "ambulant",
            amb_policy,
            max_wait_days=0.0 if amb_policy == "overflow" else None,
            failure_share=draw(st.sampled_from([0.0, 0.4, 1.0])),
            max_age_years=18,
        ),
        form_row(
            "wonen",
            "woonplek",
            draw(st.sampled_from(["block", "queue"])),
            age_out_to="zelfstandig",
            max_age_years=23,
        ),
    ]
    for row in forms:
        row.setdefault("max_wait_days", None)
        row.setdefault("failure_share", None)
    providers = ("P1", "P2")[: draw(st.integers(1, 2))]
    beds = [
        {"provider": p, "care_form": f, "beds": draw(st.integers(lo, 4))}
        for p in providers
        for f, lo in (("bed", 0), ("amb", 1), ("wonen", 1))
    ]
    tables: dict[str, Any] = {
        "care_forms": pd.DataFrame(forms).astype(
            {"max_wait_days": "float64", "failure_share": "float64"}
        ),
        "providers": [{"provider": p, "name": p} for p in providers],
        "beds": beds,
        "instroom": [
            {
                "care_form": "bed",
                "year": 2023,
                "arrivals_per_year": draw(st.sampled_from([30, 150])),
            },
            {"care_form": "amb", "year": 2023, "arrivals_per_year": draw(st.sampled_from([0, 40]))},
            {
                "care_form": "wonen",
                "year": 2023,
                "arrivals_per_year": draw(st.sampled_from([0, 10])),
            },
        ],
        "los": [
            {
                "care_form": f,
                "distribution": "exponential",
                "mean_days": draw(st.sampled_from([5, 40, 200])),
            }
            for f in ("bed", "amb", "wonen")
        ],
        "routing": [
            {"from_care_form": "bed", "to": "thuis", "share": 0.5},
            {"from_care_form": "bed", "to": "wonen", "share": 0.3},
            {"from_care_form": "bed", "to": "amb", "share": 0.2},
            {"from_care_form": "amb", "to": "thuis", "share": 0.8},
            {"from_care_form": "amb", "to": "bed", "share": 0.2},
            {"from_care_form": "wonen", "to": "zelfstandig", "share": 1.0},
        ],
        "age": [
            {"care_form": "bed", "age_min_years": 12, "age_max_years": 18, "share": 1.0},
            {"care_form": "amb", "age_min_years": 10, "age_max_years": 18, "share": 1.0},
            {"care_form": "wonen", "age_min_years": 18, "age_max_years": 20, "share": 1.0},
        ],
        "costs": [
            {"care_form": f, "provider": "", "cost_per_bed_day_eur": 10}
            for f in ("bed", "amb", "wonen")
        ],
    }
    if draw(st.booleans()):
        tables["los_provider"] = [{"provider": providers[-1], "care_form": "bed", "mean_days": 77}]
    levers = {
        "substitution": [
            {"year": 2023, "from": "bed", "to": "amb", "share": draw(st.sampled_from([0.3, 1.0]))}
        ]
    }
    return tables, levers


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=transformation_models(), seed=st.integers(0, 2**32 - 1))
def test_nobody_is_lost_with_ambulant_places_and_housing(
    case: tuple[dict[str, Any], dict[str, Any]], seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tables, levers = case
    tmp = tmp_path_factory.mktemp("ombouw")
    model = write_model_dir(tmp / "m", tables)
    scenario = write_scenario_file(tmp / "s.yaml", model, end_year=2024, levers=levers)
    spec = compile_spec(load_scenario(scenario))
    stays = simulate_stays(spec, np.random.SeedSequence(seed))
    assert check_stays(spec, stays) == []
    persons, in_bed, waiting, gone = conservation(stays, SINKS)
    assert persons == in_bed + waiting + gone
    again = simulate_stays(spec, np.random.SeedSequence(seed))
    pd.testing.assert_frame_equal(stays, again)


@pytest.fixture(scope="module")
def ombouw_run() -> tuple[Any, SimSpec, Any]:
    scenario = load_scenario(OMBOUW)
    spec = compile_spec(scenario)
    return scenario, spec, run_replications(spec, 6, 2)


def test_the_example_obeys_every_rule_and_uses_all_of_it(
    ombouw_run: tuple[Any, SimSpec, Any],
) -> None:
    _, spec, result = ombouw_run
    stays = result.stays
    for r in range(2):
        one = stays[stays["replication"] == r].drop(columns="replication").reset_index(drop=True)
        assert check_stays(spec, one) == []
        persons, in_bed, waiting, gone = conservation(one, SINKS)
        assert persons == in_bed + waiting + gone
    assert (stays["outcome"] == "diverted").any()  # ambulant care is sometimes full
    blocked_for_housing = stays["next"].eq("begeleid_wonen") & (
        stays["end_day"] > stays["service_end_day"]
    )
    assert blocked_for_housing.any()  # and young adults wait in their bed for housing


def test_transformation_figures_recount_from_kpis_and_stays(
    ombouw_run: tuple[Any, SimSpec, Any],
) -> None:
    _, spec, result = ombouw_run
    blocking = blocking_per_replication(spec, result.stays)
    table = transformation_per_replication(spec, result.kpis, blocking)
    k = result.kpis.reset_index()
    amb = k[k["care_form"].isin(["ambulant_gezin", "ambulant_spoed"])]
    bed = k[
        k["care_form"].isin(["pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis"])
    ]
    for (r, y), row in table.iterrows():
        a = amb[(amb["replication"] == r) & (amb["year"] == y)]
        b = bed[(bed["replication"] == r) & (bed["year"] == y)]
        assert row["ambulant_places"] == a["capacity_beds"].sum()
        assert row["ambulant_per_verblijf_places"] == pytest.approx(
            a["capacity_beds"].sum() / b["capacity_beds"].sum()
        )
        assert row["ambulant_per_verblijf_in_care"] == pytest.approx(
            a["occupied_beds"].sum() / b["occupied_beds"].sum()
        )
        assert row["ambulant_per_verblijf_in_care"] >= 0
    # 18+ waiting for housing in a bed, recounted from the stays with plain numpy
    bounds = spec.year_start_day.to_numpy()
    s = result.stays
    ask = s[(s["care_form"] == "begeleid_wonen") & ~s["waited_in"].isin(["home", "initial"])]
    for (r, y), row in table.iterrows():
        k_year = spec.years.index(y)
        a, b = bounds[k_year], bounds[k_year + 1]
        g = ask[ask["replication"] == r]
        until = g["start_day"].fillna(g["end_day"]).fillna(np.inf).to_numpy()
        inside = np.clip(
            np.minimum(until, b) - np.maximum(g["requested_day"].to_numpy(), a), 0, None
        )
        assert row["housing_waiting_in_bed"] == pytest.approx(inside.sum() / (b - a), abs=1e-9)
    # housing blocked bed-days: from each request for housing made from a bed after its
    # stay, until the next request from that bed or leaving it; recounted with plain loops
    for r in sorted(set(s["replication"])):
        one = s[s["replication"] == r]
        from_bed: dict[tuple[int, str], list[tuple[float, str]]] = {}
        for person, held, at, form in zip(
            one["person"],
            one["waited_in"].astype(str),
            one["requested_day"],
            one["care_form"],
            strict=True,
        ):
            from_bed.setdefault((person, held), []).append((at, str(form)))
        totals = dict.fromkeys(spec.years, 0.0)
        kept = one[one["start_day"].notna() & one["service_end_day"].notna()]
        for person, form, stop, end in zip(
            kept["person"],
            kept["care_form"].astype(str),
            kept["service_end_day"],
            kept["end_day"],
            strict=True,
        ):
            left = math.inf if math.isnan(end) else end
            if left <= stop:
                continue
            asks = sorted(
                (at, f) for at, f in from_bed.get((person, form), []) if stop <= at <= left
            )
            for n, (at, f) in enumerate(asks):
                until = asks[n + 1][0] if n + 1 < len(asks) else left
                if f != "begeleid_wonen":
                    continue
                for k_year, y in enumerate(spec.years):
                    a, b = bounds[k_year], bounds[k_year + 1]
                    totals[y] += max(0.0, min(until, b) - max(at, a))
        for y in spec.years:
            got = table.loc[(r, y), "housing_blocked_bed_days"]
            assert got == pytest.approx(totals[y], rel=1e-9, abs=1e-6), (r, y)


def test_simulate_writes_the_transformation(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from capaciteit.cli import app

    out = tmp_path / "out"
    done = CliRunner().invoke(
        app, ["simulate", str(OMBOUW), "--out", str(out), "--replications", "3"]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["care_form_kinds"]["ambulant_gezin"] == "ambulant"
    ratio = summary["transformation"]["2025"]["ambulant_per_verblijf_places"]
    assert ratio["ci_low"] is None  # an input: no interval
    assert 0 < ratio["mean"] < 1
    assert summary["los_targets"] and {r["verdict"] for r in summary["los_targets"]} <= {
        "met",
        "missed",
        "undecided",
        "no_data",
    }
    blocking = pd.read_csv(out / "blocking.csv")
    assert {"care_form", "provider", "waiting_for", "year", "mean"} <= set(blocking.columns)
    assert (blocking["ci_low"] <= blocking["mean"] + 1e-9).all()
    transformation = pd.read_csv(out / "transformation.csv")
    assert not transformation["mean"].isna().any()
    # the daily band stays within what can be: 0 up to the places (none are ever cut here)
    daily = pd.read_csv(out / "occupancy_daily_total.csv")
    assert (daily["occupied_beds_ci_low"] >= 0).all()
    ambulant = daily[daily["care_form"].isin(["ambulant_gezin", "ambulant_spoed"])]
    assert (ambulant["occupied_beds_ci_high"] <= ambulant["capacity_beds"] + 1e-9).all()


# --------------------------------------------------------------------------- validation
@pytest.fixture
def ombouw_copy(tmp_path: Path) -> Path:
    target = tmp_path / "ombouw"
    shutil.copytree(OMBOUW_MODEL, target)
    return target


def problems_of(path: Path) -> list[Any]:
    with pytest.raises(InvalidInputError) as caught:
        load_model(path)
    return caught.value.problems


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_example_ombouw_model_is_valid() -> None:
    model = load_model(OMBOUW_MODEL)
    assert model.forms_of_kind("ambulant") == ["ambulant_gezin", "ambulant_spoed"]
    assert model.forms_of_kind("woonplek") == ["begeleid_wonen"]
    # a price per trajectory becomes a price per place-day over the trajectory's mean
    assert model.cost_per_bed_day("ambulant_gezin", "P04") == pytest.approx(15_000 / 180)


@pytest.mark.parametrize(
    ("file", "old", "new", "says"),
    [
        ("care_forms.csv", "woonplek,,block,,,1,27,", "woonplek,,block,,,1,21,", "geen dag"),
        (
            "routing.csv",
            "begeleid_wonen,zelfstandig,1.0",
            "begeleid_wonen,residentieel,1.0",
            "laatste stap",
        ),
        (
            "care_forms.csv",
            "Pleegzorg,verblijf,,",
            "Pleegzorg,verblijf,0.2,",
            "alleen voor ambulante zorg",
        ),
        (
            "care_forms.csv",
            ",1,21,zelfstandig,,occupancy,0.15",
            ",1,21,crisis,,occupancy,0.15",
            "geen woonplek",
        ),
        ("costs.csv", "ambulant_gezin,,,15000", "ambulant_gezin,,80,15000", "precies één tarief"),
        ("los_provider.csv", "P05,residentieel,320", "P01,residentieel,320", "biedt geen"),
        ("los_provider.csv", "P05,residentieel,320", "P99,residentieel,320", "is onbekend"),
    ],
)
def test_new_tables_are_refused_with_the_reason(
    ombouw_copy: Path, file: str, old: str, new: str, says: str
) -> None:
    edit(ombouw_copy / file, old, new)
    found = problems_of(ombouw_copy)
    assert any(says in p.message for p in found), [str(p) for p in found]
    hit = next(p for p in found if says in p.message)
    assert hit.fix and hit.file  # every problem says where and how to fix it


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda d: d["levers"]["substitution"].append(
                {"year": 2024, "from": "residentieel", "to": "begeleid_wonen", "share": 0.1}
            ),
            "stap ná de jeugdhulp",
        ),
        (
            lambda d: d["levers"]["substitution"].append(
                {"year": 2024, "from": "ambulant_gezin", "to": "residentieel", "share": 0.1}
            ),
            "kind verblijf",
        ),
        (
            lambda d: d["levers"]["bed_changes"].extend(
                [
                    {
                        "year": 2024,
                        "provider": "P01",
                        "care_form": "ambulant_spoed",
                        "change_beds": -8,
                    },
                ]
            ),
            "geen enkele plek",
        ),
        (
            lambda d: d["levers"]["provider_los_change_pct"].append(
                {"year": 2025, "provider": "P01", "care_form": "residentieel", "change_pct": -10}
            ),
            "zou nergens gelden",
        ),
        (
            lambda d: d.__setitem__(
                "los_targets",
                [
                    {
                        "care_form": "residentieel",
                        "provider": "P01",
                        "year": 2025,
                        "max_mean_days": 200,
                    }
                ],
            ),
            "kan niet worden beoordeeld",
        ),
        (
            lambda d: d["afbouw"]["budget"].__setitem__("eur_per_year", {1990: 1e7}),
            "buiten de planjaren",
        ),
        (
            lambda d: d["afbouw"]["ratio_targets"].append(
                {"year": 2040, "min_ambulant_per_verblijf": 0.2}
            ),
            "buiten de planjaren",
        ),
    ],
)
def test_new_levers_are_refused_with_the_reason(tmp_path: Path, change: Any, says: str) -> None:
    data = yaml.safe_load(OMBOUW.read_text(encoding="utf-8"))
    data["model"] = str(OMBOUW_MODEL)
    change(data)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_scenario(path)
    assert any(says in p.message for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


def test_a_housing_form_gets_three_months_as_its_default_norm() -> None:
    scenario = load_scenario(OMBOUW)
    row = scenario.service_levels.loc["begeleid_wonen"]
    assert row["placed_within_days"] == 90
    assert not any(math.isnan(v) for v in (row["placed_within_days"], row["placed_share_min"]))


def test_forks_and_steps_go_on_as_one_run_with_ambulant_places_and_housing() -> None:
    """A paused run copied (the minimal-beds search) carries origins and failure draws."""
    from capaciteit.realisation.band import until_year
    from capaciteit.simulation.replications import replication_seeds
    from tests.test_forks import check_fork, check_stepped

    # forked on 1 January 2025, a year into substitution: trajectories with an origin run
    spec = until_year(compile_spec(load_scenario(OMBOUW)), 2026)
    seed = replication_seeds(7, 1)[0]
    check_stepped(spec, seed)
    check_fork(spec, seed, 2, compact=True)


def test_the_same_seed_gives_the_same_results_on_every_executor() -> None:
    from capaciteit.simulation.executors import make_executor

    spec = compile_spec(load_scenario(OMBOUW))
    serial = run_replications(spec, 3, 17)
    processes = run_replications(spec, 3, 17, make_executor("processes", workers=2))
    pd.testing.assert_frame_equal(serial.stays, processes.stays)
    pd.testing.assert_frame_equal(serial.summary, processes.summary)


def test_ligduur_of_beds_spread_over_providers_is_their_harmonic_mean() -> None:
    from capaciteit.optimisation.minimal_beds import los_targets_at

    scenario = load_scenario(OMBOUW)
    per_provider = scenario.capacity.copy()
    table = los_targets_at(scenario, per_provider)
    assert set(table["year"]) == set(range(2025, 2031))
    for row in table.to_dict("records"):
        beds = per_provider.xs("residentieel", level="care_form")[row["year"]]
        # stays per day at each provider: beds / mean stay; the mean over all stays
        los = {
            "P04": 240.0,
            "P05": 320.0 * (0.8 if row["year"] >= 2025 else 0.9),
            "P06": 250.0,
            "P07": 255.0,
        }
        # the form's lever: -10% from 2024, -15% from 2025 (los_change_pct)
        factor = 0.85
        stays_per_day = sum(b / (los[p] * factor) for p, b in beds.items())
        expected = beds.sum() / stays_per_day
        assert row["expected_mean_days"] == pytest.approx(expected, rel=1e-12)
        assert row["met"] == (expected <= 250)


def test_minimal_beds_search_beds_and_keep_the_scenarios_places(tmp_path: Path) -> None:
    from capaciteit.optimisation.minimal_beds import minimal_beds

    data = yaml.safe_load(OMBOUW.read_text(encoding="utf-8"))
    data["model"] = str(OMBOUW_MODEL)
    data["horizon"] = {"start_year": 2023, "end_year": 2024}
    data["replications"] = 3
    levers = data["levers"]
    levers["instroom_change_pct"] = {
        f: {y: v for y, v in by.items() if y <= 2024}
        for f, by in levers["instroom_change_pct"].items()
    }
    levers["instroom_change_pct"] = {f: by for f, by in levers["instroom_change_pct"].items() if by}
    levers["los_change_pct"] = {
        f: {y: v for y, v in by.items() if y <= 2024} for f, by in levers["los_change_pct"].items()
    }
    for key in ("substitution", "bed_changes", "provider_los_change_pct"):
        levers[key] = [x for x in levers[key] if x["year"] <= 2024]
    data["los_targets"] = [{"care_form": "residentieel", "year": 2024, "max_mean_days": 200}]
    data["afbouw"] = {}
    path = tmp_path / "kort.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    scenario = load_scenario(path)
    result = minimal_beds(scenario, replications=3)
    for form in ("ambulant_gezin", "ambulant_spoed", "begeleid_wonen"):
        kept = result.per_provider.loc[form]
        pd.testing.assert_frame_equal(kept, scenario.capacity.loc[form], check_dtype=False)
        assert (result.table.loc[form, "why_not_one_fewer"].str.startswith("niet gezocht")).all()
    searched = set(result.evidence.index.get_level_values("care_form"))
    assert searched == {"pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis"}
    assert not result.los_targets.empty and not result.los_targets["met"].any()
    assert any("ligduur" in e and "provider_los_change_pct" in e for e in result.explanations)


def test_ambulant_or_housing_without_a_place_in_any_year_is_refused_by_the_scenario(
    ombouw_copy: Path, tmp_path: Path
) -> None:
    # none in the 0-meting is allowed (a programme may open later) ...
    edit(ombouw_copy / "beds.csv", "P09,begeleid_wonen,40,38", "P09,begeleid_wonen,0,0")
    load_model(ombouw_copy)
    data = yaml.safe_load(OMBOUW.read_text(encoding="utf-8"))
    data["model"] = str(ombouw_copy)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_scenario(path).capacity.loc["begeleid_wonen"].sum().max() > 0  # opened later
    # ... but a scenario that never opens one, while young people are sent there, is not
    data["levers"]["bed_changes"] = [
        c for c in data["levers"]["bed_changes"] if c["care_form"] != "begeleid_wonen"
    ]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_scenario(path)
    said = [p for p in caught.value.problems if p.id == "begeleid_wonen"]
    assert said and "in geen enkel jaar een plek" in said[0].message
    assert "blijven in hun bed wachten" in said[0].message and said[0].fix
