"""Load a scenario file and resolve it against its region model.

Every problem in the scenario (unknown ids, years outside the horizon, beds that would go
negative, shares above 1) is collected and reported at once, naming the YAML key to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from capaciteit._pandas import as_float, items
from capaciteit.core import nl
from capaciteit.domain.model import AMBULANT, VERBLIJF, WOONPLEK, RegionModel
from capaciteit.domain.scenario import (
    DEFAULT_SERVICE_LEVELS,
    FALLBACK_SERVICE_LEVEL,
    KIND_SERVICE_LEVELS,
    SERVICE_LEVEL_FIELDS,
    Scenario,
    ScenarioFile,
)
from capaciteit.errors import InvalidInputError, Problem, figure
from capaciteit.io.model_files import load_model
from capaciteit.io.yaml_files import parse_yaml_model, read_yaml


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read the scenario file ``path``, load its model and resolve the levers.

    ``overrides`` replace top-level keys of the file (e.g. ``replications=5``).

    Raises
    ------
    InvalidInputError
        With every problem in the scenario file, or in the model it names.
    """
    file = Path(path)
    problems: list[Problem] = []
    what = f"Het scenario '{file}'"
    if file.is_dir():
        problems.append(
            Problem(
                str(file),
                "is een map; een scenario is een .yaml-bestand (zie simulations/).",
                "Geef een scenariobestand op; 'capaciteit validate' neemt ook een modelmap.",
            )
        )
        raise InvalidInputError(what, problems)
    if not file.is_file():
        problems.append(
            Problem(str(file), "bestaat niet.", "Geef het pad van een .yaml-bestand op.")
        )
        raise InvalidInputError(what, problems)
    data = read_yaml(file, problems)
    if data is None:
        raise InvalidInputError(what, problems)
    data.update({k: v for k, v in overrides.items() if v is not None})
    parsed = parse_yaml_model(ScenarioFile, data, file.name, problems)
    if parsed is None:
        raise InvalidInputError(what, problems)
    model_dir = (file.parent / parsed.model).resolve()
    if not model_dir.is_dir():
        problems.append(
            Problem(
                file.name,
                f"de modelmap '{parsed.model}' bestaat niet (gezocht in {model_dir}).",
                "Geef de modelmap op vanaf de map van het scenariobestand, bijvoorbeeld "
                "../models/regio.",
                column="model",
            )
        )
        raise InvalidInputError(what, problems)
    model = load_model(model_dir)
    return resolve_scenario(parsed, model, file)


def resolve_scenario(parsed: ScenarioFile, model: RegionModel, file: Path | None) -> Scenario:
    """Check ``parsed`` against ``model`` and build the per-year tables."""
    fname = file.name if file is not None else "scenario"
    problems: list[Problem] = []
    start, end = parsed.horizon.start_year, parsed.horizon.end_year
    years = list(range(start, end + 1))
    forms = model.care_form_ids
    providers = set(model.provider_ids)

    if start < model.meta.baseline_year:
        problems.append(
            Problem(
                fname,
                f"de horizon begint in {start}, vóór de 0-meting ({model.meta.baseline_year}).",
                f"Laat de horizon beginnen in {model.meta.baseline_year} of later.",
                column="horizon.start_year",
            )
        )

    def check_year(year: int, key: str) -> bool:
        if start <= year <= end:
            return True
        problems.append(
            Problem(
                fname,
                f"jaar {year} valt buiten de horizon {start}-{end}.",
                f"Gebruik een jaar van {start} tot en met {end}.",
                column=key,
            )
        )
        return False

    def check_form(fid: str, key: str) -> bool:
        if fid in forms:
            return True
        problems.append(
            Problem(
                fname,
                f"zorgvorm '{fid}' staat niet in het model.",
                f"Gebruik een van: {', '.join(forms)}.",
                column=key,
                id=fid,
            )
        )
        return False

    def step_table(levers: dict[str, dict[int, float]], key: str, floor: float) -> pd.DataFrame:
        table = pd.DataFrame(1.0, index=pd.Index(forms, name="care_form"), columns=years)
        for fid, by_year in levers.items():
            if not check_form(fid, f"levers.{key}.{fid}"):
                continue
            for year, pct in sorted(by_year.items()):
                if not check_year(year, f"levers.{key}.{fid}.{year}"):
                    continue
                if pct < floor:
                    problems.append(
                        Problem(
                            fname,
                            f"{key} {figure(pct)}% voor '{fid}' in {year} ligt onder "
                            f"{figure(floor)}%.",
                            f"Gebruik een verandering van minstens {figure(floor)}%.",
                            column=f"levers.{key}.{fid}.{year}",
                            id=fid,
                        )
                    )
                    continue
                table.loc[fid, [y for y in years if y >= year]] = 1 + pct / 100
        return table

    instroom_factor = step_table(parsed.levers.instroom_change_pct, "instroom_change_pct", -100)
    los_factor = step_table(parsed.levers.los_change_pct, "los_change_pct", -99)

    base = model.instroom["arrivals_per_year"]
    instroom = pd.DataFrame(0.0, index=pd.Index(forms, name="care_form"), columns=years)
    for fid in forms:
        if fid not in base.index.get_level_values("care_form"):
            continue
        series = base.loc[fid]
        for year in years:
            earlier = series[series.index <= year]
            instroom.loc[fid, year] = float(earlier.iloc[-1]) if len(earlier) else 0.0
    instroom *= instroom_factor

    subs_rows: list[tuple[int, str, str, float]] = []
    latest: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for i, sub in enumerate(parsed.levers.substitution):
        key = f"levers.substitution[{i}]"
        ok = check_form(sub.from_care_form, key + ".from") & check_form(sub.to, key + ".to")
        ok &= check_year(sub.year, key + ".year")
        if ok and sub.from_care_form == sub.to:
            problems.append(
                Problem(
                    fname,
                    "substitution van een zorgvorm naar dezelfde zorgvorm.",
                    "Gebruik twee verschillende zorgvormen.",
                    column=key,
                    id=sub.to,
                )
            )
            ok = False
        if ok:
            steps_so_far = latest.setdefault((sub.from_care_form, sub.to), [])
            if any(y == sub.year for y, _ in steps_so_far):
                problems.append(
                    Problem(
                        fname,
                        f"substitution van '{sub.from_care_form}' naar '{sub.to}' in {sub.year} "
                        "staat er twee keer in.",
                        "Houd één regel per jaar en paar zorgvormen over.",
                        column=key,
                        id=sub.from_care_form,
                    )
                )
            steps_so_far.append((sub.year, sub.share))
    for (src, dst), steps in latest.items():
        steps.sort()
        for year in years:
            active = [share for y, share in steps if y <= year]
            if active:
                subs_rows.append((year, src, dst, active[-1]))
    substitution = pd.DataFrame(subs_rows, columns=["year", "from_care_form", "to", "share"])
    substitution = substitution.set_index(["year", "from_care_form", "to"]).sort_index()
    if not substitution.empty:
        totals = substitution["share"].groupby(level=["year", "from_care_form"]).sum()
        for record in totals.reset_index().to_dict(orient="records"):
            year, src, total = record["year"], record["from_care_form"], record["share"]
            if total > 1 + 1e-9:
                problems.append(
                    Problem(
                        fname,
                        f"de substitution-aandelen vanuit '{src}' tellen in {year} op tot "
                        f"{figure(total)}.",
                        "Zorg dat de aandelen vanuit één zorgvorm in elk jaar samen hoogstens 1 "
                        "zijn.",
                        column="levers.substitution",
                        id=str(src),
                    )
                )

    capacity = _capacity(parsed, model, years, fname, providers, check_form, check_year, problems)
    _check_substitution_kinds(parsed, model, capacity, fname, problems)
    _check_places_exist(model, capacity, instroom, fname, problems)
    los_pair_factor = _los_pair_factor(
        parsed, model, capacity, years, fname, check_form, check_year, problems
    )
    _check_los_targets(parsed, capacity, fname, check_form, check_year, problems)
    service_levels = _service_levels(parsed, model, fname, check_form, problems)
    _check_afbouw(parsed, model, fname, check_form, problems)

    initial_state = parsed.initial_state
    has_occupied = bool(model.beds["occupied"].notna().all()) and not model.beds.empty
    if initial_state is None:
        initial_state = "occupied" if has_occupied else "empty"
    elif initial_state == "occupied" and not has_occupied:
        problems.append(
            Problem(
                fname,
                "initial_state 'occupied' heeft de kolom occupied nodig in de tabel beds van "
                "het model.",
                "Voeg occupied toe aan beds.csv, of zet initial_state: empty (met een "
                "inloopperiode, warm_up_days).",
                column="initial_state",
            )
        )
    if problems:
        raise InvalidInputError(f"Het scenario '{fname}'", problems)
    return Scenario(
        name=parsed.name,
        description=parsed.description.strip(),
        path=file.resolve() if file is not None else None,
        model=model,
        start_year=start,
        end_year=end,
        replications=parsed.replications,
        seed=parsed.seed,
        warm_up_days=(
            parsed.warm_up_days
            if parsed.warm_up_days is not None
            else (0.0 if initial_state == "occupied" else 365.0)
        ),
        initial_state=initial_state,
        instroom=instroom,
        los_factor=los_factor,
        substitution=substitution,
        capacity=capacity,
        service_levels=service_levels,
        optimisation=parsed.optimisation,
        afbouw=parsed.afbouw,
        los_pair_factor=los_pair_factor,
        los_targets=list(parsed.los_targets),
    )


def _check_substitution_kinds(
    parsed: ScenarioFile,
    model: RegionModel,
    capacity: pd.DataFrame,
    fname: str,
    problems: list[Problem],
) -> None:
    """Substitution goes from a bed to another bed or to ambulant places that exist."""
    forms = set(model.care_form_ids)
    places = capacity.groupby(level="care_form").sum()
    for i, sub in enumerate(parsed.levers.substitution):
        key = f"levers.substitution[{i}]"
        if sub.from_care_form not in forms or sub.to not in forms:
            continue  # reported already
        source, target = model.kind_of(sub.from_care_form), model.kind_of(sub.to)
        if source != VERBLIJF:
            problems.append(
                Problem(
                    fname,
                    f"substitution vanuit '{sub.from_care_form}' ({source}): alleen verwijzingen "
                    "naar een bed (kind verblijf) kunnen elders terechtkomen.",
                    "Kies bij from een zorgvorm met kind verblijf.",
                    column=key + ".from",
                    id=sub.from_care_form,
                )
            )
        if target == WOONPLEK:
            problems.append(
                Problem(
                    fname,
                    f"substitution naar woonplek '{sub.to}': een woonplek is de stap ná de "
                    "jeugdhulp, geen plaats voor een nieuwe verwijzing.",
                    "Kies bij to een zorgvorm met kind verblijf of ambulant.",
                    column=key + ".to",
                    id=sub.to,
                )
            )
        if target == AMBULANT and sub.share > 0:
            later = [y for y in places.columns if int(str(y)) >= sub.year]
            if sub.to in places.index and not (places.loc[sub.to, later] > 0).any():
                problems.append(
                    Problem(
                        fname,
                        f"substitution naar '{sub.to}' vanaf {sub.year}: die ambulante zorg heeft "
                        "vanaf dan geen enkele plek, dus niemand kan erheen; de verwijzingen "
                        f"blijven naar '{sub.from_care_form}' gaan.",
                        f"Geef '{sub.to}' plekken (beds.csv of levers.bed_changes), of haal de "
                        "substitution weg.",
                        column=key,
                        id=sub.to,
                    )
                )


def _check_places_exist(
    model: RegionModel,
    capacity: pd.DataFrame,
    instroom: pd.DataFrame,
    fname: str,
    problems: list[Problem],
) -> None:
    """Refuse ambulant or housing forms people are sent to that never have a place."""
    places = capacity.groupby(level="care_form").sum()
    routing = model.routing["share"]
    for fid in model.forms_of_kind(AMBULANT, WOONPLEK):
        if fid in places.index and (places.loc[fid] > 0).any():
            continue
        sent = [
            str(src)
            for (src, dst), share in items(routing)
            if str(dst) == fid and float(share) > 0 and str(src) != fid
        ]
        sent += [str(f) for f, to in model.care_forms["age_out_to"].items() if to == fid]
        direct = fid in instroom.index and bool((instroom.loc[fid] > 0).any())
        if not sent and not direct:
            continue
        kind = model.kind_of(fid)
        who = nl.join(sorted(set(sent))) if sent else "nieuwe verwijzingen (instroom)"
        problems.append(
            Problem(
                fname,
                f"'{fid}' ({kind}) heeft in geen enkel jaar een plek, maar {who} "
                "stuurt er jongeren heen: zij kunnen er nooit terecht"
                + (" en blijven in hun bed wachten." if kind == WOONPLEK else "."),
                f"Geef '{fid}' plekken in beds.csv van het model of met levers.bed_changes.",
                column="levers.bed_changes",
                id=fid,
            )
        )


def _los_pair_factor(
    parsed: ScenarioFile,
    model: RegionModel,
    capacity: pd.DataFrame,
    years: list[int],
    fname: str,
    check_form: Any,
    check_year: Any,
    problems: list[Problem],
) -> pd.DataFrame:
    """Per (care_form, provider) and year: the provider's mean stay over the form's."""
    rows: dict[tuple[str, str], list[float]] = {}
    for (code, fid), mean in items(model.los_provider["mean_days"]):
        ratio = as_float(mean) / model.form_mean_los_days(str(fid))
        rows[(str(fid), str(code))] = [ratio] * len(years)
    steps: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for i, change in enumerate(parsed.levers.provider_los_change_pct):
        key = f"levers.provider_los_change_pct[{i}]"
        ok = check_form(change.care_form, key + ".care_form") & check_year(
            change.year, key + ".year"
        )
        pair = (change.care_form, change.provider)
        if ok and pair not in capacity.index:
            problems.append(
                Problem(
                    fname,
                    f"'{change.provider}' heeft geen '{change.care_form}' in dit scenario; de "
                    "verandering van de verblijfsduur zou nergens gelden.",
                    "Kies een aanbieder en zorgvorm uit beds.csv of levers.bed_changes.",
                    column=key,
                    id=change.provider,
                )
            )
            ok = False
        if not ok:
            continue
        given = steps.setdefault(pair, [])
        if any(y == change.year for y, _ in given):
            problems.append(
                Problem(
                    fname,
                    f"de verblijfsduur van '{change.provider}' voor '{change.care_form}' "
                    f"verandert in {change.year} twee keer.",
                    "Houd één regel per jaar, aanbieder en zorgvorm over.",
                    column=key,
                    id=change.provider,
                )
            )
            continue
        given.append((change.year, 1 + change.change_pct / 100))
    for pair, changes in steps.items():
        row = rows.setdefault(pair, [1.0] * len(years))
        for k, year in enumerate(years):
            active = [factor for y, factor in sorted(changes) if y <= year]
            if active:
                row[k] *= active[-1]
    index = pd.MultiIndex.from_tuples(sorted(rows), names=["care_form", "provider"])
    return pd.DataFrame(
        [rows[k] for k in sorted(rows)], index=index, columns=years, dtype="float64"
    )


def _check_los_targets(
    parsed: ScenarioFile,
    capacity: pd.DataFrame,
    fname: str,
    check_form: Any,
    check_year: Any,
    problems: list[Problem],
) -> None:
    """Ligduur targets name a known form in a horizon year (and a provider that offers it)."""
    offered = {(str(p), str(f)) for f, p in capacity.index} | {
        (a.provider, a.care_form) for a in parsed.afbouw.allow_new
    }
    for i, target in enumerate(parsed.los_targets):
        key = f"los_targets[{i}]"
        if not check_form(target.care_form, key + ".care_form") or not check_year(
            target.year, key + ".year"
        ):
            continue
        if target.provider is not None and (target.provider, target.care_form) not in offered:
            problems.append(
                Problem(
                    fname,
                    f"'{target.provider}' biedt geen '{target.care_form}'; een doel voor de "
                    "ligduur daar kan niet worden beoordeeld.",
                    "Kies een aanbieder uit beds.csv (of afbouw.allow_new), of laat provider weg "
                    "voor de hele zorgvorm.",
                    column=key + ".provider",
                    id=target.provider,
                )
            )


def _capacity(
    parsed: ScenarioFile,
    model: RegionModel,
    years: list[int],
    fname: str,
    providers: set[str],
    check_form: Any,
    check_year: Any,
    problems: list[Problem],
) -> pd.DataFrame:
    base = model.beds["beds"].swaplevel().sort_index()
    capacity = pd.DataFrame({year: base.astype("int64") for year in years}, index=base.index)
    capacity.index.names = ["care_form", "provider"]
    for i, change in enumerate(parsed.levers.bed_changes):
        key = f"levers.bed_changes[{i}]"
        ok = check_form(change.care_form, key + ".care_form")
        ok &= check_year(change.year, key + ".year")
        if change.provider not in providers:
            problems.append(
                Problem(
                    fname,
                    f"aanbieder '{change.provider}' staat niet in het model.",
                    f"Gebruik een van: {', '.join(sorted(providers))}.",
                    column=key + ".provider",
                    id=change.provider,
                )
            )
            ok = False
        if not ok:
            continue
        pair = (change.care_form, change.provider)
        if pair not in capacity.index:
            if model.cost_per_bed_day(change.care_form, change.provider) is None:
                problems.append(
                    Problem(
                        fname,
                        f"'{change.provider}' krijgt bedden voor '{change.care_form}', maar het "
                        "model heeft geen tarief per beddag voor die combinatie.",
                        f"Voeg in costs.csv een rij toe voor '{change.care_form}' (met een lege "
                        "provider).",
                        column=key,
                        id=change.provider,
                    )
                )
                continue
            capacity.loc[pair, :] = 0
        later = [y for y in years if y >= change.year]
        capacity.loc[pair, later] = capacity.loc[pair, later] + change.change_beds
    capacity = capacity.sort_index().astype("int64")
    negative = capacity[(capacity < 0).any(axis=1)]
    for (fid, code), row in zip(negative.index, negative.to_dict(orient="records"), strict=True):
        year = min(int(str(y)) for y, beds in row.items() if beds < 0)
        problems.append(
            Problem(
                fname,
                f"'{code}' zou in {year} {row[year]} bedden voor '{fid}' hebben.",
                "Haal minder bedden weg in levers.bed_changes; het aantal bedden kan niet onder "
                "0 komen.",
                column="levers.bed_changes",
                id=str(code),
            )
        )
    return capacity


def _service_levels(
    parsed: ScenarioFile,
    model: RegionModel,
    fname: str,
    check_form: Any,
    problems: list[Problem],
) -> pd.DataFrame:
    """Defaults per care form, overridden field by field by the scenario (null removes)."""
    rows: dict[str, dict[str, float]] = {}
    for fid in model.care_form_ids:
        fallback = KIND_SERVICE_LEVELS.get(model.kind_of(fid), FALLBACK_SERVICE_LEVEL)
        rows[fid] = dict(DEFAULT_SERVICE_LEVELS.get(fid, fallback))
    for fid, given in parsed.service_levels.items():
        if not check_form(fid, f"service_levels.{fid}"):
            continue
        for name in given.model_fields_set:
            value = getattr(given, name)
            if value is None:
                rows[fid].pop(name, None)
            else:
                rows[fid][name] = float(value)
        row = rows[fid]
        if ("placed_within_days" in row) != ("placed_share_min" in row):
            problems.append(
                Problem(
                    fname,
                    f"de servicenorm van '{fid}' heeft maar één van placed_within_days en "
                    "placed_share_min.",
                    "Geef ze allebei (bijvoorbeeld placed_within_days: 28 en placed_share_min: "
                    "0.8), of zet ze allebei op null.",
                    column=f"service_levels.{fid}",
                    id=fid,
                )
            )
    max_stay = model.care_forms["max_stay_days"]
    for fid, row in rows.items():
        if "stays_over_max_share_max" not in row or pd.notna(max_stay[fid]):
            continue
        explicit = parsed.service_levels.get(fid)
        if explicit is None or "stays_over_max_share_max" not in explicit.model_fields_set:
            # a default norm on the stay needs the form's max_stay_days; without it, none
            row.pop("stays_over_max_share_max")
        else:
            problems.append(
                Problem(
                    fname,
                    f"'{fid}' heeft een norm voor stays_over_max_share_max, maar geen "
                    "max_stay_days.",
                    f"Vul max_stay_days van '{fid}' in care_forms in, of verwijder de norm.",
                    column=f"service_levels.{fid}.stays_over_max_share_max",
                    id=fid,
                )
            )
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(SERVICE_LEVEL_FIELDS))
    frame.index.name = "care_form"
    return frame.astype("float64")


def _check_afbouw(
    parsed: ScenarioFile,
    model: RegionModel,
    fname: str,
    check_form: Any,
    problems: list[Problem],
) -> None:
    """Ids, years and files named in the ``afbouw`` section exist."""
    settings = parsed.afbouw
    providers = set(model.provider_ids)
    for i, target in enumerate(settings.targets or []):
        for fid in target.care_forms:
            check_form(fid, f"afbouw.targets[{i}].care_forms")
    for key, mapping in (
        ("min_group_size", settings.min_group_size),
        ("recruitment_per_year", settings.recruitment_per_year),
    ):
        for fid, value in mapping.items():
            check_form(fid, f"afbouw.{key}.{fid}")
            if value < 0:
                problems.append(
                    Problem(
                        fname,
                        f"afbouw.{key}.{fid} is negatief.",
                        "Gebruik 0 of meer.",
                        column=f"afbouw.{key}.{fid}",
                        id=fid,
                    )
                )
    for group, entries in (("pinned", settings.pinned), ("allow_new", settings.allow_new)):
        for i, entry in enumerate(entries):
            check_form(entry.care_form, f"afbouw.{group}[{i}].care_form")
            if entry.provider not in providers:
                problems.append(
                    Problem(
                        fname,
                        f"aanbieder '{entry.provider}' staat niet in het model.",
                        f"Gebruik een van: {', '.join(sorted(providers))}.",
                        column=f"afbouw.{group}[{i}].provider",
                        id=entry.provider,
                    )
                )
    offered = {(str(p), str(f)) for p, f in model.beds.index}
    allowed = {(a.provider, a.care_form) for a in settings.allow_new}
    base_year = model.meta.baseline_year
    last_year = settings.end_year or parsed.horizon.end_year
    for i, pin in enumerate(settings.pinned):
        key = f"afbouw.pinned[{i}]"
        pair = (pin.provider, pin.care_form)
        if pin.provider not in providers:
            continue
        if pair not in offered and pair not in allowed:
            problems.append(
                Problem(
                    fname,
                    f"'{pin.provider}' biedt geen '{pin.care_form}', dus er kan geen afspraak "
                    f"van {pin.beds} bedden worden vastgelegd (pinned).",
                    "Voeg de combinatie toe aan afbouw.allow_new, of verwijder de afspraak.",
                    column=key,
                    id=pin.provider,
                )
            )
        elif pin.year == base_year and pin.beds != int(model.beds["beds"].get(pair, 0)):
            problems.append(
                Problem(
                    fname,
                    f"{pin.year} is het jaar van de 0-meting "
                    f"({int(model.beds['beds'].get(pair, 0))} bedden); een afspraak van "
                    f"{pin.beds} bedden spreekt die tegen.",
                    "Leg een later jaar vast, of verbeter de 0-meting.",
                    column=key,
                    id=pin.provider,
                )
            )
        elif not base_year <= pin.year <= last_year:
            problems.append(
                Problem(
                    fname,
                    f"het jaar {pin.year} van de afspraak valt buiten de planjaren "
                    f"{base_year}-{last_year}.",
                    f"Gebruik een jaar van {base_year} tot en met {last_year}.",
                    column=key,
                    id=pin.provider,
                )
            )
    plan_first, plan_last = (
        model.meta.baseline_year + 1,
        settings.end_year or parsed.horizon.end_year,
    )
    years_given = [
        (f"afbouw.budget.eur_per_year.{y}", y)
        for y in (settings.budget.eur_per_year if settings.budget else {})
    ] + [(f"afbouw.ratio_targets[{i}].year", t.year) for i, t in enumerate(settings.ratio_targets)]
    for key, year in years_given:
        if not plan_first <= year <= plan_last:
            problems.append(
                Problem(
                    fname,
                    f"het jaar {year} valt buiten de planjaren {plan_first}-{plan_last}; het "
                    "zou nooit meetellen.",
                    f"Gebruik een jaar van {plan_first} tot en met {plan_last}.",
                    column=key,
                )
            )
    if settings.ratio_targets and not model.forms_of_kind(AMBULANT):
        problems.append(
            Problem(
                fname,
                "afbouw.ratio_targets vraagt ambulante plekken per bed, maar het model heeft geen "
                "ambulante zorgvorm.",
                "Voeg een zorgvorm met kind ambulant toe aan care_forms.csv (met plekken in "
                "beds.csv), of verwijder ratio_targets.",
                column="afbouw.ratio_targets",
            )
        )
    if settings.end_year is not None and settings.end_year < model.meta.baseline_year:
        problems.append(
            Problem(
                fname,
                f"afbouw.end_year {settings.end_year} ligt vóór de 0-meting "
                f"({model.meta.baseline_year}).",
                f"Gebruik {model.meta.baseline_year} of later.",
                column="afbouw.end_year",
            )
        )


def scenario_next_to(text: str, model_dir: Path, target: Path) -> Path:
    """Write the scenario ``text`` as ``target/scenario.yaml``, its model set to ``model_dir``.

    A scenario stored without its files (the service) is loaded like any other file; text
    that is no YAML mapping is written as it is, so that the loader says what is wrong.
    """
    import yaml

    from capaciteit.io.yaml_files import load_yaml_text

    try:
        data = load_yaml_text(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        data["model"] = str(model_dir)
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path = target / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path
