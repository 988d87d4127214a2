"""Fan charts: the simulated band per quarter, with the realised quarters as points.

One PNG per care form, three panels side by side: occupied beds (with the plan's beds as
a dashed line and the realised places as grey bars), instroom, and the waiting list at the
end of the quarter. The light fan is the 95% band across replications (2.5%-97.5%), the
darker middle 25%-75%, the line the median (:mod:`.band`). Realised values are black dots
inside the band and red crosses outside it; a quarter that is not on course has its label
in red. Dutch labels and numbers (:func:`capaciteit.results.charts.dutch_axes`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.realisation.band import MEASURES, MEASURES_NL
from capaciteit.realisation.compare import FORM_LEVEL, band_bounds
from capaciteit.results.charts import dutch_axes, shared_legend

TITLES = {
    "occupied": "Bezet (gemiddeld over het kwartaal)",
    "admissions": "Instroom in het kwartaal",
    "waiting": "Wachtlijst aan het eind van het kwartaal",
}
UNITS = {"occupied": "plaatsen", "admissions": "jeugdigen", "waiting": "jeugdigen"}
BAND_COLOUR = "tab:blue"
OFF_COLOUR = "tab:red"


def fan_chart(
    form: str,
    name: str,
    band: pd.DataFrame,
    comparison: pd.DataFrame,
    path: Path,
) -> Path:
    """Draw the fan chart of care form ``form`` (shown as ``name``) to ``path``.

    ``band`` is :attr:`~capaciteit.realisation.band.Band.table`, ``comparison`` the frame
    of :func:`~capaciteit.realisation.compare.compare`.
    """
    table = band.xs(form, level="care_form")
    labels = [str(q) for q in table.index]
    x = list(range(len(labels)))
    rows = comparison[(comparison["level"] == FORM_LEVEL) & (comparison["care_form"] == form)]
    realised = rows.set_index("quarter")
    off_quarters = set(realised.index[~realised["on_track"].astype(bool)])
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(13, 3.3), squeeze=False)
    for ax, measure in zip(axes[0], MEASURES, strict=True):
        ax.fill_between(
            x,
            table[f"{measure}_low"],
            table[f"{measure}_high"],
            color=BAND_COLOUR,
            alpha=0.18,
            linewidth=0,
            label="95%-band (model)",
        )
        ax.fill_between(
            x,
            table[f"{measure}_q25"],
            table[f"{measure}_q75"],
            color=BAND_COLOUR,
            alpha=0.3,
            linewidth=0,
            label="50%-band",
        )
        ax.plot(x, table[f"{measure}_median"], color=BAND_COLOUR, lw=1.2, label="Mediaan")
        if measure == "occupied":
            ax.step(
                x, table["beds"], where="mid", color="black", lw=1, ls="--", label="Plaatsen (plan)"
            )
            shown = [q for q in realised.index if q in labels]
            ax.scatter(
                [labels.index(str(q)) for q in shown],
                [as_float(realised.at[q, "beds"]) for q in shown],
                color="dimgray",
                marker="_",
                s=160,
                linewidths=2,
                zorder=3,
                label="Plaatsen (realisatie)",
            )
        inside_x, inside_y, outside_x, outside_y = [], [], [], []
        for quarter, row in realised.iterrows():
            if quarter not in labels:
                continue
            position = labels.index(str(quarter))
            value = as_float(row[measure])
            low, high = band_bounds(
                as_float(table.at[quarter, f"{measure}_low"]),
                as_float(table.at[quarter, f"{measure}_high"]),
            )
            if low <= value <= high:
                inside_x.append(position)
                inside_y.append(value)
            else:
                outside_x.append(position)
                outside_y.append(value)
        ax.scatter(inside_x, inside_y, color="black", zorder=3, s=22, label="Realisatie")
        if outside_x:
            ax.scatter(
                outside_x,
                outside_y,
                color=OFF_COLOUR,
                marker="X",
                zorder=4,
                s=60,
                label="Realisatie buiten de band",
            )
        ax.set_title(TITLES[measure], fontsize=10, loc="left")
        ax.set_ylabel(f"{MEASURES_NL[measure]} ({UNITS[measure]})")
        if measure != "occupied":  # occupancy moves within a narrow band far above 0
            ax.set_ylim(bottom=0)
        ax.set_xticks(x, labels, rotation=45 if len(labels) > 6 else 0, fontsize=8)
        for tick, label in zip(ax.get_xticklabels(), labels, strict=True):
            if label in off_quarters:
                tick.set_color(OFF_COLOUR)
                tick.set_fontweight("bold")
        ax.set_xlabel("kwartaal")
        dutch_axes(ax)
    shared_legend(fig, axes[0])
    fig.suptitle(f"{name}: realisatie tegen de verwachting bij het plan", fontsize=12)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
