"""Charts of a national run (Dutch): beds and occupancy nationally, and the pools' costs.

Two pictures answer the two questions a national table asks first:

``landelijk.png``
    Per care form, summed over every region and pool, the beds and the occupied beds per
    year, the occupied beds with their 95% interval as a band. The forms bought in pools
    (JeugdzorgPlus, say) come first: that is the capacity the regions share.
``kostenverdeling.png``
    Per pool, its cost each year as a stacked bar of the member regions' parts under the
    pool's cost key, with the 95% interval of the pool's whole cost on top. With more than
    :data:`MAX_POOLS` pools only the most expensive are drawn, and the title says so.

The house style is :mod:`capaciteit.results.charts`: Dutch axes (``1.234``, ``€ 1,5 mln``),
a tick per year, one legend per figure where the panels share their marks.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from capaciteit.core import nl
from capaciteit.results.charts import dutch_axes, euro_axis, shared_legend

MAX_POOLS = 6
"""Pools drawn in ``kostenverdeling.png`` at most (the most expensive over the horizon)."""
COLUMNS = 3
"""Panels side by side."""


TITLE_WIDTH = 48
"""Characters on a line of a panel's title; a longer (pool) name wraps."""


def safe_label(text: str, width: int | None = None) -> str:
    """Return ``text`` as matplotlib draws it literally (a ``$`` starts no formula).

    With ``width``, wrapped onto lines of at most that many characters.
    """
    if width is not None:
        text = "\n".join(textwrap.wrap(text, width)) or text
    return text.replace("$", r"\$")


@dataclass(frozen=True)
class PoolPanel:
    """One pool's costs to draw: its name and key, members, and costs per region and year.

    ``shares`` has index ``year`` and one column per member region (euros, means);
    ``total`` has index ``year`` and columns ``mean``, ``ci_low``, ``ci_high``.
    """

    title: str
    shares: pd.DataFrame
    total: pd.DataFrame


def _grid(count: int, height: float) -> tuple[Figure, list[Axes]]:
    """Return a figure with ``count`` panels, at most :data:`COLUMNS` a row."""
    cols = max(1, min(COLUMNS, count))
    rows = max(1, math.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.0 * cols, height * rows + 1.2), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def _band(ax: Axes, years: list[int], low: np.ndarray, high: np.ndarray, color: str) -> None:
    """Draw the 95% interval as a band (or a bar for a single year); nothing where unknown."""
    known = ~(np.isnan(low) | np.isnan(high))
    if not known.any():
        return
    x = np.asarray(years, dtype="float64")[known]
    label = "95%-betrouwbaarheidsinterval"
    if len(years) == 1:
        mid = (low[known] + high[known]) / 2
        ax.errorbar(x, mid, yerr=(high[known] - low[known]) / 2, fmt="none", color=color)
        return
    ax.fill_between(x, low[known], high[known], color=color, alpha=0.25, lw=0, label=label)


def national_chart(
    national: pd.DataFrame,
    forms: Sequence[str],
    names: Mapping[str, str],
    pooled: frozenset[str],
    path: Path,
    title: str,
) -> Path:
    """Draw per care form the national beds and occupied beds per year (see the module).

    ``national`` is :attr:`~capaciteit.national.results.NationalResults.national`;
    ``forms`` the care forms in the order to draw (pooled first), ``names`` their Dutch
    names, ``pooled`` the forms bought in pools.
    """
    fig, axes = _grid(max(len(forms), 1), 2.9)
    if not forms:
        axes[0].text(0.5, 0.5, "Geen verblijfsvormen", ha="center", va="center")
        axes[0].set_axis_off()
    for ax, form in zip(axes, forms, strict=False):
        mine = national[national["care_form"] == form]
        occupied = mine[mine["kpi"] == "occupied_beds"].set_index("year").sort_index()
        beds = mine[mine["kpi"] == "capacity_beds"].set_index("year").sort_index()
        years = [int(y) for y in occupied.index]
        _band(
            ax,
            years,
            occupied["ci_low"].to_numpy(dtype="float64"),
            occupied["ci_high"].to_numpy(dtype="float64"),
            "tab:blue",
        )
        ax.plot(years, occupied["mean"], color="tab:blue", marker="o", lw=1.2, label="Bezet")
        ax.plot(years, beds["mean"], color="black", marker="s", ms=3, lw=1.2, label="Bedden")
        top = np.nanmax(
            [*beds["mean"].to_numpy(dtype="float64"), *occupied["ci_high"].fillna(0.0), 1.0]
        )
        ax.set_ylim(0, 1.08 * float(top))
        name = names.get(form, form) + (" — met pools" if form in pooled else "")
        ax.set_title(safe_label(name, TITLE_WIDTH), fontsize=10, loc="left")
        ax.set_ylabel("bedden")
        dutch_axes(ax, years=years)
    if forms:
        shared_legend(fig, axes)
    fig.suptitle(safe_label(title), fontsize=12)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cost_chart(
    panels: Sequence[PoolPanel],
    colors: Mapping[str, str],
    labels: Mapping[str, str],
    path: Path,
    title: str,
) -> Path:
    """Draw per pool its cost per region and year as stacked bars (see the module).

    ``panels`` are the pools to draw (already the most expensive, in order); ``colors``
    and ``labels`` give each region its colour and Dutch name, the same in every panel.
    """
    fig, axes = _grid(max(len(panels), 1), 3.2)
    if not panels:
        axes[0].text(
            0.5, 0.5, "Dit model heeft geen pools: er zijn geen kosten te verdelen.", ha="center"
        )
        axes[0].set_axis_off()
    for ax, panel in zip(axes, panels, strict=False):
        years = [int(y) for y in panel.shares.index]
        bottom = np.zeros(len(years))
        for region in panel.shares.columns:
            values = panel.shares[region].fillna(0.0).to_numpy(dtype="float64")
            ax.bar(
                years,
                values,
                bottom=bottom,
                color=colors.get(str(region), "tab:gray"),
                label=safe_label(labels.get(str(region), str(region))),
                width=0.7,
            )
            bottom = bottom + values
        total = panel.total.reindex(years)
        low = total["ci_low"].to_numpy(dtype="float64")
        high = total["ci_high"].to_numpy(dtype="float64")
        known = ~(np.isnan(low) | np.isnan(high))
        if known.any():
            mean = total["mean"].to_numpy(dtype="float64")
            ax.errorbar(
                np.asarray(years, dtype="float64")[known],
                mean[known],
                yerr=np.vstack([mean[known] - low[known], high[known] - mean[known]]).clip(0),
                fmt="none",
                color="black",
                capsize=3,
                lw=1,
                label="95%-interval kosten van de pool",
            )
        ax.set_title(safe_label(panel.title, TITLE_WIDTH), fontsize=10, loc="left")
        ax.set_ylabel("kosten per jaar")
        euro_axis(ax)
        ax.set_xticks([float(y) for y in years], [str(y) for y in years], fontsize=8)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    fig.suptitle(safe_label(title), fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cost_title(shown: int, pools: int) -> str:
    """Title of ``kostenverdeling.png``; says which pools are left out."""
    title = "Kostenverdeling van de pools per regio en jaar"
    if shown < pools:
        return (
            f"{title}: {shown} van de {nl.plural(pools, 'pool', 'pools')} "
            "(de duurste, en elke verdeelsleutel)"
        )
    return title
