"""The differences between two plan versions as a sheet and a chart for an ontwikkeltafel.

The sheet *Verschillen* reads top to bottom the way a table discusses an edit: which two
versions, how many cells differ, then each changed cell (provider and care form by name,
beds and euros in both, the difference green for more beds and red for fewer), then the
totals per care form and year, then every target with whether each version meets it.
Numbers are stored as numbers with formats (thousands separators, euros), so Excel shows
them in the reader's Dutch locale (``1.234``, ``€ 1.234``) and they still add up; every
text goes through :mod:`capaciteit.results.cells`, so an id that looks like a formula
stays text. The chart shows the change in beds per care form and year.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.plans.diff import PlanDiff
from capaciteit.results.cells import append_row
from capaciteit.results.charts import dutch_axes

SHEET = "Verschillen"
GREEN = PatternFill("solid", fgColor="C6EFCE")
RED = PatternFill("solid", fgColor="FFC7CE")
BOLD = Font(bold=True)
BEDS = "#,##0"
CHANGE = "+#,##0;-#,##0;0"
EURO = '"€" #,##0;-"€" #,##0'
EURO_CHANGE = '+"€" #,##0;-"€" #,##0;"€" 0'
_KIND = {"max": "hoogstens", "min": "minstens"}


def _name(names: Mapping[str, str], code: str) -> str:
    return str(names.get(code, code))


def _header(ws: Worksheet, values: list[str]) -> None:
    for cell in append_row(ws, values):
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _formats(ws: Worksheet, formats: Mapping[int, str]) -> None:
    """Set number formats in the last row, by column number."""
    for column, fmt in formats.items():
        ws.cell(row=ws.max_row, column=column).number_format = fmt


def _fill(ws: Worksheet, column: int, change: int) -> None:
    if change:
        ws.cell(row=ws.max_row, column=column).fill = GREEN if change > 0 else RED


def write_diff_sheet(
    workbook: Workbook,
    diff: PlanDiff,
    names: Mapping[str, str],
    title_a: str,
    title_b: str,
) -> None:
    """Add the sheet *Verschillen* (plan B against plan A) to ``workbook``.

    ``names`` maps provider codes and care form ids to the names shown (a code without a
    name is shown as it is); ``title_a`` and ``title_b`` name the two versions.
    """
    ws = workbook.create_sheet(SHEET)
    append_row(ws, [f"Verschillen tussen twee afbouwplannen: B ({title_b}) t.o.v. A ({title_a})"])
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    append_row(ws, ["Plan A", title_a])
    append_row(ws, ["Plan B", title_b])
    append_row(
        ws,
        [
            "Gewijzigde cellen",
            diff.changed_cells,
        ],
    )
    total_change = int(diff.totals["change_eur"].sum()) if len(diff.totals) else 0
    append_row(ws, ["Verschil in kosten over alle jaren", total_change])
    _formats(ws, {2: EURO_CHANGE})
    append_row(ws, [])

    _header(ws, ["Gewijzigde cellen"])
    cell_header = [
        "Aanbieder",
        "Code",
        "Verblijfsvorm",
        "Jaar",
        "Bedden A",
        "Bedden B",
        "Verschil (bedden)",
        "Kosten A",
        "Kosten B",
        "Verschil (kosten)",
    ]
    _header(ws, cell_header)
    changed = diff.cells[diff.cells["changed"]]
    if changed.empty:
        append_row(ws, ["Geen verschillen: beide plannen hebben in elke cel evenveel bedden."])
    for row in changed.to_dict(orient="records"):
        append_row(
            ws,
            [
                _name(names, str(row["provider"])),
                str(row["provider"]),
                _name(names, str(row["care_form"])),
                int(row["year"]),
                int(row["beds_a"]),
                int(row["beds_b"]),
                int(row["change_beds"]),
                int(row["cost_a_eur"]),
                int(row["cost_b_eur"]),
                int(row["change_eur"]),
            ],
        )
        _formats(ws, {5: BEDS, 6: BEDS, 7: CHANGE, 8: EURO, 9: EURO, 10: EURO_CHANGE})
        _fill(ws, 7, int(row["change_beds"]))
    append_row(ws, [])

    _header(ws, ["Totaal per verblijfsvorm en jaar"])
    _header(
        ws,
        [
            "Verblijfsvorm",
            "Jaar",
            "Bedden A",
            "Bedden B",
            "Verschil (bedden)",
            "Kosten A",
            "Kosten B",
            "Verschil (kosten)",
        ],
    )
    for row in diff.totals.to_dict(orient="records"):
        append_row(
            ws,
            [
                _name(names, str(row["care_form"])),
                int(row["year"]),
                int(row["beds_a"]),
                int(row["beds_b"]),
                int(row["change_beds"]),
                int(row["cost_a_eur"]),
                int(row["cost_b_eur"]),
                int(row["change_eur"]),
            ],
        )
        _formats(ws, {3: BEDS, 4: BEDS, 5: CHANGE, 6: EURO, 7: EURO, 8: EURO_CHANGE})
        _fill(ws, 5, int(row["change_beds"]))

    if len(diff.targets):
        append_row(ws, [])
        _header(ws, ["Doelen"])
        _header(
            ws,
            ["Doel", "Jaar", "Grens (bedden)", "Plan A", "Plan B", "Gehaald in A", "Gehaald in B"],
        )
        for row in diff.targets.to_dict(orient="records"):
            bound = (
                f"{_KIND.get(str(row['kind']), str(row['kind']))} {nl.number(row['bound_beds'])}"
            )
            append_row(
                ws,
                [
                    str(row["target"]),
                    int(row["year"]),
                    bound,
                    int(row["planned_a_beds"]),
                    int(row["planned_b_beds"]),
                    "ja" if row["met_a"] else "nee",
                    "ja" if row["met_b"] else "nee",
                ],
            )
            _formats(ws, {4: BEDS, 5: BEDS})
            for column, met in ((6, row["met_a"]), (7, row["met_b"])):
                ws.cell(row=ws.max_row, column=column).fill = GREEN if met else RED
    widths = (30, 10, 26, 8, 12, 12, 16, 16, 16, 18)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.column_dimensions["A"].width = 36


def write_diff_workbook(
    diff: PlanDiff, path: Path, names: Mapping[str, str], title_a: str, title_b: str
) -> Path:
    """Write a workbook with only the sheet *Verschillen* to ``path``; return ``path``."""
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    write_diff_sheet(workbook, diff, names, title_a, title_b)
    workbook.save(path)
    return path


def diff_chart(diff: PlanDiff, path: Path, names: Mapping[str, str]) -> Path:
    """Draw the change in beds (B minus A) per care form and year as bars; return ``path``.

    One panel per care form; more beds green, fewer red; Dutch labels and numbers.
    """
    totals = diff.totals
    forms = list(dict.fromkeys(str(f) for f in totals["care_form"])) or [""]
    years = sorted({int(y) for y in totals["year"]})
    fig, axes = plt.subplots(1, len(forms), figsize=(3.3 * len(forms), 3.6), squeeze=False)
    for ax, form in zip(axes[0], forms, strict=True):
        part = totals[totals["care_form"] == form]
        values = [int(v) for v in part["change_beds"]]
        shown = [int(y) for y in part["year"]]
        colours = ["tab:green" if v > 0 else "tab:red" for v in values]
        ax.bar(shown, values, color=colours, width=0.7)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(_name(names, form) if form else "Geen cellen", fontsize=10)
        dutch_axes(ax, years=years or None)
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, -1), max(high, 1))  # whole beds, and 0 in view
        if not any(values):
            ax.text(0.5, 0.65, "geen verschil", transform=ax.transAxes, ha="center", fontsize=8)
    axes[0][0].set_ylabel("verschil in bedden (B min A)")
    fig.suptitle("Verschil in bedden per verblijfsvorm en jaar", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
