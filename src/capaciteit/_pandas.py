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
