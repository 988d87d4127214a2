"""The afbouw plan as a workbook for the ontwikkeltafel: ``plan.xlsx``.

An ontwikkeltafel reads the plan in Excel, so the workbook answers its questions in the
order it asks them: what does the plan miss, and then the numbers behind it. Sheets:

*samenvatting*
    first every target, norm and minimal need with its verdict, the missed ones on top
    (the whole row red, ``niet gehaald``), then those that cannot be told apart from the
    norm (yellow), then the met ones (green); below it the plan itself: scenario, region,
    status and why, where the needs came from, the solver, the cost and the agreed plan,
    and every knelpunt in a sentence.
*per aanbieder*
    beds per provider and care form: the 0-meting, then one column per year. The provider
    code stays in its own column next to its name (contracts and ``plan.csv`` use it).
*per jaar*
    per care form and year: the 0-meting, the plan's beds and the plan as a percentage of
    the 0-meting, afbouw and opbouw, the minimal need and the shortfall against it, the
    cost, and whether the need is met.
*doelen*
    each target per year: the bound as a percentage of the 0-meting and in beds, the plan's
    beds, its distance to the bound and the verdict.
*normen*
    every service level per care form and year, simulated on the plan: the norm, the mean
    and its 95% interval, and the verdict (gehaald / niet gehaald / niet te onderscheiden
    van de norm).
*ombouwbudget*
    per year the region first, then each provider: beds closed and opened against the
    0-meting, the budget that frees, ambulant places added and the budget they re-spend,
    what remains, and a check column (freed - re-spent - remaining, 0 on every row, so the
    sheet balances by its own numbers); the region's rows also hold the plan's cost that
    year and, with a budget path, the budget and the euros over it.
*verhouding ambulant* and *ligduur*
    only when the plan has ambulant places, a budget or ligduur targets: per year the
    ambulant places per verblijf bed against the ratio targets; per verblijf form and year
    the plan's mean stay, and each ligduur target judged.
*Wijzigingen t.o.v. afspraak*
    only when the plan was made close to an agreed plan: every cell that differs from the
    agreement, with the reason.

Every number is a number with a format (:mod:`capaciteit.results.sheets`): Excel shows
``70%``, ``1.234`` and ``€ 1.234.567`` in a Dutch locale and the cells still add up. The
headers are Dutch, the header rows frozen, the tables filterable. Every cell is written
through :func:`capaciteit.results.cells.append_row`, so a name that starts like a formula
stays text. The CSV and JSON files beside the workbook keep their English column names;
only this presentation is Dutch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.domain.norms import Norm
from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.afbouw_plan import AfbouwResult
from capaciteit.results.cells import append_row
from capaciteit.results.sheets import (
    BOLD,
    GREEN,
    LEFT,
    RED,
    WRAP,
    Column,
    Kind,
    mark,
    plain,
    style,
    verdict_text,
    write_table,
)
from capaciteit.simulation.judge import missed_norms

CHANGES_SHEET = "Wijzigingen t.o.v. afspraak"
STATUS_NL = {
    "targets_met": "alle doelen en minimale bedden gehaald",
    "conflicts": "niet alle doelen haalbaar: dichtstbijzijnde plan, zie toelichting",
    "infeasible": "geen plan mogelijk binnen de vaste afspraken",
    "timeout": "rekentijd op zonder plan",
}
NEED_SOURCE_NL = {
    "minimal_beds": "minimaal aantal bedden per jaar, berekend met de simulatie",
    "none": "geen: het plan volgt alleen de doelen",
}
SOLVER_NL = {
    "optimal": "optimaal",
    "feasible": "toelaatbaar, niet bewezen optimaal",
    "infeasible": "onhaalbaar",
    "timeout": "rekentijd op",
    "invalid": "ongeldig model",
}
KIND_NL = {"max": "hoogstens", "min": "minstens"}
VERDICT_ORDER = {"missed": 0, "undecided": 1, "no_data": 2, "met": 3}


@dataclass(frozen=True)
class Names:
    """Names of the care forms and providers of a model, with their file order."""

    care_forms: Mapping[str, str]
    providers: Mapping[str, str]

    @staticmethod
    def of(scenario: Scenario) -> Names:
        """Take the names from the scenario's model."""
        model = scenario.model
        return Names(
            {str(k): str(v) for k, v in model.care_forms["name"].items()},
            {str(k): str(v) for k, v in model.providers["name"].items()},
        )

    def form(self, code: object) -> str:
        """Name the care form (its id when the model has no name for it)."""
        return self.care_forms.get(str(code), str(code))

    def forms(self, joined: object) -> str:
        """Names of care forms joined as a target joins them: ``Pleegzorg + Gezinshuis``."""
        return " + ".join(self.form(f) for f in str(joined).split(" + "))

    def provider(self, code: object) -> str:
        """Name the provider (its code when the model has no name for it)."""
        return self.providers.get(str(code), str(code))

    def form_key(self, code: object) -> tuple[int, str]:
        """Sort care forms in the model's order, unknown ones last."""
        order = list(self.care_forms)
        return (order.index(str(code)) if str(code) in order else len(order), str(code))

    def provider_key(self, code: object) -> tuple[int, str]:
        """Sort providers in the model's order, unknown ones last."""
        order = list(self.providers)
        return (order.index(str(code)) if str(code) in order else len(order), str(code))


def _span(values: Iterable[int]) -> str:
    """``98`` for one value, ``100–114`` for several (Dutch numbers)."""
    vs = sorted(set(values))
    if not vs:
        return nl.MISSING
    if vs[0] == vs[-1]:
        return nl.number(vs[0])
    return f"{nl.number(vs[0])}–{nl.number(vs[-1])}"


def _ratio(part: float, whole: float) -> float | None:
    """``part / whole``, or None when there is no whole to compare with."""
    return float(part) / float(whole) if whole else None


# --------------------------------------------------------------------------------------
# samenvatting: what is missed first
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """One line of the summary: a target, norm or need over all years, and its verdict."""

    verdict: str
    subject: str
    text: str


def target_judgements(targets: pd.DataFrame, names: Names) -> list[Judgement]:
    """One judgement per target over its years: missed when any year misses it."""
    out: list[Judgement] = []
    if targets.empty:
        return out
    for label, group in targets.groupby("target", sort=False):
        rows = group.to_dict(orient="records")
        first = rows[0]
        bound = (
            f"{names.forms(first['care_forms'])} {KIND_NL.get(str(first['kind']), '')} "
            f"{nl.percent(float(first['share_of_0_meting']))} van de 0-meting "
            f"({nl.number(int(first['baseline_beds']))} bedden) = "
            f"{_span(int(r['bound_beds']) for r in rows)} bedden"
        )
        missed = [r for r in rows if not bool(r["met"])]
        if missed:
            years = nl.years(int(r["year"]) for r in missed)
            planned = _span(int(r["planned_beds"]) for r in missed)
            text = f"Niet gehaald in {years}: {bound}; het plan heeft er {planned}."
        else:
            text = f"Gehaald in {nl.years(int(r['year']) for r in rows)}: {bound}."
        out.append(Judgement("missed" if missed else "met", f"Doel: {label}", text))
    return out


def norm_judgements(judged: pd.DataFrame, names: Names) -> list[Judgement]:
    """One judgement per care form and norm over its years, the worst verdict counting."""
    out: list[Judgement] = []
    if judged.empty:
        return out
    for _, group in judged.groupby(["care_form", "measure"], sort=False):
        rows = group.to_dict(orient="records")
        norm = Norm.of_row(rows[0])
        subject = f"Norm: {names.form(norm.care_form)}: {norm.describe()}"
        years: dict[str, list[int]] = {}
        for r in rows:
            years.setdefault(str(r["verdict"]), []).append(int(r["year"]))
        if "missed" in years:
            out.append(Judgement("missed", subject, missed_norms(group, dict(names.care_forms))))
            continue
        present = sorted(years, key=lambda v: VERDICT_ORDER.get(v, len(VERDICT_ORDER)))
        text = nl.join(f"{verdict_text(v)} in {nl.years(years[v])}" for v in present)
        out.append(Judgement(present[0], subject, f"{text[:1].upper()}{text[1:]} (zie 'normen')."))
    return out


def need_judgements(
    need: pd.DataFrame, names: Names, ambulant: Iterable[str] = ()
) -> list[Judgement]:
    """One judgement per care form: missed when the plan stays below its need in a year.

    For an ``ambulant`` form the need is the scenario's places (the need for beds was
    computed with them), counted in places.
    """
    out: list[Judgement] = []
    if need.empty or "short_beds" not in need.columns:
        return out
    places = set(ambulant)
    for form, group in need.groupby("care_form", sort=False):
        rows = group.to_dict(orient="records")
        short = [r for r in rows if int(r["short_beds"]) > 0]
        subject = f"Minimaal nodig: {names.form(form)}"
        unit = "plekken" if str(form) in places else "bedden"
        least = (
            "de ambulante plekken van het scenario (waarmee de behoefte aan bedden is berekend)"
            if str(form) in places
            else "het minimale aantal bedden"
        )
        if short:
            text = (
                f"In {nl.years(int(r['year']) for r in short)} blijft het plan "
                f"{_span(int(r['short_beds']) for r in short)} {unit} onder het minimum van "
                f"{_span(int(r['beds']) for r in short)} {unit}."
            )
            out.append(Judgement("missed", subject, text))
        else:
            text = f"Het plan heeft in {nl.years(int(r['year']) for r in rows)} minstens {least}."
            out.append(Judgement("met", subject, text))
    return out


def ombouw_judgements(result: AfbouwResult, names: Names) -> list[Judgement]:
    """Budget, ratio and ligduur targets over their years: missed when any year misses."""
    out: list[Judgement] = []
    totals = result.ombouw
    if result.data.budget and "over_budget_eur" in totals.columns:
        rows = [r for r in totals.to_dict(orient="records") if r["budget_eur"] is not None]
        over = [r for r in rows if int(r["over_budget_eur"] or 0) > 0]
        if over:
            text = (
                f"Te hoog in {nl.years(int(r['year']) for r in over)}: het plan kost "
                + nl.join(
                    f"{nl.euro(int(r['spend_eur']))} in {int(r['year'])} (budget "
                    f"{nl.euro(int(r['budget_eur']))})"
                    for r in over
                )
                + "."
            )
        elif rows:
            text = (
                f"Binnen het budget in {nl.years(int(r['year']) for r in rows)}: het plan kost "
                f"{_euros(int(r['spend_eur']) for r in rows)} per jaar, het budget is "
                f"{_euros(int(r['budget_eur']) for r in rows)}."
            )
        else:
            text = "Geen budget in de planjaren."
        out.append(Judgement("missed" if over else "met", "Budget", text))
    for label, group in _groups(result.ratio_targets):
        rows = group.to_dict(orient="records")
        missed = [r for r in rows if not bool(r["met"])]
        shown = missed or rows
        text = (
            f"{'Niet gehaald' if missed else 'Gehaald'} in "
            f"{nl.years(int(r['year']) for r in shown)}: "
            f"{_span(int(r['ambulant_places']) for r in shown)} ambulante plekken, "
            f"{_span(int(r['required_places']) for r in shown)} nodig bij "
            f"{_span(int(r['verblijf_beds']) for r in shown)} bedden."
        )
        out.append(Judgement("missed" if missed else "met", f"Doel: {label}", text))
    for label, group in _groups(result.ligduur_targets):
        rows = group.to_dict(orient="records")
        missed = [r for r in rows if not bool(r["met"])]
        shown = missed or rows
        means = [round(float(r["mean_days"])) for r in shown if _known(r["mean_days"])]
        first = rows[0]
        how = "het plan" if first["steered_by"] == "plan" else "het scenario (niet door bedden)"
        text = (
            f"{'Niet gehaald' if missed else 'Gehaald'} in "
            f"{nl.years(int(r['year']) for r in shown)}: {names.form(first['care_form'])} "
            f"gemiddeld {_span(means)} dagen volgens {how}, hoogstens "
            f"{nl.number(float(first['max_mean_days']))}."
        )
        out.append(Judgement("missed" if missed else "met", f"Doel: {label}", text))
    return out


def _groups(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if frame.empty or "target" not in frame.columns:
        return []
    return [(str(k), g) for k, g in frame.groupby("target", sort=False)]


def _known(value: Any) -> bool:
    return value is not None and not pd.isna(value)


def _euros(values: Iterable[int]) -> str:
    vs = sorted(set(values))
    if not vs:
        return nl.MISSING
    return nl.euro(vs[0]) if vs[0] == vs[-1] else f"{nl.euro(vs[0])}–{nl.euro(vs[-1])}"


def judgements(result: AfbouwResult, names: Names) -> list[Judgement]:
    """Everything the plan is judged on, the missed first (a stable order otherwise)."""
    found: list[Judgement] = []
    if result.plan.empty:
        text = f"{STATUS_NL.get(result.status, result.status)}. {result.message}"
        found.append(Judgement("missed", "Afbouwplan", text))
    found += target_judgements(result.targets, names)
    found += ombouw_judgements(result, names)
    found += need_judgements(result.need, names, result.data.ambulant_forms)
    found += norm_judgements(result.service_levels, names)
    return sorted(found, key=lambda j: VERDICT_ORDER.get(j.verdict, len(VERDICT_ORDER)))


SUMMARY_COLUMNS = (
    Column("Oordeel", "verdict"),
    Column("Onderwerp", "wrap"),
    Column("Toelichting", "wrap"),
)


def _summary_sheet(ws: Worksheet, scenario: Scenario, result: AfbouwResult, names: Names) -> None:
    """Write what is missed first, what holds after it, then the plan's particulars."""
    found = judgements(result, names)
    write_table(
        ws,
        SUMMARY_COLUMNS,
        [[verdict_text(j.verdict), j.subject, j.text] for j in found],
        verdicts=[j.verdict for j in found],
        empty="Dit scenario heeft geen doelen, normen of minimale behoefte om aan te toetsen.",
    )
    for column, width in (("A", 18), ("B", 50), ("C", 90)):
        ws.column_dimensions[column].width = width
    append_row(ws, [])
    append_row(ws, ["Over het plan"])
    ws.cell(row=ws.max_row, column=1).font = BOLD
    s = result.solution
    solved = SOLVER_NL.get(s.status, s.status)
    cost = int(result.plan["cost_eur"].sum()) if len(result.plan) else None
    details: list[tuple[str, Any, Kind]] = [
        ("Scenario", scenario.name, "wrap"),
        ("Regio", scenario.model.meta.name, "wrap"),
        ("0-meting", scenario.model.meta.baseline_year, "year"),
        ("Planperiode", nl.years(result.data.years), "wrap"),
        ("Status", STATUS_NL.get(result.status, result.status), "wrap"),
        ("Toelichting", result.message, "wrap"),
        ("Minimaal nodig uit", NEED_SOURCE_NL.get(result.need_source, result.need_source), "wrap"),
        ("Rekenmethode", f"{s.solver}: {solved}, {nl.number(s.time_s, 1)} s", "wrap"),
        ("Kosten bedden over de planperiode", cost, "euro"),
    ]
    if result.reference_source is not None:
        weight = nl.euro(result.data.reference_weight)
        limit = result.data.reference_max_change
        text = (
            f"{result.reference_source}: {nl.plural(len(result.changes), 'cel', 'cellen')} "
            f"gewijzigd (zie '{CHANGES_SHEET}'); gewicht {weight} per plaats"
            + (
                f", hoogstens {nl.number(limit)} plaatsen verschil per cel"
                if limit is not None
                else ""
            )
        )
        details.append(("Afspraak (referentieplan)", text, "wrap"))
    details += [("Knelpunt", text, "wrap") for text in result.conflicts]
    status = "met" if result.status == "targets_met" else "missed"
    for key, value, kind in details:
        cells = append_row(ws, [verdict_text(status) if key == "Status" else "", key, plain(value)])
        cells[1].font = BOLD
        cells[1].alignment = WRAP
        style(cells[2], kind)
        if kind != "wrap":
            cells[2].alignment = LEFT
        if key == "Status":
            mark(cells[:1], status, 0)


# --------------------------------------------------------------------------------------
# the tables
# --------------------------------------------------------------------------------------


def _per_provider_sheet(ws: Worksheet, plan: pd.DataFrame, names: Names) -> None:
    """Beds per provider and care form: the 0-meting, then one column per year."""
    years = sorted({int(y) for y in plan["year"]})
    beds: dict[tuple[str, str], dict[int, int]] = {}
    base: dict[tuple[str, str], int] = {}
    for row in plan.to_dict(orient="records"):
        key = (str(row["provider"]), str(row["care_form"]))
        beds.setdefault(key, {})[int(row["year"])] = int(row["beds"])
        base[key] = int(row["beds_0_meting"])
    keys = sorted(beds, key=lambda k: (names.provider_key(k[0]), names.form_key(k[1])))
    columns = [
        Column("Code aanbieder", "code"),
        Column("Aanbieder"),
        Column("Verblijfsvorm"),
        Column("0-meting (bedden)", "count"),
        *[Column(str(y), "count") for y in years],
    ]
    rows = [
        [p, names.provider(p), names.form(f), base[(p, f)], *[beds[(p, f)].get(y) for y in years]]
        for p, f in keys
    ]
    write_table(ws, columns, rows, freeze_columns=3)


PER_YEAR_COLUMNS = (
    Column("Verblijfsvorm"),
    Column("Jaar", "year"),
    Column("0-meting (bedden)", "count"),
    Column("Bedden in plan", "count"),
    Column("Plan als % van 0-meting", "percent"),
    Column("Afbouw (bedden)", "count"),
    Column("Opbouw (bedden)", "count"),
    Column("Minimaal nodig (bedden)", "count"),
    Column("Tekort t.o.v. minimaal nodig (bedden)", "count"),
    Column("Kosten bedden", "euro"),
    Column("Minimaal nodig gehaald", "verdict"),
)


def _per_year_sheet(ws: Worksheet, result: AfbouwResult, names: Names) -> None:
    """Per care form and year: beds against the 0-meting and the need, and the cost."""
    sums = ("beds", "beds_0_meting", "afbouw", "opbouw", "cost_eur")
    totals: dict[tuple[str, int], dict[str, int]] = {}
    for row in result.plan.to_dict(orient="records"):
        key = (str(row["care_form"]), int(row["year"]))
        total = totals.setdefault(key, dict.fromkeys(sums, 0))
        for column in sums:
            total[column] += int(row[column])
    rows, verdicts = [], []
    for form, year in sorted(totals, key=lambda k: (names.form_key(k[0]), k[1])):
        t = totals[(form, year)]
        need = result.data.need.get((form, year))
        verdict = None if need is None else ("met" if t["beds"] >= need else "missed")
        rows.append(
            [
                names.form(form),
                year,
                t["beds_0_meting"],
                t["beds"],
                _ratio(t["beds"], t["beds_0_meting"]),
                t["afbouw"],
                t["opbouw"],
                need,
                None if need is None else max(0, int(need) - t["beds"]),
                t["cost_eur"],
                verdict_text(verdict),
            ]
        )
        verdicts.append(verdict)
    write_table(ws, PER_YEAR_COLUMNS, rows, verdicts=verdicts, freeze_columns=2)


TARGET_COLUMNS = (
    Column("Doel"),
    Column("Verblijfsvormen"),
    Column("Jaar", "year"),
    Column("Soort"),
    Column("Grens als % van 0-meting", "percent"),
    Column("0-meting (bedden)", "count"),
    Column("Grens (bedden)", "count"),
    Column("Bedden in plan", "count"),
    Column("Plan als % van 0-meting", "percent"),
    Column("Plan t.o.v. grens (bedden)", "change"),
    Column("Oordeel", "verdict"),
)


def _targets_sheet(ws: Worksheet, targets: pd.DataFrame, names: Names) -> None:
    """Each target per year against the plan's beds, missed rows red."""
    rows, verdicts = [], []
    for row in targets.to_dict(orient="records"):
        verdict = "met" if bool(row["met"]) else "missed"
        baseline, planned = int(row["baseline_beds"]), int(row["planned_beds"])
        rows.append(
            [
                str(row["target"]),
                names.forms(row["care_forms"]),
                int(row["year"]),
                KIND_NL.get(str(row["kind"]), str(row["kind"])),
                float(row["share_of_0_meting"]),
                baseline,
                int(row["bound_beds"]),
                planned,
                _ratio(planned, baseline),
                planned - int(row["bound_beds"]),
                verdict_text(verdict),
            ]
        )
        verdicts.append(verdict)
    write_table(
        ws,
        TARGET_COLUMNS,
        rows,
        verdicts=verdicts,
        freeze_columns=1,
        empty="Dit scenario heeft geen doelen.",
    )


NORM_COLUMNS = (
    Column("Verblijfsvorm"),
    Column("Jaar", "year"),
    Column("Bedden in plan", "count"),
    Column("Norm"),
    Column("Grens", "share"),
    Column("Gemiddeld in de simulatie", "share_1"),
    Column("95%-interval van", "share_1"),
    Column("95%-interval tot", "share_1"),
    Column("Oordeel", "verdict"),
)


def _norms_sheet(ws: Worksheet, judged: pd.DataFrame, names: Names) -> None:
    """Every norm per care form and year: mean, 95% interval and the verdict, coloured."""
    rows, verdicts = [], []
    for row in judged.to_dict(orient="records"):
        norm = Norm.of_row(row)
        rows.append(
            [
                names.form(row["care_form"]),
                int(row["year"]),
                plain(row.get("beds")),
                norm.describe(),
                norm.target,
                row["mean"],
                row["ci_low"],
                row["ci_high"],
                verdict_text(str(row["verdict"])),
            ]
        )
        verdicts.append(str(row["verdict"]))
    write_table(ws, NORM_COLUMNS, rows, verdicts=verdicts, freeze_columns=2)


OMBOUW_COLUMNS = (
    Column("Jaar", "year"),
    Column("Code aanbieder", "code"),
    Column("Aanbieder"),
    Column("Bedden gesloten t.o.v. 0-meting", "count"),
    Column("Bedden erbij t.o.v. 0-meting", "count"),
    Column("Vrijgekomen budget (per jaar)", "euro"),
    Column("Ambulante plekken erbij t.o.v. 0-meting", "count"),
    Column("Hergebruikt budget voor ambulante plekken", "euro"),
    Column("Resterend budget", "euro"),
    Column("Controle: vrijgekomen − hergebruikt − resterend (moet 0 zijn)", "euro"),
    Column("Kosten bedden en plekken in het plan", "euro"),
)
BUDGET_COLUMNS = (
    Column("Budget (plafond)", "euro"),
    Column("Boven het budget", "euro"),
)
REGION = "Regio (totaal)"


def _ombouw_sheet(ws: Worksheet, result: AfbouwResult, names: Names) -> None:
    """Per year the region, then each provider: freed, re-spent, remaining and the check.

    The check column is freed - re-spent - remaining of the numbers in the row, so the
    sheet shows it balances; the region's row is the providers' rows added up.
    """
    totals = result.ombouw
    per = result.ombouw_providers
    with_budget = bool(result.data.budget)
    columns = OMBOUW_COLUMNS + (BUDGET_COLUMNS if with_budget else ())
    rows: list[list[Any]] = []
    region_rows: list[int] = []
    if len(totals) and "freed_eur" in totals.columns:
        for total in totals.to_dict(orient="records"):
            y = int(total["year"])
            freed, respent, remaining = (
                int(total["freed_eur"]),
                int(total["respent_eur"]),
                int(total["remaining_eur"]),
            )
            row: list[Any] = [
                y,
                None,
                REGION,
                int(total["beds_closed"]),
                int(total["beds_opened"]),
                freed,
                int(total["ambulant_places_added"]),
                respent,
                remaining,
                freed - respent - remaining,
                int(total["spend_eur"]),
            ]
            if with_budget:
                row += [plain(total["budget_eur"]), plain(total["over_budget_eur"])]
            region_rows.append(len(rows))
            rows.append(row)
            part = per[per["year"] == y].to_dict(orient="records")
            for r in sorted(part, key=lambda r: names.provider_key(r["provider"])):
                freed, respent, remaining = (
                    int(r["freed_eur"]),
                    int(r["respent_eur"]),
                    int(r["remaining_eur"]),
                )
                rows.append(
                    [
                        y,
                        str(r["provider"]),
                        names.provider(r["provider"]),
                        int(r["beds_closed"]),
                        int(r["beds_opened"]),
                        freed,
                        int(r["ambulant_places_added"]),
                        respent,
                        remaining,
                        freed - respent - remaining,
                        None,
                    ]
                    + ([None, None] if with_budget else [])
                )
    verdicts: list[str | None] = [None] * len(rows)
    if with_budget:
        for i in region_rows:
            over = rows[i][-1]
            if over is not None:
                verdicts[i] = "missed" if int(over) > 0 else None
    first, _ = write_table(
        ws,
        columns,
        rows,
        verdicts=verdicts,
        freeze_columns=3,
        empty="Zonder plan geen ombouwbudget.",
    )
    for i in region_rows:
        for cell in ws[first + 1 + i]:
            cell.font = BOLD


RATIO_COLUMNS = (
    Column("Jaar", "year"),
    Column("Bedden (verblijf)", "count"),
    Column("Ambulante plekken", "count"),
    Column("Ambulante plekken per bed", "count"),
    Column("Doel: minstens plekken per bed", "count"),
    Column("Nodig voor het doel (plekken)", "count"),
    Column("Oordeel", "verdict"),
)
RATIO_FORMAT = "0.000"


def _ratio_sheet(ws: Worksheet, result: AfbouwResult) -> None:
    """Per plan year the ambulant places per verblijf bed, judged against the ratio targets."""
    judged: dict[int, dict[Any, Any]] = {}
    for r in result.ratio_targets.to_dict(orient="records"):
        y = int(r["year"])
        # the strictest target of the year counts (the most places needed)
        if y not in judged or int(r["required_places"]) > int(judged[y]["required_places"]):
            judged[y] = r
    rows, verdicts = [], []
    for r in result.ratio.to_dict(orient="records"):
        y = int(r["year"])
        target = judged.get(y)
        verdict = None if target is None else ("met" if bool(target["met"]) else "missed")
        rows.append(
            [
                y,
                int(r["verblijf_beds"]),
                int(r["ambulant_places"]),
                plain(r["ambulant_per_verblijf"]),
                None if target is None else float(target["min_ambulant_per_verblijf"]),
                None if target is None else int(target["required_places"]),
                verdict_text(verdict),
            ]
        )
        verdicts.append(verdict)
    first, last = write_table(
        ws,
        RATIO_COLUMNS,
        rows,
        verdicts=verdicts,
        freeze_columns=1,
        empty="Het plan heeft geen ambulante plekken.",
    )
    for row in ws.iter_rows(min_row=first + 1, max_row=last, min_col=4, max_col=5):
        for cell in row:
            cell.number_format = RATIO_FORMAT


LIGDUUR_COLUMNS = (
    Column("Verblijfsvorm"),
    Column("Aanbieder"),
    Column("Jaar", "year"),
    Column("Bedden in plan", "count"),
    Column("Gemiddelde ligduur (dagen)", "count"),
    Column("Doel: hoogstens (dagen)", "count"),
    Column("Gestuurd door"),
    Column("Oordeel", "verdict"),
)


def _ligduur_sheet(ws: Worksheet, result: AfbouwResult, names: Names) -> None:
    """Write the plan's mean stay per verblijf form and year, then each ligduur target."""
    targets: dict[tuple[str, int], dict[Any, Any]] = {}
    rows, verdicts = [], []
    for r in result.ligduur_targets.to_dict(orient="records"):
        if r["provider"] is None or pd.isna(r["provider"]):
            targets[(str(r["care_form"]), int(r["year"]))] = r
    for r in result.ligduur.to_dict(orient="records"):
        key = (str(r["care_form"]), int(r["year"]))
        target = targets.pop(key, None)
        verdict = None if target is None else ("met" if bool(target["met"]) else "missed")
        rows.append(
            [
                names.form(r["care_form"]),
                "alle aanbieders",
                int(r["year"]),
                int(r["beds"]),
                _days(r["mean_days"]),
                None if target is None else float(target["max_mean_days"]),
                None if target is None else "plan",
                verdict_text(verdict),
            ]
        )
        verdicts.append(verdict)
    for r in result.ligduur_targets.to_dict(orient="records"):
        key = (str(r["care_form"]), int(r["year"]))
        provider = r["provider"]
        if (provider is None or pd.isna(provider)) and key not in targets:
            continue  # shown with the plan's row above
        verdict = "met" if bool(r["met"]) else "missed"
        rows.append(
            [
                names.form(r["care_form"]),
                names.provider(provider) if isinstance(provider, str) else "alle aanbieders",
                int(r["year"]),
                None,
                _days(r["mean_days"]),
                float(r["max_mean_days"]),
                "scenario (hefbomen)",
                verdict_text(verdict),
            ]
        )
        verdicts.append(verdict)
    write_table(
        ws,
        LIGDUUR_COLUMNS,
        rows,
        verdicts=verdicts,
        freeze_columns=3,
        empty="Het plan heeft geen verblijfsvormen.",
    )


def _days(value: Any) -> float | None:
    return None if not _known(value) else round(float(value), 1)


CHANGE_COLUMNS = (
    Column("Code aanbieder", "code"),
    Column("Aanbieder"),
    Column("Verblijfsvorm"),
    Column("Jaar", "year"),
    Column("Afspraak (bedden)", "count"),
    Column("Plan (bedden)", "count"),
    Column("Verschil (bedden)", "change"),
    Column("Reden", "wrap"),
)


def _changes_sheet(ws: Worksheet, result: AfbouwResult, names: Names) -> None:
    """Every cell that differs from the agreed plan, with the reason; more green, fewer red."""
    append_row(ws, [f"Wijzigingen ten opzichte van de afspraak ({result.reference_source})"])
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    records = result.changes.to_dict(orient="records")
    rows = [
        [
            str(r["provider"]),
            names.provider(r["provider"]),
            names.form(r["care_form"]),
            int(r["year"]),
            int(r["reference_beds"]),
            int(r["beds"]),
            int(r["change_vs_reference"]),
            str(r["reason"]),
        ]
        for r in records
    ]
    first, _ = write_table(
        ws,
        CHANGE_COLUMNS,
        rows,
        freeze_columns=2,
        empty="Het plan houdt de afspraak: geen enkele cel verandert.",
    )
    changes = [int(r["change_vs_reference"]) for r in records]
    for offset, change in enumerate(changes, start=1):
        if change:
            ws.cell(row=first + offset, column=7).fill = GREEN if change > 0 else RED


# --------------------------------------------------------------------------------------
# the workbook
# --------------------------------------------------------------------------------------


def write_workbook(scenario: Scenario, result: AfbouwResult, path: Path) -> Path:
    """Write ``plan.xlsx`` (see the module) to ``path``; return ``path``."""
    names = Names.of(scenario)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "samenvatting"
    _summary_sheet(ws, scenario, result, names)
    if len(result.plan):
        _per_provider_sheet(wb.create_sheet("per aanbieder"), result.plan, names)
        _per_year_sheet(wb.create_sheet("per jaar"), result, names)
    _targets_sheet(wb.create_sheet("doelen"), result.targets, names)
    if len(result.service_levels):
        _norms_sheet(wb.create_sheet("normen"), result.service_levels, names)
    _ombouw_sheet(wb.create_sheet("ombouwbudget"), result, names)
    transformation = bool(result.data.ambulant_forms or result.data.budget or scenario.los_targets)
    if len(result.plan) and transformation:
        if result.data.ambulant_forms:
            _ratio_sheet(wb.create_sheet("verhouding ambulant"), result)
        _ligduur_sheet(wb.create_sheet("ligduur"), result, names)
    if result.reference_source is not None:
        _changes_sheet(wb.create_sheet(CHANGES_SHEET), result, names)
    wb.save(path)
    return path
