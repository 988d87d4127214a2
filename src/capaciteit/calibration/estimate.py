"""Estimating a region model from stay records, every number with its interval and count.

The records (:class:`~capaciteit.io.records.StayRecords`) are an extract: every stay that
was going on at the start of the observation window (``window_start``) or began after it,
up to the extract date. From them:

Instroom
    A stay is an *entry from home* when it is the client's first stay in the extract or
    the client's previous stay ended towards a sink (``thuis``, ``zelfstandig``, ...);
    otherwise it is doorstroom and counts in the routing of the previous form. Entries
    are counted per care form and calendar year at their start (a referral whose stay has
    not begun by the extract date is not in it) and divided by the part of the year
    observed: a Poisson rate with an exact (Garwood) 95% interval. Monthly factors are
    written only when the months differ by more than chance (chi-square test, p < 0.05)
    and there are enough entries.
Routing
    The shares of ``next`` among the ended stays of a form, with Wilson 95% intervals.
    A stay that ended because the young person reached the form's age limit is not
    routing (the simulation sends those to ``age_out_to`` itself) and is censored for the
    length of stay.
Length of stay
    Right-censored (still going on at the extract date, or cut by the age limit) and
    left-truncated (begun before the window: only stays that lasted until the window are
    in the extract, so they enter the risk set at their elapsed time). The Kaplan-Meier
    curve and exponential, lognormal and Weibull fits by maximum likelihood come from
    ``lifelines``; the family with the lowest AIC is written. The interval of the mean is
    taken from the fit's asymptotic normal parameters (sampled, seeded). Providers with
    enough stays get their own mean (``los_provider.csv``) with the form's family.
Ages, beds, occupied
    Age bands at entry (shares with Wilson intervals); occupants on the peildatum
    (``zero_date``) per provider and form, counted; beds from a 0-meting intake when given,
    otherwise the highest occupancy of the year before the peildatum (said to be an
    estimate).

Too few records is said with a note and the number is not estimated from them; what
records cannot tell (waiting policy, tariffs, names) comes from a base model or from
documented defaults, each listed in :attr:`Calibration.notes`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd.scipy.stats import norm
from lifelines import ExponentialFitter, KaplanMeierFitter, LogNormalFitter, WeibullFitter
from lifelines.exceptions import StatError
from lifelines.fitters import ParametricUnivariateFitter
from scipy import stats
from scipy.special import gamma as gamma_fn

from capaciteit._pandas import as_float
from capaciteit.calibration.model import ESTIMATE_COLUMNS, Calibration
from capaciteit.core import nl
from capaciteit.domain.model import RegionModel
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.records import StayRecords
from capaciteit.realisation.quarters import Quarter

DAYS_PER_YEAR = 365.25
FAMILIES = ("exponential", "lognormal", "weibull")
"""Families fitted to the lengths of stay; the lowest AIC is written."""
FAMILY_NL = {"exponential": "exponentieel", "lognormal": "lognormaal", "weibull": "Weibull"}
MIN_STAYS = 30
"""Fewest stays (with :data:`MIN_ENDED` ended) for a length-of-stay fit of a form/provider."""
MIN_ENDED = 10
MIN_SEASONAL_ENTRIES = 120
"""Fewest entries of a form before monthly factors are tested."""
MIN_SEASON_YEARS = 2
"""Every calendar month must be observed in at least this many years for monthly factors."""
MIN_ROUTING = 20
"""Fewer ended stays than this: the routing is written, with a note that it is weak."""
MIN_AGE_ENTRIES = 20
AGE_EDGES = (0.0, 4.0, 8.0, 12.0, 14.0, 16.0, 18.0, 21.0, 30.0)
"""Age band edges (years) at entry; only bands with entries are written."""
AGE_OUT_TOLERANCE_DAYS = 3.0
"""A stay ending this close to the age limit (dates are whole days) ended by age."""
MIN_EXPOSURE_YEARS = 0.25
"""A calendar year observed for less than this gets no instroom estimate of its own."""
DRAWS = 4000
"""Parameter draws for the interval of a mean stay."""

DEFAULT_FORMS: dict[str, dict[str, object]] = {
    "pleegzorg": {"name": "Pleegzorg", "max_age_years": 21, "sibling_group_share": 0.0},
    "gezinshuis": {"name": "Gezinshuis", "max_age_years": 21},
    "residentieel": {"name": "Residentiële jeugdhulp"},
    "jeugdzorgplus": {
        "name": "JeugdzorgPlus (gesloten)",
        "waiting_policy": "overflow",
        "max_wait_days": 14,
    },
    "crisis": {
        "name": "Crisisopvang",
        "waiting_policy": "overflow",
        "max_wait_days": 1,
        "priority": 0,
        "age_out_to": "thuis",
        "max_stay_days": 28,
        "funding": "availability",
    },
}
"""Care form attributes records cannot tell, for known forms when no base model is given."""
FORM_DEFAULT: dict[str, object] = {
    "kind": "verblijf",
    "waiting_policy": "queue",
    "max_wait_days": "",
    "max_queue_length": "",
    "priority": 1,
    "max_age_years": 18,
    "age_out_to": "zelfstandig",
    "max_stay_days": "",
    "funding": "occupancy",
    "sibling_group_share": 0.0,
    "sibling_group_size": 2,
}
REFERENCE_TARIFF_EUR = {
    "pleegzorg": 75.0,
    "gezinshuis": 164.0,
    "residentieel": 180.0,
    "jeugdzorgplus": 650.0,
    "crisis": 250.0,
}
"""Tariffs per bed-day (DOMAIN.md ranges) when no base model gives the region's own."""
FALLBACK_TARIFF_EUR = 180.0


@dataclass(frozen=True)
class _Window:
    start: pd.Timestamp
    end: pd.Timestamp
    zero: pd.Timestamp


def calibrate(
    records: StayRecords,
    *,
    window_start: dt.date | None = None,
    zero_date: dt.date | None = None,
    beds: pd.DataFrame | None = None,
    base: RegionModel | None = None,
    seed: int | np.random.SeedSequence = 0,
) -> Calibration:
    """Estimate a region model from ``records``.

    Parameters
    ----------
    records
        Validated stay records.
    window_start
        First day from which the extract holds every stay (default: the first of the month
        of the earliest end date in the records: an extract of "every stay going on at or
        after day X" has stays ending right after X).
    zero_date
        The peildatum of the 0-meting written in ``beds.csv`` (default: the extract date).
    beds
        A 0-meting (``provider``, ``care_form``, ``beds``; e.g. from ``capaciteit intake``):
        the beds written; otherwise the highest occupancy of the year before ``zero_date``.
    base
        A region model whose care form settings, provider names and tariffs are taken
        (records cannot tell them); otherwise documented defaults.
    seed
        For the parameter draws behind the intervals of mean stays.
    """
    notes: list[str] = []
    window = _window(records, window_start, zero_date, notes)
    forms = _forms(records, base)
    stays = _prepare(records.stays, forms, base, window)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []

    instroom, quarters = _instroom(stays, forms, window, rows, notes)
    seasonality = _seasonality(stays, forms, window, rows, notes)
    routing, routing_counts = _routing(stays, forms, rows, notes)
    los, los_provider, fits, survival = _lengths(stays, forms, base, rng, rows, notes)
    age = _ages(stays, forms, window, {f: _max_age(f, base)[0] for f in forms}, rows, notes)
    beds_table = _beds(stays, forms, window, beds, rows, notes)
    tables = {
        "care_forms": _care_forms(forms, base, notes),
        "providers": _providers(beds_table, base),
        "beds": beds_table,
        "instroom": instroom,
        "seasonality": seasonality,
        "los": los,
        "los_provider": los_provider,
        "routing": routing,
        "age": age,
        "costs": _costs(forms, base, notes),
    }
    estimates = pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))
    return Calibration(
        tables=tables,
        estimates=estimates,
        los_fits=fits,
        survival=survival,
        instroom_quarters=quarters,
        routing_counts=routing_counts,
        window_start=window.start.date(),
        extract_date=window.end.date(),
        zero_date=window.zero.date(),
        notes=notes,
    )


# --- window, forms, per-stay facts -------------------------------------------------------


def _window(
    records: StayRecords,
    window_start: dt.date | None,
    zero_date: dt.date | None,
    notes: list[str],
) -> _Window:
    end = pd.Timestamp(records.extract_date)
    if window_start is not None:
        start = pd.Timestamp(window_start)
    else:
        start = pd.Timestamp(default_window_start(records))
        notes.append(
            f"Het waarnemingsvenster begint op {nl.date(start.date())}: de eerste van de maand "
            "van de vroegste einddatum. Geef --vanaf op als het extract op een andere dag "
            "begint."
        )
    zero = pd.Timestamp(zero_date) if zero_date is not None else end
    problems = []
    if not start < end:
        problems.append(
            Problem(
                "--vanaf",
                f"het venster begint op {nl.date(start.date())}, niet voor de extractiedatum "
                f"({nl.date(end.date())}).",
                "Kies een eerder begin van het waarnemingsvenster.",
            )
        )
    elif not start <= zero <= end:
        problems.append(
            Problem(
                "--peildatum",
                f"{nl.date(zero.date())} ligt buiten het venster ({nl.date(start.date())} tot "
                f"{nl.date(end.date())}).",
                "Kies een peildatum binnen het waarnemingsvenster.",
            )
        )
    if problems:
        raise InvalidInputError("De opdracht", problems)
    return _Window(start, end, zero)


def default_window_start(records: StayRecords) -> dt.date:
    """Return the first of the month of the earliest end date (the earliest start if none).

    An extract of "every stay going on at day X or later" has stays ending right after X.
    """
    stays = records.stays
    ended = stays["end"].dropna()
    first = ended.min() if len(ended) else stays["start"].min()
    return dt.date(first.year, first.month, 1)


def _forms(records: StayRecords, base: RegionModel | None) -> list[str]:
    seen = set(records.care_forms)
    if base is not None:
        return [f for f in base.care_form_ids if f in seen]
    return sorted(seen)


def _max_age(form: str, base: RegionModel | None) -> tuple[float, str]:
    if base is not None:
        forms = base.care_forms
        return as_float(forms.at[form, "max_age_years"]), str(forms.at[form, "age_out_to"])
    spec = {**FORM_DEFAULT, **DEFAULT_FORMS.get(form, {})}
    return float(str(spec["max_age_years"])), str(spec["age_out_to"])


def _prepare(
    raw: pd.DataFrame, forms: list[str], base: RegionModel | None, window: _Window
) -> pd.DataFrame:
    """Per stay: entry from home or doorstroom, duration, censoring, age-out."""
    stays = raw.sort_values(["client_id", "start"], kind="stable").copy()
    same = stays["client_id"].eq(stays["client_id"].shift(1))
    previous_next = stays["next"].shift(1).where(same, "")
    stays["from_home"] = ~previous_next.isin(forms)
    # counted at the start, not the referral: a referral near the extract date whose stay
    # has not begun is not in the extract, so counting referrals would undercount the
    # last months (the rates are the same in a region whose referrals all get a place)
    stays["entered"] = stays["start"]
    ended = stays["end"].notna()
    stop = stays["end"].fillna(window.end)
    # a stay of one calendar day still took a day: never a length of 0
    stays["days"] = np.maximum((stop - stays["start"]).dt.days.astype("float64"), 0.5)
    stays["entry_days"] = np.maximum((window.start - stays["start"]).dt.days.astype("float64"), 0.0)
    limits = {f: _max_age(f, base) for f in forms}
    max_age = stays["care_form"].map({f: v[0] for f, v in limits.items()}).astype("float64")
    age_out_to = stays["care_form"].map({f: v[1] for f, v in limits.items()})
    age_end = stays["age_at_start_years"] + stays["days"] / DAYS_PER_YEAR
    stays["aged_out"] = (
        ended
        & (stays["next"] == age_out_to)
        & (age_end >= max_age - AGE_OUT_TOLERANCE_DAYS / DAYS_PER_YEAR)
    )
    stays["event"] = ended & ~stays["aged_out"]
    # a stay that ended before the window (possible with a later --vanaf) is not in it
    stays["in_window"] = stop >= window.start
    return stays


def _row(
    rows: list[dict[str, object]],
    quantity: str,
    form: str,
    key: str,
    estimate: float,
    low: float,
    high: float,
    n: int,
    note: str = "",
) -> None:
    rows.append(
        {
            "quantity": quantity,
            "care_form": form,
            "key": key,
            "estimate": estimate,
            "low": low,
            "high": high,
            "n": n,
            "note": note,
        }
    )


def poisson_interval(count: int, exposure: float) -> tuple[float, float]:
    """Return the exact (Garwood) 95% interval of a Poisson rate ``count / exposure``."""
    low = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return float(low) / exposure, float(high) / exposure


def wilson_interval(count: int, total: int) -> tuple[float, float]:
    """Return the Wilson 95% interval of a share ``count / total`` (within [0, 1])."""
    if total == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.975))
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


# --- instroom and seasonality ------------------------------------------------------------


def _overlap_years(a: pd.Timestamp, b: pd.Timestamp, window: _Window) -> float:
    lo, hi = max(a, window.start), min(b, window.end + pd.Timedelta(days=1))
    return max((hi - lo).days, 0) / DAYS_PER_YEAR


def _instroom(
    stays: pd.DataFrame,
    forms: list[str],
    window: _Window,
    rows: list[dict[str, object]],
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    entries = stays[
        stays["from_home"] & (stays["entered"] >= window.start) & (stays["entered"] <= window.end)
    ]
    table: list[dict[str, object]] = []
    for form in forms:
        mine = entries.loc[entries["care_form"] == form, "entered"]
        per_year = mine.dt.year.value_counts()
        years, counts, exposures = [], [], []
        for year in range(window.start.year, window.end.year + 1):
            exposure = _overlap_years(
                pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1), window
            )
            count = int(per_year.get(year, 0))
            if exposure < MIN_EXPOSURE_YEARS:
                _row(
                    rows,
                    "instroom",
                    form,
                    str(year),
                    math.nan,
                    math.nan,
                    math.nan,
                    count,
                    f"te kort waargenomen ({nl.number(exposure * 12, 1)} maanden): niet geschat",
                )
                continue
            low, high = poisson_interval(count, exposure)
            _row(rows, "instroom", form, str(year), count / exposure, low, high, count)
            years.append(year)
            counts.append(count)
            exposures.append(exposure)
        table += _instroom_rows(form, years, counts, exposures, rows, notes)
    quarters: list[dict[str, object]] = []
    first = Quarter(window.start.year, (window.start.month - 1) // 3 + 1)
    last = Quarter(window.end.year, (window.end.month - 1) // 3 + 1)
    q = first
    while q <= last:
        a, b = pd.Timestamp(q.first_day), pd.Timestamp(q.next_first_day)
        exposure = _overlap_years(a, b, window)
        inside = entries[(entries["entered"] >= a) & (entries["entered"] < b)]
        in_quarter = inside["care_form"].value_counts()
        for form in forms:
            quarters.append(
                {
                    "care_form": form,
                    "quarter": q.label,
                    "entries": int(in_quarter.get(form, 0)),
                    "exposure_years": exposure,
                }
            )
        q = q.next()
    if not table:
        notes.append("Geen enkel jaar is lang genoeg waargenomen om de instroom te schatten.")
    return (
        pd.DataFrame(table, columns=["care_form", "year", "arrivals_per_year"]),
        pd.DataFrame(quarters, columns=["care_form", "quarter", "entries", "exposure_years"]),
    )


def _instroom_rows(
    form: str,
    years: list[int],
    counts: list[int],
    exposures: list[float],
    rows: list[dict[str, object]],
    notes: list[str],
) -> list[dict[str, object]]:
    """Return the model's instroom of a form: one rate for all years, unless they differ.

    When the yearly counts are what one Poisson rate would give (chi-square test of
    homogeneity, p >= 0.05), the rate over all years is the model's, written once for the
    first year (the simulation carries it forward): it rests on every year's entries, not
    on the last year's chance. Otherwise each year's own rate is written and the last one
    holds for later years, with a note.
    """
    if not years:
        return []
    total, exposure = sum(counts), sum(exposures)
    pooled = total / exposure
    low, high = poisson_interval(total, exposure)
    expected = np.array(exposures) * pooled
    p_value = 1.0
    if len(years) > 1 and total > 0:
        statistic = float(((np.array(counts) - expected) ** 2 / expected).sum())
        p_value = float(stats.chi2.sf(statistic, len(years) - 1))
    if p_value >= 0.05:
        _row(rows, "instroom", form, "alle jaren", pooled, low, high, total)
        return [{"care_form": form, "year": years[0], "arrivals_per_year": round(pooled, 3)}]
    _row(
        rows,
        "instroom",
        form,
        "alle jaren",
        pooled,
        low,
        high,
        total,
        f"de jaren verschillen meer dan toeval (p = {nl.number(p_value, 3)}): per jaar geschreven",
    )
    notes.append(
        f"{form}: de instroom verschilt per jaar meer dan toeval (p = {nl.number(p_value, 3)}); "
        f"elk jaar heeft zijn eigen aantal en {years[-1]} geldt voor latere jaren."
    )
    return [
        {"care_form": form, "year": y, "arrivals_per_year": round(c / e, 3)}
        for y, c, e in zip(years, counts, exposures, strict=True)
    ]


def _month_exposure(window: _Window) -> np.ndarray:
    """Years observed of each calendar month (1..12) over the window."""
    out = np.zeros(12)
    month = pd.Timestamp(window.start.year, window.start.month, 1)
    while month <= window.end:
        following = month + pd.DateOffset(months=1)
        out[month.month - 1] += _overlap_years(month, following, window)
        month = following
    return out


def _seasonality(
    stays: pd.DataFrame,
    forms: list[str],
    window: _Window,
    rows: list[dict[str, object]],
    notes: list[str],
) -> pd.DataFrame:
    exposure = _month_exposure(window)
    entries = stays[
        stays["from_home"] & (stays["entered"] >= window.start) & (stays["entered"] <= window.end)
    ]
    table: list[dict[str, object]] = []
    for form in forms:
        months = entries.loc[entries["care_form"] == form, "entered"].dt.month
        counts = np.bincount(months.to_numpy(dtype=int), minlength=13)[1:].astype(float)
        total = int(counts.sum())
        if total < MIN_SEASONAL_ENTRIES or exposure.min() * 12 < MIN_SEASON_YEARS:
            notes.append(
                f"{form}: geen seizoenspatroon geschat ({nl.number(total)} instromers; "
                f"minstens {MIN_SEASONAL_ENTRIES} en elke maand {MIN_SEASON_YEARS} keer "
                "waargenomen nodig)."
            )
            continue
        expected = total * exposure / exposure.sum()
        p_value = float(stats.chisquare(counts, expected).pvalue)
        if p_value >= 0.05:
            notes.append(
                f"{form}: de maanden verschillen niet meer dan toeval (p = "
                f"{nl.number(p_value, 2)}); geen seizoensfactoren geschreven."
            )
            continue
        rate = counts / exposure
        mean_rate = rate.mean()
        for m in range(12):
            low, high = poisson_interval(int(counts[m]), float(exposure[m]))
            factor = float(rate[m] / mean_rate)
            _row(
                rows,
                "seasonality",
                form,
                str(m + 1),
                factor,
                low / mean_rate,
                high / mean_rate,
                int(counts[m]),
            )
            table.append({"care_form": form, "month": m + 1, "factor": round(factor, 4)})
    return pd.DataFrame(table, columns=["care_form", "month", "factor"])


# --- routing -----------------------------------------------------------------------------


def _routing(
    stays: pd.DataFrame,
    forms: list[str],
    rows: list[dict[str, object]],
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    ended = stays[stays["event"] & stays["in_window"]]
    table: list[dict[str, object]] = []
    counts_rows: list[dict[str, object]] = []
    for form in forms:
        nxt = ended.loc[ended["care_form"] == form, "next"]
        total = len(nxt)
        if total == 0:
            note = "geen afgesloten verblijven: aanname alles naar thuis"
            _row(rows, "routing", form, "thuis", 1.0, math.nan, math.nan, 0, note)
            notes.append(f"{form}: {note}.")
            table.append({"from_care_form": form, "to": "thuis", "share": 1.0})
            continue
        weak = f"weinig afgesloten verblijven ({total})" if total < MIN_ROUTING else ""
        counts = nxt.value_counts().sort_index()
        shares = _rounded_shares(counts.to_numpy(dtype=float) / total)
        for (to, count), share in zip(counts.items(), shares, strict=True):
            low, high = wilson_interval(int(count), total)
            _row(rows, "routing", form, str(to), count / total, low, high, int(count), weak)
            table.append({"from_care_form": form, "to": str(to), "share": share})
            counts_rows.append(
                {
                    "from_care_form": form,
                    "to": str(to),
                    "count": int(count),
                    "share": count / total,
                    "low": low,
                    "high": high,
                }
            )
    return (
        pd.DataFrame(table, columns=["from_care_form", "to", "share"]),
        pd.DataFrame(
            counts_rows, columns=["from_care_form", "to", "count", "share", "low", "high"]
        ),
    )


def _rounded_shares(shares: np.ndarray, decimals: int = 4) -> list[float]:
    """Round shares so they still sum to exactly 1 (the largest takes the remainder)."""
    rounded = np.round(shares, decimals)
    rounded[int(np.argmax(shares))] += round(1.0 - float(rounded.sum()), decimals)
    return [round(float(x), decimals) for x in rounded]


# --- lengths of stay ---------------------------------------------------------------------


def _family_moments(family: str, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and cv of a lifelines fit, for parameter rows ``params`` (draws x params)."""
    if family == "exponential":
        mean = params[:, 0]
        return mean, np.ones_like(mean)
    if family == "lognormal":
        mu, sigma = params[:, 0], np.abs(params[:, 1])
        return np.exp(mu + sigma**2 / 2), np.sqrt(np.expm1(sigma**2))
    lam, rho = params[:, 0], np.abs(params[:, 1])
    g1, g2 = gamma_fn(1 + 1 / rho), gamma_fn(1 + 2 / rho)
    return lam * g1, np.sqrt(np.maximum(g2 / g1**2 - 1, 0.0))


class ScaleFitter(ParametricUnivariateFitter):  # type: ignore[misc]
    """A family with its shape fixed, fitting only the scale: a provider within its form.

    ``los_provider.csv`` gives a provider its own mean with the form's distribution and cv,
    so a provider's stays are fitted with the form's shape (lognormal sigma, Weibull rho)
    and one free parameter, the log of the scale. A lifelines custom fitter: the
    cumulative hazard is all lifelines needs for censored and truncated likelihoods.
    """

    _fitted_parameter_names: ClassVar[list[str]] = ["log_scale_"]

    def __init__(self, family: str, shape: float) -> None:
        self.family, self.shape = family, shape
        super().__init__()

    def _cumulative_hazard(self, params: Any, times: Any) -> Any:
        (log_scale,) = params
        if self.family == "lognormal":
            return -norm.logsf((anp.log(times) - log_scale) / self.shape)
        if self.family == "weibull":
            return (times / anp.exp(log_scale)) ** self.shape
        return times / anp.exp(log_scale)

    def mean_days(self, log_scale: float) -> float:
        """Return the mean stay for a log scale (monotone in it)."""
        scale = math.exp(log_scale)
        if self.family == "lognormal":
            return scale * math.exp(self.shape**2 / 2)
        if self.family == "weibull":
            return scale * math.gamma(1 + 1 / self.shape)
        return scale


FITTERS = {"exponential": ExponentialFitter, "lognormal": LogNormalFitter, "weibull": WeibullFitter}


def _fit(family: str, mine: pd.DataFrame) -> Any:
    """Fit ``family`` by maximum likelihood to the (censored, truncated) stays ``mine``."""
    fitter = FITTERS[family]()
    return fitter.fit(
        mine["days"].to_numpy(),
        event_observed=mine["event"].to_numpy(),
        entry=mine["entry_days"].to_numpy(),
    )


def _mean_interval(
    fit: Any, family: str, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Mean, its 95% interval (from the fit's asymptotic normal parameters) and the cv."""
    params = np.asarray(fit.params_, dtype=np.float64)
    cov = np.asarray(fit.variance_matrix_, dtype=np.float64)
    mean, cv = _family_moments(family, params[None, :])
    try:
        draws = rng.multivariate_normal(params, cov, size=DRAWS, method="cholesky")
    except np.linalg.LinAlgError:
        draws = rng.multivariate_normal(params, cov, size=DRAWS, method="eigh")
    sampled, _ = _family_moments(family, draws)
    low, high = np.nanquantile(sampled, [0.025, 0.975])
    return float(mean[0]), float(low), float(high), float(cv[0])


def _lengths(
    stays: pd.DataFrame,
    forms: list[str],
    base: RegionModel | None,
    rng: np.random.Generator,
    rows: list[dict[str, object]],
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    los: list[dict[str, object]] = []
    per_provider: list[dict[str, object]] = []
    fits: list[dict[str, object]] = []
    curves: list[pd.DataFrame] = []
    usable = stays[stays["in_window"]]
    for form in forms:
        mine = usable[usable["care_form"] == form]
        n, events = len(mine), int(mine["event"].sum())
        if n < MIN_STAYS or events < MIN_ENDED:
            note = (
                f"te weinig verblijven ({n}, waarvan {events} afgesloten; minstens "
                f"{MIN_STAYS} en {MIN_ENDED} nodig)"
            )
            los.append(_fallback_los(form, base, mine, note, rows, notes))
            continue
        fitted = {family: _fit(family, mine) for family in FAMILIES}
        aics = {f: float(fit.AIC_) for f, fit in fitted.items()}
        chosen = min(aics, key=lambda f: aics[f])
        for family, fit in fitted.items():
            means, cvs = _family_moments(family, np.asarray(fit.params_, dtype=np.float64)[None, :])
            fits.append(
                {
                    "care_form": form,
                    "family": family,
                    "aic": aics[family],
                    "mean_days": float(means[0]),
                    "cv": float(cvs[0]),
                    "chosen": family == chosen,
                    "n": n,
                    "events": events,
                }
            )
        mean, low, high, cv = _mean_interval(fitted[chosen], chosen, rng)
        note = f"{FAMILY_NL[chosen]} (laagste AIC)"
        _row(rows, "los_mean", form, "", mean, low, high, n, note)
        _row(rows, "los_cv", form, "", cv, math.nan, math.nan, n, note)
        los.append(
            {
                "care_form": form,
                "distribution": chosen,
                "mean_days": round(mean, 2),
                "cv": "" if chosen == "exponential" else round(cv, 4),
            }
        )
        curve = _survival(form, mine, fitted[chosen], notes)
        if curve is not None:
            curves.append(curve)
        params = np.asarray(fitted[chosen].params_, dtype=np.float64)
        shape = 1.0 if chosen == "exponential" else float(params[1])
        per_provider += _provider_means(form, mine, chosen, shape, rows)
    return (
        pd.DataFrame(los, columns=["care_form", "distribution", "mean_days", "cv"]),
        pd.DataFrame(per_provider, columns=["provider", "care_form", "mean_days"]),
        pd.DataFrame(
            fits,
            columns=["care_form", "family", "aic", "mean_days", "cv", "chosen", "n", "events"],
        ),
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["care_form", "days", "survival", "low", "high", "fitted"]),
    )


def _fallback_los(
    form: str,
    base: RegionModel | None,
    mine: pd.DataFrame,
    note: str,
    rows: list[dict[str, object]],
    notes: list[str],
) -> dict[str, object]:
    """Return the stay of a form with too few stays: the base model's, else exponential."""
    n = len(mine)
    if base is not None and form in base.los.index:
        row = base.los.loc[form]
        mean = base.form_mean_los_days(form)
        _row(rows, "los_mean", form, "", math.nan, math.nan, math.nan, n, f"{note}; uit basismodel")
        notes.append(f"{form}: verblijfsduur {note}; overgenomen uit het basismodel.")
        dist = str(row["distribution"])
        if dist == "empirical":
            dist, cv = "exponential", ""
        else:
            cv = "" if pd.isna(row["cv"]) else float(row["cv"])
        return {"care_form": form, "distribution": dist, "mean_days": mean, "cv": cv}
    # the exponential maximum-likelihood mean: time at risk over ended stays
    at_risk = float((mine["days"] - mine["entry_days"]).clip(lower=0).sum())
    events = int(mine["event"].sum())
    mean = at_risk / events if events else max(at_risk, 1.0)
    _row(rows, "los_mean", form, "", math.nan, math.nan, math.nan, n, f"{note}; aanname")
    notes.append(
        f"{form}: verblijfsduur {note}; aangenomen exponentieel met gemiddeld "
        f"{nl.number(mean)} dagen (tijd in zorg gedeeld door afgesloten verblijven)."
    )
    return {"care_form": form, "distribution": "exponential", "mean_days": round(mean, 2), "cv": ""}


def _survival(form: str, mine: pd.DataFrame, fit: Any, notes: list[str]) -> pd.DataFrame | None:
    """Return the Kaplan-Meier curve of a form with its band and the fit; None without one.

    Without a curve: when, early on, no stay is in view at all (stays begun long before the
    window, one after the other), the product-limit falls to 0 at the first ending and says
    nothing after it; lifelines refuses it, and the note says so.
    """
    try:
        # a stay begun e days before the window is in the extract when it lasted e days or
        # more (it may end on the window's first day), so it is at risk at e; lifelines
        # counts an entrant only after its entry time: it enters half a day earlier
        km = KaplanMeierFitter().fit(
            mine["days"].to_numpy(),
            event_observed=mine["event"].to_numpy(),
            entry=np.maximum(mine["entry_days"].to_numpy() - 0.5, 0.0),
        )
    except StatError:
        notes.append(
            f"{form}: geen Kaplan-Meiercurve: een tijd lang was geen enkel verblijf in beeld "
            "(verblijven die lang voor het venster begonnen, na elkaar); de gekozen verdeling "
            "is niet tegen de verblijven te zien."
        )
        return None
    curve = km.survival_function_.iloc[:, 0]
    band = km.confidence_interval_survival_function_
    days = curve.index.to_numpy(dtype=float)
    # a chart needs a few hundred points, not one per distinct day of 100 000 stays
    keep = np.unique(np.linspace(0, len(days) - 1, min(len(days), 400)).round().astype(int))
    fitted = fit.survival_function_at_times(days[keep])
    return pd.DataFrame(
        {
            "care_form": form,
            "days": days[keep],
            "survival": curve.to_numpy()[keep],
            "low": band.iloc[:, 0].to_numpy()[keep],
            "high": band.iloc[:, 1].to_numpy()[keep],
            "fitted": np.asarray(fitted, dtype=float),
        }
    )


def _provider_means(
    form: str,
    mine: pd.DataFrame,
    family: str,
    shape: float,
    rows: list[dict[str, object]],
) -> list[dict[str, object]]:
    """Estimate a provider's own mean stay where it has enough stays (among others).

    The form's family and shape, the provider's own scale (:class:`ScaleFitter`); the 95%
    interval of the mean follows from the log scale's (the mean is monotone in it).
    """
    providers = sorted(mine["provider"].unique())
    if len(providers) < 2:
        return []
    out: list[dict[str, object]] = []
    z = float(stats.norm.ppf(0.975))
    for provider in providers:
        theirs = mine[mine["provider"] == provider]
        n, events = len(theirs), int(theirs["event"].sum())
        if n < MIN_STAYS or events < MIN_ENDED:
            _row(
                rows,
                "los_provider_mean",
                form,
                provider,
                math.nan,
                math.nan,
                math.nan,
                n,
                f"te weinig verblijven ({n}, {events} afgesloten): het gemiddelde van de vorm",
            )
            continue
        fitter = ScaleFitter(family, shape)
        start = np.array([math.log(float(np.median(theirs["days"])))])
        fitter.fit(
            theirs["days"].to_numpy(),
            event_observed=theirs["event"].to_numpy(),
            entry=theirs["entry_days"].to_numpy(),
            initial_point=start,
        )
        log_scale = float(fitter.params_.iloc[0])
        se = math.sqrt(float(fitter.variance_matrix_.iloc[0, 0]))
        mean = fitter.mean_days(log_scale)
        low, high = fitter.mean_days(log_scale - z * se), fitter.mean_days(log_scale + z * se)
        _row(rows, "los_provider_mean", form, provider, mean, low, high, n)
        out.append({"provider": provider, "care_form": form, "mean_days": round(mean, 2)})
    return out


# --- ages, beds --------------------------------------------------------------------------


def _ages(
    stays: pd.DataFrame,
    forms: list[str],
    window: _Window,
    max_ages: dict[str, float],
    rows: list[dict[str, object]],
    notes: list[str],
) -> pd.DataFrame:
    """Age bands at entry from home; the last band ends at the form's age limit.

    The entries are the instroom's: from home and begun in the window. A stay begun before
    it is the client's first in the extract also when it is doorstroom from a stay that
    ended before the window, so its age would be another form's leaving age. An entry at
    the limit itself (an age rounded up to 18,00) counts in the last band.
    """
    entries = stays[
        stays["from_home"] & (stays["entered"] >= window.start) & (stays["entered"] <= window.end)
    ]
    table: list[dict[str, object]] = []
    for form in forms:
        limit = max_ages[form]
        edges = np.array([e for e in AGE_EDGES if e < limit] + [limit])
        ages = entries.loc[entries["care_form"] == form, "age_at_start_years"].to_numpy()
        if len(ages) < MIN_AGE_ENTRIES:
            notes.append(
                f"{form}: geen leeftijdsklassen ({len(ages)} instromers, minstens "
                f"{MIN_AGE_ENTRIES} nodig); de simulatie kent deze vorm geen leeftijd toe."
            )
            continue
        band = np.clip(np.searchsorted(edges, ages, side="right") - 1, 0, len(edges) - 2)
        counts = np.bincount(band, minlength=len(edges) - 1)
        present = [b for b in range(len(counts)) if counts[b] > 0]
        shares = _rounded_shares(counts[present] / len(ages))
        for b, share in zip(present, shares, strict=True):
            lo_age, hi_age = float(edges[b]), float(edges[b + 1])
            low, high = wilson_interval(int(counts[b]), len(ages))
            key = f"{nl.number(lo_age)}-{nl.number(hi_age)}"
            _row(rows, "age_share", form, key, counts[b] / len(ages), low, high, int(counts[b]))
            table.append(
                {
                    "care_form": form,
                    "age_min_years": lo_age,
                    "age_max_years": hi_age,
                    "share": share,
                }
            )
    return pd.DataFrame(table, columns=["care_form", "age_min_years", "age_max_years", "share"])


def occupied_on(stays: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Count the stays in a bed on ``day`` per (provider, care_form)."""
    inside = (stays["start"] <= day) & (stays["end"].isna() | (stays["end"] > day))
    return stays[inside].groupby(["provider", "care_form"]).size()


def _peak_occupancy(stays: pd.DataFrame, a: pd.Timestamp, b: pd.Timestamp) -> pd.Series:
    """Count the most in a bed on any day of ``[a, b]`` per (provider, care_form)."""
    out: dict[tuple[str, str], int] = {}
    for key, group in stays.groupby(["provider", "care_form"]):
        start = group["start"].to_numpy()
        end = group["end"].fillna(b + pd.Timedelta(days=1)).to_numpy()
        events = np.concatenate([start, end])
        steps = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
        # on one day, leaving before arriving: a bed freed in the morning is taken again
        order = np.lexsort((steps, events))
        level = np.cumsum(steps[order])
        times = events[order]
        before = level[times < np.datetime64(a)]
        at_a = int(before[-1]) if len(before) else 0
        inside = level[(times >= np.datetime64(a)) & (times <= np.datetime64(b))]
        out[(str(key[0]), str(key[1]))] = int(max([at_a, *inside.tolist()]))
    return pd.Series(out, dtype="int64")


def _beds(
    stays: pd.DataFrame,
    forms: list[str],
    window: _Window,
    beds: pd.DataFrame | None,
    rows: list[dict[str, object]],
    notes: list[str],
) -> pd.DataFrame:
    occupied = occupied_on(stays, window.zero)
    pairs = sorted(
        {(str(p), str(f)) for p, f in zip(stays["provider"], stays["care_form"], strict=True)}
    )
    waiting = pd.Series(dtype="int64")
    if stays["referral"].notna().any():
        on_list = (stays["referral"] <= window.zero) & (stays["start"] > window.zero)
        waiting = stays[on_list].groupby(["provider", "care_form"]).size()
    given: dict[tuple[str, str], int] = {}
    if beds is not None:
        for r in beds.to_dict(orient="records"):
            given[(str(r["provider"]), str(r["care_form"]))] = int(r["beds"])
        pairs = sorted(set(pairs) | {k for k in given if k[1] in forms})
        peak = pd.Series(dtype="int64")
        notes.append("Bedden uit de opgegeven 0-meting; bezet geteld uit de verblijven.")
    else:
        year_before = max(window.zero - pd.DateOffset(years=1), window.start)
        peak = _peak_occupancy(stays, pd.Timestamp(year_before), window.zero)
        notes.append(
            "Geen 0-meting opgegeven: bedden geschat als de hoogste bezetting in het jaar voor "
            f"de peildatum ({nl.date(window.zero.date())}). Lever een 0-meting aan "
            "(capaciteit intake) voor het werkelijke aantal."
        )
    table: list[dict[str, object]] = []
    for provider, form in pairs:
        if form not in forms:
            continue
        occ = int(occupied.get((provider, form), 0))
        count = given.get((provider, form), int(peak.get((provider, form), occ)))
        _row(rows, "occupied", form, provider, occ, math.nan, math.nan, occ)
        note = "" if beds is not None else "geschat: hoogste bezetting in het jaar ervoor"
        if count < occ:
            # a model cannot start with more young people than beds; the registered beds
            # are out of date (or the peildatum differs), so the count is raised and said
            note = f"0-meting noemt {count}, maar {occ} jeugdigen in zorg: verhoogd tot {occ}"
            notes.append(f"{form}, {provider}: {note}; controleer de 0-meting.")
            count = occ
        _row(rows, "beds", form, provider, count, math.nan, math.nan, occ, note)
        table.append(
            {
                "provider": provider,
                "care_form": form,
                "beds": count,
                "occupied": occ,
                "waiting": int(waiting.get((provider, form), 0)),
            }
        )
    return pd.DataFrame(table, columns=["provider", "care_form", "beds", "occupied", "waiting"])


# --- what records cannot tell ------------------------------------------------------------


def _care_forms(forms: Sequence[str], base: RegionModel | None, notes: list[str]) -> pd.DataFrame:
    if base is not None:
        table = base.care_forms.loc[list(forms)].reset_index()
        return table
    rows = []
    for form in forms:
        row = {"care_form": form, "name": form.capitalize(), **FORM_DEFAULT}
        row.update(DEFAULT_FORMS.get(form, {}))
        rows.append(row)
    notes.append(
        "Geen basismodel: wachtbeleid, leeftijdsgrens, prioriteit en financiering van de "
        "zorgvormen zijn standaardwaarden (care_forms.csv); controleer ze."
    )
    return pd.DataFrame(rows)


def _providers(beds: pd.DataFrame, base: RegionModel | None) -> pd.DataFrame:
    codes = sorted(beds["provider"].unique())
    names = {}
    if base is not None:
        names = {str(k): str(v) for k, v in base.providers["name"].items()}
    return pd.DataFrame({"provider": codes, "name": [names.get(c, c) for c in codes]})


def _costs(forms: Sequence[str], base: RegionModel | None, notes: list[str]) -> pd.DataFrame:
    if base is not None:
        costs = base.costs.reset_index()
        return costs[costs["care_form"].isin(list(forms))]
    notes.append(
        "Geen basismodel: tarieven per bed-dag zijn landelijke richtbedragen (DOMAIN.md); "
        "vervang ze door de regionale tarieven in costs.csv."
    )
    return pd.DataFrame(
        {
            "care_form": list(forms),
            "provider": "",
            "cost_per_bed_day_eur": [
                REFERENCE_TARIFF_EUR.get(f, FALLBACK_TARIFF_EUR) for f in forms
            ],
        }
    )


__all__ = [
    "calibrate",
    "default_window_start",
    "occupied_on",
    "poisson_interval",
    "wilson_interval",
]
