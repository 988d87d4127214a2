"""Every output of a quarterly realisation report, written to one folder.

=========================  ===========================================================
``comparison.csv``         :func:`~capaciteit.realisation.compare.compare`'s frame
``band.csv``               the simulated band per care form and quarter (all quantiles)
``realisation.csv``        the realised figures as read (provider, care form, quarter)
``fan_<care_form>.png``    a fan chart per care form (:mod:`.charts`)
``realisation.xlsx``       the workbook for the ontwikkeltafel (:mod:`.workbook`)
``realisation.html``       the quarterly report as a web page (:mod:`.pdf`)
``realisation.pdf``        the same report on A4 (WeasyPrint)
=========================  ===========================================================

CSV files are written through :func:`capaciteit.results.cells.write_csv`, so text from an
upload that starts like a formula is quoted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capaciteit.domain.scenario import Scenario
from capaciteit.realisation.band import Band
from capaciteit.realisation.charts import fan_chart
from capaciteit.realisation.compare import FORM_LEVEL, Tolerance
from capaciteit.realisation.pdf import render_html, report_context, write_pdf
from capaciteit.realisation.workbook import write_workbook
from capaciteit.results.cells import write_csv


@dataclass(frozen=True)
class Written:
    """The files written by :func:`write_report` by name, and the time the PDF took."""

    files: dict[str, Path]
    pdf_s: float


def write_report(
    scenario: Scenario,
    realised: pd.DataFrame,
    band: Band,
    comparison: pd.DataFrame,
    out: Path,
    *,
    sources: Sequence[str],
    plan_name: str,
    tolerance: Tolerance | None = None,
) -> Written:
    """Write every output (see the module) to ``out``; return the files and the PDF's time.

    The files' names are ``comparison``, ``band``, ``realisation``, ``chart_<care_form>``,
    ``workbook``, ``html`` and ``pdf``.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["comparison"] = write_csv(comparison, out / "comparison.csv")
    files["band"] = write_csv(band.table.reset_index(), out / "band.csv")
    files["realisation"] = write_csv(realised.reset_index(), out / "realisation.csv")
    names = {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()}
    reported = set(comparison.loc[comparison["level"] == FORM_LEVEL, "care_form"])
    charts: dict[str, Path] = {}
    for form in band.forms:
        if form not in reported:
            continue
        charts[form] = fan_chart(
            form, names.get(form, form), band.table, comparison, out / f"fan_{form}.png"
        )
        files[f"chart_{form}"] = charts[form]
    files["workbook"] = write_workbook(
        scenario,
        band,
        comparison,
        out / "realisation.xlsx",
        sources=sources,
        plan_name=plan_name,
        tolerance=tolerance,
    )
    context = report_context(
        scenario,
        band,
        comparison,
        charts,
        sources=sources,
        plan_name=plan_name,
        tolerance=tolerance,
    )
    html = render_html(context)
    files["html"] = out / "realisation.html"
    files["html"].write_text(html, encoding="utf-8")
    started = time.perf_counter()
    files["pdf"] = write_pdf(html, out / "realisation.pdf")
    return Written(files, time.perf_counter() - started)
