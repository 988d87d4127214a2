"""The afbouw plan for ontwikkeltafels: plan.csv, plan.json, plan.xlsx and charts.

The workbook has the sheets *samenvatting* (what the plan misses said plainly at the top),
*per aanbieder*, *per jaar*, *doelen*, *normen* (every service level per care form and
year with its 95% interval, judged: gehaald / niet gehaald / niet te onderscheiden),
*ombouwbudget* and, when the plan was made close to an agreed plan, *Wijzigingen t.o.v.
afspraak* (every cell that differs from the agreement, with the reason), with Dutch
labels, bold headers, frozen header rows, number formats (thousands separators and
percentages, shown by Excel in the reader's Dutch locale) and green/red/yellow marks.

``plan.json`` carries the ``need`` per care form and year (so a stored run can be checked
again without simulating) and, with an agreed plan, ``reference`` and ``changes``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.core.stats import VERDICTS_NL
from capaciteit.domain.norms import Norm
from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.afbouw_plan import AfbouwResult
from capaciteit.optimisation.afbouw_reference import REASON_SEPARATOR
from capaciteit.results.cells import append_row, write_csv
from capaciteit.results.charts import dutch_axes
from capaciteit.results.jsonable import clean, header, records
from capaciteit.simulation.judge import missed_norms

GREEN = PatternFill("solid", fgColor="C6EFCE")
RED = PatternFill("solid", fgColor="FFC7CE")
YELLOW = PatternFill("solid", fgColor="FFEB9C")
VERDICT_FILL = {"met": GREEN, "missed": RED, "undecided": YELLOW}
HEADER = Font(bold=True)
STATUS_NL = {
    "targets_met": "alle doelen en minimale bedden gehaald",
    "conflicts": "niet alle doelen haalbaar: dichtstbijzijnde plan, zie toelichting",
    "infeasible": "geen plan mogelijk binnen de vaste afspraken",
    "timeout": "rekentijd op zonder plan",
}


def plan_json(scenario: Scenario, result: AfbouwResult) -> dict[str, Any]:
    """Return the content of ``plan.json``."""
    s = result.solution
    return {
        **header(scenario),
        "status": result.status,
        "message": result.message,
        "need_source": result.need_source,
        "solver": {
            "name": s.solver,
            "status": s.status,
            "objective_eur": s.objective,
            "bound_eur": s.bound,
            "gap": s.gap,
            "time_s": s.time_s,
            "mode": result.data.mode,
        },
        "targets": records(result.targets),
        "conflicts": result.conflicts,
        "plan": records(result.plan),
        "need": records(result.need),
        "reference": _reference_json(scenario, result),
        "changes": [
            {**row, "reasons": str(row["reason"]).split(REASON_SEPARATOR)}
            for row in records(result.changes)
        ],
        "ombouw": records(result.ombouw),
        "service_levels": records(result.service_levels),
    }


def _reference_json(scenario: Scenario, result: AfbouwResult) -> dict[str, Any] | None:
    """Describe the agreed plan the plan was made close to (None without one)."""
    if result.reference_source is None:
        return None
    given = scenario.afbouw.reference
    return {
        "file": result.reference_source,
        "weight_eur_per_bed": result.data.reference_weight,
        "max_change_beds": result.data.reference_max_change,
        "scenario_file": given.file if given is not None else None,
        "changed_cells": len(result.changes),
    }


def _sheet(ws: Worksheet, frame: pd.DataFrame, money: tuple[str, ...] = ()) -> None:
    append_row(ws, [str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = HEADER
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in frame.itertuples(index=False):
        append_row(ws, [clean(v) for v in row])
    ws.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(10, width + 2))
        if str(column) in money or isinstance(column, int):
            for cell in ws[get_column_letter(i)][1:]:
                cell.number_format = "#,##0"


def write_workbook(scenario: Scenario, result: AfbouwResult, path: Path) -> Path:
    """Write the workbook for the ontwikkeltafel."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "samenvatting"
    s = result.solution
    names = {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()}
    missed = missed_norms(result.service_levels, names) if len(result.service_levels) else ""
    summary = [
        ("Niet gehaald", missed or "Elke norm wordt gehaald of is niet te onderscheiden."),
        ("Scenario", scenario.name),
        ("Regio", scenario.model.meta.name),
        ("0-meting", scenario.model.meta.baseline_year),
        ("Status", STATUS_NL.get(result.status, result.status)),
        ("Toelichting", result.message),
        ("Minimale bedden uit", result.need_source),
        ("Rekenmethode", f"{s.solver}, {s.status}, {nl.number(s.time_s, 1)} s"),
        (
            "Kosten bedden over de planperiode (EUR)",
            int(result.plan["cost_eur"].sum()) if len(result.plan) else None,
        ),
    ]
    append_row(ws, ["Onderwerp", "Waarde"])
    for cell in ws[1]:
        cell.font = HEADER
    for key, value in summary:
        append_row(ws, [key, value])
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 110
    for row in ws.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(row=2, column=2).fill = RED if missed else GREEN
    row_status = ws.cell(row=6, column=2)
    row_status.fill = GREEN if result.status == "targets_met" else RED
    if result.reference_source is not None:
        append_row(
            ws,
            [
                "Afspraak (referentieplan)",
                f"{result.reference_source}: {nl.plural(len(result.changes), 'cel', 'cellen')} "
                f"gewijzigd; gewicht {nl.euro(result.data.reference_weight)} per plaats"
                + (
                    f", hoogstens {nl.number(result.data.reference_max_change)} plaatsen "
                    "verschil per cel"
                    if result.data.reference_max_change is not None
                    else ""
                ),
            ],
        )
    if result.conflicts:
        append_row(ws, [])
        append_row(ws, ["Knelpunten"])
        ws.cell(row=ws.max_row, column=1).font = HEADER
        for text in result.conflicts:
            append_row(ws, ["", text])
            ws.cell(row=ws.max_row, column=2).alignment = Alignment(wrap_text=True)

    if len(result.plan):
        per_provider = result.plan.pivot_table(
            index=["provider", "care_form"], columns="year", values="beds", aggfunc="sum"
        ).reset_index()
        per_provider = per_provider.rename(
            columns={"provider": "Aanbieder", "care_form": "Verblijfsvorm"}
        )
        _sheet(wb.create_sheet("per aanbieder"), per_provider)
        per_year = (
            result.plan.groupby(["care_form", "year"])
            .agg(
                bedden=("beds", "sum"),
                afbouw=("afbouw", "sum"),
                opbouw=("opbouw", "sum"),
                kosten_eur=("cost_eur", "sum"),
                nulmeting=("beds_0_meting", "sum"),
            )
            .reset_index()
        )
        per_year["minimaal_nodig"] = [
            result.data.need.get((f, int(y)))
            for f, y in zip(per_year["care_form"], per_year["year"], strict=True)
        ]
        per_year = per_year.rename(
            columns={
                "care_form": "Verblijfsvorm",
                "year": "Jaar",
                "bedden": "Bedden (plan)",
                "afbouw": "Afbouw",
                "opbouw": "Opbouw",
                "kosten_eur": "Kosten (EUR)",
                "nulmeting": "0-meting",
                "minimaal_nodig": "Minimaal nodig",
            }
        )
        _sheet(wb.create_sheet("per jaar"), per_year, money=("Kosten (EUR)",))
    doelen = wb.create_sheet("doelen")
    if len(result.targets):
        table = result.targets.rename(
            columns={
                "target": "Doel",
                "care_forms": "Verblijfsvormen",
                "year": "Jaar",
                "kind": "Soort",
                "share_of_0_meting": "Aandeel van 0-meting",
                "baseline_beds": "0-meting (bedden)",
                "bound_beds": "Grens (bedden)",
                "planned_beds": "Gepland (bedden)",
                "met": "Gehaald",
            }
        )
        table["Soort"] = table["Soort"].map({"max": "hoogstens", "min": "minstens"})
        table["Gehaald"] = table["Gehaald"].map({True: "ja", False: "nee"})
        _sheet(doelen, table)
        column = list(table.columns).index("Gehaald") + 1
        for row in doelen.iter_rows(min_row=2):
            row[column - 1].fill = GREEN if row[column - 1].value == "ja" else RED
    if len(result.service_levels):
        _norms_sheet(wb.create_sheet("normen"), result.service_levels, names)
    ombouw = result.ombouw.rename(
        columns={
            "year": "Jaar",
            "beds_closed": "Bedden gesloten t.o.v. 0-meting",
            "budget_freed_eur": "Vrijgekomen budget voor ambulante hulp (EUR per jaar)",
        }
    )
    _sheet(
        wb.create_sheet("ombouwbudget"),
        ombouw,
        money=("Vrijgekomen budget voor ambulante hulp (EUR per jaar)",),
    )
    if result.reference_source is not None:
        _changes_sheet(wb.create_sheet(CHANGES_SHEET), result, names, scenario)
    wb.save(path)
    return path


CHANGES_SHEET = "Wijzigingen t.o.v. afspraak"


def _changes_sheet(
    ws: Worksheet, result: AfbouwResult, names: dict[str, str], scenario: Scenario
) -> None:
    """Every cell that differs from the agreed plan, with the reason; more green, fewer red."""
    providers = {str(k): str(v) for k, v in scenario.model.providers["name"].items()}
    append_row(ws, [f"Wijzigingen ten opzichte van de afspraak ({result.reference_source})"])
    ws.cell(row=1, column=1).font = HEADER
    header = [
        "Aanbieder",
        "Naam aanbieder",
        "Verblijfsvorm",
        "Jaar",
        "Afspraak (bedden)",
        "Plan (bedden)",
        "Verschil (bedden)",
        "Reden",
    ]
    append_row(ws, header)
    for cell in ws[2]:
        cell.font = HEADER
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if result.changes.empty:
        append_row(ws, ["Het plan houdt de afspraak: geen enkele cel verandert."])
    for row in result.changes.to_dict(orient="records"):
        change = int(row["change_vs_reference"])
        append_row(
            ws,
            [
                str(row["provider"]),
                providers.get(str(row["provider"]), str(row["provider"])),
                names.get(str(row["care_form"]), str(row["care_form"])),
                int(row["year"]),
                int(row["reference_beds"]),
                int(row["beds"]),
                change,
                str(row["reason"]),
            ],
        )
        last = ws.max_row
        for column in (5, 6):
            ws.cell(row=last, column=column).number_format = "#,##0"
        ws.cell(row=last, column=7).number_format = "+#,##0;-#,##0;0"
        ws.cell(row=last, column=7).fill = GREEN if change > 0 else RED
        ws.cell(row=last, column=8).alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    for i, width in enumerate((10, 30, 26, 8, 12, 12, 12, 90), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _norms_sheet(ws: Worksheet, judged: pd.DataFrame, names: dict[str, str]) -> None:
    """Every norm per care form and year: mean, 95% interval and the verdict, coloured."""
    header = ["Zorgvorm", "Jaar", "Norm", "Gemiddeld", "95%-interval van", "tot", "Oordeel"]
    append_row(ws, header)
    for cell in ws[1]:
        cell.font = HEADER
    for row in judged.to_dict(orient="records"):
        norm = Norm.of_row(row)
        append_row(
            ws,
            [
                names.get(str(row["care_form"]), str(row["care_form"])),
                int(row["year"]),
                norm.describe(),
                clean(row["mean"]),
                clean(row["ci_low"]),
                clean(row["ci_high"]),
                VERDICTS_NL.get(str(row["verdict"]), str(row["verdict"])),
            ],
        )
        last = ws.max_row
        for column in (4, 5, 6):
            ws.cell(row=last, column=column).number_format = "0.0%"
        fill = VERDICT_FILL.get(str(row["verdict"]))
        if fill is not None:
            ws.cell(row=last, column=7).fill = fill
    ws.freeze_panes = "A2"
    for i, width in enumerate((26, 8, 48, 12, 16, 10, 34), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def plan_chart(scenario: Scenario, result: AfbouwResult, path: Path) -> Path:
    """Beds per care form per year against the need, the 0-meting and the targets."""
    names = scenario.model.care_forms["name"]
    totals = result.plan.groupby(["care_form", "year"])["beds"].sum()
    forms = list(names.index)
    fig, axes = plt.subplots(1, len(forms), figsize=(3.3 * len(forms), 3.8), squeeze=False)
    years = result.data.years
    for ax, fid in zip(axes[0], forms, strict=True):
        planned = [int(totals.get((fid, y), 0)) for y in years]
        ax.plot(years, planned, marker="o", color="black", label="Plan")
        need = [result.data.need.get((fid, y)) for y in years]
        ax.plot(
            years,
            [math.nan if v is None else v for v in need],
            ls=":",
            color="tab:gray",
            label="Minimaal nodig",
        )
        base = int(
            result.plan[result.plan["care_form"] == fid]
            .groupby("provider")["beds_0_meting"]
            .first()
            .sum()
        )
        ax.axhline(base, ls="--", lw=0.8, color="tab:blue", label="0-meting")
        for t in result.data.targets:
            if t.care_forms == (fid,):
                shown = [y for y in years if y >= t.year]
                ax.step(
                    shown,
                    [t.bound_beds] * len(shown),
                    where="post",
                    color="tab:red",
                    lw=1.5,
                    label="Doel",
                )
        ax.set_title(str(names[fid]), fontsize=10)
        ax.set_ylim(bottom=0)
        dutch_axes(ax, years=list(years))
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    axes[0][0].set_ylabel("bedden")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Afbouwplan: {scenario.name}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def provider_chart(scenario: Scenario, result: AfbouwResult, path: Path) -> Path:
    """Beds per provider and year, one panel per care form."""
    forms = list(scenario.model.care_forms.index)
    fig, axes = plt.subplots(1, len(forms), figsize=(3.3 * len(forms), 3.8), squeeze=False)
    for ax, fid in zip(axes[0], forms, strict=True):
        part = result.plan[result.plan["care_form"] == fid]
        for provider, g in part.groupby("provider"):
            if g["beds"].max() > 0:
                ax.plot(g["year"], g["beds"], marker=".", label=str(provider))
        ax.set_title(str(scenario.model.care_forms.at[fid, "name"]), fontsize=10)
        ax.set_ylim(bottom=0)
        dutch_axes(ax, years=list(result.data.years))
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("bedden per aanbieder")
    fig.suptitle("Afbouw en opbouw per aanbieder", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_afbouw(scenario: Scenario, result: AfbouwResult, out: Path) -> dict[str, Path]:
    """Write every afbouw output to ``out``; return the files by name."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["json"] = out / "plan.json"
    files["json"].write_text(
        json.dumps(plan_json(scenario, result), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    if len(result.plan):
        files["plan"] = out / "plan.csv"
        write_csv(result.plan, files["plan"])
        files["targets"] = out / "targets.csv"
        write_csv(result.targets, files["targets"])
        if result.reference_source is not None:
            files["changes"] = out / "changes.csv"
            write_csv(result.changes, files["changes"])
        files["service_levels"] = out / "plan_service_levels.csv"
        write_csv(result.service_levels, files["service_levels"])
        files["chart"] = plan_chart(scenario, result, out / "plan.png")
        files["providers_chart"] = provider_chart(scenario, result, out / "plan_providers.png")
    files["workbook"] = write_workbook(scenario, result, out / "plan.xlsx")
    return files
