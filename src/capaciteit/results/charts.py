"""Charts for planners (Dutch labels): occupancy against beds, and waiting lists."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from capaciteit.core import nl

FORM_LABELS = {
    "pleegzorg": "Pleegzorg",
    "gezinshuis": "Gezinshuis",
    "residentieel": "Residentieel",
    "jeugdzorgplus": "JeugdzorgPlus",
    "crisis": "Crisis",
}


def _decimals(value: float) -> int:
    """As many decimals as a tick needs (0, 1 or 2): ``5``, ``2,5``, ``0,25``."""
    for decimals in (0, 1):
        if abs(value * 10**decimals - round(value * 10**decimals)) < 1e-9:
            return decimals
    return 2


def dutch_axes(ax: Axes, *, counts: bool = True, years: list[int] | None = None) -> None:
    """Write the y axis in Dutch numbers (``1.234``, ``12,5``); ``years``: a tick per year.

    Counts of beds or young people get whole ticks only; years are written as years.
    """
    if counts:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: nl.number(v, _decimals(v))))
    if years is not None:
        ax.xaxis.set_major_locator(FixedLocator([float(y) for y in years]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(round(v))))


def occupancy_chart(
    occupancy: pd.DataFrame,
    queues: pd.DataFrame,
    names: pd.Series,
    path: Path,
    title: str,
    places: frozenset[str] = frozenset(),
) -> Path:
    """Draw, per care form, occupied beds (mean and 95% CI) against beds, and waiting lists.

    ``occupancy`` is :func:`~capaciteit.results.tables.daily_occupancy_totals` and
    ``queues`` :func:`~capaciteit.results.tables.daily_queues`;
    ``names`` maps care form ids to their Dutch names; forms in ``places`` (ambulant care,
    housing) have places, not beds.
    """
    forms = list(names.index)
    fig, axes = plt.subplots(
        len(forms), 2, figsize=(12, 2.6 * len(forms) + 0.8), squeeze=False, sharex=True
    )
    totals = occupancy.set_index(["care_form", "date"])
    for row, fid in enumerate(forms):
        ax_occ, ax_q = axes[row]
        label = str(names.get(fid, FORM_LABELS.get(fid, fid)))
        if fid in totals.index.get_level_values(0):
            t = totals.loc[fid]
            ax_occ.fill_between(
                t.index,
                t["occupied_beds_ci_low"],
                t["occupied_beds_ci_high"],
                alpha=0.3,
                color="tab:blue",
                linewidth=0,
                label="95%-betrouwbaarheidsinterval",
            )
            ax_occ.plot(t.index, t["occupied_beds"], color="tab:blue", lw=1, label="Bezet")
            ax_occ.step(
                t.index,
                t["capacity_beds"],
                where="post",
                color="black",
                lw=1.2,
                label="Plekken" if fid in places else "Bedden",
            )
            ax_occ.set_ylim(bottom=0)
        ax_occ.set_title(f"{label}: bezetting", fontsize=10, loc="left")
        ax_occ.set_ylabel("plekken" if fid in places else "bedden")
        # Daily waiting lists are noisy; a 4-week mean shows the trend a planner acts on.
        q = (
            queues[queues["care_form"] == fid]
            .set_index("date")[["waiting_home", "waiting_in_placement", "blocked_beds"]]
            .rolling(28, min_periods=1)
            .mean()
        )
        ax_q.plot(q.index, q["waiting_home"], color="tab:orange", lw=1, label="Wacht thuis")
        ax_q.plot(
            q.index, q["waiting_in_placement"], color="tab:red", lw=1, label="Wacht in andere plek"
        )
        ax_q.plot(
            q.index,
            q["blocked_beds"],
            color="tab:gray",
            lw=1,
            label="Bezet bed, wacht op doorstroom",
        )
        ax_q.set_ylim(bottom=0)
        ax_q.set_title(
            f"{label}: wachtlijst en doorstroom (gemiddelde over 4 weken)", fontsize=10, loc="left"
        )
        ax_q.set_ylabel("jeugdigen")
        dutch_axes(ax_occ)
        dutch_axes(ax_q, counts=False)  # a 4-week mean of young people waiting
        if row == 0:
            ax_occ.legend(fontsize=7, loc="lower left")
            ax_q.legend(fontsize=7, loc="upper left")
    for ax in axes[-1]:
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def shared_legend(fig: Figure, axes: Iterable[Axes], *, ncol: int | None = None) -> None:
    """Draw one legend under the panels of ``fig``: each label once, in first-seen order.

    Panels of one figure repeat the same marks (band, line, dots); a legend per panel
    would say the same thing several times.
    """
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="lower center",
        ncol=ncol or max(len(handles), 1),
        fontsize=8,
        frameon=False,
    )


def euro_axis(ax: Axes) -> None:
    """Write the y axis in euros the Dutch way: ``€ 750.000``, ``€ 1,5 mln``."""

    def label(value: float, _: object) -> str:
        if abs(value) >= 1_000_000:
            millions = value / 1_000_000
            return (
                f"{'-' if value < 0 else ''}€ {nl.number(abs(millions), _decimals(millions))} mln"
            )
        return nl.euro(value)

    ax.yaxis.set_major_formatter(FuncFormatter(label))


def ombouw_chart(totals: pd.DataFrame, path: Path, title: str) -> Path:
    """Draw per plan year the euros freed by afbouw, re-spent on ambulant places, remaining.

    ``totals`` is :func:`~capaciteit.optimisation.ombouw.ombouw_totals` (``year``,
    ``freed_eur``, ``respent_eur``, ``remaining_eur`` and, with a budget path,
    ``spend_0_meting_eur``, ``spend_eur``, ``budget_eur``). Three bars a year against the
    0-meting; with a budget the money left under it (budget minus the plan's cost) as a
    line, so a year below zero is a year over budget.
    """
    years = [int(y) for y in totals["year"]]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(years) + 2), 4.2))
    width = 0.26
    bars = (
        ("freed_eur", "Vrijgekomen door afbouw", "tab:blue", -width),
        ("respent_eur", "Hergebruikt voor ambulante plekken", "tab:green", 0.0),
        ("remaining_eur", "Resterend", "tab:gray", width),
    )
    for column, label, color, offset in bars:
        ax.bar(
            [y + offset for y in years],
            [float(v) for v in totals[column]],
            width=width,
            color=color,
            label=label,
        )
    budgets = totals["budget_eur"] if "budget_eur" in totals.columns else pd.Series(dtype=object)
    neutral = all(
        b is None or pd.isna(b) or int(b) == int(s)
        for b, s in zip(budgets, totals.get("spend_0_meting_eur", budgets), strict=True)
    )
    # a budget-neutral path leaves exactly the remaining money: the bars say it already
    if budgets.notna().any() and not neutral:
        room = [
            None if b is None or pd.isna(b) else float(b) - float(s)
            for b, s in zip(totals["budget_eur"], totals["spend_eur"], strict=True)
        ]
        shown = [(y, r) for y, r in zip(years, room, strict=True) if r is not None]
        ax.plot(
            [y for y, _ in shown],
            [r for _, r in shown],
            color="black",
            marker="o",
            lw=1.2,
            label="Ruimte onder het budget",
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("per jaar, t.o.v. de 0-meting")
    euro_axis(ax)
    ax.xaxis.set_major_locator(FixedLocator([float(y) for y in years]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(round(v))))
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
