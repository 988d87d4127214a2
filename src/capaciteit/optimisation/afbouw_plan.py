"""The afbouw plan for a scenario: data, solve, explain conflicts, verify by simulation.

:func:`afbouw_plan` runs the pipeline: the needs per care form and year (the verified
minimal beds, a given table, or none), :func:`plan_data`, :func:`~capaciteit.optimisation.
afbouw.solve_plan`, the explanation of every need or target the plan cannot meet
(:func:`explain`), and a simulation of the plan's beds with the service levels per year.

Given an agreed plan (``reference``: the beds the pipeline read from
``afbouw.reference.file`` or ``--reference``), the plan stays close to it and every cell
that still changes is listed with the need, target or rule that forced it
(:mod:`capaciteit.optimisation.afbouw_reference`); when the per-cell limit leaves no plan,
the message names the cells and the smallest limit that works.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from capaciteit._pandas import as_float, as_int, items
from capaciteit.core import nl
from capaciteit.domain.model import AMBULANT, VERBLIJF, WOONPLEK
from capaciteit.domain.norms import norms_of
from capaciteit.domain.scenario import (
    DEFAULT_REFERENCE_WEIGHT_EUR_PER_BED,
    DEFAULT_TARGETS,
    Scenario,
    TargetIn,
)
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.optimisation.afbouw import (
    LosTarget,
    Plan,
    PlanData,
    RatioTarget,
    SolverName,
    Target,
    beds_by_form,
    solve_plan,
    target_values,
)
from capaciteit.optimisation.afbouw_reference import (
    changes_frame,
    least_reference_limit,
    reference_changes,
    rule_conflicts,
)
from capaciteit.optimisation.minimal_beds import cost_per_bed_day, minimal_beds
from capaciteit.optimisation.ombouw import (
    explain_ombouw,
    explain_unsteered,
    ligduur_judged,
    ligduur_table,
    ombouw_providers,
    ombouw_totals,
    ratio_judged,
    ratio_table,
)
from capaciteit.simulation.executors import Executor
from capaciteit.simulation.judge import judge_norms, missed_norms
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import compile_spec

Progress = Callable[[str], None]
_SOLVED = {"optimal": "optimaal", "feasible": "toelaatbaar, niet bewezen optimaal"}


@dataclass(frozen=True)
class AfbouwResult:
    """The plan with everything an ontwikkeltafel reviews.

    Attributes
    ----------
    status
        ``targets_met`` (every need and target holds), ``conflicts`` (the closest plan; see
        :attr:`conflicts`), or the solver's ``infeasible`` / ``timeout``.
    plan
        Beds per provider, care form and year (long table with changes and costs).
    targets
        Each target per year: bound, planned beds, met — from the plan's numbers.
    conflicts
        One sentence per need or target the plan cannot meet, with year, beds and why.
    service_levels
        Simulated service levels of the plan per care form and year (95% CIs).
    ombouw
        Per plan year, the region (:func:`~capaciteit.optimisation.ombouw.ombouw_totals`):
        beds closed and opened, ``budget_freed_eur`` (the closed beds' tariff),
        ``freed_eur``, ambulant places added, ``respent_eur``, ``remaining_eur``, the
        spend at the 0-meting and that year, the budget and the euros over it.
    need_source
        Where the needs came from: ``minimal_beds``, ``none`` or the table's path.
    need
        The need per care form and later year: ``care_form, year, beds`` and, with a plan,
        ``planned_beds`` and ``short_beds`` (beds the plan stays below it).
    changes
        With a reference: every cell that differs from the agreed plan (``provider,
        care_form, year, reference_beds, beds, change_vs_reference, reason``; the reasons
        in Dutch, joined by ``; ``). Empty without a reference or without changes.
    reference_source
        The agreed plan's file name, or None.
    ombouw_providers
        Per provider and plan year: freed, re-spent and remaining euros, beds closed and
        ambulant places added (:func:`~capaciteit.optimisation.ombouw.ombouw_providers`).
    ratio
        Per plan year: verblijf beds, ambulant places and places per bed.
    ratio_targets
        Each ratio target per later year from its year on: required places and ``met``.
    ligduur
        Per verblijf form and plan year: beds and the plan's mean stay over the stays.
    ligduur_targets
        Each ligduur target per later year from its year on: mean, ``met`` and
        ``steered_by`` (``plan`` or ``scenario``: a provider's own, changed by levers only).
    """

    status: str
    message: str
    data: PlanData
    solution: Plan
    plan: pd.DataFrame
    targets: pd.DataFrame
    conflicts: list[str]
    service_levels: pd.DataFrame
    ombouw: pd.DataFrame
    need_source: str
    need: pd.DataFrame = field(default_factory=pd.DataFrame)
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    reference_source: str | None = None
    ombouw_providers: pd.DataFrame = field(default_factory=pd.DataFrame)
    ratio: pd.DataFrame = field(default_factory=pd.DataFrame)
    ratio_targets: pd.DataFrame = field(default_factory=pd.DataFrame)
    ligduur: pd.DataFrame = field(default_factory=pd.DataFrame)
    ligduur_targets: pd.DataFrame = field(default_factory=pd.DataFrame)


def targets_of(scenario: Scenario) -> list[Target]:
    """List the scenario's bed targets against the 0-meting (regional defaults if none)."""
    base = scenario.model.baseline_beds()
    settings = scenario.afbouw
    given = settings.targets
    raw = given if given is not None else [TargetIn.model_validate(t) for t in DEFAULT_TARGETS]
    forms = set(scenario.model.care_form_ids)
    out = []
    for t in raw:
        if given is None and not set(t.care_forms) <= forms:
            continue
        baseline = int(sum(int(base.get(f, 0)) for f in t.care_forms))
        kind: Literal["max", "min"]
        if t.max_share_of_0_meting is not None:
            kind, share = "max", float(t.max_share_of_0_meting)
            bound = math.floor(share * baseline + 1e-9)
        else:
            kind, share = "min", float(t.min_share_of_0_meting or 0.0)
            bound = math.ceil(share * baseline - 1e-9)
        out.append(
            Target(
                tuple(t.care_forms),
                t.year,
                kind,
                share,
                bound,
                baseline,
                t.label,
            )
        )
    return out


def plan_years(scenario: Scenario) -> list[int]:
    """Return the 0-meting year, then the scenario's years up to ``afbouw.end_year``."""
    base = scenario.model.meta.baseline_year
    end = scenario.afbouw.end_year or scenario.end_year
    later = [y for y in scenario.years if base < y <= end]
    return [base, *later]


def plan_data(
    scenario: Scenario,
    need: Mapping[tuple[str, int], int],
    reference: Mapping[tuple[str, str, int], int] | pd.Series | None = None,
    reference_source: str = "referentieplan",
) -> PlanData:
    """Integer data of the afbouw model for ``scenario`` and the needs ``need``.

    ``need`` holds beds per (care_form, year), e.g. :func:`~capaciteit.plans.table.need_of`
    of a stored run's ``need`` rows. ``reference`` (beds per provider, care form and year
    of an agreed plan) makes the plan stay close to it with the scenario's
    ``afbouw.reference`` weight and limit (defaults when the scenario has none); cells of
    years outside the plan are ignored, and a provider and care form the plan does not
    have is refused (InvalidInputError naming ``reference_source``).

    The plan's pairs are the verblijf beds and the ambulant places of the model (18+
    housing keeps the scenario's places and is left out). An ambulant form's need for a
    year ``need`` does not name is the scenario's places of that form that year: the
    verblijf need was computed (minimal beds) with those places in the region, so it only
    holds when the plan keeps at least them. The budget path, the ratio targets and the
    ligduur targets on a form of the plan come from the scenario (see
    :class:`~capaciteit.optimisation.afbouw.PlanData`).
    """
    model = scenario.model
    settings = scenario.afbouw
    years = plan_years(scenario)
    beds0 = model.beds["beds"]
    forms = set(model.forms_of_kind(VERBLIJF, AMBULANT))
    allowed = {(a.provider, a.care_form) for a in settings.allow_new if a.care_form in forms}
    keys = [(str(p), str(f)) for p, f in beds0.index if str(f) in forms]
    offered = set(keys)
    # an ambulant programme the scenario opens after the 0-meting (levers.bed_changes) is
    # offered: the ambulant need counts its places, so the plan may place them there
    most = scenario.capacity.max(axis=1)
    opened = {
        (str(key[1]), str(key[0]))
        for key, places in items(most)
        if model.kind_of(str(key[0])) == AMBULANT and int(places) > 0
    }
    offered |= opened
    keys += [k for k in sorted(allowed | opened) if k not in set(keys)]
    tariffs = cost_per_bed_day(scenario)
    rows = []
    for p, f in keys:
        b0 = int(beds0.get((p, f), 0))
        change = max(
            settings.max_change_per_year.beds,
            math.floor(settings.max_change_per_year.share * b0 + 1e-9),
        )
        tariff = model.cost_per_bed_day(f, p)
        if tariff is None:
            tariff = float(tariffs[(f, scenario.years[0])])
        rows.append(
            {
                "provider": p,
                "care_form": f,
                "beds0": b0,
                "max_change": change,
                "min_group": int(settings.min_group_size.get(f, 0)),
                "open_to_beds": (p, f) in offered or (p, f) in allowed,
                "cost_per_bed_year": round(tariff * 365),
                "upper": b0 + change * (len(years) - 1),
            }
        )
    pairs = pd.DataFrame(rows).set_index(["provider", "care_form"])
    _check_pins(settings, offered, allowed, beds0, years, set(model.forms_of_kind(WOONPLEK)))
    _check_housing_targets(scenario)
    w = settings.weights
    agreed = (
        _reference_cells(reference, set(keys), years, reference_source)
        if reference is not None
        else {}
    )
    given = settings.reference
    weight = given.weight_eur_per_bed if given is not None else DEFAULT_REFERENCE_WEIGHT_EUR_PER_BED
    spend0 = int((pairs["beds0"] * pairs["cost_per_bed_year"]).sum())
    return PlanData(
        pairs=pairs,
        years=years,
        need=_plan_need(scenario, need, years, forms),
        targets=targets_of(scenario),
        recruitment={f: n for f, n in settings.recruitment_per_year.items() if f in forms},
        pins={(pin.provider, pin.care_form, pin.year): pin.beds for pin in settings.pinned},
        weights={
            "opening": round(w.opening_eur_per_bed),
            "closing": round(w.closing_eur_per_bed),
            "fairness": round(w.fairness_eur_per_bed),
            "stability": round(w.stability_eur_per_bed),
            # the reference weight only with a reference ("reference" absent means 0)
            **({"reference": round(weight)} if agreed else {}),
        },
        mode=settings.mode,
        reference=agreed,
        reference_max_change=given.max_change_beds if given is not None and agreed else None,
        kinds={f: model.kind_of(f) for f in model.care_form_ids if f in forms},
        budget=_budget_path(scenario, years, spend0),
        budget_neutral_eur=(
            spend0 if settings.budget is not None and settings.budget.neutral else None
        ),
        ratio_targets=[
            RatioTarget(t.year, float(t.min_ambulant_per_verblijf), t.label)
            for t in settings.ratio_targets
        ],
        los_targets=_los_targets(scenario, keys, years, forms),
    )


def _plan_need(
    scenario: Scenario,
    need: Mapping[tuple[str, int], int],
    years: list[int],
    forms: set[str],
) -> dict[tuple[str, int], int]:
    """Return the need per plan form and later year; an ambulant form's is its places.

    The verblijf need (the minimal beds of ``capaciteit beds``) is computed by simulating
    the scenario with its ambulant places: fewer places send more referrals to the beds,
    so that need only holds when the plan keeps at least those places. An ambulant form
    the mapping does not name for a year therefore needs the scenario's places that year
    (all providers together). 18+ housing is not planned: its rows are left out.
    """
    out = {(str(f), int(y)): int(v) for (f, y), v in need.items() if f in forms and y in years[1:]}
    capacity = scenario.capacity
    for f in scenario.model.forms_of_kind(AMBULANT):
        if f not in capacity.index.get_level_values("care_form"):
            continue
        places = capacity.xs(f, level="care_form")
        for y in years[1:]:
            column = min(max(y, scenario.start_year), scenario.end_year)
            out.setdefault((f, y), int(places[column].sum()))
    return out


def _budget_path(scenario: Scenario, years: list[int], spend0: int) -> dict[int, int]:
    """Return the budget ceiling per later year in whole euros (rounded down).

    ``neutral``: what the 0-meting's beds and places of the plan cost a year (``spend0``);
    ``eur_per_year``: the amount of the latest year given up to that year. With both, the
    lower ceiling holds.
    """
    given = scenario.afbouw.budget
    if given is None:
        return {}
    out: dict[int, int] = {}
    for y in years[1:]:
        ceilings = [spend0] if given.neutral else []
        earlier = [amount for year, amount in sorted(given.eur_per_year.items()) if year <= y]
        if earlier:
            ceilings.append(math.floor(earlier[-1]))
        if ceilings:
            out[y] = min(ceilings)
    return out


def _los_targets(
    scenario: Scenario, keys: list[tuple[str, str]], years: list[int], forms: set[str]
) -> list[LosTarget]:
    """Ligduur targets on a care form of the plan, with each provider's mean stay per year.

    A provider's own target, and one on a form outside the plan, is judged by
    :func:`~capaciteit.optimisation.ombouw.ligduur_judged` instead: beds cannot move it.
    """
    out = []
    for t in scenario.los_targets:
        if t.provider is not None or t.care_form not in forms:
            continue
        providers = [p for p, f in keys if f == t.care_form]
        los = {
            (p, y): scenario.mean_los_days(t.care_form, p, y)
            for p in providers
            for y in years[1:]
            if y >= t.year
        }
        out.append(LosTarget(t.care_form, t.year, float(t.max_mean_days), t.label, los))
    return out


def _reference_cells(
    reference: Mapping[tuple[str, str, int], int] | pd.Series,
    pairs: set[tuple[str, str]],
    years: list[int],
    source: str,
) -> dict[tuple[str, str, int], int]:
    """Keep the agreed beds within the plan years; refuse providers and forms the plan lacks."""
    cells = items(reference) if isinstance(reference, pd.Series) else list(reference.items())
    unknown: dict[tuple[str, str], int] = {}
    out: dict[tuple[str, str, int], int] = {}
    for key, beds in cells:
        p, f, y = str(key[0]), str(key[1]), int(key[2])
        if (p, f) not in pairs:
            unknown[(p, f)] = unknown.get((p, f), 0) + 1
        elif y in years:
            out[(p, f, y)] = int(beds)
    if unknown:
        raise InvalidInputError(
            "Het referentieplan",
            [
                Problem(
                    source,
                    f"aanbieder '{p}' heeft geen '{f}' in dit plan "
                    f"({nl.plural(n, 'cel', 'cellen')} in de afspraak).",
                    "Verwijder die regels uit het referentieplan, of zet het paar in "
                    "afbouw.allow_new (of in beds.csv van het model).",
                    id=f"{p}/{f}",
                )
                for (p, f), n in sorted(unknown.items())
            ],
        )
    return out


def _check_housing_targets(scenario: Scenario) -> None:
    """Refuse bed targets on 18+ housing: the plan does not decide those places."""
    housing = set(scenario.model.forms_of_kind(WOONPLEK))
    given = scenario.afbouw.targets or []
    problems = [
        Problem(
            "scenario",
            f"doel op woonplek(ken) {nl.join(sorted(set(t.care_forms) & housing))}: 18+ "
            "woonplekken staan niet in het afbouwplan (de Wmo betaalt ze); het plan houdt de "
            "plaatsen van het scenario.",
            "Haal de woonplek uit het doel; verander de plaatsen met levers.bed_changes.",
            column=f"afbouw.targets[{i}]",
        )
        for i, t in enumerate(given)
        if set(t.care_forms) & housing
    ]
    if problems:
        raise InvalidInputError("De afbouwinstellingen", problems)


def _check_pins(
    settings: Any,
    offered: set[tuple[str, str]],
    allowed: set[tuple[str, str]],
    beds0: pd.Series,
    years: list[int],
    housing: set[str] | None = None,
) -> None:
    """Refuse pins the plan could only honour by ignoring them."""
    problems = []
    for i, pin in enumerate(settings.pinned):
        key = f"afbouw.pinned[{i}]"
        pair = (pin.provider, pin.care_form)
        if pin.care_form in (housing or set()):
            message = (
                f"'{pin.care_form}' is een 18+ woonplek: die staan niet in het afbouwplan, "
                "dus er valt niets vast te leggen."
            )
            fix = "Verander woonplekken met levers.bed_changes, of verwijder de afspraak."
        elif pair not in offered and pair not in allowed:
            message = (
                f"'{pin.provider}' biedt '{pin.care_form}' niet aan en kan dus niet op "
                f"{nl.number(pin.beds)} plaatsen worden vastgelegd."
            )
            fix = "Zet het paar in afbouw.allow_new, of verwijder de afspraak."
        elif pin.year == years[0] and pin.beds != int(beds0.get(pair, 0)):
            message = (
                f"{pin.year} is het jaar van de 0-meting ({nl.number(int(beds0.get(pair, 0)))} "
                f"plaatsen); een afspraak van {nl.number(pin.beds)} plaatsen spreekt dat tegen."
            )
            fix = "Leg een later jaar vast, of corrigeer de 0-meting."
        elif pin.year not in years:
            message = (
                f"het jaar {pin.year} van de afspraak valt buiten de planjaren "
                f"{years[0]}–{years[-1]}."
            )
            fix = "Kies een planjaar."
        else:
            continue
        problems.append(Problem("scenario", message, fix, column=key, id=pin.provider))
    if problems:
        raise InvalidInputError("De afbouwinstellingen", problems)


def read_need(scenario: Scenario) -> dict[tuple[str, int], int]:
    """Read the need table named by ``afbouw.need`` (a CSV: care_form, year, beds)."""
    source = Path(scenario.afbouw.need)
    if not source.is_absolute() and scenario.path is not None:
        source = scenario.path.parent / source
    fname = source.name
    problems: list[Problem] = []
    try:
        table = pd.read_csv(source)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(
            "De behoeftetabel",
            [
                Problem(
                    fname,
                    f"kan niet worden gelezen (technische melding: {type(exc).__name__}).",
                    "Geef een CSV met de kolommen care_form,year,beds.",
                )
            ],
        ) from None
    missing = {"care_form", "year", "beds"} - set(table.columns)
    if missing:
        problems.append(
            Problem(
                fname,
                f"mist de kolom(men) {nl.join(sorted(missing))}.",
                "Kolommen: care_form,year,beds.",
            )
        )
        raise InvalidInputError("De behoeftetabel", problems)
    need: dict[tuple[str, int], int] = {}
    for i, row in enumerate(table.to_dict(orient="records"), start=2):
        fid = str(row["care_form"])
        if fid not in scenario.model.care_form_ids:
            problems.append(
                Problem(
                    fname,
                    f"zorgvorm '{fid}' staat niet in het model.",
                    "Gebruik de zorgvormen van het model: "
                    + ", ".join(scenario.model.care_form_ids)
                    + ".",
                    row=i,
                    id=fid,
                )
            )
            continue
        try:
            beds = int(row["beds"])
            year = int(row["year"])
        except (TypeError, ValueError):
            problems.append(
                Problem(
                    fname,
                    "year en beds moeten gehele getallen zijn.",
                    "Verbeter de regel.",
                    row=i,
                    id=fid,
                )
            )
            continue
        if beds < 0:
            problems.append(
                Problem(fname, f"beds = {beds} is negatief.", "Gebruik 0 of meer.", row=i, id=fid)
            )
            continue
        need[(fid, year)] = beds
    if problems:
        raise InvalidInputError("De behoeftetabel", problems)
    return need


def explain(data: PlanData, solution: Plan, names: dict[str, str] | None = None) -> list[str]:
    """One Dutch sentence per unmet need, target or recruitment limit, years grouped.

    ``names`` gives the care forms' names (default: their ids).
    """
    label = names or {}
    notes = []
    assert solution.beds is not None
    totals = beds_by_form(solution.beds)
    new_places = _new_places(solution.beds)
    short_by_form: dict[str, list[int]] = {}
    for (f, y), short in sorted(solution.need_slack.items()):
        if short > 0:
            short_by_form.setdefault(f, []).append(y)
    for f, years in short_by_form.items():
        need = [data.need[(f, y)] for y in years]
        planned = [as_int(totals.at[f, y]) for y in years]
        limit = data.recruitment.get(f)
        recruiting = limit is not None and all(new_places.get((f, y), 0) >= limit for y in years)
        reason = (
            f"er per jaar hoogstens {nl.number(limit)} nieuwe plaatsen geworven kunnen worden"
            if recruiting and limit is not None
            else "het aantal plaatsen per aanbieder per jaar beperkt kan groeien (de maximale "
            "verandering per jaar en vastgelegde afspraken)"
        )
        needed = (
            f"heeft het scenario {_range(need)} ambulante plekken (de behoefte aan bedden is "
            "berekend met die plekken)"
            if data.kind(f) == AMBULANT
            else f"zijn {_range(need)} plaatsen nodig om de normen te halen"
        )
        notes.append(
            f"{label.get(f, f)}: in {nl.years(years)} {needed}, maar het plan komt tot "
            f"{_range(planned)}, omdat {reason}."
        )
    by_target: dict[int, list[int]] = {}
    for key, over in sorted(solution.target_slack.items()):
        if over > 0:
            by_target.setdefault(key // 10_000, []).append(key % 10_000)
    for i, years in by_target.items():
        t = data.targets[i]
        planned = [
            sum(as_int(totals.at[f, y]) for f in t.care_forms if f in totals.index) for y in years
        ]
        need = [sum(data.need.get((f, y), 0) for f in t.care_forms) for y in years]
        name = " + ".join(label.get(f, f) for f in t.care_forms)
        if t.kind == "max":
            reason = (
                f"de minimale behoefte is {_range(need)} plaatsen"
                if max(need) > t.bound_beds
                else "het aantal plaatsen per aanbieder per jaar beperkt kan dalen"
            )
            bound = f"hoogstens {nl.percent(t.share)} van de 0-meting"
            verb = "houdt"
        else:
            limits = [f for f in t.care_forms if f in data.recruitment]
            reason = (
                "de werving van nieuwe plaatsen begrensd is ("
                + nl.join(
                    f"{label.get(f, f)} {nl.number(data.recruitment[f])} per jaar" for f in limits
                )
                + ") en het aantal plaatsen per aanbieder per jaar beperkt kan groeien"
                if limits
                else "het aantal plaatsen per aanbieder per jaar beperkt kan groeien"
            )
            bound = f"minstens {nl.percent(t.share)} van de 0-meting"
            verb = "komt tot"
        notes.append(
            f"Doel '{t.label or t.describe()}' in {nl.years(years)} niet gehaald: {name} "
            f"{bound} = {nl.number(t.bound_beds)} plaatsen, maar het plan {verb} "
            f"{_range(planned)}, omdat {reason}."
        )
    over_by_form: dict[str, list[tuple[int, int]]] = {}
    for (f, y), over in sorted(solution.recruitment_slack.items()):
        if over > 0:
            over_by_form.setdefault(f, []).append((y, over))
    for f, items_ in over_by_form.items():
        limit = data.recruitment[f]
        notes.append(
            f"{label.get(f, f)}: in {nl.years([y for y, _ in items_])} vraagt het plan "
            f"{_range([limit + o for _, o in items_])} nieuwe plaatsen per jaar, meer dan de "
            f"{nl.number(limit)} die per jaar geworven kunnen worden (vastgelegde afspraken "
            "dwingen dit af)."
        )
    return notes + explain_ombouw(data, solution, label)


def _range(values: list[int]) -> str:
    low, high = min(values), max(values)
    return nl.number(low) if low == high else f"{nl.number(low)}–{nl.number(high)}"


def _new_places(beds: pd.Series) -> dict[tuple[str, int], int]:
    """Count new places per (care_form, year): the increases per provider added up."""
    frame = beds.rename("beds").reset_index().sort_values(["provider", "care_form", "year"])
    frame["up"] = frame.groupby(["provider", "care_form"])["beds"].diff().clip(lower=0)
    grouped = frame.dropna().groupby(["care_form", "year"])["up"].sum()
    return {(str(k[0]), int(k[1])): int(v) for k, v in items(grouped)}


def plan_table(data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Long table: provider, care form, year, beds, change, afbouw, opbouw, cost.

    ``cost_eur`` is the cell's beds times the pair's ``cost_per_bed_year`` (the 0-meting
    year included). With a reference, ``reference_beds`` (the agreed beds; empty for a cell
    the agreement does not name) and ``change_vs_reference`` (beds minus those) follow.
    """
    frame = beds.rename("beds").reset_index()
    frame = frame.sort_values(["provider", "care_form", "year"])
    frame["change"] = frame.groupby(["provider", "care_form"])["beds"].diff().fillna(0).astype(int)
    frame["afbouw"] = (-frame["change"]).clip(lower=0)
    frame["opbouw"] = frame["change"].clip(lower=0)
    base = data.pairs["beds0"]
    frame["beds_0_meting"] = [
        int(base[(p, f)]) for p, f in zip(frame["provider"], frame["care_form"], strict=True)
    ]
    per_bed = data.pairs["cost_per_bed_year"]
    frame["cost_eur"] = [
        int(b) * int(per_bed[(p, f)])
        for p, f, b in zip(frame["provider"], frame["care_form"], frame["beds"], strict=True)
    ]
    if data.reference:
        agreed = [
            data.reference.get((str(p), str(f), int(y)))
            for p, f, y in zip(frame["provider"], frame["care_form"], frame["year"], strict=True)
        ]
        change = [
            None if a is None else int(b) - a for a, b in zip(agreed, frame["beds"], strict=True)
        ]
        complete = all(a is not None for a in agreed)
        frame["reference_beds"] = pd.Series(
            agreed, index=frame.index, dtype="int64" if complete else "object"
        )
        frame["change_vs_reference"] = pd.Series(
            change, index=frame.index, dtype="int64" if complete else "object"
        )
    return frame.reset_index(drop=True)


def need_table(data: PlanData, beds: pd.Series | None) -> pd.DataFrame:
    """Tabulate the need per care form and later year, with the plan's beds and shortfall.

    Columns ``care_form, year, beds`` and, with ``beds``, ``planned_beds`` and
    ``short_beds`` (how far the plan stays below the need, 0 when it meets it).
    """
    order = {f: i for i, f in enumerate(data.forms)}
    keys = sorted(data.need, key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    totals = (
        {(str(k[0]), int(k[1])): int(v) for k, v in items(beds.groupby(level=[1, 2]).sum())}
        if beds is not None
        else {}
    )
    rows = []
    for f, y in keys:
        row: dict[str, object] = {"care_form": f, "year": y, "beds": int(data.need[(f, y)])}
        if beds is not None:
            planned = totals.get((f, y), 0)
            row["planned_beds"] = planned
            row["short_beds"] = max(0, int(data.need[(f, y)]) - planned)
        rows.append(row)
    columns = ["care_form", "year", "beds"]
    if beds is not None:
        columns += ["planned_beds", "short_beds"]
    return pd.DataFrame(rows, columns=columns)


def plan_for_need(
    scenario: Scenario,
    need: Mapping[tuple[str, int], int],
    *,
    solver: SolverName = "ortools",
    time_limit_s: float | None = None,
    lp_file: Path | None = None,
    reference: Mapping[tuple[str, str, int], int] | pd.Series | None = None,
    reference_source: str = "referentieplan",
    need_source: str = "none",
) -> AfbouwResult:
    """Make and explain the plan of ``scenario`` for ``need``, without simulating it.

    Everything of :class:`AfbouwResult` but the service levels (empty): the plan, the
    targets, the ombouw money, the ratio and the ligduur, and every conflict in Dutch.
    :func:`afbouw_plan` adds the simulation of the plan.
    """
    names = {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()}
    data = plan_data(scenario, need, reference, reference_source)
    solution = solve_plan(data, solver, time_limit_s or scenario.afbouw.time_limit_s, lp_file)
    used = reference_source if reference is not None else None
    if solution.beds is None:
        notes: list[str] = []
        if solution.status == "infeasible":
            message, notes = infeasible_message(data, names, reference_source)
        else:
            message = f"De solver stopte zonder plan ({solution.status}); verhoog time_limit_s."
        return AfbouwResult(
            solution.status,
            message,
            data,
            solution,
            pd.DataFrame(),
            pd.DataFrame(),
            notes,
            pd.DataFrame(),
            pd.DataFrame(),
            need_source,
            need_table(data, None),
            changes_frame([]),
            used,
        )
    beds = solution.beds
    plan = plan_table(data, beds)
    targets = target_values(data, beds)
    ligduur_targets = ligduur_judged(scenario, data, beds)
    conflicts = explain(data, solution, names) + explain_unsteered(ligduur_targets, names)
    met_all = bool(targets["met"].all()) if len(targets) else True
    met_all = met_all and bool(ligduur_targets["met"].all() if len(ligduur_targets) else True)
    status = "targets_met" if solution.conflict_free and met_all else "conflicts"
    message = (
        "Het plan haalt elk doel en elke behoefte "
        f"({_SOLVED.get(solution.status, solution.status)}, {solution.solver})."
        if status == "targets_met"
        else "Het plan komt zo dicht bij de doelen als de behoefte en de regels toelaten: "
        + " ".join(conflicts)
    )
    changes = reference_changes(data, beds, names)
    if reference is not None:
        message += f" Ten opzichte van de afspraak ({reference_source}) " + (
            f"veranderen {nl.plural(len(changes), 'cel', 'cellen')}; de redenen staan "
            "bij de wijzigingen."
            if changes
            else "verandert niets."
        )
    return AfbouwResult(
        status,
        message,
        data,
        solution,
        plan,
        targets,
        conflicts,
        pd.DataFrame(),
        ombouw_totals(data, beds),
        need_source,
        need_table(data, beds),
        changes_frame(changes),
        used,
        ombouw_providers=ombouw_providers(data, beds),
        ratio=ratio_table(data, beds) if data.ambulant_forms else pd.DataFrame(),
        ratio_targets=ratio_judged(data, beds),
        ligduur=ligduur_table(scenario, data, beds),
        ligduur_targets=ligduur_targets,
    )


def verification_capacity(scenario: Scenario, data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Beds and places per ``(care_form, provider)`` and simulated year for verifying a plan.

    The plan's pairs (verblijf beds and ambulant places) with the plan's numbers; years of
    the horizon outside the plan keep the scenario's. Every pair the plan does not decide
    (18+ housing) keeps the scenario's places, so the young people who move on to a
    woonplek still find (or wait for) the same places.
    """
    years = scenario.years
    capacity = beds[beds.index.get_level_values("year").isin(years)].unstack("year")
    capacity = capacity.swaplevel().sort_index()
    capacity.index = capacity.index.set_names(["care_form", "provider"])
    given = scenario.capacity
    for year in years:
        if year not in capacity.columns:
            capacity[year] = given[year].reindex(capacity.index, fill_value=0)
    planned = set(data.forms)
    kept = given[[f not in planned for f in given.index.get_level_values("care_form")]]
    out = pd.concat([capacity[years], kept[years]]).sort_index()
    return out.astype("int64")


def afbouw_plan(
    scenario: Scenario,
    *,
    solver: SolverName = "ortools",
    executor: Executor | None = None,
    replications: int | None = None,
    time_limit_s: float | None = None,
    lp_file: Path | None = None,
    progress: Progress | None = None,
    reference: Mapping[tuple[str, str, int], int] | pd.Series | None = None,
    reference_source: str = "referentieplan",
) -> AfbouwResult:
    """Make, explain and verify the afbouw plan of ``scenario``.

    ``reference``: the agreed plan's beds per (provider, care_form, year), read by the
    caller (:func:`capaciteit.pipelines.afbouw.afbouw_report` reads
    ``afbouw.reference.file``); ``reference_source`` names it in messages. A scenario that
    names a reference file needs it passed here (ValueError otherwise: it is never
    silently dropped).
    """
    say = progress or (lambda _: None)
    source = scenario.afbouw.need
    names = {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()}
    if reference is None and scenario.afbouw.reference is not None:
        raise ValueError(
            "the scenario names afbouw.reference.file: read it (capaciteit.plans.table."
            "read_reference) and pass it as reference"
        )
    if reference is not None:
        plan_data(scenario, {}, reference, reference_source)  # refuse a bad reference early
    if source == "minimal_beds":
        beds = minimal_beds(
            scenario, executor=executor, replications=replications, progress=progress
        )
        table = beds.table["minimal_beds"].dropna()
        need = {(str(k[0]), int(k[1])): int(v) for k, v in table.items()}  # type: ignore[index]
    elif source == "none":
        need = {}
    else:
        need = read_need(scenario)
    say("afbouwplan: optimaliseren")
    result = plan_for_need(
        scenario,
        need,
        solver=solver,
        time_limit_s=time_limit_s,
        lp_file=lp_file,
        reference=reference,
        reference_source=reference_source,
        need_source=source,
    )
    if result.solution.beds is None:
        return result
    data = result.data
    say("afbouwplan: simulatie van het plan")
    spec = compile_spec(scenario)
    capacity = verification_capacity(scenario, data, result.solution.beds)
    extra = capacity.index.difference(spec.cost_per_bed_day.index)
    if len(extra):
        # pairs the plan opens (afbouw.allow_new): their tariff comes from the plan data
        added = pd.Series(
            [as_float(data.pairs.at[(p, f), "cost_per_bed_year"]) / 365 for f, p in extra],
            index=extra,
            dtype="float64",
        )
        spec = dataclasses.replace(spec, cost_per_bed_day=pd.concat([spec.cost_per_bed_day, added]))
    simulated = run_replications(
        spec.with_capacity(capacity),
        replications or scenario.optimisation.replications or scenario.replications,
        scenario.seed,
        executor,
    )
    service = judge_norms(simulated, norms_of(scenario))
    message = result.message
    missed = missed_norms(service, names)
    if missed:
        message = (
            "In de simulatie van het plan worden normen niet gehaald: " + missed + " " + message
        )
    return dataclasses.replace(result, message=message, service_levels=service)


def infeasible_message(
    data: PlanData, names: Mapping[str, str], reference_source: str = "referentieplan"
) -> tuple[str, list[str]]:
    """Say in Dutch why no plan exists, naming the cells; return the message and the notes.

    When the plan is only impossible because of the limit on the agreed plan
    (``afbouw.reference.max_change_beds``), the notes name the cells where the limit and
    the other rules clash, and the message the smallest limit that works.
    """
    plain = rule_conflicts(data, names, with_limit=False)
    limit = data.reference_max_change
    if limit is not None and not plain:
        notes = rule_conflicts(data, names)
        least = least_reference_limit(data)
        message = (
            f"Geen plan blijft overal binnen {_plural_beds(limit)} van de afspraak "
            f"({reference_source}, afbouw.reference.max_change_beds): " + " ".join(notes)
        )
        if least is not None:
            message += (
                f" Met max_change_beds = {nl.number(least)} kan het wel; of pas de afspraak "
                "voor deze cellen aan."
            )
        return message, notes
    message = (
        "Geen plan voldoet tegelijk aan de vaste regels (vastgelegde afspraken, maximale "
        "verandering per jaar, groepsgroottes); versoepel een ervan."
    )
    if plain:
        message += " " + " ".join(plain)
    return message, plain


def _plural_beds(count: int) -> str:
    return nl.plural(count, "plaats", "plaatsen")
