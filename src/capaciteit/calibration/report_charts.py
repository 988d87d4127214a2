"""The calibration report's charts: stays against the fit, instroom per quarter, doorstroom.

See :mod:`capaciteit.calibration.report` for what each chart shows and why.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from capaciteit.calibration.labels import (
    Forms,
    chosen_families,
    family_nl,
    number,
    quarter_rates,
    stays_per_form,
)
from capaciteit.calibration.model import Calibration
from capaciteit.core import nl
from capaciteit.domain.model import SINKS
from capaciteit.realisation.quarters import Quarter
from capaciteit.results.charts import dutch_axes, shared_legend

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
    forms = Forms(calibration)
    shown = forms.present(calibration.survival)
    chosen, stays = chosen_families(calibration), stays_per_form(calibration)
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
                label=f"gekozen: {family_nl(family)} (AIC {nl.number(aic, 1)})",
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
    forms = Forms(calibration)
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
            rate = number(r["rate"])
            ax.annotate(
                f"{nl.percent(number(r['observed_share']))} gezien",
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
    forms = Forms(calibration)
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
            share = number(by[to]["share"])
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
