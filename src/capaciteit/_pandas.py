"""Small conversions between pandas cells and plain Python numbers.

pandas-stubs types a single cell (``frame.at[row, col]``) as a union of every scalar pandas
knows; these helpers state what we expect and turn missing values into ``nan``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def as_float(value: Any) -> float:
    """Return a cell as ``float``; missing (None, NA, NaN) becomes ``nan``."""
    if value is None or value is pd.NA:
        return math.nan
    return float(value)


def as_str(value: Any) -> str:
    """Return a cell as ``str``."""
    return str(value)


def as_int(value: Any) -> int:
    """Return a cell as ``int``."""
    return int(value)


def items(series: pd.Series) -> list[tuple[Any, Any]]:
    """``series.items()`` with keys typed for unpacking (MultiIndex keys are tuples)."""
    return list(series.items())


def rows(frame: pd.DataFrame) -> list[tuple[Any, pd.Series]]:
    """``frame.iterrows()`` with keys typed for unpacking."""
    return list(frame.iterrows())
