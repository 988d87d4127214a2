"""Write a region model directory from Python data (tests, generators, exports).

The inverse of :func:`capaciteit.io.model_files.load_model` for data that has not been
validated yet: it writes ``model.yaml`` and one CSV per table exactly as given, so that the
written directory goes through the same validation as a planner's files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

Rows = Sequence[Mapping[str, Any]] | pd.DataFrame


def write_model_dir(
    directory: str | Path,
    tables: Mapping[str, Rows],
    *,
    name: str = "Testregio",
    baseline_year: int = 2023,
    synthetic: bool = True,
    home_priority: int = 1,
    description: str = "",
) -> Path:
    """Write ``model.yaml`` and ``<table>.csv`` for each entry of ``tables``.

    ``tables`` maps a table name (``care_forms``, ``providers``, ``beds``, ``instroom``,
    ``los``, ``routing``, ``costs``, and optionally ``seasonality``, ``los_observed``,
    ``age``) to rows (a list of dicts or a DataFrame).
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    meta = {
        "schema_version": 1,
        "name": name,
        "baseline_year": baseline_year,
        "synthetic": synthetic,
        "home_priority": home_priority,
        "description": description,
    }
    (path / "model.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    for table, rows in tables.items():
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        frame.to_csv(path / f"{table}.csv", index=False)
    return path


def write_scenario_file(
    path: str | Path,
    model_dir: str | Path,
    *,
    start_year: int = 2023,
    end_year: int = 2023,
    replications: int = 10,
    seed: int = 1,
    warm_up_days: float = 0.0,
    initial_state: str = "empty",
    levers: Mapping[str, Any] | None = None,
    name: str = "Testscenario",
) -> Path:
    """Write a scenario YAML file that points at ``model_dir`` (by absolute path)."""
    file = Path(path)
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": name,
        "model": str(Path(model_dir).resolve()),
        "horizon": {"start_year": start_year, "end_year": end_year},
        "replications": replications,
        "seed": seed,
        "warm_up_days": warm_up_days,
        "initial_state": initial_state,
    }
    if levers:
        data["levers"] = dict(levers)
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return file
