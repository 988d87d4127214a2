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

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.calibration.model import QUANTITIES, Calibration
from capaciteit.core import nl
from capaciteit.domain.model import SINKS
from capaciteit.realisation.quarters import Quarter
from capaciteit.results.charts import FORM_LABELS, dutch_axes, shared_legend
from capaciteit.results.sheets import BOLD, COUNT, SHARE_1, Column, plain, write_table

WORKBOOK = "kalibratie.xlsx"
SURVIVAL_CHART = "verblijfsduur.png"
INSTROOM_CHART = "instroom.png"
ROUTING_CHART = "doorstroom.png"

FAMILY_NL = {
    "exponential": "exponentieel",
    "lognormal": "lognormaal",
    "weibull": "Weibull",
    "gamma": "gamma",
    "empirical": "empirisch",
}
DESTINATION_NL = {
    "thuis": "Thuis",
    "ambulant": "Ambulante hulp",
    "zelfstandig": "Zelfstandig",
    "wlz": "Wlz",
    "buiten_regio": "Buiten de regio",
    "": "Onbekend",
}
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
FULL_QUARTER = 0.99
"""A quarter is partly observed below this share; 1 day of 91 missing is 1,1%."""
DAYS_PER_YEAR = 365.25


class _Forms:
    """The care forms in the model's order, with their Dutch names."""

    def __init__(self, calibration: Calibration) -> None:
        self.names: dict[str, str] = {}
        table = calibration.tables.get("care_forms")
        if table is not None and "name" in table.columns:
            ids = table["care_form"] if "care_form" in table.columns else table.index
            for fid, name in zip(ids, table["name"], strict=True):
                if isinstance(name, str) and name:
                    self.names[str(fid)] = name
        order = list(self.names)
        for frame, column in (
            (calibration.los_fits, "care_form"),
            (calibration.survival, "care_form"),
            (calibration.instroom_quarters, "care_form"),
            (calibration.routing_counts, "from_care_form"),
            (calibration.estimates, "care_form"),
        ):
            if column in frame.columns:
                order += [str(f) for f in frame[column].unique() if str(f) not in order]
        self.order = [f for f in order if f]

    def name(self, form: object) -> str:
        """Name a care form in Dutch (its id when the model has no name for it)."""
        fid = str(form)
        return self.names.get(fid) or FORM_LABELS.get(fid, fid)

    def place(self, destination: object) -> str:
        """Name a destination in Dutch: a care form or a sink (``thuis``)."""
        to = str(destination)
        if to in self.names or to not in DESTINATION_NL:
            return self.name(to)
        return DESTINATION_NL[to]

    def key(self, form: object) -> int:
        """Sort by the model's order."""
        fid = str(form)
        return self.order.index(fid) if fid in self.order else len(self.order)

    def present(self, frame: pd.DataFrame, column: str = "care_form") -> list[str]:
        """Return the care forms that have rows in ``frame``, in the model's order."""
        found = {str(f) for f in frame[column]} if column in frame.columns else set()
        return sorted(found, key=lambda f: (self.key(f), f))


def _records(frame: pd.DataFrame, forms: _Forms, column: str = "care_form") -> list[dict[str, Any]]:
    """Rows of ``frame`` sorted by care form in the model's order (stable within a form)."""
    rows = [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]
    return sorted(rows, key=lambda r: forms.key(r[column]))


def _number(value: Any) -> float:
    """Return a cell as a float; missing as NaN."""
    value = plain(value)
    return math.nan if value is None else float(value)


def _yes(value: Any) -> bool:
    return bool(plain(value))


def _stays(calibration: Calibration) -> dict[str, tuple[int, int]]:
    """Stays and ended stays per care form (the same on each family's row)."""
    out: dict[str, tuple[int, int]] = {}
    for r in calibration.los_fits.to_dict(orient="records"):
        out.setdefault(str(r["care_form"]), (int(r["n"]), int(r["events"])))
    return out


def _chosen(calibration: Calibration) -> dict[str, tuple[str, float]]:
    """Return the chosen family and its AIC per care form."""
    fits = calibration.los_fits
    return {
        str(r["care_form"]): (str(r["family"]), _number(r["aic"]))
        for r in fits.to_dict(orient="records")
        if _yes(r["chosen"])
    }


def _family(family: str) -> str:
    return FAMILY_NL.get(family, family)


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


def _explanation(ws: Worksheet, calibration: Calibration, forms: _Forms) -> None:
    """Write the Toelichting sheet: where the numbers come from and how to read them."""
    stays = _stays(calibration)
    n = sum(s for s, _ in stays.values())
    events = sum(e for _, e in stays.values())
    per_form = nl.join(
        f"{forms.name(f)} {nl.number(stays[f][0])} ({nl.number(stays[f][1])} afgesloten)"
        for f in sorted(stays, key=forms.key)
    )
    fits = calibration.los_fits
    families = [str(f) for f in fits["family"].unique()] if "family" in fits.columns else []
    chosen = _chosen(calibration)
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
            + (nl.join(_family(f) for f in families) or nl.MISSING)
            + " met de meest aannemelijke parameters gepast; de verdeling met de laagste "
            "AIC (aannemelijkheid, met een straf per parameter) is gekozen en in het model "
            "geschreven. Zie het blad 'Verblijfsduur' en de grafiek verblijfsduur.png "
            "(Kaplan-Meiercurve tegen de gekozen verdeling).",
        ],
        [
            "Gekozen verdeling",
            nl.join(
                f"{forms.name(f)}: {_family(family)} (AIC {nl.number(aic, 1)})"
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


def _estimates(ws: Worksheet, calibration: Calibration, forms: _Forms) -> None:
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


def _fits(ws: Worksheet, calibration: Calibration, forms: _Forms) -> None:
    """Every fitted distribution per care form, the chosen ones in bold."""
    records = _records(calibration.los_fits, forms)
    rows = [
        [
            forms.name(r["care_form"]),
            _family(str(r["family"])),
            plain(r["aic"]),
            plain(r["mean_days"]),
            plain(r["cv"]),
            "ja" if _yes(r["chosen"]) else "nee",
            plain(r["n"]),
            plain(r["events"]),
        ]
        for r in records
    ]
    first = _table(ws, LOS_COLUMNS, rows, [{2: RATE, 4: FACTOR}] * len(rows))
    for offset, r in enumerate(records, start=1):
        if _yes(r["chosen"]):
            for cell in ws[first + offset]:
                cell.font = BOLD


def quarter_rates(calibration: Calibration) -> pd.DataFrame:
    """Entries per quarter with ``observed_share`` of the quarter, ``partial`` and ``rate``.

    ``rate`` is entries per year (``entries / exposure_years``, NaN without exposure); the
    observed share compares the exposure with the quarter's calendar length, so a quarter
    cut by the window start or the extract date is ``partial``.
    """
    q = calibration.instroom_quarters.copy()
    exposure = q["exposure_years"].astype(float)
    length = [
        (Quarter.of(label).next_first_day - Quarter.of(label).first_day).days / DAYS_PER_YEAR
        for label in q["quarter"]
    ]
    q["observed_share"] = (exposure / pd.Series(length, index=q.index, dtype=float)).clip(upper=1)
    q["partial"] = q["observed_share"] < FULL_QUARTER
    q["rate"] = q["entries"].astype(float) / exposure.where(exposure > 0)
    return q


INSTROOM_COLUMNS = (
    Column("Zorgvorm"),
    Column("Kwartaal", "code"),
    Column("Instroom (kinderen)", "count"),
    Column("Waargenomen (jaar)", "count"),
    Column("Deel van het kwartaal waargenomen", "share"),
    Column("Instroom per jaar", "count"),
)


def _instroom(ws: Worksheet, calibration: Calibration, forms: _Forms) -> None:
    """Entries per care form and quarter, with the rate per year."""
    records = _records(quarter_rates(calibration), forms)
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


def _routing(ws: Worksheet, calibration: Calibration, forms: _Forms) -> None:
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
        for r in _records(calibration.routing_counts, forms, "from_care_form")
    ]
    _table(ws, ROUTING_COLUMNS, rows)


def write_workbook(calibration: Calibration, path: Path) -> Path:
    """Write ``kalibratie.xlsx`` (see the module) to ``path``; return ``path``."""
    forms = _Forms(calibration)
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


# --------------------------------------------------------------------------------------
# the charts
# --------------------------------------------------------------------------------------

KM_COLOUR = "tab:blue"
FIT_COLOUR = "tab:red"


def _percent_axis(ax: Axes, axis: str = "y") -> None:
    """Write shares on an axis as Dutch percentages: ``0.25`` -> ``25%``."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: nl.percent(v)))


def _nothing(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _save(fig: Any, path: Path, title: str, bottom: float = 0.0) -> Path:
    """Title the figure, leave ``bottom`` (a share of its height) for a legend, save it."""
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def survival_chart(calibration: Calibration, path: Path) -> Path:
    """Per care form the Kaplan-Meier curve with its band against the chosen fit."""
    forms = _Forms(calibration)
    shown = forms.present(calibration.survival)
    chosen, stays = _chosen(calibration), _stays(calibration)
    columns = min(3, max(1, len(shown)))
    rows = max(1, math.ceil(len(shown) / columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.4 * rows + 0.6), squeeze=False
    )
    panels = list(axes.flat)
    for ax, form in zip(panels, shown, strict=False):
        curve = calibration.survival[calibration.survival["care_form"] == form].sort_values("days")
        days = curve["days"].astype(float)
        ax.fill_between(
            days,
            curve["low"].astype(float),
            curve["high"].astype(float),
            step="post",
            color=KM_COLOUR,
            alpha=0.25,
            linewidth=0,
            label="95%-band",
        )
        ax.step(
            days, curve["survival"], where="post", color=KM_COLOUR, lw=1.3, label="Kaplan-Meier"
        )
        if form in chosen and curve["fitted"].notna().any():
            family, aic = chosen[form]
            ax.plot(
                days,
                curve["fitted"].astype(float),
                color=FIT_COLOUR,
                lw=1.5,
                ls="--",
                label=f"gekozen: {_family(family)} (AIC {nl.number(aic, 1)})",
            )
        n, events = stays.get(form, (0, 0))
        title = forms.name(form)
        if n:
            title += f": {nl.plural(n, 'verblijf', 'verblijven')}, {nl.number(events)} afgesloten"
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_xlabel("dagen sinds het begin van het verblijf")
        ax.set_ylabel("nog in zorg")
        ax.set_xlim(left=0)
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: nl.number(v)))
        _percent_axis(ax)
        ax.legend(fontsize=7, loc="upper right")
    for ax in panels[len(shown) :]:
        ax.set_axis_off()
    if not shown:
        _nothing(panels[0], "Geen verblijven om een verblijfsduur uit te schatten.")
    return _save(fig, path, "Verblijfsduur: Kaplan-Meier tegen de gekozen verdeling")


def instroom_chart(calibration: Calibration, path: Path) -> Path:
    """Per care form the instroom per quarter as kinderen per jaar, partly observed hatched."""
    forms = _Forms(calibration)
    rates = quarter_rates(calibration)
    shown = forms.present(rates)
    labels = [q.label for q in sorted({Quarter.of(q) for q in rates["quarter"]})]
    x = {label: i for i, label in enumerate(labels)}
    fig, axes = plt.subplots(
        max(1, len(shown)),
        1,
        figsize=(max(7.0, 0.45 * len(labels) + 3), 2.4 * max(1, len(shown)) + 0.8),
        squeeze=False,
        sharex=True,
    )
    panels = [row[0] for row in axes]
    for ax, form in zip(panels, shown, strict=False):
        part = rates[rates["care_form"] == form]
        whole = part[~part["partial"]]
        cut = part[part["partial"]]
        ax.bar(
            [x[str(q)] for q in whole["quarter"]],
            whole["rate"].astype(float),
            color=KM_COLOUR,
            label="kwartaal geheel waargenomen",
        )
        if len(cut):  # an empty bar set would still put a (solid) mark in the legend
            ax.bar(
                [x[str(q)] for q in cut["quarter"]],
                cut["rate"].fillna(0).astype(float),
                color="white",
                edgecolor=KM_COLOUR,
                hatch="//",
                label="kwartaal deels waargenomen",
            )
        for r in cut.to_dict(orient="records"):
            rate = _number(r["rate"])
            ax.annotate(
                f"{nl.percent(_number(r['observed_share']))} gezien",
                (x[str(r["quarter"])], 0 if math.isnan(rate) else rate),
                textcoords="offset points",
                xytext=(0, 2),
                ha="center",
                fontsize=7,
            )
        title = forms.name(form)
        exposure = float(part["exposure_years"].sum())
        if exposure > 0:
            mean = float(part["entries"].sum()) / exposure
            ax.axhline(mean, color="black", ls="--", lw=1, label="gemiddeld over het venster")
            title += f": gemiddeld {nl.number(mean, 1)} kinderen per jaar over het venster"
        highest = float(part["rate"].max()) if part["rate"].notna().any() else 0.0
        ax.set_ylim(0, 1.25 * highest if highest > 0 else 1.0)  # room for the labels
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel("kinderen per jaar")
        dutch_axes(ax, counts=False)
    if not shown:
        _nothing(panels[0], "Geen instroom in het waarneemvenster.")
        return _save(fig, path, "Instroom vanuit huis per kwartaal, omgerekend naar een jaar")
    panels[-1].set_xticks(
        range(len(labels)), labels, rotation=45 if len(labels) > 8 else 0, fontsize=8
    )
    panels[-1].set_xlabel("kwartaal")
    shared_legend(fig, panels, ncol=3)  # the same three marks in each panel
    bottom = 0.5 / fig.get_figheight()  # half an inch for the legend
    return _save(fig, path, "Instroom vanuit huis per kwartaal, omgerekend naar een jaar", bottom)


def routing_chart(calibration: Calibration, path: Path) -> Path:
    """Per care form one bar of the shares of destinations, the counts written on them."""
    forms = _Forms(calibration)
    counts = calibration.routing_counts
    shown = forms.present(counts, "from_care_form")
    found = {str(t) for t in counts["to"]} if "to" in counts.columns else set()
    rank = {d: i for i, d in enumerate([*forms.order, *SINKS])}
    destinations = sorted(found, key=lambda d: (rank.get(d, len(rank)), d))
    palette = plt.get_cmap("Set3")
    colours = {d: palette(i % palette.N) for i, d in enumerate(destinations)}
    fig, ax = plt.subplots(figsize=(10, 0.7 * max(1, len(shown)) + 2.2))
    ticks = []
    for y, form in enumerate(reversed(shown)):
        part = counts[counts["from_care_form"] == form]
        total = int(part["count"].sum())
        by = {str(r["to"]): r for r in part.to_dict(orient="records")}
        left = 0.0
        for to in destinations:
            if to not in by:
                continue
            count = int(by[to]["count"])
            share = _number(by[to]["share"])
            if math.isnan(share):
                share = count / total if total else 0.0
            ax.barh(
                y,
                share,
                left=left,
                color=colours[to],
                edgecolor="white",
            )
            text = nl.number(count)
            if share >= 0.012 * len(text) + 0.006:  # a count only where it fits in its part
                ax.text(left + share / 2, y, text, ha="center", va="center", fontsize=8)
            left += share
        ticks.append(f"{forms.name(form)} (n = {nl.number(total)})")
    if shown:
        ax.set_yticks(range(len(ticks)), ticks)
        ax.set_xlim(0, 1)
        _percent_axis(ax, "x")
        ax.set_xlabel("aandeel van de afgesloten verblijven (aantallen in de balken)")
        ax.legend(
            handles=[Patch(color=colours[d], label=forms.place(d)) for d in destinations],
            fontsize=8,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.25 if len(shown) < 3 else -0.12),
            ncol=min(5, max(1, len(destinations))),
            frameon=False,
        )
    else:
        _nothing(ax, "Geen afgesloten verblijven met een bestemming.")
    return _save(fig, path, "Doorstroom: waar jeugdigen na het verblijf heen gaan")


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
