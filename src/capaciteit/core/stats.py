"""Means over replications, 95% intervals that respect what a quantity can be, and verdicts.

Independent replications give one value each; their mean estimates the expected value and
an interval says how sure that is.

*Unbounded above, bounded below* (waits in days, counts, beds, euros): the Student-t
interval, cut at the lower bound (0). Cutting only removes values the quantity cannot take,
so the interval keeps its coverage.

*Shares* (in [0, 1]: placed within 28 days, refused, occupancy): the **Wilson score
interval on the effective sample size** (the approach of Korn and Graubard, 1998, for
survey proportions). The between-replication variance ``s^2 / R`` of the mean ``p`` is
turned into the number of independent yes/no trials that would give the same variance,
``n* = p (1 - p) / (s^2 / R)``, scaled by ``(z / t_{R-1})^2`` for the few replications,
and capped at the number of trials actually observed (requests, stays) when that is known.
The Wilson interval for ``p`` with ``n*`` trials lies inside [0, 1] by construction, is
close to the t-interval when ``p`` is far from 0 and 1, and does not collapse to a point
when every replication gives 100%: with 1,200 requests all placed it reads
[99,7% – 100%], not [100% – 100%].

Whether a norm *holds on average* (:func:`meets`) looks at the mean only; this is how the
minimal-beds search decides (the fewest beds whose mean meets every norm, one bed fewer's
does not), so that its answer is the exact minimum up to the noise, with no margin added.
A *verdict* compares an interval with a norm: ``met`` when the whole interval is on the
right side of it, ``missed`` when the whole interval is on the wrong side, ``undecided``
when the norm lies inside the interval (the simulation cannot tell), ``no_data`` when no
replication had anything to measure (e.g. no requests that year).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

LEVEL = 0.95
Verdict = Literal["met", "missed", "undecided", "no_data"]
Kind = Literal["min", "max"]
VERDICTS_NL: dict[str, str] = {
    "met": "gehaald",
    "missed": "niet gehaald",
    "undecided": "niet te onderscheiden van de norm",
    "no_data": "geen gegevens",
}


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with its interval (``nan`` where unknown)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def known(self) -> bool:
        """Whether there is a mean at all."""
        return not math.isnan(self.mean)


def confidence_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and Student-t interval of independent replications (NaNs dropped).

    With no value the mean is ``nan``; with one value there is no interval (``nan``).
    """
    x = np.asarray(values, dtype="float64")
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def at_least(values: np.ndarray, lower: float = 0.0, level: float = LEVEL) -> Estimate:
    """Mean and t-interval of a quantity that cannot be below ``lower`` (cut there)."""
    x = np.asarray(values, dtype="float64")
    n = int((~np.isnan(x)).sum())
    mean, low, high = confidence_interval(x, level)
    if not math.isnan(low):
        low, high = max(low, lower), max(high, lower)
    return Estimate(mean, low, high, n)


def wilson(p: float, n: float, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a share ``p`` observed in ``n`` trials (``n`` may be real)."""
    if n <= 0 or math.isnan(p):
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + level / 2))
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # At p = 0 (or 1) the bound is exactly 0 (1); centre - half only rounds to it.
    low = 0.0 if p <= 0.0 else max(0.0, centre - half)
    high = 1.0 if p >= 1.0 else min(1.0, centre + half)
    return low, high


def share(values: np.ndarray, trials: float | None = None, level: float = LEVEL) -> Estimate:
    """Mean of per-replication shares with the Wilson interval on the effective sample size.

    ``trials`` is the number of yes/no outcomes behind all replications together (e.g. the
    requests decided that year, summed over replications), when known; it caps the
    effective sample size and gives an interval when every replication has the same share.
    """
    x = np.asarray(values, dtype="float64")
    x = x[~np.isnan(x)]
    r = len(x)
    if r == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p = min(1.0, max(0.0, float(x.mean())))
    if r == 1:
        return Estimate(p, math.nan, math.nan, 1)
    var_mean = float(x.var(ddof=1)) / r
    cap = math.inf if trials is None or trials <= 0 else float(trials)
    # a mean that rounds to exactly 0 or 1 while the replications differ by a rounding
    # error has p(1 - p) = 0: no effective sample size, so it is treated as no spread
    if var_mean > 0 and 0.0 < p < 1.0:
        z = float(stats.norm.ppf(0.5 + level / 2))
        t = float(stats.t.ppf(0.5 + level / 2, r - 1))
        n_eff = min(cap, p * (1 - p) / var_mean * (z / t) ** 2)
    else:
        n_eff = cap
    if math.isinf(n_eff):
        return Estimate(p, p, p, r)
    low, high = wilson(p, n_eff, level)
    return Estimate(p, min(low, p), max(high, p), r)


def verdict(estimate: Estimate, kind: Kind, target: float) -> Verdict:
    """Judge an estimate against a norm (``min``: at least ``target``; ``max``: at most)."""
    if not estimate.known:
        return "no_data"
    low, high = estimate.low, estimate.high
    if math.isnan(low):
        low = high = estimate.mean
    if kind == "min":
        if low >= target:
            return "met"
        return "missed" if high < target else "undecided"
    if high <= target:
        return "met"
    return "missed" if low > target else "undecided"


def meets(estimate: Estimate, kind: Kind, target: float) -> bool:
    """Whether the mean is on the right side of the norm (no data counts as meeting it)."""
    if not estimate.known:
        return True
    return estimate.mean >= target if kind == "min" else estimate.mean <= target
