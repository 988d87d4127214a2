"""Synthetic stay records from known parameters, made without the simulation engine.

Idea
----
Calibration turns stay records into a region model (:mod:`capaciteit.calibration`). To
know that it works, it must be given records whose parameters are *known* and be seen to
give them back (parameter recovery), and a backtest must be seen to catch records made by
a different model. This module writes such records: one row per stay, as a region's
extract (:data:`capaciteit.domain.records.RECORDS`), from a :class:`RegionModel`.

Why an unconstrained region
    The region has infinitely many beds: nobody waits for a place, every referral starts
    its stay on the day it is made and every move to another form (doorstroom) happens on
    the day the stay ends. Then the model's parameters are exactly what the records show:
    entries per year are the instroom, the ``next`` of ended stays follows the routing,
    stays last as long as the ``los`` table says. With finite beds, waiting in a bed would
    lengthen stays and turn the records into a mix of parameters and capacity, and a
    calibration that recovered the parameters would have to undo the waiting first.
Why independent of the engine
    The engine (:mod:`capaciteit.simulation.engine`) is not imported, and nothing is shared
    with it: arrivals, routing and lengths of stay are drawn here with numpy and scipy
    from the textbook parameterisations. A calibration that recovers the parameters from
    these records therefore checks the estimator; records made by the engine would check
    the engine against itself, and a mistake common to both would go unseen.

The process, per young person
-----------------------------
Time runs in days from ``window_start - burn_in_years`` to the end of ``extract_date``.

1. **Referrals from home** to each care form arrive as a Poisson process whose intensity in
   a calendar year ``Y`` and month ``m`` is ``instroom(Y) * factor(m) / days_in_year(Y)``
   (``factor`` 1 without seasonality, so a year without seasonality has exactly
   ``instroom(Y)`` entries on average). Years before the first year of the instroom table
   take its first year's rate, later years the last one's (a gap takes the year before
   it). A trend multiplies the rate by ``(1 + trend/100) ** (Y - window_start.year)``:
   the "different model" a backtest must notice.
2. **Age at entry**: a band is drawn from the form's ``age`` rows by share, the age is
   uniform within it. A form without bands uses :data:`DEFAULT_AGE_BAND_YEARS` (cut at
   the form's maximum age).
3. **Provider**: drawn with probability proportional to the provider's beds for the form
   in the 0-meting (equal chances when the form's rows all have 0 beds).
4. **Length of stay**: drawn from the form's family with the mean of the provider
   (``los_provider``) or else the form, and the form's ``cv`` (1 when empty):
   exponential (mean); lognormal (``sigma^2 = ln(1 + cv^2)``, ``mu = ln mean - sigma^2/2``);
   gamma (shape ``1/cv^2``, scale ``mean cv^2``); weibull (shape ``k`` solving
   ``cv^2 = Gamma(1+2/k) / Gamma(1+1/k)^2 - 1``, scale ``mean / Gamma(1+1/k)``);
   empirical (a stay of ``los_observed`` drawn with replacement, scaled by the provider's
   mean over the observed mean when the provider has its own).
5. **End**: the stay is cut when the young person reaches the form's ``max_age_years``;
   then ``next`` is the form's ``age_out_to``. Otherwise ``next`` is drawn from the form's
   routing shares, with the two age rules of the model: someone younger than a housing
   form's (``woonplek``) youngest band (else 18) takes one of the other ways out in their
   proportions, and someone already at a next form's maximum age goes where the current
   form ages out to.
6. **Doorstroom**: a next care form starts the next stay the same moment, with the same
   client id and the age then, at a provider drawn as in step 3; a sink ends the client.

Dates are whole days: a stay's ``start_date`` is the day its start falls on, its
``end_date`` the day its end falls on (a stay of 10.4 days from day 3.2 ends on day 13),
so the mean of ``end - start`` in days is the mean stay. The extract holds every stay
still going on at ``window_start`` or started after it, up to ``extract_date``; a stay
that ended before ``window_start`` is not in it, as in a real extract, and a stay ending
after ``extract_date`` is ongoing (empty ``end_date`` and ``next``). ``referral_date``
is ``start - wait`` (exponential with the form's mean from ``referral_wait_days``) for
entries from home, empty otherwise.

Left out on purpose: sibling groups arrive as single children, ambulant failure shares
and substitution are scenario levers (not in a region model), and nobody is placed
outside the region for lack of room.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from capaciteit._pandas import as_float, as_int
from capaciteit.domain.model import SINKS, WOONPLEK, RegionModel
from capaciteit.domain.records import RECORDS

DAYS_PER_YEAR = 365.25
"""Days in a year of age (and of burn-in)."""

DEFAULT_AGE_BAND_YEARS = (0.0, 18.0)
"""Age band (uniform) at entry into a form without ``age`` rows, cut at its maximum age."""

HOUSING_MIN_AGE_YEARS = 18.0
"""Youngest age for a housing form (``woonplek``) without ``age`` rows; entries into it
from home are then uniform from this age to the form's maximum age."""

RECORD_COLUMNS = tuple(c.name for c in RECORDS.columns)
"""Columns of the generated frame, in the order of the records table."""

_MAX_GENERATIONS = 100_000
"""More consecutive stays of one client than this means an age-out cycle of zero stays."""


@dataclass
class _Stays:
    """Stays of one generation (the k-th stay of each client still in care), as arrays."""

    client: np.ndarray  # int64, client number in order of first entry
    form: np.ndarray  # int64, index into the model's care forms
    start: np.ndarray  # float64, days since the origin
    birth: np.ndarray  # float64, day of birth (age = (t - birth) / DAYS_PER_YEAR)
    referral: np.ndarray  # float64, day of the referral, NaN for doorstroom


def generate_records(
    model: RegionModel,
    *,
    window_start: dt.date,
    extract_date: dt.date,
    seed: int | np.random.SeedSequence,
    burn_in_years: float = 12,
    instroom_trend_pct_per_year: float = 0.0,
    referral_wait_days: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return stay records of ``model``'s region with unlimited beds (see the module).

    The frame has the columns of :data:`capaciteit.domain.records.RECORDS` in order:
    text with ISO dates and ``""`` for an empty end, next or referral, client ids
    ``C000001`` numbered in order of their first stay in the extract, and ages (float)
    rounded to two decimals. Rows are sorted by start (a client's stays in the order they
    happened). The same ``seed`` gives the same frame.

    The reader refuses dates before 1990 (:data:`capaciteit.io.records.EARLIEST`): for
    records meant for it, keep ``window_start`` late enough that no stay going on then
    began before 1990 (the burn-in reaches back ``burn_in_years``).

    Raises
    ------
    ValueError
        When the window is empty, a referral wait names an unknown form or is not
        positive, or the model cannot be drawn from (a form without beds rows, an
        empirical form without observed stays).
    """
    if extract_date < window_start:
        raise ValueError(f"extract_date {extract_date} is before window_start {window_start}")
    if burn_in_years < 0:
        raise ValueError(f"burn_in_years must be 0 or more, not {burn_in_years}")
    waits = dict(referral_wait_days or {})
    forms = model.care_form_ids
    unknown = sorted(set(waits) - set(forms))
    if unknown:
        raise ValueError(f"referral_wait_days names forms not in the model: {unknown}")
    if any(not (w > 0) for w in waits.values()):
        raise ValueError(f"referral waits must be positive days: {waits}")

    streams = _streams(seed, 7)
    arrival_rng, age_rng, provider_rng, los_rng, route_rng, wait_rng, _ = (
        np.random.default_rng(s) for s in streams
    )
    origin = window_start - dt.timedelta(days=round(burn_in_years * DAYS_PER_YEAR))
    horizon = float((extract_date - origin).days + 1)  # the end of the extract day
    window = float((window_start - origin).days)
    draw = _Draw(model)

    first = _entries(
        model,
        origin,
        extract_date,
        window_start.year,
        instroom_trend_pct_per_year,
        arrival_rng,
    )
    n_clients = len(first[0])
    form0, start0 = first
    age0 = draw.entry_ages(form0, age_rng)
    wait_mean = np.array([waits.get(f, math.nan) for f in forms])[form0]
    referral0 = start0 - wait_rng.exponential(1.0, n_clients) * wait_mean
    stays = _Stays(
        client=np.arange(n_clients, dtype=np.int64),
        form=form0,
        start=start0,
        birth=start0 - age0 * DAYS_PER_YEAR,
        referral=referral0,
    )

    done: list[dict[str, np.ndarray]] = []
    for generation in range(_MAX_GENERATIONS):
        if len(stays.client) == 0:
            break
        provider = draw.providers(stays.form, provider_rng)
        length = draw.lengths(stays.form, provider, los_rng)
        age_start = (stays.start - stays.birth) / DAYS_PER_YEAR
        to_limit = np.maximum(draw.max_age[stays.form] - age_start, 0.0) * DAYS_PER_YEAR
        aged_out = to_limit < length
        end = stays.start + np.where(aged_out, to_limit, length)
        age_end = (end - stays.birth) / DAYS_PER_YEAR
        nxt = draw.destinations(stays.form, age_end, aged_out, route_rng)
        done.append(
            {
                "client": stays.client,
                "form": stays.form,
                "provider": provider,
                "start": stays.start,
                "end": end,
                "next": nxt,
                "age": age_start,
                "referral": stays.referral,
                "generation": np.full(len(end), generation),
            }
        )
        # doorstroom: the next stay starts when this one ends, within the extract
        moves = (nxt < len(forms)) & (end < horizon)
        stays = _Stays(
            client=stays.client[moves],
            form=nxt[moves],
            start=end[moves],
            birth=stays.birth[moves],
            referral=np.full(int(moves.sum()), math.nan),
        )
    else:
        raise ValueError(
            "clients keep ageing out from one form into another (age_out_to forms in a cycle)"
        )
    return _extract(draw, done, origin, window, horizon)


def write_records(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` (from :func:`generate_records`) as UTF-8 CSV at ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
    return target


def weibull_shape(cv: float) -> float:
    """Weibull shape ``k`` with coefficient of variation ``cv``.

    ``cv^2 = Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 - 1`` falls from infinity (k -> 0) to 0
    (k -> infinity), so it has one root; it is found on ``log k`` with gammaln for range.
    """

    def excess(log_k: float) -> float:
        k = math.exp(log_k)
        return math.expm1(special.gammaln(1 + 2 / k) - 2 * special.gammaln(1 + 1 / k)) - cv**2

    return math.exp(optimize.brentq(excess, math.log(0.05), math.log(500.0), xtol=1e-12))


def _streams(seed: int | np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child sequences of ``seed``, without changing ``seed`` itself.

    ``SeedSequence.spawn`` counts its children, so spawning from a caller's sequence
    twice would give different records; the children are made by their keys instead.
    """
    base = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [
        np.random.SeedSequence(
            base.entropy, spawn_key=(*base.spawn_key, i), pool_size=base.pool_size
        )
        for i in range(n)
    ]


def _entries(
    model: RegionModel,
    origin: dt.date,
    extract_date: dt.date,
    trend_base_year: int,
    trend_pct: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Referrals from home: (form index, start day) sorted by start, per month piecewise.

    Within a month the intensity is constant, so the count is Poisson with the month's
    mean and the moments are uniform in it: the same process as thinning a Poisson
    process by the monthly factors, without the rejected draws.
    """
    forms = model.care_form_ids
    horizon = float((extract_date - origin).days + 1)
    months: list[tuple[int, int, float, float]] = []  # year, month, first day, last day
    year, month = origin.year, origin.month
    while dt.date(year, month, 1) <= extract_date:
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        lo = max(float((dt.date(year, month, 1) - origin).days), 0.0)
        hi = min(float((following - origin).days), horizon)
        months.append((year, month, lo, hi))
        year, month = following.year, following.month
    years = np.array([m[0] for m in months])
    month_no = np.array([m[1] for m in months])
    lo_day = np.array([m[2] for m in months])
    span = np.array([m[3] - m[2] for m in months])
    days_in_year = np.array([366.0 if calendar.isleap(int(y)) else 365.0 for y in years])
    trend = (1 + trend_pct / 100) ** (years - trend_base_year).astype("float64")

    form_idx: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    for i, form in enumerate(forms):
        rate = _yearly_rates(model, form, years) * trend
        factor = _monthly_factors(model, form)[month_no - 1]
        counts = rng.poisson(rate * factor * span / days_in_year)
        where = np.repeat(np.arange(len(months)), counts)
        starts.append(lo_day[where] + rng.random(len(where)) * span[where])
        form_idx.append(np.full(len(where), i, dtype=np.int64))
    form_all = np.concatenate(form_idx)
    start_all = np.concatenate(starts)
    order = np.argsort(start_all, kind="stable")
    return form_all[order], start_all[order]


def _yearly_rates(model: RegionModel, form: str, years: np.ndarray) -> np.ndarray:
    """Return the form's instroom in each of ``years`` (first year before, last after)."""
    table = model.instroom["arrivals_per_year"]
    if form not in table.index.get_level_values("care_form"):
        return np.zeros(len(years))  # only reached by doorstroom
    per_year = table.xs(form, level="care_form").sort_index()
    known = per_year.index.to_numpy(dtype="int64")
    # the last table year at or before each year; the first one for earlier years
    at = np.clip(np.searchsorted(known, years, side="right") - 1, 0, len(known) - 1)
    return per_year.to_numpy(dtype="float64")[at]


def _monthly_factors(model: RegionModel, form: str) -> np.ndarray:
    """Return the form's 12 seasonality factors (1 for months and forms without one)."""
    factors = np.ones(12)
    table = model.seasonality
    if not table.empty and form in table.index.get_level_values("care_form"):
        for month, factor in table.xs(form, level="care_form")["factor"].items():
            factors[as_int(month) - 1] = as_float(factor)
    return factors


class _Draw:
    """The model's parameters as arrays, and the draws of ages, providers, stays and next."""

    def __init__(self, model: RegionModel) -> None:
        self.forms = model.care_form_ids
        n = len(self.forms)
        cf = model.care_forms
        self.destinations_ids = [*self.forms, *SINKS]
        index = {d: i for i, d in enumerate(self.destinations_ids)}
        self.max_age = np.array([as_float(cf.at[f, "max_age_years"]) for f in self.forms])
        self.age_out = np.array([index[str(cf.at[f, "age_out_to"])] for f in self.forms])
        housing = [model.kind_of(f) == WOONPLEK for f in self.forms]

        self.bands: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.min_age = np.zeros(n)
        ages = model.age if not model.age.empty else pd.DataFrame({"care_form": []})
        for i, form in enumerate(self.forms):
            bands = ages[ages["care_form"] == form]
            if len(bands):
                lo = bands["age_min_years"].to_numpy(dtype="float64")
                hi = bands["age_max_years"].to_numpy(dtype="float64")
                share = bands["share"].to_numpy(dtype="float64")
            elif housing[i]:
                lo = np.array([HOUSING_MIN_AGE_YEARS])
                hi = np.array([max(self.max_age[i], HOUSING_MIN_AGE_YEARS)])
                share = np.ones(1)
            else:
                lo = np.array([DEFAULT_AGE_BAND_YEARS[0]])
                hi = np.array([min(DEFAULT_AGE_BAND_YEARS[1], self.max_age[i])])
                share = np.ones(1)
            self.bands.append((lo, hi, share / share.sum()))
            if housing[i]:
                self.min_age[i] = float(lo.min())
        # per destination (forms, then sinks, which have no age rules)
        self.min_age_to = np.append(self.min_age, np.zeros(len(SINKS)))
        self.max_age_to = np.append(self.max_age, np.full(len(SINKS), np.inf))

        self.provider_choice: list[tuple[np.ndarray, np.ndarray]] = []
        provider_ids: list[str] = []
        beds = model.beds["beds"]
        for form in self.forms:
            of_form = beds[beds.index.get_level_values("care_form") == form]
            if of_form.empty:
                raise ValueError(f"care form {form!r} has no provider in beds: nowhere to stay")
            codes = [str(p) for p in of_form.index.get_level_values("provider")]
            weight = of_form.to_numpy(dtype="float64")
            weight = (
                weight / weight.sum() if weight.sum() > 0 else np.full(len(codes), 1 / len(codes))
            )
            for code in codes:
                if code not in provider_ids:
                    provider_ids.append(code)
            self.provider_choice.append(
                (np.array([provider_ids.index(c) for c in codes], dtype=np.int64), weight)
            )
        self.provider_ids = provider_ids

        self.family = [str(model.los.at[f, "distribution"]) for f in self.forms]
        self.cv = np.array(
            [
                1.0 if math.isnan(cv) else cv
                for cv in (as_float(model.los.at[f, "cv"]) for f in self.forms)
            ]
        )
        self.observed: list[np.ndarray] = []
        for form, family in zip(self.forms, self.family, strict=True):
            seen = model.los_observed
            values = (
                seen.loc[seen["care_form"] == form, "los_days"].to_numpy(dtype="float64")
                if not seen.empty
                else np.zeros(0)
            )
            if family == "empirical" and len(values) == 0:
                raise ValueError(f"care form {form!r} is empirical but has no los_observed rows")
            self.observed.append(values)
        # mean stay per (form, provider): the provider's own, else the form's
        self.mean = np.array(
            [[model.mean_los_days(f, p) for p in provider_ids] for f in self.forms]
        )
        self.shape = np.array(
            [
                weibull_shape(float(c)) if fam == "weibull" else math.nan
                for fam, c in zip(self.family, self.cv, strict=True)
            ]
        )

        self.routes: list[tuple[np.ndarray, np.ndarray]] = []
        self.young_routes: list[tuple[np.ndarray, np.ndarray]] = []
        for form in self.forms:
            shares = model.routing.xs(form, level="from_care_form")["share"]
            targets = np.array([index[str(t)] for t in shares.index], dtype=np.int64)
            p = shares.to_numpy(dtype="float64")
            self.routes.append((targets, p / p.sum()))
            # without housing, for those too young for it; only housing: home
            keep = np.array([t >= n or not housing[t] for t in targets])
            if p[keep].sum() > 0:
                self.young_routes.append((targets[keep], p[keep] / p[keep].sum()))
            else:
                self.young_routes.append((np.array([index["thuis"]]), np.ones(1)))

    def entry_ages(self, form: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Age at entry from home: a band by share, uniform within it."""
        age = np.empty(len(form))
        for i, (lo, hi, share) in enumerate(self.bands):
            mine = np.flatnonzero(form == i)
            band = rng.choice(len(share), size=len(mine), p=share)
            age[mine] = lo[band] + rng.random(len(mine)) * (hi[band] - lo[band])
        return age

    def providers(self, form: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a provider per stay, in proportion to the form's beds in the 0-meting."""
        out = np.empty(len(form), dtype=np.int64)
        for i, (codes, weight) in enumerate(self.provider_choice):
            mine = np.flatnonzero(form == i)
            out[mine] = codes[rng.choice(len(codes), size=len(mine), p=weight)]
        return out

    def lengths(
        self, form: np.ndarray, provider: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Length of each stay in days: the form's family, the provider's mean."""
        out = np.empty(len(form))
        for i, family in enumerate(self.family):
            mine = np.flatnonzero(form == i)
            if len(mine) == 0:
                continue
            mean = self.mean[i, provider[mine]]
            cv = self.cv[i]
            n = len(mine)
            if family == "exponential":
                out[mine] = rng.exponential(1.0, n) * mean
            elif family == "lognormal":
                sigma2 = math.log1p(cv**2)
                out[mine] = mean * rng.lognormal(-sigma2 / 2, math.sqrt(sigma2), n)
            elif family == "gamma":
                out[mine] = rng.gamma(1 / cv**2, cv**2, n) * mean
            elif family == "weibull":
                k = self.shape[i]
                out[mine] = rng.weibull(k, n) * mean / math.gamma(1 + 1 / k)
            elif family == "empirical":
                seen = self.observed[i]
                out[mine] = seen[rng.integers(0, len(seen), n)] * (mean / seen.mean())
            else:
                raise ValueError(f"unknown length-of-stay family {family!r} of {self.forms[i]!r}")
        return out

    def destinations(
        self,
        form: np.ndarray,
        age_end: np.ndarray,
        aged_out: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Where each stay leads (index into forms then sinks), with the model's age rules."""
        n = len(self.forms)
        out = np.empty(len(form), dtype=np.int64)
        for i in range(n):
            mine = np.flatnonzero(form == i)
            if len(mine) == 0:
                continue
            targets, p = self.routes[i]
            chosen = targets[rng.choice(len(targets), size=len(mine), p=p)]
            # too young for housing: one of the other ways out, in their proportions
            young = age_end[mine] < self.min_age_to[chosen]
            if young.any():
                other, q = self.young_routes[i]
                chosen[young] = other[rng.choice(len(other), size=int(young.sum()), p=q)]
            # already at the next form's age limit: where this form ages out to
            chosen[age_end[mine] >= self.max_age_to[chosen]] = self.age_out[i]
            chosen[aged_out[mine]] = self.age_out[i]
            out[mine] = chosen
        return out


def _extract(
    draw: _Draw,
    done: list[dict[str, np.ndarray]],
    origin: dt.date,
    window: float,
    horizon: float,
) -> pd.DataFrame:
    """Keep what a region would extract: stays going on at the window start or later."""
    if not done:  # no instroom at all
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
    draw_ids = np.array(draw.destinations_ids, dtype=object)
    cols = {k: np.concatenate([d[k] for d in done]) for k in done[0]}
    start_day = np.floor(cols["start"])
    end_day = np.floor(cols["end"])
    keep = (end_day >= window) & (cols["start"] < horizon)
    cols = {k: v[keep] for k, v in cols.items()}
    start_day, end_day = start_day[keep], end_day[keep]
    # a client's stays in the order they happened (a zero-day stay before the next one)
    order = np.lexsort((cols["generation"], cols["client"], cols["start"]))
    cols = {k: v[order] for k, v in cols.items()}
    start_day, end_day = start_day[order], end_day[order]
    ongoing = cols["end"] >= horizon

    _, first_seen = np.unique(cols["client"], return_index=True)
    number = np.empty(len(first_seen), dtype=np.int64)
    number[np.argsort(first_seen, kind="stable")] = np.arange(1, len(first_seen) + 1)
    client_no = number[np.searchsorted(np.unique(cols["client"]), cols["client"])]

    base = np.datetime64(origin.isoformat(), "D")

    def days(values: np.ndarray, empty: np.ndarray) -> np.ndarray:
        text = np.datetime_as_string(base + np.nan_to_num(values).astype("int64"), unit="D")
        return np.where(empty, "", text)

    referral = cols["referral"]
    no_referral = np.isnan(referral)
    provider_ids = np.array(draw.provider_ids, dtype=object)
    frame = pd.DataFrame(
        {
            "client_id": [f"C{n:06d}" for n in client_no],
            "provider": provider_ids[cols["provider"]],
            "care_form": draw_ids[cols["form"]],
            "start_date": days(start_day, np.zeros(len(start_day), dtype=bool)),
            "end_date": days(end_day, ongoing),
            "next": np.where(ongoing, "", draw_ids[cols["next"]]),
            "age_at_start_years": np.round(cols["age"], 2),
            "referral_date": days(np.floor(np.where(no_referral, 0.0, referral)), no_referral),
        },
        columns=list(RECORD_COLUMNS),
    )
    return frame
