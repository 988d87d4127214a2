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

This module holds the pipeline and the counts (instroom, seasonality, routing, ages);
:mod:`.lengths` the lengths of stay, :mod:`.peildatum` the 0-meting, :mod:`.unrecorded`
what records cannot tell, :mod:`.figures` how each estimate is written.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from scipy import stats

from capaciteit.calibration.figures import (
    DAYS_PER_YEAR,
    Window,
    add_row,
    poisson_interval,
    rounded_shares,
    wilson_interval,
)
from capaciteit.calibration.lengths import estimate_lengths
from capaciteit.calibration.model import ESTIMATE_COLUMNS, Calibration
from capaciteit.calibration.peildatum import estimate_beds
from capaciteit.calibration.unrecorded import (
    care_forms_table,
    costs_table,
    max_age,
    providers_table,
)
from capaciteit.core import nl
from capaciteit.domain.model import RegionModel
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.records import StayRecords
from capaciteit.realisation.quarters import Quarter

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
    stays = _prepare(records.stays, forms, base, window, notes)
    rows: list[dict[str, object]] = []

    instroom, quarters = _instroom(stays, forms, window, rows, notes)
    seasonality = _seasonality(stays, forms, window, rows, notes)
    routing, routing_counts = _routing(stays, forms, rows, notes)
    los, los_provider, fits, survival = estimate_lengths(stays, forms, base, seed, rows, notes)
    age = _ages(stays, forms, window, {f: max_age(f, base)[0] for f in forms}, rows, notes)
    beds_table = estimate_beds(stays, forms, window, beds, rows, notes)
    tables = {
        "care_forms": care_forms_table(forms, base, notes),
        "providers": providers_table(beds_table, base),
        "beds": beds_table,
        "instroom": instroom,
        "seasonality": seasonality,
        "los": los,
        "los_provider": los_provider,
        "routing": routing,
        "age": age,
        "costs": costs_table(forms, base, notes),
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
) -> Window:
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
    return Window(start, end, zero)


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


def _prepare(
    raw: pd.DataFrame,
    forms: list[str],
    base: RegionModel | None,
    window: Window,
    notes: list[str],
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
    # a stay that ends on the day it began took part of that day: half a day, not 0
    length = (stop - stays["start"]).dt.days.astype("float64")
    same_day = int((ended & (length == 0)).sum())
    if same_day:
        notes.append(
            nl.plural(same_day, "verblijf eindigde", "verblijven eindigden")
            + " op de dag van het begin; die duur is als een halve dag geteld."
        )
    stays["days"] = np.maximum(length, 0.5)
    stays["entry_days"] = np.maximum((window.start - stays["start"]).dt.days.astype("float64"), 0.0)
    limits = {f: max_age(f, base) for f in forms}
    age_limit = stays["care_form"].map({f: v[0] for f, v in limits.items()}).astype("float64")
    age_out_to = stays["care_form"].map({f: v[1] for f, v in limits.items()})
    age_end = stays["age_at_start_years"] + stays["days"] / DAYS_PER_YEAR
    stays["aged_out"] = (
        ended
        & (stays["next"] == age_out_to)
        & (age_end >= age_limit - AGE_OUT_TOLERANCE_DAYS / DAYS_PER_YEAR)
    )
    stays["event"] = ended & ~stays["aged_out"]
    # a stay that ended before the window (possible with a later --vanaf) is not in it
    stays["in_window"] = stop >= window.start
    return stays


# --- instroom and seasonality ------------------------------------------------------------


def _overlap_years(a: pd.Timestamp, b: pd.Timestamp, window: Window) -> float:
    lo, hi = max(a, window.start), min(b, window.end + pd.Timedelta(days=1))
    return max((hi - lo).days, 0) / DAYS_PER_YEAR


def _instroom(
    stays: pd.DataFrame,
    forms: list[str],
    window: Window,
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
                add_row(
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
            add_row(rows, "instroom", form, str(year), count / exposure, low, high, count)
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
    # the chi-square test needs about 5 expected entries a year; with fewer the years are
    # pooled (a form with 3 stays in one year would otherwise get 0 for later years)
    if len(years) > 1 and total > 0 and float(np.min(np.array(exposures) * pooled)) >= 5:
        statistic = float(((np.array(counts) - expected) ** 2 / expected).sum())
        p_value = float(stats.chi2.sf(statistic, len(years) - 1))
    if p_value >= 0.05:
        add_row(rows, "instroom", form, "alle jaren", pooled, low, high, total)
        return [{"care_form": form, "year": years[0], "arrivals_per_year": round(pooled, 3)}]
    add_row(
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


def _month_exposure(window: Window) -> np.ndarray:
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
    window: Window,
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
            add_row(
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
            add_row(rows, "routing", form, "thuis", 1.0, math.nan, math.nan, 0, note)
            notes.append(f"{form}: {note}.")
            table.append({"from_care_form": form, "to": "thuis", "share": 1.0})
            continue
        weak = f"weinig afgesloten verblijven ({total})" if total < MIN_ROUTING else ""
        counts = nxt.value_counts().sort_index()
        shares = rounded_shares(counts.to_numpy(dtype=float) / total)
        for (to, count), share in zip(counts.items(), shares, strict=True):
            low, high = wilson_interval(int(count), total)
            add_row(rows, "routing", form, str(to), count / total, low, high, int(count), weak)
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


# --- ages, beds --------------------------------------------------------------------------


def _ages(
    stays: pd.DataFrame,
    forms: list[str],
    window: Window,
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
        shares = rounded_shares(counts[present] / len(ages))
        for b, share in zip(present, shares, strict=True):
            lo_age, hi_age = float(edges[b]), float(edges[b + 1])
            low, high = wilson_interval(int(counts[b]), len(ages))
            key = f"{nl.number(lo_age)}-{nl.number(hi_age)}"
            add_row(rows, "age_share", form, key, counts[b] / len(ages), low, high, int(counts[b]))
            table.append(
                {
                    "care_form": form,
                    "age_min_years": lo_age,
                    "age_max_years": hi_age,
                    "share": share,
                }
            )
    return pd.DataFrame(table, columns=["care_form", "age_min_years", "age_max_years", "share"])


__all__ = [
    "calibrate",
    "default_window_start",
    "poisson_interval",
    "wilson_interval",
]
