"""Synthetic stay records checked against truths that do not come from the generator.

The generator (:mod:`capaciteit.calibration.synthetic`) is the yardstick of calibration,
so its records are held to textbook results: entries from home are Poisson with the
model's rate (mean and dispersion, a chi-square over many seeds and years), the mean
number in a form is the M/G/infinity value ``lambda * E[stay]`` with the flow into each
form solved from the routing's traffic equations by numpy (batch means over the years
give the interval), the next of ended stays follows the routing (binomial intervals),
stays have the family's mean and cv (a Weibull with ``k = 2`` is a Rayleigh, with
``cv^2 = 4/pi - 1``), the share that ages out is an integral done by hand, and every file
passes the project's own reader. Intervals are at about 4.5 standard errors, so a
correct generator fails one of them about once in 100 000 runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from capaciteit.calibration.synthetic import (
    RECORD_COLUMNS,
    generate_records,
    weibull_shape,
    write_records,
)
from capaciteit.domain.model import RegionModel
from capaciteit.io.model_files import load_model
from capaciteit.io.records import read_records

ROOT = Path(__file__).resolve().parents[1]
Z = 4.5
"""Standard errors allowed (two-sided p about 7e-6 per check)."""


def _form(care_form: str, **extra: Any) -> dict[str, Any]:
    return {
        "care_form": care_form,
        "name": care_form.upper(),
        "waiting_policy": "queue",
        "max_age_years": 30,
        **extra,
    }


def _days(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column.where(column != ""))


# --- the network: five forms, one per family, routing with a loop and feedback ----------

NET_RATES = {"a": 400.0, "b": 0.0, "c": 150.0, "d": 60.0, "e": 0.0}
NET_ROUTING = {
    "a": {"b": 0.3, "c": 0.2, "thuis": 0.5},
    "b": {"a": 0.1, "d": 0.3, "zelfstandig": 0.6},
    "c": {"c": 0.2, "e": 0.2, "thuis": 0.6},
    "d": {"thuis": 1.0},
    "e": {"a": 0.1, "wlz": 0.9},
}
NET_MEAN_DAYS = {"a": 30.0, "b": 45.0, "c": 20.0, "d": 60.0}
NET_CV = {"b": 1.0, "c": 0.6, "d": math.sqrt(4 / math.pi - 1)}
OBSERVED_DAYS = (5.0, 10.0, 20.0, 45.0)
PROVIDER_MEAN_DAYS = 60.0
"""Mean stay of provider P2 in form a (los_provider); P1 has the form's 30 days."""
NET_BEDS = {("P1", "a"): 30, ("P2", "a"): 10}


def _net_tables() -> dict[str, list[dict[str, Any]]]:
    forms = list(NET_RATES)
    return {
        "care_forms": [_form(f) for f in forms],
        "providers": [{"provider": p, "name": p} for p in ("P1", "P2", "P3")],
        "beds": [
            {"provider": p, "care_form": f, "beds": NET_BEDS.get((p, f), 5)}
            for f in forms
            for p in (("P1", "P2") if f == "a" else ("P3",))
        ],
        "instroom": [
            {"care_form": f, "year": 2000, "arrivals_per_year": rate}
            for f, rate in NET_RATES.items()
        ],
        "los": [
            {"care_form": "a", "distribution": "exponential", "mean_days": 30.0},
            {"care_form": "b", "distribution": "lognormal", "mean_days": 45.0, "cv": 1.0},
            {"care_form": "c", "distribution": "gamma", "mean_days": 20.0, "cv": 0.6},
            {"care_form": "d", "distribution": "weibull", "mean_days": 60.0, "cv": NET_CV["d"]},
            {"care_form": "e", "distribution": "empirical"},
        ],
        "los_observed": [{"care_form": "e", "los_days": d} for d in OBSERVED_DAYS],
        "los_provider": [{"provider": "P2", "care_form": "a", "mean_days": PROVIDER_MEAN_DAYS}],
        "routing": [
            {"from_care_form": f, "to": t, "share": s}
            for f, row in NET_ROUTING.items()
            for t, s in row.items()
        ],
        # entries are babies and stays are weeks: the age limit of 30 never binds
        "age": [
            {"care_form": f, "age_min_years": 0, "age_max_years": 1, "share": 1.0} for f in forms
        ],
        "costs": [{"care_form": f, "provider": "", "cost_per_bed_day_eur": 1.0} for f in forms],
    }


NET_WINDOW = (dt.date(2000, 1, 1), dt.date(2019, 12, 31))


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> tuple[RegionModel, pd.DataFrame]:
    from capaciteit.io.model_writer import write_model_dir

    folder = write_model_dir(tmp_path_factory.mktemp("net") / "net", _net_tables())
    model = load_model(folder)
    records = generate_records(
        model,
        window_start=NET_WINDOW[0],
        extract_date=NET_WINDOW[1],
        seed=11,
        burn_in_years=2,
        referral_wait_days={f: 7.0 for f in NET_RATES},
    )
    return model, records


def _flows() -> dict[str, float]:
    """Flow into each form (instroom plus doorstroom): lambda = lambda0 + R^T lambda."""
    forms = list(NET_RATES)
    route = np.zeros((len(forms), len(forms)))
    for i, f in enumerate(forms):
        for t, share in NET_ROUTING[f].items():
            if t in forms:
                route[i, forms.index(t)] = share
    rates = np.linalg.solve(np.eye(len(forms)) - route.T, np.array(list(NET_RATES.values())))
    return dict(zip(forms, rates.tolist(), strict=True))


def _mean_stay_days(form: str) -> float:
    if form == "a":  # providers drawn by beds 30 : 10, P2 with its own mean
        return 0.75 * NET_MEAN_DAYS["a"] + 0.25 * PROVIDER_MEAN_DAYS
    if form == "e":
        return float(np.mean(OBSERVED_DAYS))
    return NET_MEAN_DAYS[form]


def _occupancy_by_day(records: pd.DataFrame, form: str, days: pd.DatetimeIndex) -> np.ndarray:
    """Stays of ``form`` going on on each of ``days`` (start <= day < end)."""
    mine = records[records["care_form"] == form]
    start = _days(mine["start_date"]).to_numpy()
    end = _days(mine["end_date"]).fillna(pd.Timestamp.max).to_numpy()
    day = days.to_numpy()
    started = np.searchsorted(np.sort(start), day, side="right")
    ended = np.searchsorted(np.sort(end), day, side="right")
    return (started - ended).astype("float64")


def test_mean_occupancy_is_the_m_g_infinity_value(net: tuple[RegionModel, pd.DataFrame]) -> None:
    _, records = net
    flows = _flows()
    days = pd.date_range(NET_WINDOW[0], NET_WINDOW[1], freq="D")
    for form, flow in flows.items():
        expected = flow * _mean_stay_days(form) / 365.25
        per_day = pd.Series(_occupancy_by_day(records, form, days), index=days)
        # stays are weeks long: yearly batch means are nearly independent
        batches = per_day.groupby(days.year).mean()
        se = batches.std(ddof=1) / math.sqrt(len(batches))
        assert abs(batches.mean() - expected) < Z * se + 0.01, (form, batches.mean(), expected)
    # the figures the report quotes
    assert flows["a"] == pytest.approx(400 + 0.1 * flows["b"] + 0.1 * flows["e"])


def test_flow_into_each_form_solves_the_traffic_equations(
    net: tuple[RegionModel, pd.DataFrame],
) -> None:
    _, records = net
    start = _days(records["start_date"])
    inside = records[start >= pd.Timestamp(NET_WINDOW[0])]
    per_year = (
        inside.groupby([inside["care_form"], _days(inside["start_date"]).dt.year]).size().unstack()
    )
    for form, flow in _flows().items():
        counts = per_year.loc[form].to_numpy(dtype="float64")
        se = counts.std(ddof=1) / math.sqrt(len(counts))
        assert abs(counts.mean() - flow) < Z * se, (form, counts.mean(), flow)


def test_next_of_ended_stays_follows_the_routing(net: tuple[RegionModel, pd.DataFrame]) -> None:
    _, records = net
    ended = records[records["end_date"] != ""]
    for form, shares in NET_ROUTING.items():
        _assert_routing(ended, form, shares)


def _assert_routing(ended: pd.DataFrame, form: str, shares: dict[str, float]) -> None:
    """The next of ``form``'s ended stays: only ``shares``' ways, each within its interval."""
    nxt = ended.loc[ended["care_form"] == form, "next"]
    assert set(nxt) == set(shares), form
    for to, share in shares.items():
        seen = float((nxt == to).mean())
        se = math.sqrt(share * (1 - share) / len(nxt))
        assert abs(seen - share) <= Z * se + 1e-12, (form, to, seen, share)


def test_stays_have_the_family_mean_and_cv(net: tuple[RegionModel, pd.DataFrame]) -> None:
    _, records = net
    # stays that began in the first 15 years all ended within the 20 (weeks long)
    early = records[_days(records["start_date"]) < pd.Timestamp(2015, 1, 1)]
    assert (early["end_date"] != "").all()
    length = (_days(early["end_date"]) - _days(early["start_date"])).dt.days.astype("float64")
    for form, provider, mean in (
        ("a", "P1", 30.0),
        ("a", "P2", PROVIDER_MEAN_DAYS),
        ("b", "P3", 45.0),
        ("c", "P3", 20.0),
        ("d", "P3", 60.0),
        ("e", "P3", float(np.mean(OBSERVED_DAYS))),
    ):
        days = length[(early["care_form"] == form) & (early["provider"] == provider)]
        assert len(days) > 500, (form, provider)
        se = days.std(ddof=1) / math.sqrt(len(days))
        assert abs(days.mean() - mean) < Z * se, (form, provider, days.mean(), mean)
        cv = NET_CV.get(form, 1.0)
        if form != "e":  # whole days add 1/6 day^2 of variance: nothing at these means
            assert days.std() / days.mean() == pytest.approx(cv, rel=0.12), (form, provider)
    # the empirical form only takes the observed stays (whole days stay whole)
    assert set(length[early["care_form"] == "e"]) <= set(OBSERVED_DAYS)
    # the weibull with cv^2 = 4/pi - 1 is a Rayleigh: P(S > t) = exp(-pi t^2 / (4 mean^2))
    d = length[early["care_form"] == "d"]
    for t in (30.0, 60.0, 100.0):
        p = math.exp(-math.pi * t**2 / (4 * 60.0**2))
        se = math.sqrt(p * (1 - p) / len(d))
        assert abs(float((d > t).mean()) - p) < Z * se + 1 / 60, t


def test_weibull_shape_solves_the_cv() -> None:
    assert weibull_shape(1.0) == pytest.approx(1.0, rel=1e-9)  # the exponential
    assert weibull_shape(math.sqrt(4 / math.pi - 1)) == pytest.approx(2.0, rel=1e-9)
    assert weibull_shape(0.3) > 3 > weibull_shape(0.5) > 2 > 1 > weibull_shape(1.5)


def test_providers_are_drawn_by_beds(net: tuple[RegionModel, pd.DataFrame]) -> None:
    _, records = net
    # a stay's length depends on its provider, so count the stays that start
    provider = records.loc[records["care_form"] == "a", "provider"]
    share = float((provider == "P1").mean())
    se = math.sqrt(0.75 * 0.25 / len(provider))
    assert abs(share - 0.75) < Z * se


def test_referral_waits_only_for_entries_from_home(net: tuple[RegionModel, pd.DataFrame]) -> None:
    _, records = net
    referred = records[records["referral_date"] != ""]
    wait = (_days(referred["start_date"]) - _days(referred["referral_date"])).dt.days
    assert (wait >= 0).all()
    # exponential with mean 7 days: sd 7; whole days keep the mean
    assert abs(wait.mean() - 7.0) < Z * 7.0 / math.sqrt(len(wait))
    # only forms with instroom have entries from home
    assert set(referred["care_form"]) == {"a", "c", "d"}


def test_doorstroom_starts_the_next_stay_the_same_day(
    net: tuple[RegionModel, pd.DataFrame],
) -> None:
    model, records = net
    _check_doorstroom(records, model.care_form_ids, NET_WINDOW[0], all_referred=True)


def _check_doorstroom(
    records: pd.DataFrame, forms: list[str], window_start: dt.date, *, all_referred: bool
) -> None:
    """Each move to a form starts the client's next stay there that day, at the age then.

    When every entry from home has a referral, each other stay in the window follows a
    move. A client's stays are in the file in the order they happened.
    """
    stays = records.sort_values("client_id", kind="stable")
    later = stays.groupby("client_id").shift(-1)  # the client's next stay, if any
    moved = (stays["end_date"] != "") & stays["next"].isin(forms)
    assert (later.loc[moved, "care_form"] == stays.loc[moved, "next"]).all()
    assert (later.loc[moved, "start_date"] == stays.loc[moved, "end_date"]).all()
    assert (later.loc[moved, "referral_date"] == "").all()
    elapsed = (_days(stays["end_date"]) - _days(stays["start_date"])).dt.days / 365.25
    age_then = (stays["age_at_start_years"] + elapsed)[moved]
    assert (abs(later.loc[moved, "age_at_start_years"] - age_then) < 0.011 + 1 / 365.25).all()
    # a sink ends the client; an ongoing stay is the client's last
    assert later.loc[~moved, "care_form"].isna().all()
    if not all_referred:
        return
    # a stay without a referral in the window is doorstroom: its previous stay is there
    earlier = stays.groupby("client_id").shift(1)
    own = (stays["referral_date"] == "") & (_days(stays["start_date"]) >= str(window_start))
    assert (earlier.loc[own, "next"] == stays.loc[own, "care_form"]).all()
    assert (earlier.loc[own, "end_date"] == stays.loc[own, "start_date"]).all()


# --- entries from home: Poisson with the rate of each year, seasons, a trend ------------


def _poisson_tables() -> dict[str, list[dict[str, Any]]]:
    forms = ("a", "s")
    return {
        "care_forms": [_form(f) for f in forms],
        "providers": [{"provider": "P1", "name": "P1"}],
        "beds": [{"provider": "P1", "care_form": f, "beds": 1} for f in forms],
        # a: 2001-2004 with a gap (2003 keeps 2002's rate); s: one year and seasons
        "instroom": [
            {"care_form": "a", "year": 2001, "arrivals_per_year": 40.0},
            {"care_form": "a", "year": 2002, "arrivals_per_year": 60.0},
            {"care_form": "a", "year": 2004, "arrivals_per_year": 90.0},
            {"care_form": "s", "year": 2001, "arrivals_per_year": 120.0},
        ],
        "seasonality": [
            {"care_form": "s", "month": m, "factor": f}
            for m, f in enumerate((1.6, 1.4, 1.2, 1, 1, 1, 0.4, 0.4, 1, 1, 1, 1), start=1)
        ],
        "los": [{"care_form": f, "distribution": "exponential", "mean_days": 5.0} for f in forms],
        "routing": [{"from_care_form": f, "to": "thuis", "share": 1.0} for f in forms],
        "costs": [{"care_form": f, "provider": "", "cost_per_bed_day_eur": 1.0} for f in forms],
    }


def _entries(records: pd.DataFrame) -> pd.DataFrame:
    """Entries from home (those with a referral), with their year and month."""
    start = _days(records.loc[records["referral_date"] != "", "start_date"])
    return pd.DataFrame(
        {
            "care_form": records.loc[start.index, "care_form"],
            "year": start.dt.year,
            "month": start.dt.month,
        }
    )


@pytest.fixture(scope="module")
def poisson_model(tmp_path_factory: pytest.TempPathFactory) -> RegionModel:
    from capaciteit.io.model_writer import write_model_dir

    return load_model(write_model_dir(tmp_path_factory.mktemp("p") / "p", _poisson_tables()))


def test_entries_per_year_are_poisson_with_the_rate_of_the_year(
    poisson_model: RegionModel,
) -> None:
    years = range(1998, 2010)
    rate = {y: 40.0 if y <= 2001 else 60.0 if y <= 2003 else 90.0 for y in years}
    seeds = np.random.SeedSequence(2024).spawn(60)
    counts = np.zeros((len(seeds), len(rate)))
    for k, seed in enumerate(seeds):
        records = generate_records(
            poisson_model,
            window_start=dt.date(1998, 1, 1),
            extract_date=dt.date(2009, 12, 31),
            seed=seed,
            burn_in_years=0,
            referral_wait_days={"a": 1.0, "s": 1.0},
        )
        entries = _entries(records)
        per_year = entries[entries["care_form"] == "a"].groupby("year").size()
        counts[k] = per_year.reindex(list(years), fill_value=0).to_numpy()
    mean = np.array([rate[y] for y in years])
    # mean per year over 60 seeds
    se = np.sqrt(mean / len(seeds))
    assert (np.abs(counts.mean(axis=0) - mean) < Z * se).all(), counts.mean(axis=0)
    # all of them together: a rate off by 2% would be 4.5 standard errors away
    total = len(seeds) * mean.sum()
    assert abs(counts.sum() - total) < Z * math.sqrt(total), (counts.sum(), total)
    # dispersion: sum (n - mu)^2 / mu is chi-square with one degree per cell for Poisson
    chi2 = float(((counts - mean) ** 2 / mean).sum())
    cells = counts.size
    assert stats.chi2.ppf(1e-5, cells) < chi2 < stats.chi2.ppf(1 - 1e-5, cells), chi2
    # and the variance over seeds is the mean (not over- or under-dispersed)
    ratio = float((counts.var(axis=0, ddof=1) / mean).mean())
    assert ratio == pytest.approx(1.0, abs=0.25)


def test_seasonality_shapes_the_months(poisson_model: RegionModel) -> None:
    records = generate_records(
        poisson_model,
        window_start=dt.date(1900, 1, 1),
        extract_date=dt.date(1999, 12, 31),
        seed=5,
        burn_in_years=0,
        referral_wait_days={"s": 1.0},
    )
    entries = _entries(records)
    monthly = entries[entries["care_form"] == "s"].groupby("month").size()
    factors = np.array([1.6, 1.4, 1.2, 1, 1, 1, 0.4, 0.4, 1, 1, 1, 1])
    # intensity rate * factor / days in the year, over the days of each month of 100 years
    days = pd.date_range("1900-01-01", "1999-12-31", freq="D")
    per_day = 120.0 * factors[days.month - 1] / np.where(days.is_leap_year, 366.0, 365.0)
    expected = pd.Series(per_day).groupby(days.month).sum().to_numpy()
    chi2 = float(((monthly.to_numpy() - expected) ** 2 / expected).sum())
    assert chi2 < stats.chi2.ppf(1 - 1e-5, 12), (monthly.to_numpy(), expected)


def test_a_trend_of_20_percent_a_year_shows_in_the_entries(poisson_model: RegionModel) -> None:
    big = poisson_model.instroom.copy()
    big["arrivals_per_year"] = 2000.0
    model = dataclasses.replace(poisson_model, instroom=big, seasonality=pd.DataFrame())
    years = np.arange(2015, 2021)
    kwargs: dict[str, Any] = {
        "window_start": dt.date(2015, 1, 1),
        "extract_date": dt.date(2020, 12, 31),
        "seed": 8,
        "burn_in_years": 0,
        "referral_wait_days": {"a": 1.0},
    }
    for trend, growth in ((20.0, 1.2), (0.0, 1.0)):
        entries = _entries(generate_records(model, instroom_trend_pct_per_year=trend, **kwargs))
        counts = entries[entries["care_form"] == "a"].groupby("year").size()
        expected = 2000.0 * growth ** (years - 2015)
        assert (np.abs(counts.to_numpy() - expected) < Z * np.sqrt(expected)).all(), counts
        slope = np.polyfit(years, np.log(counts.to_numpy()), 1)[0]
        assert math.exp(slope) == pytest.approx(growth, abs=0.02)


# --- ages: the cut at the maximum age, housing only for young adults --------------------


def test_stays_are_cut_at_the_maximum_age(write_model: Callable[..., Path]) -> None:
    folder = write_model(
        {
            "care_forms": [_form("p", max_age_years=18, age_out_to="zelfstandig")],
            "providers": [{"provider": "P1", "name": "P1"}],
            "beds": [{"provider": "P1", "care_form": "p", "beds": 1}],
            "instroom": [{"care_form": "p", "year": 2000, "arrivals_per_year": 300.0}],
            "los": [{"care_form": "p", "distribution": "exponential", "mean_days": 2000.0}],
            "routing": [{"from_care_form": "p", "to": "thuis", "share": 1.0}],
            "age": [{"care_form": "p", "age_min_years": 16, "age_max_years": 18, "share": 1.0}],
            "costs": [{"care_form": "p", "provider": "", "cost_per_bed_day_eur": 1.0}],
        }
    )
    records = generate_records(
        load_model(folder),
        window_start=dt.date(2000, 1, 1),
        extract_date=dt.date(2019, 12, 31),
        seed=3,
        burn_in_years=3,
        referral_wait_days={"p": 1.0},
    )
    ended = records[records["end_date"] != ""]
    age_end = ended["age_at_start_years"] + (
        (_days(ended["end_date"]) - _days(ended["start_date"])).dt.days / 365.25
    )
    tolerance = 0.005 + 1 / 365.25  # ages have two decimals, dates are whole days
    assert (age_end < 18 + tolerance).all()
    out = ended["next"] == "zelfstandig"
    assert (abs(age_end[out] - 18) < tolerance).all()
    # P(aged out) = P(S > (18 - a) 365.25 days), a ~ U(16, 18), S ~ Exp(2000):
    # (1 - exp(-2c)) / (2c) with c = 365.25 / 2000
    c = 365.25 / 2000
    share = (1 - math.exp(-2 * c)) / (2 * c)
    # entries in the window's first 15 years ended within it (they are at most 2 years)
    early = ended[_days(ended["start_date"]) < pd.Timestamp(2015, 1, 1)]
    early = early[_days(early["start_date"]) >= pd.Timestamp(2000, 1, 1)]
    seen = float((early["next"] == "zelfstandig").mean())
    assert abs(seen - share) < Z * math.sqrt(share * (1 - share) / len(early)), (seen, share)
    ongoing = records[records["end_date"] == ""]
    age_now = ongoing["age_at_start_years"] + (
        (pd.Timestamp(2019, 12, 31) - _days(ongoing["start_date"])).dt.days / 365.25
    )
    assert (age_now < 18 + tolerance).all()


def test_the_age_rules_of_routing(write_model: Callable[..., Path]) -> None:
    """Children routed to housing take the other ways out; adults routed to a children's
    form go where their form ages out to.
    """
    forms = {
        "r": _form("r", max_age_years=18, age_out_to="w"),
        "w": _form("w", kind="woonplek", max_age_years=27, age_out_to="zelfstandig"),
        "q": _form("q", age_out_to="thuis"),
    }
    bands = {"r": (10, 11), "w": (18, 20), "q": (19, 20)}
    folder = write_model(
        {
            "care_forms": list(forms.values()),
            "providers": [{"provider": "P1", "name": "P1"}],
            "beds": [{"provider": "P1", "care_form": f, "beds": 1} for f in forms],
            "instroom": [
                {"care_form": f, "year": 2000, "arrivals_per_year": rate}
                for f, rate in (("r", 300.0), ("w", 20.0), ("q", 200.0))
            ],
            "los": [
                {"care_form": f, "distribution": "exponential", "mean_days": 30.0} for f in forms
            ],
            "routing": [
                {"from_care_form": f, "to": t, "share": share}
                for f, t, share in (
                    ("r", "w", 0.5),
                    ("r", "thuis", 0.3),
                    ("r", "zelfstandig", 0.2),
                    ("w", "thuis", 1.0),
                    ("q", "r", 0.5),
                    ("q", "wlz", 0.5),
                )
            ],
            "age": [
                {"care_form": f, "age_min_years": lo, "age_max_years": hi, "share": 1.0}
                for f, (lo, hi) in bands.items()
            ],
            "costs": [{"care_form": f, "provider": "", "cost_per_bed_day_eur": 1.0} for f in forms],
        }
    )
    records = generate_records(
        load_model(folder),
        window_start=dt.date(2000, 1, 1),
        extract_date=dt.date(2009, 12, 31),
        seed=4,
        burn_in_years=1,
    )
    ended = records[records["end_date"] != ""]
    for form, shares in (
        ("r", {"thuis": 0.6, "zelfstandig": 0.4}),
        ("q", {"thuis": 0.5, "wlz": 0.5}),
    ):
        _assert_routing(ended, form, shares)
    assert (records.loc[records["care_form"] == "r", "age_at_start_years"] < 11.5).all()
    assert (records.loc[records["care_form"] == "w", "age_at_start_years"] >= 18).all()


def _example(
    name: str, seed: int, waits: dict[str, float] | None
) -> tuple[RegionModel, pd.DataFrame]:
    """An example region's model and its records of 2019-2024."""
    model = load_model(ROOT / "models" / name)
    records = generate_records(
        model,
        window_start=dt.date(2019, 1, 1),
        extract_date=dt.date(2024, 12, 31),
        seed=seed,
        referral_wait_days=waits if waits is not None else dict.fromkeys(model.care_form_ids, 30.0),
    )
    return model, records


@pytest.fixture(scope="module")
def ombouw() -> tuple[RegionModel, pd.DataFrame]:
    return _example("voorbeeldregio-ombouw", 99, None)


def test_housing_is_only_for_young_adults(ombouw: tuple[RegionModel, pd.DataFrame]) -> None:
    model, records = ombouw
    housing = model.forms_of_kind("woonplek")
    youngest = model.age[model.age["care_form"].isin(housing)]["age_min_years"].min()
    assert housing
    stays = records[records["care_form"].isin(housing)]
    assert len(stays) > 50
    assert (stays["age_at_start_years"] >= youngest - 0.005).all()
    # aged out of gezinshuis (age_out_to begeleid_wonen) at 21: they arrive in housing
    aged = stays[(stays["referral_date"] == "") & (stays["age_at_start_years"] > 20.99)]
    assert len(aged) > 0
    _check_doorstroom(records, model.care_form_ids, dt.date(2019, 1, 1), all_referred=True)


def test_stays_are_at_providers_with_beds(ombouw: tuple[RegionModel, pd.DataFrame]) -> None:
    model, records = ombouw
    stays = records[records["care_form"] == "residentieel"]
    assert set(stays["provider"]) == {
        p for p, f in model.beds.index if f == "residentieel" and model.beds.at[(p, f), "beds"]
    }


# --- the extract: what a region's file holds --------------------------------------------


@pytest.fixture(scope="module")
def example() -> tuple[RegionModel, pd.DataFrame]:
    return _example("voorbeeldregio", 7, {"pleegzorg": 60.0, "gezinshuis": 45.0})


def test_the_extract_holds_what_a_region_would_extract(
    example: tuple[RegionModel, pd.DataFrame],
) -> None:
    model, records = example
    assert tuple(records.columns) == RECORD_COLUMNS
    start, end = _days(records["start_date"]), _days(records["end_date"])
    ongoing = records["end_date"] == ""
    assert ongoing.any()
    assert (records.loc[ongoing, "next"] == "").all()
    assert (records.loc[~ongoing, "next"] != "").all()
    assert (end[~ongoing] >= pd.Timestamp(2019, 1, 1)).all()  # nothing ended before
    assert (start <= pd.Timestamp(2024, 12, 31)).all()
    assert (end[~ongoing] <= pd.Timestamp(2024, 12, 31)).all()
    assert (start < pd.Timestamp(2019, 1, 1)).any()  # occupants at the window's start
    assert records["client_id"].str.fullmatch(r"C\d{6}").all()
    assert records["client_id"].iloc[0] == "C000001"
    assert (records["age_at_start_years"] == records["age_at_start_years"].round(2)).all()
    referred = records["referral_date"] != ""
    assert set(records.loc[referred, "care_form"]) == {"pleegzorg", "gezinshuis"}
    assert set(records["care_form"]) == set(model.care_form_ids)
    _check_doorstroom(records, model.care_form_ids, dt.date(2019, 1, 1), all_referred=False)


def test_every_record_passes_the_reader(
    example: tuple[RegionModel, pd.DataFrame], tmp_path: Path
) -> None:
    model, records = example
    path = write_records(records, tmp_path / "out" / "stays.csv")
    read = read_records(
        path, extract_date=dt.date(2024, 12, 31), care_forms=set(model.care_form_ids)
    )
    assert len(read.stays) == len(records)
    assert read.stays["end"].isna().sum() == (records["end_date"] == "").sum()
    assert read.stays["referral"].notna().sum() == (records["referral_date"] != "").sum()


def test_one_seed_one_answer(example: tuple[RegionModel, pd.DataFrame]) -> None:
    model, records = example
    kwargs: dict[str, Any] = {
        "window_start": dt.date(2019, 1, 1),
        "extract_date": dt.date(2024, 12, 31),
        "referral_wait_days": {"pleegzorg": 60.0, "gezinshuis": 45.0},
    }
    pd.testing.assert_frame_equal(generate_records(model, seed=7, **kwargs), records)
    assert not generate_records(model, seed=8, **kwargs).equals(records)
    sequence = np.random.SeedSequence(123)
    first = generate_records(model, seed=sequence, **kwargs)
    pd.testing.assert_frame_equal(generate_records(model, seed=sequence, **kwargs), first)


def test_wrong_arguments_are_refused(example: tuple[RegionModel, pd.DataFrame]) -> None:
    model, _ = example
    day = dt.date(2020, 1, 1)
    with pytest.raises(ValueError, match="before window_start"):
        generate_records(model, window_start=day, extract_date=dt.date(2019, 1, 1), seed=1)
    with pytest.raises(ValueError, match="not in the model"):
        generate_records(
            model, window_start=day, extract_date=day, seed=1, referral_wait_days={"x": 5.0}
        )


def test_a_hundred_thousand_stays_take_seconds(example: tuple[RegionModel, pd.DataFrame]) -> None:
    import time

    model, _ = example
    more = model.instroom.copy()
    more["arrivals_per_year"] *= 40
    begin = time.perf_counter()
    records = generate_records(
        dataclasses.replace(model, instroom=more),
        window_start=dt.date(2019, 1, 1),
        extract_date=dt.date(2024, 12, 31),
        seed=1,
    )
    assert len(records) > 100_000
    assert time.perf_counter() - begin < 5


# --- the shipped example ----------------------------------------------------------------


def test_the_shipped_example_records_are_what_the_script_makes() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_example_records", ROOT / "scripts" / "make_example_records.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shipped = script.OUT / "stays.csv"
    model = load_model(script.MODEL)
    read = read_records(
        shipped, extract_date=script.EXTRACT_DATE, care_forms=set(model.care_form_ids)
    )
    assert 1000 < len(read.stays) < 10_000
    on_disk = pd.read_csv(shipped, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(on_disk, script.make().astype(str))
