"""Write a simulation's results to a folder: summary.json, tables and a chart.

Files written (``FORMAT`` is ``csv`` or ``parquet``):

``summary.json``
    first ``missed``: what the scenario misses, in plain Dutch; then scenario, seed,
    replications, every norm judged per care form and year (``norms``: mean, 95% interval,
    verdict met / missed / undecided / no_data), the bed targets per year
    (``bed_targets``), and per care form and year every KPI with its 95% interval
    (``null`` for an input such as the beds).
``kpis.FORMAT``
    the same KPIs as a long table (care_form, year, kpi, mean, ci_low, ci_high).
``kpis_per_replication.FORMAT``
    KPIs of each replication.
``stays.FORMAT``
    every stay: requested, start, end, waited, blocked days, next form, outcome.
``occupancy_daily.FORMAT``, ``occupancy_daily_total.FORMAT``, ``queues_daily.FORMAT``
    occupied beds per provider and day, and per form and day; waiting lists and blocked
    beds per form and day.
``blocking.FORMAT``
    blocked bed-days per bed (care form, provider), form waited for and year (mean and
    95% interval): which beds are kept by whom, e.g. young adults waiting for housing.
``transformation.FORMAT``
    models with ambulant or housing forms: ambulant places and young people in ambulant
    care per verblijf bed, diverted referrals, 18+ waiting for housing, their blocked
    bed-days and costs per year (:mod:`capaciteit.simulation.transformation`).
``occupancy.png``
    occupancy against beds and waiting lists per care form.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from capaciteit import __version__
from capaciteit.domain.scenario import Scenario
from capaciteit.errors import CapaciteitError
from capaciteit.results.cells import write_csv
from capaciteit.results.charts import occupancy_chart
from capaciteit.results.jsonable import clean
from capaciteit.results.judgement import judgement
from capaciteit.results.tables import daily_occupancy, daily_occupancy_totals, daily_queues
from capaciteit.simulation.kpis import KPI_COLUMNS
from capaciteit.simulation.replications import SimulationResult
from capaciteit.simulation.transformation import (
    blocking_per_replication,
    has_transformation,
    summarise_blocking,
    summarise_transformation,
    transformation_per_replication,
)

Format = Literal["csv", "parquet"]


def stays_table(result: SimulationResult) -> pd.DataFrame:
    """Stays with dates, and waited, blocked and stay lengths in days, added.

    ``*_day`` columns count days from 1 January of the first horizon year (negative:
    before it); ``*_date`` columns give the same moments as dates. ``age_years`` is the
    age at the request (for 0-meting occupants: at the start of their stay).
    """
    s = result.stays.copy()
    resolved = s["start_day"].fillna(s["end_day"])
    s["waited_days"] = resolved - s["requested_day"]
    s["blocked_days"] = s["end_day"] - s["service_end_day"]
    s["los_days"] = s["end_day"] - s["start_day"]
    day_zero = pd.Timestamp(year=result.spec.start_year, month=1, day=1)
    for column in ("requested", "start", "end"):
        s[f"{column}_date"] = (
            day_zero + pd.to_timedelta(s[f"{column}_day"].round(6), unit="D")
        ).dt.date
    return s


def transformation_tables(result: SimulationResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Blocked bed-days per bed and form waited for, and the transformation figures.

    The second table is empty for a model without ambulant or housing forms.
    """
    blocking = blocking_per_replication(result.spec, result.stays)
    summary = summarise_blocking(blocking, result.replications)
    if not has_transformation(result.spec):
        return summary, pd.DataFrame(columns=["year", "kpi", "mean", "ci_low", "ci_high"])
    per_replication = transformation_per_replication(result.spec, result.kpis, blocking)
    return summary, summarise_transformation(per_replication)


def summary_dict(scenario: Scenario, result: SimulationResult) -> dict[str, Any]:
    """Return the content of ``summary.json``."""
    kpis: dict[str, dict[str, dict[str, dict[str, float | None]]]] = {}
    for row in result.summary.to_dict(orient="records"):
        by_year = kpis.setdefault(str(row["care_form"]), {}).setdefault(str(row["year"]), {})
        by_year[str(row["kpi"])] = {
            key: clean(float(row[key])) for key in ("mean", "ci_low", "ci_high")
        }
    model = scenario.model
    judged = judgement(scenario, result)
    _, transformation = transformation_tables(result)
    per_year: dict[str, dict[str, dict[str, float | None]]] = {}
    for row in transformation.to_dict(orient="records"):
        per_year.setdefault(str(row["year"]), {})[str(row["kpi"])] = {
            key: clean(float(row[key])) for key in ("mean", "ci_low", "ci_high")
        }
    return {
        "capaciteit_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # what the scenario misses, said plainly first (Dutch; empty when nothing is missed)
        "missed": judged["missed"],
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "file": str(scenario.path) if scenario.path else None,
        },
        "model": {
            "name": model.meta.name,
            "path": str(model.meta.path),
            "baseline_year": model.meta.baseline_year,
            "synthetic": model.meta.synthetic,
            "baseline_beds": {k: int(v) for k, v in model.baseline_beds().items()},
        },
        "horizon": {"start_year": scenario.start_year, "end_year": scenario.end_year},
        "day_zero": f"{scenario.start_year}-01-01",
        "warm_up_days": scenario.warm_up_days,
        "initial_state": scenario.initial_state,
        "replications": result.replications,
        "seed": result.seed,
        "executor": result.executor,
        "confidence_level": 0.95,
        "kpi_names": list(KPI_COLUMNS),
        "care_form_names": {str(k): str(v) for k, v in model.care_forms["name"].items()},
        "target_years": judged["target_years"],
        "norms": judged["norms"],
        "bed_targets": judged["bed_targets"],
        "los_targets": judged["los_targets"],
        "verdicts_nl": judged["verdicts_nl"],
        "kpis": kpis,
        "care_form_kinds": {str(k): model.kind_of(str(k)) for k in model.care_forms.index},
        # ambulant : verblijf, 18+ waiting for housing (empty without such forms)
        "transformation": per_year,
    }


def _write(frame: pd.DataFrame, path: Path, fmt: Format) -> Path:
    if fmt == "parquet":
        try:
            frame.to_parquet(path.with_suffix(".parquet"), index=False)
        except ImportError as exc:
            raise CapaciteitError(
                "writing Parquet needs pyarrow: pip install 'capaciteit[parquet]', or use csv"
            ) from exc
        return path.with_suffix(".parquet")
    return write_csv(frame, path.with_suffix(".csv"))


def write_results(
    scenario: Scenario,
    result: SimulationResult,
    out: Path,
    fmt: Format = "csv",
    summary: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write every output file to ``out`` (created if needed); return them by name.

    ``summary`` is :func:`summary_dict`'s answer when the caller already has it.
    """
    out.mkdir(parents=True, exist_ok=True)
    spec = result.spec
    occupancy = daily_occupancy(spec, result.stays, result.replications)
    totals = daily_occupancy_totals(spec, result.stays, result.replications)
    queues = daily_queues(spec, result.stays, result.replications)
    files: dict[str, Path] = {}
    summary_path = out / "summary.json"
    summary_path.write_text(
        json.dumps(summary or summary_dict(scenario, result), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    files["summary"] = summary_path
    files["kpis"] = _write(result.summary, out / "kpis", fmt)
    files["kpis_per_replication"] = _write(
        result.kpis.reset_index(), out / "kpis_per_replication", fmt
    )
    files["stays"] = _write(stays_table(result), out / "stays", fmt)
    files["occupancy_daily"] = _write(occupancy, out / "occupancy_daily", fmt)
    files["occupancy_daily_total"] = _write(totals, out / "occupancy_daily_total", fmt)
    files["queues_daily"] = _write(queues, out / "queues_daily", fmt)
    blocking, transformation = transformation_tables(result)
    files["blocking"] = _write(blocking, out / "blocking", fmt)
    if not transformation.empty:
        files["transformation"] = _write(transformation, out / "transformation", fmt)
    files["chart"] = occupancy_chart(
        totals,
        queues,
        scenario.model.care_forms["name"],
        out / "occupancy.png",
        f"{scenario.name} ({result.replications} replicaties)",
        frozenset(scenario.model.forms_of_kind("ambulant", "woonplek")),
    )
    return files
