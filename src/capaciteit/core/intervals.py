"""Time integrals of counts that change at interval ends.

Occupancy, waiting lists and blocked beds are all "how many intervals cover time t" for
some set of intervals taken from the stays. The integral of that count from ``-inf`` to
``t`` is

    A(t) = sum_i clip(t - s_i, 0, e_i - s_i)
         = (#s_i < t) * t - sum(s_i < t) - (#e_i < t) * t + sum(e_i < t),

which sorted start and end times and their cumulative sums give for many ``t`` at once.
The mean count over ``[a, b)`` is ``(A(b) - A(a)) / (b - a)``: exact, whatever the number
of intervals, with no sampling.
"""

from __future__ import annotations

import numpy as np


def area(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Integral of the number of open intervals from -inf to each time in ``at``.

    ``ends`` may hold ``inf`` (intervals still open). ``starts <= ends`` elementwise.
    """
    s = np.sort(starts)
    e = np.sort(ends[np.isfinite(ends)])
    cs = np.concatenate([[0.0], np.cumsum(s)])
    ce = np.concatenate([[0.0], np.cumsum(e)])
    ns = np.searchsorted(s, at, side="left")
    ne = np.searchsorted(e, at, side="left")
    result: np.ndarray = (ns * at - cs[ns]) - (ne * at - ce[ne])
    return result


def mean_count(starts: np.ndarray, ends: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Mean number of open intervals over each ``[bounds[k], bounds[k+1])``."""
    a = area(starts, ends, bounds)
    return np.maximum(np.diff(a), 0.0) / np.diff(bounds)


def count_at(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Count the intervals with ``start <= t < end`` at each ``t`` in ``at``."""
    s = np.sort(starts)
    e = np.sort(ends[np.isfinite(ends)])
    return np.searchsorted(s, at, side="right") - np.searchsorted(e, at, side="right")
