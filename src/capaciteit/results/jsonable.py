"""Tables and numbers as plain JSON values (``None`` for missing, Python numbers)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def clean(value: Any) -> Any:
    """Return ``value`` as a JSON value: NaN becomes ``None``, numpy scalars Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON objects."""
    return [{str(k): clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
