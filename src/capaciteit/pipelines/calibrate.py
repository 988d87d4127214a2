"""Calibration and backtest from stay records, as the command line and the service run them.

``calibrate_records`` reads and checks the records (every problem listed), estimates the
model (:func:`capaciteit.calibration.estimate.calibrate`), writes it as a region model
folder that loads (with ``estimates.csv``) and the calibration report in ``kalibratie/``
inside it. ``backtest_records`` does the same on the records before a day T and compares
the simulated quarters after T with what the records show (:mod:`capaciteit.calibration.
backtest`), writing its table, workbook and fan charts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from capaciteit.calibration.backtest import DEFAULT_REPLICATIONS, MAX_QUARTERS, Backtest, backtest
from capaciteit.calibration.backtest_report import write_backtest_report
from capaciteit.calibration.estimate import calibrate
from capaciteit.calibration.model import Calibration
from capaciteit.calibration.report import write_report
from capaciteit.calibration.write import write_calibrated_model
from capaciteit.core import nl
from capaciteit.domain.model import TABLES, RegionModel
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.model_files import load_model
from capaciteit.io.records import StayRecords, read_records
from capaciteit.io.tables import UnreadableTableError, read_table
from capaciteit.pipelines import Progress, quiet
from capaciteit.results.jsonable import records as records_of
from capaciteit.simulation.executors import Executor

REPORT_DIR = "kalibratie"
"""Folder inside the written model that holds the calibration report."""


@dataclass(frozen=True)
class CalibrationRun:
    """A calibration written to disk: the estimates, the loaded model and the files."""

    calibration: Calibration
    model: RegionModel
    records: StayRecords
    files: dict[str, Path]
    elapsed_s: float


@dataclass(frozen=True)
class BacktestRun:
    """A backtest written to disk."""

    result: Backtest
    records: StayRecords
    files: dict[str, Path]
    elapsed_s: float


def _inputs(
    records_file: Path,
    base_dir: Path | None,
    beds_file: Path | None,
    extract_date: dt.date | None,
) -> tuple[StayRecords, RegionModel | None, pd.DataFrame | None]:
    """Read the records, the base model and the 0-meting; refuse with every problem."""
    base = load_model(base_dir) if base_dir is not None else None
    forms = set(base.care_form_ids) if base is not None else None
    records = read_records(records_file, extract_date=extract_date, care_forms=forms)
    beds = None
    if beds_file is not None:
        problems: list[Problem] = []
        if not beds_file.is_file():
            problems.append(Problem(beds_file.name, "bestaat niet.", f"Controleer {beds_file}."))
        else:
            with contextlib.suppress(UnreadableTableError):  # its problem is listed
                beds = read_table(beds_file, TABLES["beds"], problems)
        if problems:
            raise InvalidInputError(f"De 0-meting {beds_file.name}", problems)
    return records, base, beds


def calibrate_records(
    records_file: Path,
    out: Path,
    *,
    base_dir: Path | None = None,
    beds_file: Path | None = None,
    window_start: dt.date | None = None,
    zero_date: dt.date | None = None,
    extract_date: dt.date | None = None,
    name: str | None = None,
    progress: Progress = quiet,
) -> CalibrationRun:
    """Calibrate a region model from ``records_file``; write it (and its report) to ``out``."""
    began = time.perf_counter()
    progress(None, "verblijven lezen en controleren")
    records, base, beds = _inputs(records_file, base_dir, beds_file, extract_date)
    progress(None, "schatten: instroom, doorstroom, verblijfsduur, leeftijd, bezetting")
    calibration = calibrate(
        records, window_start=window_start, zero_date=zero_date, beds=beds, base=base
    )
    progress(None, "model en rapport schrijven")
    title = name or (f"{base.meta.name} (gekalibreerd)" if base is not None else out.name)
    model = write_calibrated_model(calibration, out, name=title, source=records.file)
    report = write_report(calibration, out / REPORT_DIR)
    files = {"model": out, "estimates": out / "estimates.csv"}
    files.update({p.stem: p for p in report})
    files["summary"] = _write_json(
        out / REPORT_DIR / "calibration.json", calibration_summary(calibration, records)
    )
    return CalibrationRun(
        calibration=calibration,
        model=model,
        records=records,
        files=files,
        elapsed_s=time.perf_counter() - began,
    )


def backtest_records(
    records_file: Path,
    cut: dt.date,
    out: Path,
    *,
    quarters: int = MAX_QUARTERS,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 1,
    base_dir: Path | None = None,
    beds_file: Path | None = None,
    window_start: dt.date | None = None,
    extract_date: dt.date | None = None,
    executor: Executor | None = None,
    progress: Progress = quiet,
) -> BacktestRun:
    """Backtest the calibration of ``records_file`` from ``cut``; write the report to ``out``."""
    began = time.perf_counter()
    progress(None, "verblijven lezen en controleren")
    records, base, beds = _inputs(records_file, base_dir, beds_file, extract_date)
    if (cut.month, cut.day) != (1, 1) or not records.stays["start"].min() < pd.Timestamp(
        cut
    ) <= pd.Timestamp(records.extract_date):
        raise InvalidInputError(
            "De opdracht",
            [
                Problem(
                    "--knip",
                    f"{nl.date(cut)} is geen 1 januari binnen de verblijven (tot "
                    f"{nl.date(records.extract_date)}); de backtest simuleert vanaf 1 januari.",
                    "Kies 1 januari van een jaar met verblijven ervoor en erna, bijvoorbeeld "
                    f"{records.extract_date.year - 1}-01-01.",
                )
            ],
        )

    def step(done: int) -> None:
        progress(done / replications, f"simuleren ({done} van {replications})")

    progress(0.0, "kalibreren tot de knip")
    result = backtest(
        records,
        cut,
        out,
        quarters=quarters,
        replications=replications,
        seed=seed,
        window_start=window_start,
        beds=beds,
        base=base,
        executor=executor,
        progress=step,
    )
    progress(None, "vergelijken en rapport schrijven")
    files = write_backtest_report(result, out)
    files["summary"] = _write_json(out / "backtest.json", backtest_summary(result, records))
    files["model"] = out / "model"
    return BacktestRun(
        result=result, records=records, files=files, elapsed_s=time.perf_counter() - began
    )


def _write_json(path: Path, data: dict[str, Any]) -> Path:
    # allow_nan=False: a NaN left anywhere is a bug here, not an invalid JSON file later
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )
    return path


def _window(calibration: Calibration, records: StayRecords) -> dict[str, Any]:
    return {
        "file": records.file,
        "stays": len(records.stays),
        "window_start": calibration.window_start.isoformat(),
        "extract_date": calibration.extract_date.isoformat(),
        "zero_date": calibration.zero_date.isoformat(),
    }


def calibration_summary(calibration: Calibration, records: StayRecords) -> dict[str, Any]:
    """Return the calibration as JSON: the window, every estimate, the fits and the notes.

    NaN (no estimate, no interval) becomes ``null``; ``note`` says why.
    """
    return {
        "records": _window(calibration, records),
        "estimates": records_of(calibration.estimates),
        "los_fits": records_of(calibration.los_fits),
        "notes": list(calibration.notes),
    }


def backtest_summary(result: Backtest, records: StayRecords) -> dict[str, Any]:
    """Return the backtest as JSON: the cut, coverage per measure and every compared cell."""
    return {
        "records": _window(result.calibration, records),
        "cut": result.cut.isoformat(),
        "quarters": [q.label for q in result.quarters],
        "replications": result.replications,
        "seed": result.seed,
        "occupants_at_cut": result.occupants,
        "waiting_at_cut": result.waiting,
        "coverage": records_of(result.coverage),
        "cells": records_of(result.table),
    }


__all__ = [
    "BacktestRun",
    "CalibrationRun",
    "backtest_records",
    "backtest_summary",
    "calibrate_records",
    "calibration_summary",
]
