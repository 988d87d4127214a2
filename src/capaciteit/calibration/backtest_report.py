"""The backtest's report: a table per care form and quarter, the coverage, and fan charts.

``backtest.csv`` has one row per care form, quarter and measure; ``dekking.csv`` the
coverage and error per measure; ``backtest.xlsx`` both with a Dutch explanation; one
``backtest_<care_form>.png`` per care form shows the prediction band (95% light, 50% dark,
the mean as a line) with the realised quarters as dots (black inside the band, red crosses
outside it).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from openpyxl import Workbook

from capaciteit.calibration.backtest import Backtest
from capaciteit.core import nl
from capaciteit.realisation.band import MEASURES, MEASURES_NL
from capaciteit.realisation.charts import BAND_COLOUR, OFF_COLOUR, TITLES, UNITS
from capaciteit.results.cells import append_row, write_csv
from capaciteit.results.charts import dutch_axes, shared_legend
from capaciteit.results.sheets import Column, write_table

QUARTER_COLUMNS = (
    Column("zorgvorm", "text"),
    Column("kwartaal", "code"),
    Column("grootheid", "text"),
    Column("voorspeld (gemiddelde)", "decimal"),
    Column("band laag (2,5%)", "decimal"),
    Column("band hoog (97,5%)", "decimal"),
    Column("gerealiseerd", "decimal"),
    Column("binnen de band", "verdict"),
    Column("absolute fout", "share_1"),
)
COVERAGE_COLUMNS = (
    Column("grootheid", "text"),
    Column("vergeleken", "count"),
    Column("binnen de band", "count"),
    Column("dekking", "share_1"),
    Column("gemiddelde absolute fout (MAPE)", "share_1"),
)


def write_backtest_report(result: Backtest, out: Path) -> dict[str, Path]:
    """Write the backtest's tables, workbook and charts to ``out``; return them by name."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "backtest": write_csv(result.table, out / "backtest.csv"),
        "coverage": write_csv(result.coverage, out / "dekking.csv"),
        "workbook": _workbook(result, out / "backtest.xlsx"),
    }
    names = _names(result)
    for form in result.table["care_form"].unique():
        path = out / f"backtest_{form}.png"
        files[f"chart_{form}"] = fan_chart(result, str(form), names.get(str(form), str(form)), path)
    return files


def _names(result: Backtest) -> dict[str, str]:
    return {str(k): str(v) for k, v in result.model.care_forms["name"].items()}


def coverage_sentence(result: Backtest) -> str:
    """Say in one Dutch sentence how many realised quarters fell inside the band."""
    row = result.coverage[result.coverage["measure"] == "alle"].iloc[0]
    if int(row["cells"]) == 0:
        return "Geen kwartaal na de knip is al in de gegevens te zien."
    return (
        f"{nl.number(row['inside'])} van de {nl.number(row['cells'])} gerealiseerde waarden "
        f"({nl.percent(row['coverage'])}) liggen binnen de 95%-band; gemiddelde absolute "
        f"fout van de voorspelling {nl.percent(row['mape'], 1)}."
    )


def _workbook(result: Backtest, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Toelichting"
    names = _names(result)
    lines = [
        f"Backtest vanaf {nl.date(result.cut)}",
        "",
        f"Het model is gekalibreerd op de verblijven tot {nl.date(result.cut)} en daarna "
        f"{nl.number(len(result.quarters))} kwartalen gesimuleerd "
        f"({nl.number(result.replications)} replicaties, seed {result.seed}), vanaf de "
        "werkelijke toestand op die dag: "
        f"{nl.number(result.occupants)} jeugdigen in zorg, elk met de tijd die ze al in zorg "
        f"waren, en {nl.number(result.waiting)} op een wachtlijst voor een volle zorgvorm. "
        f"{nl.number(result.waiting_not_for_a_bed)} verwezen jeugdigen wachtten op iets "
        "anders dan een bed (hun zorgvorm had plaats): het model kent dat wachten niet en "
        "telt hun latere start al in de instroom, dus zij beginnen niet op de wachtlijst.",
        "De band is het gebied waarin 95% van de gesimuleerde kwartalen valt. Een juist model "
        "heeft ongeveer 95% van de gerealiseerde kwartalen binnen de band. De band bevat het "
        "toeval in instroom en verblijfsduur en de onzekerheid van de geschatte instroom en "
        "gemiddelde verblijfsduur (elke replicatie trekt die opnieuw); de doorstroom en de "
        "vorm van de verblijfsduur gelden zoals geschat, dus iets minder dan 95% is normaal.",
        "Een reeks kwartalen aan één kant van de band wijst op iets wat het model niet kent, "
        "zoals een stijgende instroom.",
        "",
        coverage_sentence(result),
    ]
    for line in lines:
        append_row(ws, [line])
    ws.column_dimensions["A"].width = 110
    rows = []
    verdicts: list[str | None] = []
    for row in result.table.to_dict(orient="records"):
        known = not math.isnan(float(row["realised"]))
        rows.append(
            [
                names.get(str(row["care_form"]), str(row["care_form"])),
                str(row["quarter"]),
                MEASURES_NL[str(row["measure"])],
                float(row["predicted"]),
                float(row["low"]),
                float(row["high"]),
                float(row["realised"]) if known else "nog niet bekend",
                ("binnen" if row["inside"] else "buiten") if known else "",
                float(row["ape"]),
            ]
        )
        verdicts.append(("met" if row["inside"] else "missed") if known else None)
    write_table(wb.create_sheet("Per kwartaal"), QUARTER_COLUMNS, rows, verdicts=verdicts)
    coverage_rows = [
        [
            MEASURES_NL.get(str(r["measure"]), str(r["measure"])),
            int(r["cells"]),
            int(r["inside"]),
            float(r["coverage"]),
            float(r["mape"]),
        ]
        for r in result.coverage.to_dict(orient="records")
    ]
    write_table(wb.create_sheet("Dekking"), COVERAGE_COLUMNS, coverage_rows)
    wb.save(path)
    return path


def fan_chart(result: Backtest, form: str, name: str, path: Path) -> Path:
    """Draw the prediction band of ``form`` per measure with the realised quarters."""
    rows = result.table[result.table["care_form"] == form]
    measures = [
        m
        for m in MEASURES
        if m != "waiting" or rows.loc[rows["measure"] == m, "realised"].notna().any()
    ]
    fig, axes = plt.subplots(1, len(measures), figsize=(4.4 * len(measures), 3.3), squeeze=False)
    for ax, measure in zip(axes[0], measures, strict=True):
        mine = rows[rows["measure"] == measure].reset_index(drop=True)
        x = list(range(len(mine)))
        ax.fill_between(
            x, mine["low"], mine["high"], color=BAND_COLOUR, alpha=0.18, lw=0, label="95%-band"
        )
        ax.fill_between(
            x, mine["q25"], mine["q75"], color=BAND_COLOUR, alpha=0.3, lw=0, label="50%-band"
        )
        ax.plot(x, mine["predicted"], color=BAND_COLOUR, lw=1.2, label="Voorspeld")
        known = mine["realised"].notna()
        inside = known & mine["inside"].fillna(False).astype(bool)
        outside = known & ~mine["inside"].fillna(False).astype(bool)
        ax.scatter(
            mine.index[inside],
            mine.loc[inside, "realised"],
            color="black",
            s=22,
            zorder=3,
            label="Gerealiseerd",
        )
        if outside.any():
            ax.scatter(
                mine.index[outside],
                mine.loc[outside, "realised"],
                color=OFF_COLOUR,
                marker="X",
                s=60,
                zorder=4,
                label="Buiten de band",
            )
        ax.set_xticks(x, list(mine["quarter"]), rotation=45, fontsize=8)
        ax.set_title(TITLES[measure], fontsize=10, loc="left")
        ax.set_ylabel(f"{MEASURES_NL[measure]} ({UNITS[measure]})")
        if measure != "occupied":
            ax.set_ylim(bottom=0)
        dutch_axes(ax)
    shared_legend(fig, axes[0])
    fig.suptitle(f"{name}: backtest vanaf {nl.date(result.cut)}", fontsize=12)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["coverage_sentence", "fan_chart", "write_backtest_report"]
