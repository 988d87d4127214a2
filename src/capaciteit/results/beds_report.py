"""Write the minimal-beds results for planners: tables, beds.json and charts.

Files: beds.csv, service_levels.csv, coupling.csv, beds.json, beds.png and coupling.png
(Dutch labels).

``beds.csv`` has one row per care form and year: the 0-meting, the scenario's beds, the
analytic (Erlang) start, the long-run need, the minimum of that year, the surplus
(negative: shortfall), the cost difference per year, the evidence (the norm one bed fewer
fails, at the minimum and with one bed fewer, each with its 95% interval and verdict, and
why in Dutch) and the service levels reached at the minimum.
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
from matplotlib.ticker import FuncFormatter

from capaciteit.core import nl
from capaciteit.core.stats import VERDICTS_NL
from capaciteit.domain.norms import Norm
from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.minimal_beds import MinimalBedsResult
from capaciteit.results.cells import write_csv
from capaciteit.results.charts import dutch_axes
from capaciteit.results.jsonable import header, records

EVIDENCE_COLUMNS = (
    "evidence_norm",
    "evidence_care_form",
    "evidence_measure",
    "evidence_target",
    "at_minimum_mean",
    "at_minimum_ci_low",
    "at_minimum_ci_high",
    "at_minimum_verdict",
    "at_one_fewer_mean",
    "at_one_fewer_ci_low",
    "at_one_fewer_ci_high",
    "at_one_fewer_verdict",
)


def _sl_text(group: pd.DataFrame) -> str:
    """Describe the service levels of one form and year in Dutch, with their verdicts."""
    parts = []
    for row in group.to_dict(orient="records"):
        norm = Norm.of_row(row)
        parts.append(
            f"{norm.describe()}: {nl.percent(row['mean'], 1)} "
            f"{nl.interval(row['ci_low'], row['ci_high'], 'percent', 1)} "
            f"{VERDICTS_NL.get(str(row['verdict']), str(row['verdict']))}"
        )
    return "; ".join(parts)


def beds_table(result: MinimalBedsResult) -> pd.DataFrame:
    """``beds.csv``: both figures, the comparisons, the evidence and the service levels."""
    table = result.table.reset_index()
    if not result.evidence.empty:
        evidence = result.evidence[list(EVIDENCE_COLUMNS)].reset_index()
        table = table.merge(evidence, on=["care_form", "year"], how="left")
    sl = result.service_levels
    if sl.empty:
        table["service_levels_met"] = None
        table["service_levels"] = ""
        return table
    met = sl.groupby(["care_form", "year"])["met"].all().rename("service_levels_met")
    text = (
        sl.groupby(["care_form", "year"])[sl.columns.tolist()]
        .apply(_sl_text)
        .rename("service_levels")
    )
    return table.merge(met.reset_index(), on=["care_form", "year"], how="left").merge(
        text.reset_index(), on=["care_form", "year"], how="left"
    )


def beds_json(scenario: Scenario, result: MinimalBedsResult) -> dict[str, Any]:
    """Return the content of ``beds.json``."""
    solution = result.solution
    return {
        **header(scenario),
        "status": result.status,
        "message": result.message,
        "explanations": result.explanations,
        "care_form_names": {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()},
        "solver": {
            "name": solution.solver,
            "status": solution.status,
            "objective_eur_per_year_summed": solution.objective_eur,
            "bound_eur": solution.bound_eur,
            "gap": solution.gap,
            "time_s": solution.time_s,
        },
        "search": result.search,
        "iterations": records(result.iterations),
        "unreachable": result.unreachable,
        "service_level_targets": {
            str(fid): {k: v for k, v in row.items() if not math.isnan(v)}
            for fid, row in scenario.service_levels.to_dict(orient="index").items()
        },
        "beds": records(beds_table(result)),
        "service_levels": records(result.service_levels),
        "los_targets": records(result.los_targets),
        "long_run_service_levels": records(result.long_run_levels),
        "coupling": records(result.coupling),
    }


def beds_chart(scenario: Scenario, result: MinimalBedsResult, path: Path) -> Path:
    """Per care form: beds in the scenario against the verified minimum, per year."""
    table = result.table.reset_index()
    names = scenario.model.care_forms["name"]
    forms = list(names.index)
    fig, axes = plt.subplots(1, len(forms), figsize=(3.2 * len(forms), 3.6), squeeze=False)
    for ax, fid in zip(axes[0], forms, strict=True):
        t = table[table["care_form"] == fid]
        ax.plot(t["year"], t["current_beds"], marker="o", color="black", label="Bedden (scenario)")
        ax.plot(
            t["year"],
            t["minimal_beds"],
            marker="s",
            color="tab:red",
            label="Minimaal nodig per jaar",
        )
        ax.plot(
            t["year"], t["long_run_beds"], ls=":", color="tab:gray", label="Nodig op lange termijn"
        )
        ax.axhline(
            float(t["baseline_beds"].iloc[0]), color="tab:blue", lw=0.8, ls="--", label="0-meting"
        )
        ax.set_title(str(names[fid]), fontsize=10)
        ax.set_ylim(bottom=0)
        dutch_axes(ax, years=[int(y) for y in t["year"]])
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    axes[0][0].set_ylabel("bedden")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Minimaal aantal bedden: {scenario.name}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def coupling_chart(result: MinimalBedsResult, path: Path) -> Path | None:
    """Crisis minimum against pleegzorg + gezinshuis places, one line per year."""
    coupling = result.coupling
    if coupling.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for year, group in coupling.groupby("year"):
        ax.plot(
            group["pleegzorg_gezinshuis_beds"],
            group["crisis_min_beds"],
            marker="o",
            label=str(year),
        )
    dutch_axes(ax)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: nl.number(v)))
    ax.set_xlabel("plekken pleegzorg + gezinshuis")
    ax.set_ylabel("minimaal aantal crisisbedden")
    ax.set_title("Meer pleegzorg en gezinshuizen: minder crisisbedden nodig", fontsize=10)
    ax.legend(fontsize=7, ncol=2, title="jaar", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_beds(scenario: Scenario, result: MinimalBedsResult, out: Path) -> dict[str, Path]:
    """Write every minimal-beds output to ``out``; return the files by name."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["beds"] = out / "beds.csv"
    write_csv(beds_table(result), files["beds"])
    files["service_levels"] = out / "service_levels.csv"
    write_csv(result.service_levels, files["service_levels"])
    if not result.per_provider.empty:
        files["per_provider"] = out / "beds_per_provider.csv"
        per_provider = pd.Series(result.per_provider.stack()).reset_index()
        per_provider.columns = pd.Index(["care_form", "provider", "year", "minimal_beds"])
        write_csv(per_provider, files["per_provider"])
    if not result.los_targets.empty:
        files["los_targets"] = out / "los_targets.csv"
        write_csv(result.los_targets, files["los_targets"])
    files["coupling"] = out / "coupling.csv"
    write_csv(result.coupling, files["coupling"])
    files["json"] = out / "beds.json"
    files["json"].write_text(
        json.dumps(beds_json(scenario, result), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    files["chart"] = beds_chart(scenario, result, out / "beds.png")
    chart = coupling_chart(result, out / "coupling.png")
    if chart is not None:
        files["coupling_chart"] = chart
    return files
