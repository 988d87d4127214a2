"""How an estimate is written down: a row with its 95% interval and the records behind it.

Every stage of the calibration (:mod:`.estimate`, :mod:`.lengths`, :mod:`.peildatum`)
appends rows to the long table of :attr:`~capaciteit.calibration.model.Calibration.
estimates` with :func:`add_row`; the intervals of counts and shares are here, so each is
computed one way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from capaciteit.core.stats import wilson

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Window:
    """The observation window: from ``start`` to ``end`` (the extract), peildatum ``zero``."""

    start: pd.Timestamp
    end: pd.Timestamp
    zero: pd.Timestamp


def add_row(
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
    """Append one estimate: quantity, form, key, value, 95% interval, records, note."""
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
    return wilson(count / total, total) if total else (math.nan, math.nan)


def rounded_shares(shares: np.ndarray, decimals: int = 4) -> list[float]:
    """Round shares so they still sum to exactly 1 (the largest takes the remainder)."""
    rounded = np.round(shares, decimals)
    rounded[int(np.argmax(shares))] += round(1.0 - float(rounded.sum()), decimals)
    return [round(float(x), decimals) for x in rounded]


__all__ = [
    "DAYS_PER_YEAR",
    "Window",
    "add_row",
    "poisson_interval",
    "rounded_shares",
    "wilson_interval",
]
