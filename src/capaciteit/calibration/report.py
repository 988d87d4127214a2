"""The calibration report: what was estimated from the stay records, and how sure it is.

Idea
----
A calibration (:class:`~capaciteit.calibration.model.Calibration`) turns stay records into a
region model. Before a region plans with that model, someone who knows the region checks
it: are the numbers plausible, how many records does each rest on, and does the chosen
length-of-stay distribution follow what the records show? The report answers that in one
workbook and three charts, Dutch labels and Dutch numbers throughout:

``kalibratie.xlsx``
    *Toelichting*: the records (window, extract date, peildatum, stays), how to read an
    interval and ``n``, the distributions tried and chosen, and every note of the
    calibration. *Schattingen*: every estimated number with its 95% interval, the records
    it rests on and a note. *Verblijfsduur*: every distribution fitted per care form with
    its AIC, the chosen one marked. *Instroom per kwartaal*: entries from home per quarter,
    the part of the quarter observed and the rate per year. *Doorstroom*: where stays went,
    counted, as shares and with an interval.
``verblijfsduur.png``
    per care form the Kaplan-Meier curve S(t), the share of stays still going on after t
    days, estimated from the records without assuming a shape (stays still going on at the
    extract date count as long as they were seen), with its 95% band; over it the S(t) of
    the chosen distribution. Where the fitted curve leaves the band the distribution does
    not describe the records there, typically in the long tail.
``instroom.png``
    entries per quarter as a *rate per year*, ``entries / exposure_years``: a quarter of
    which a month was observed would otherwise look like a drop in instroom. Partly observed
    quarters are hatched and carry the part observed.
``doorstroom.png``
    per care form one bar of the shares of destinations, the counts written on them.

Numbers stay numbers in the workbook with a number format (:mod:`capaciteit.results.sheets`),
so ``0.35`` reads ``35,0%`` in a Dutch locale; a missing number is an empty cell, never
``nan``. Every cell goes through :func:`capaciteit.results.cells.append_row`, so a note or
a provider code starting with ``=`` stays text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.calibration.labels import (
    Forms,
    chosen_families,
    family_nl,
    quarter_rates,
    sorted_records,
    stays_per_form,
    yes,
)
from capaciteit.calibration.model import QUANTITIES, Calibration
from capaciteit.calibration.report_charts import instroom_chart, routing_chart, survival_chart
from capaciteit.core import nl
from capaciteit.realisation.quarters import Quarter
from capaciteit.results.sheets import BOLD, COUNT, SHARE_1, Column, plain, write_table

WORKBOOK = "kalibratie.xlsx"
SURVIVAL_CHART = "verblijfsduur.png"
INSTROOM_CHART = "instroom.png"
ROUTING_CHART = "doorstroom.png"

RATE = "#,##0.0"
"""Children per year, with one decimal: ``23,4``."""
FACTOR = "0.00"
"""Factors and coefficients of variation: ``1,05``."""
QUANTITY_FORMATS = {
    "instroom": RATE,
    "seasonality": FACTOR,
    "routing": SHARE_1,
    "los_mean": COUNT,
    "los_cv": FACTOR,
    "los_provider_mean": COUNT,
    "age_share": SHARE_1,
    "occupied": COUNT,
    "beds": COUNT,
}
"""Number format of an estimate and its interval, by quantity (others: :data:`FACTOR`)."""
# --------------------------------------------------------------------------------------
# the workbook
# --------------------------------------------------------------------------------------


def _table(
    ws: Worksheet,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    formats: Sequence[Mapping[int, str]] = (),
    empty: str = "Geen gegevens.",
) -> int:
    """Write a table (:func:`~capaciteit.results.sheets.write_table`); return its header row.

    ``formats`` gives per row the number formats that differ from the column's kind (0-based
    column -> format): an estimate is a share in one row and days in the next.
    """
    first, _ = write_table(ws, columns, rows, freeze_columns=1, empty=empty)
    for offset, row_formats in enumerate(formats, start=1):
        for column, fmt in row_formats.items():
            ws.cell(row=first + offset, column=column + 1).number_format = fmt
    return first


def _explanation(ws: Worksheet, calibration: Calibration, forms: Forms) -> None:
    """Write the Toelichting sheet: where the numbers come from and how to read them."""
    stays = stays_per_form(calibration)
    n = sum(s for s, _ in stays.values())
    events = sum(e for _, e in stays.values())
    per_form = nl.join(
        f"{forms.name(f)} {nl.number(stays[f][0])} ({nl.number(stays[f][1])} afgesloten)"
        for f in sorted(stays, key=forms.key)
    )
    fits = calibration.los_fits
    families = [str(f) for f in fits["family"].unique()] if "family" in fits.columns else []
    chosen = chosen_families(calibration)
    rows: list[list[Any]] = [
        [
            "Waarneemvenster",
            f"{nl.date(calibration.window_start)} tot de extractiedatum "
            f"{nl.date(calibration.extract_date)}: in dit venster is elk begin en einde van "
            "een verblijf gezien. Verblijven die eerder begonnen tellen mee vanaf het begin "
            "van het venster; verblijven die op de extractiedatum nog lopen, tellen mee "
            "zolang ze gezien zijn.",
        ],
        [
            "Peildatum (0-meting)",
            f"{nl.date(calibration.zero_date)}: de bezette bedden en de bedden per aanbieder "
            "zijn op deze dag geteld.",
        ],
        [
            "Verblijven",
            f"{nl.plural(n, 'verblijf', 'verblijven')}, waarvan {nl.number(events)} "
            f"afgesloten" + (f": {per_form}." if per_form else "."),
        ],
        [
            "95%-interval",
            "Elke schatting heeft een interval van laag tot hoog: met de gebruikte methode "
            "bevat zo'n interval in 95 van de 100 gevallen de ware waarde. Hoe breder het "
            "interval, hoe onzekerder de schatting. Een telling op de peildatum heeft geen "
            "interval (leeg).",
        ],
        [
            "Aantal (n)",
            "Het aantal verblijven, instromers of afgesloten verblijven waarop de schatting "
            "rust. Bij weinig records is het interval breed; bij te weinig is er geen "
            "schatting en staat er een opmerking.",
        ],
        [
            "Verblijfsduur",
            "Per zorgvorm zijn de verdelingen "
            + (nl.join(family_nl(f) for f in families) or nl.MISSING)
            + " met de meest aannemelijke parameters gepast; de verdeling met de laagste "
            "AIC (aannemelijkheid, met een straf per parameter) is gekozen en in het model "
            "geschreven. Zie het blad 'Verblijfsduur' en de grafiek verblijfsduur.png "
            "(Kaplan-Meiercurve tegen de gekozen verdeling).",
        ],
        [
            "Gekozen verdeling",
            nl.join(
                f"{forms.name(f)}: {family_nl(family)} (AIC {nl.number(aic, 1)})"
                for f, (family, aic) in sorted(chosen.items(), key=lambda i: forms.key(i[0]))
            )
            or nl.MISSING,
        ],
        [
            "Instroom",
            "Instroom vanuit huis per kwartaal, omgerekend naar kinderen per jaar: het aantal "
            "gedeeld door de waargenomen tijd. Een kwartaal dat maar deels in het venster "
            "valt, telt naar rato (blad 'Instroom per kwartaal', grafiek instroom.png).",
        ],
        [
            "Doorstroom",
            "Waar jeugdigen na een afgesloten verblijf heen gingen, als aantal en aandeel "
            "per zorgvorm (blad 'Doorstroom', grafiek doorstroom.png).",
        ],
    ]
    rows += [["Opmerking", note] for note in calibration.notes]
    if not calibration.notes:
        rows.append(["Opmerking", "Geen opmerkingen: alles kon uit de records worden geschat."])
    _table(ws, (Column("Onderwerp"), Column("Toelichting", "wrap")), rows)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100


ESTIMATE_COLUMNS_NL = (
    Column("Grootheid"),
    Column("Zorgvorm"),
    Column("Sleutel", "code"),
    Column("Schatting", "count"),
    Column("95%-interval laag", "count"),
    Column("95%-interval hoog", "count"),
    Column("Aantal (n)", "count"),
    Column("Opmerking", "wrap"),
)


def _estimates(ws: Worksheet, calibration: Calibration, forms: Forms) -> None:
    """Every estimate with its interval, n and note; formats by quantity."""
    rows, formats = [], []
    for r in calibration.estimates.to_dict(orient="records"):
        quantity = str(r["quantity"])
        rows.append(
            [
                QUANTITIES.get(quantity, quantity),
                forms.name(r["care_form"]) if r["care_form"] else "",
                str(plain(r["key"]) or ""),
                plain(r["estimate"]),
                plain(r["low"]),
                plain(r["high"]),
                plain(r["n"]),
                str(plain(r["note"]) or "") or None,
            ]
        )
        fmt = QUANTITY_FORMATS.get(quantity, FACTOR)
        formats.append({3: fmt, 4: fmt, 5: fmt})
    _table(ws, ESTIMATE_COLUMNS_NL, rows, formats)


LOS_COLUMNS = (
    Column("Zorgvorm"),
    Column("Verdeling"),
    Column("AIC", "count"),
    Column("Gemiddelde (dagen)", "count"),
    Column("Variatiecoëfficiënt", "count"),
    Column("Gekozen"),
    Column("Verblijven", "count"),
    Column("Afgesloten", "count"),
)


def _fits(ws: Worksheet, calibration: Calibration, forms: Forms) -> None:
    """Every fitted distribution per care form, the chosen ones in bold."""
    records = sorted_records(calibration.los_fits, forms)
    rows = [
        [
            forms.name(r["care_form"]),
            family_nl(str(r["family"])),
            plain(r["aic"]),
            plain(r["mean_days"]),
            plain(r["cv"]),
            "ja" if yes(r["chosen"]) else "nee",
            plain(r["n"]),
            plain(r["events"]),
        ]
        for r in records
    ]
    first = _table(ws, LOS_COLUMNS, rows, [{2: RATE, 4: FACTOR}] * len(rows))
    for offset, r in enumerate(records, start=1):
        if yes(r["chosen"]):
            for cell in ws[first + offset]:
                cell.font = BOLD


INSTROOM_COLUMNS = (
    Column("Zorgvorm"),
    Column("Kwartaal", "code"),
    Column("Instroom (kinderen)", "count"),
    Column("Waargenomen (jaar)", "count"),
    Column("Deel van het kwartaal waargenomen", "share"),
    Column("Instroom per jaar", "count"),
)


def _instroom(ws: Worksheet, calibration: Calibration, forms: Forms) -> None:
    """Entries per care form and quarter, with the rate per year."""
    records = sorted_records(quarter_rates(calibration), forms)
    records.sort(key=lambda r: (forms.key(r["care_form"]), Quarter.of(r["quarter"])))
    rows = [
        [
            forms.name(r["care_form"]),
            str(r["quarter"]),
            plain(r["entries"]),
            plain(r["exposure_years"]),
            plain(r["observed_share"]),
            plain(r["rate"]),
        ]
        for r in records
    ]
    _table(ws, INSTROOM_COLUMNS, rows, [{3: FACTOR, 5: RATE}] * len(rows))


ROUTING_COLUMNS = (
    Column("Van"),
    Column("Naar"),
    Column("Aantal", "count"),
    Column("Aandeel", "share_1"),
    Column("95%-interval laag", "share_1"),
    Column("95%-interval hoog", "share_1"),
)


def _routing(ws: Worksheet, calibration: Calibration, forms: Forms) -> None:
    """Where stays went per care form: counts, shares and their intervals."""
    rows = [
        [
            forms.name(r["from_care_form"]),
            forms.place(r["to"]),
            plain(r["count"]),
            plain(r["share"]),
            plain(r["low"]),
            plain(r["high"]),
        ]
        for r in sorted_records(calibration.routing_counts, forms, "from_care_form")
    ]
    _table(ws, ROUTING_COLUMNS, rows)


def write_workbook(calibration: Calibration, path: Path) -> Path:
    """Write ``kalibratie.xlsx`` (see the module) to ``path``; return ``path``."""
    forms = Forms(calibration)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Toelichting"
    _explanation(ws, calibration, forms)
    _estimates(wb.create_sheet("Schattingen"), calibration, forms)
    _fits(wb.create_sheet("Verblijfsduur"), calibration, forms)
    _instroom(wb.create_sheet("Instroom per kwartaal"), calibration, forms)
    _routing(wb.create_sheet("Doorstroom"), calibration, forms)
    wb.save(path)
    return path


def write_report(calibration: Calibration, out: Path) -> list[Path]:
    """Write the workbook and the three charts (see the module) into ``out``.

    ``out`` is made when it does not exist. Returns the written paths: the workbook,
    then the length-of-stay, instroom and doorstroom charts.
    """
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_workbook(calibration, out / WORKBOOK),
        survival_chart(calibration, out / SURVIVAL_CHART),
        instroom_chart(calibration, out / INSTROOM_CHART),
        routing_chart(calibration, out / ROUTING_CHART),
    ]
