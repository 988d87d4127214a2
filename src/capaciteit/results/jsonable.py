"""Tables and numbers as plain JSON values (``None`` for missing, Python numbers)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from capaciteit import __version__
from capaciteit.domain.scenario import Scenario


def clean(value: Any) -> Any:
    """Return ``value`` as a JSON value: NaN and NA become ``None``, numpy scalars Python ones."""
    if value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON objects."""
    return [{str(k): clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def header(scenario: Scenario) -> dict[str, Any]:
    """Version, scenario and model: the first keys of every results JSON."""
    return {
        "capaciteit_version": __version__,
        "scenario": {"name": scenario.name, "file": str(scenario.path) if scenario.path else None},
        "model": {
            "name": scenario.model.meta.name,
            "baseline_year": scenario.model.meta.baseline_year,
        },
    }
