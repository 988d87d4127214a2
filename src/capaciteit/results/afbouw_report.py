"""The afbouw plan for ontwikkeltafels: plan.csv, plan.json, plan.xlsx and charts.

``plan.csv``, ``targets.csv``, ``plan_service_levels.csv`` (and, with an agreed plan,
``changes.csv``) are the tables with their English column names, for other programs.
``plan.xlsx`` is the same plan for people: Dutch, names next to codes, numbers formatted,
what is missed red and first (sheets and layout in
:mod:`capaciteit.results.afbouw_workbook`).

``plan.json`` carries the ``need`` per care form and year (so a stored run can be checked
again without simulating) and, with an agreed plan, ``reference`` and ``changes``.

Ombouw (see :mod:`capaciteit.optimisation.ombouw`): ``ombouw.csv`` per provider and year
(freed, re-spent and remaining euros; beds closed, ambulant places added) and
``ombouw_totaal.csv`` per year for the region with the spend and the budget; the same in
``plan.json`` (``ombouw_providers``, ``ombouw``, ``budget``), with the ratio ambulant :
verblijf (``ratio``, ``ratio_targets``) and the plan's mean ligduur (``ligduur``,
``ligduur_targets``), and the chart ``ombouw.png``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.afbouw_plan import AfbouwResult
from capaciteit.optimisation.afbouw_reference import REASON_SEPARATOR
from capaciteit.results.afbouw_workbook import write_workbook
from capaciteit.results.cells import write_csv
from capaciteit.results.charts import dutch_axes, ombouw_chart
from capaciteit.results.jsonable import header, records


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
        "ombouw_providers": records(result.ombouw_providers),
        "budget": _budget_json(scenario, result),
        "ratio": records(result.ratio),
        "ratio_targets": records(result.ratio_targets),
        "ligduur": records(result.ligduur),
        "ligduur_targets": records(result.ligduur_targets),
        "service_levels": records(result.service_levels),
    }


def _budget_json(scenario: Scenario, result: AfbouwResult) -> dict[str, Any] | None:
    """Describe the budget path (None without one): how it was given, the ceilings."""
    given = scenario.afbouw.budget
    if given is None:
        return None
    return {
        "neutral": given.neutral,
        "neutral_eur": result.data.budget_neutral_eur,
        "eur_per_year_given": {str(y): v for y, v in sorted(given.eur_per_year.items())},
        "ceiling_eur": {str(y): v for y, v in sorted(result.data.budget.items())},
    }


def _plan_forms(scenario: Scenario, result: AfbouwResult) -> list[str]:
    """Care forms of the plan in the model's order (18+ housing is not planned)."""
    planned = set(result.data.forms)
    return [str(f) for f in scenario.model.care_forms.index if str(f) in planned]


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


def plan_chart(scenario: Scenario, result: AfbouwResult, path: Path) -> Path:
    """Beds per care form per year against the need, the 0-meting and the targets."""
    names = scenario.model.care_forms["name"]
    totals = result.plan.groupby(["care_form", "year"])["beds"].sum()
    forms = _plan_forms(scenario, result)
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
    for ax, fid in zip(axes[0], forms, strict=True):
        if result.data.kind(fid) != "verblijf":
            ax.set_ylabel("ambulante plekken")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Afbouwplan: {scenario.name}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def provider_chart(scenario: Scenario, result: AfbouwResult, path: Path) -> Path:
    """Beds per provider and year, one panel per care form."""
    forms = _plan_forms(scenario, result)
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
        files["ombouw"] = out / "ombouw.csv"
        write_csv(result.ombouw_providers, files["ombouw"])
        files["ombouw_totals"] = out / "ombouw_totaal.csv"
        write_csv(result.ombouw, files["ombouw_totals"])
        files["ombouw_chart"] = ombouw_chart(
            result.ombouw,
            out / "ombouw.png",
            f"Ombouw: vrijgekomen en hergebruikt budget per jaar\n{scenario.name}",
        )
    files["workbook"] = write_workbook(scenario, result, out / "plan.xlsx")
    return files
