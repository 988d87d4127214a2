"""Consistency checks across the tables of a region model.

Cell-level problems (a number that is not a number, an unknown waiting policy) are found
while reading (:mod:`capaciteit.io.tables`); this module finds the problems that need more
than one cell or table: unknown ids, routing shares that do not sum to 1, a routing cycle
with no way out, a care form without length of stay, occupied beds above capacity.
Every check appends :class:`~capaciteit.errors.Problem` records and never stops early, so
the user sees everything at once.
"""

from __future__ import annotations

from collections import deque

import pandas as pd

from capaciteit.core import nl
from capaciteit.domain.model import AMBULANT, SINKS, WOONPLEK
from capaciteit.errors import Problem, figure, limit

SHARE_TOLERANCE = 1e-6
SEASONALITY_TOLERANCE = 1e-3


def consistency_check(
    tables: dict[str, pd.DataFrame], files: dict[str, str], baseline_year: int
) -> list[Problem]:
    """Return every cross-table problem of a region model's tables.

    Parameters
    ----------
    tables
        The tables as read by :func:`capaciteit.io.tables.read_table`, with ``_row``.
    files
        File name per table, for the messages.
    baseline_year
        Year of the 0-meting (``model.yaml``).
    """
    problems: list[Problem] = []
    forms = tables["care_forms"]
    form_ids = set(forms["care_form"])
    provider_ids = set(tables["providers"]["provider"])
    if forms.empty:
        problems.append(
            Problem(files["care_forms"], "bevat geen zorgvorm.", "Voeg minstens één zorgvorm toe.")
        )
    _check_forms(forms, form_ids, files["care_forms"], problems)
    _check_refs(tables, files, form_ids, provider_ids, problems)
    _check_los(tables, files, form_ids, problems)
    _check_routing(tables["routing"], files["routing"], forms, problems)
    _check_instroom(tables["instroom"], files["instroom"], baseline_year, problems)
    _check_seasonality(tables["seasonality"], files["seasonality"], problems)
    _check_age(tables["age"], files["age"], forms, problems)
    _check_beds(tables["beds"], files["beds"], forms, problems)
    _check_costs(tables["costs"], tables["beds"], files["costs"], forms, problems)
    _check_kinds(tables, files, forms, problems)
    _check_los_provider(tables, files, form_ids, provider_ids, problems)
    return problems


def _check_forms(forms: pd.DataFrame, form_ids: set[str], fname: str, out: list[Problem]) -> None:
    for _, f in forms.iterrows():
        row, fid = int(f["_row"]), str(f["care_form"])
        if fid in SINKS:
            out.append(
                Problem(
                    fname,
                    f"'{fid}' is een bestemming buiten de zorg (uitstroom), geen zorgvorm.",
                    "Geef de zorgvorm een andere id; de bestemmingen buiten de zorg zijn "
                    + nl.join(SINKS)
                    + ".",
                    row=row,
                    id=fid,
                )
            )
        policy = f["waiting_policy"]
        has_wait = pd.notna(f["max_wait_days"])
        if policy == "overflow" and not has_wait:
            out.append(
                Problem(
                    fname,
                    "waiting_policy overflow heeft max_wait_days nodig.",
                    "Vul max_wait_days in (0 betekent: meteen naar buiten de regio als alles "
                    "vol is).",
                    row=row,
                    column="max_wait_days",
                    id=fid,
                )
            )
        if policy != "overflow" and has_wait:
            out.append(
                Problem(
                    fname,
                    f"max_wait_days geldt alleen bij waiting_policy overflow (hier: {policy}).",
                    "Maak max_wait_days leeg, of zet waiting_policy op overflow.",
                    row=row,
                    column="max_wait_days",
                    id=fid,
                )
            )
        housing = set(forms.loc[forms["kind"] == WOONPLEK, "care_form"])
        if f["age_out_to"] not in SINKS and f["age_out_to"] not in housing:
            out.append(
                Problem(
                    fname,
                    f"age_out_to '{f['age_out_to']}' is geen bestemming buiten de zorg en geen "
                    "woonplek (kind woonplek).",
                    "Gebruik een van: "
                    + ", ".join([*SINKS, *sorted(housing)])
                    + "; of geef die zorgvorm kind woonplek.",
                    row=row,
                    column="age_out_to",
                    id=fid,
                )
            )


def _unknown(
    fname: str, row: int, column: str, value: str, known: set[str], what: str, table: str
) -> Problem:
    options = ", ".join(sorted(known)) if known else "(nog geen)"
    return Problem(
        fname,
        f"{what} '{value}' is onbekend.",
        f"Gebruik een van: {options}; of voeg '{value}' toe aan {table}.",
        row=row,
        column=column,
        id=value,
    )


def _check_refs(
    tables: dict[str, pd.DataFrame],
    files: dict[str, str],
    form_ids: set[str],
    provider_ids: set[str],
    out: list[Problem],
) -> None:
    for table, column in (
        ("beds", "care_form"),
        ("instroom", "care_form"),
        ("seasonality", "care_form"),
        ("los", "care_form"),
        ("los_observed", "care_form"),
        ("routing", "from_care_form"),
        ("age", "care_form"),
        ("costs", "care_form"),
        ("los_provider", "care_form"),
    ):
        for _, r in tables[table].iterrows():
            if r[column] not in form_ids:
                out.append(
                    _unknown(
                        files[table],
                        int(r["_row"]),
                        column,
                        str(r[column]),
                        form_ids,
                        "zorgvorm",
                        files["care_forms"],
                    )
                )
    for table in ("beds", "costs", "los_provider"):
        for _, r in tables[table].iterrows():
            code = r["provider"]
            if code and code not in provider_ids:
                out.append(
                    _unknown(
                        files[table],
                        int(r["_row"]),
                        "provider",
                        str(code),
                        provider_ids,
                        "aanbieder",
                        files["providers"],
                    )
                )
    for _, r in tables["routing"].iterrows():
        if r["to"] not in form_ids and r["to"] not in SINKS:
            out.append(
                _unknown(
                    files["routing"],
                    int(r["_row"]),
                    "to",
                    str(r["to"]),
                    form_ids | set(SINKS),
                    "zorgvorm of bestemming",
                    files["care_forms"],
                )
            )


def _check_los(
    tables: dict[str, pd.DataFrame], files: dict[str, str], form_ids: set[str], out: list[Problem]
) -> None:
    los, fname = tables["los"], files["los"]
    observed = tables["los_observed"].groupby("care_form").size()
    for fid in sorted(form_ids - set(los["care_form"])):
        out.append(
            Problem(
                fname,
                f"zorgvorm '{fid}' heeft geen verblijfsduur.",
                f"Voeg een rij toe voor '{fid}' met distribution en mean_days.",
                id=fid,
            )
        )
    for _, r in los.iterrows():
        row, fid, dist = int(r["_row"]), str(r["care_form"]), r["distribution"]
        if dist == "empirical":
            if pd.notna(r["mean_days"]) or pd.notna(r["cv"]):
                out.append(
                    Problem(
                        fname,
                        "een empirische verdeling haalt gemiddelde en spreiding uit de "
                        "waargenomen verblijven; mean_days en cv zouden genegeerd worden.",
                        "Maak mean_days en cv leeg in deze rij.",
                        row=row,
                        id=fid,
                    )
                )
            if int(observed.get(fid, 0)) < 2:
                out.append(
                    Problem(
                        files["los_observed"],
                        f"zorgvorm '{fid}' gebruikt een empirische verblijfsduur, maar heeft "
                        "minder dan 2 waargenomen verblijven.",
                        f"Voeg waargenomen verblijven voor '{fid}' (care_form, los_days) toe aan "
                        f"{files['los_observed']}.",
                        id=fid,
                    )
                )
            continue
        if pd.isna(r["mean_days"]):
            out.append(
                Problem(
                    fname,
                    "mean_days is leeg.",
                    "Vul de gemiddelde verblijfsduur in dagen in.",
                    row=row,
                    column="mean_days",
                    id=fid,
                )
            )
        if dist in ("lognormal", "gamma", "weibull") and pd.isna(r["cv"]):
            out.append(
                Problem(
                    fname,
                    f"een {dist}-verdeling heeft cv nodig (standaardafwijking / gemiddelde).",
                    "Vul cv in, bijvoorbeeld 1.",
                    row=row,
                    column="cv",
                    id=fid,
                )
            )
        if dist == "exponential" and pd.notna(r["cv"]):
            out.append(
                Problem(
                    fname,
                    "een exponentiële verdeling heeft cv = 1; een andere cv zou genegeerd worden.",
                    "Maak cv leeg, of kies gamma, lognormal of weibull.",
                    row=row,
                    column="cv",
                    id=fid,
                )
            )
        if dist == "weibull" and pd.notna(r["cv"]) and not 0.001 <= float(r["cv"]) <= 1000:
            # the shape is solved from cv; no length of stay is spread this little or this much
            out.append(
                Problem(
                    fname,
                    f"cv {figure(float(r['cv']))} ligt buiten het bereik van een "
                    "weibull-verdeling (0,001 tot 1000).",
                    "Vul een cv tussen 0,001 en 1000 in (standaardafwijking / gemiddelde).",
                    row=row,
                    column="cv",
                    id=fid,
                )
            )


def _check_routing(
    routing: pd.DataFrame, fname: str, forms: pd.DataFrame, out: list[Problem]
) -> None:
    form_ids = list(forms["care_form"])
    sums = routing.groupby("from_care_form")["share"].sum()
    first_row = routing.groupby("from_care_form")["_row"].min()
    for fid in form_ids:
        if fid not in sums.index:
            out.append(
                Problem(
                    fname,
                    f"zorgvorm '{fid}' heeft geen rijen voor de doorstroom.",
                    f"Voeg rijen toe van '{fid}' naar de volgende zorgvormen of bestemmingen, "
                    "met aandelen die samen 1 zijn.",
                    id=fid,
                )
            )
            continue
        total = float(sums[fid])
        if abs(total - 1.0) > SHARE_TOLERANCE:
            out.append(
                Problem(
                    fname,
                    f"de aandelen vanuit '{fid}' tellen op tot {figure(total)}, niet tot 1.",
                    f"Verander de aandelen vanuit '{fid}' in totaal met "
                    f"{figure(1 - total, sign=True)}.",
                    row=int(first_row[fid]),
                    column="share",
                    id=fid,
                )
            )
    # A form is trapped when no path with positive shares reaches a sink.
    edges: dict[str, set[str]] = {}
    for _, r in routing[routing["share"] > 0].iterrows():
        edges.setdefault(str(r["to"]), set()).add(str(r["from_care_form"]))
    reaches_exit: set[str] = set()
    todo = deque(s for s in SINKS if s in edges)
    seen = set(todo)
    while todo:
        node = todo.popleft()
        for prev in edges.get(node, ()):
            if prev not in seen:
                seen.add(prev)
                reaches_exit.add(prev)
                todo.append(prev)
    for fid in form_ids:
        if fid in sums.index and fid not in reaches_exit:
            out.append(
                Problem(
                    fname,
                    f"vanuit '{fid}' leidt de doorstroom alleen rond langs andere zorgvormen; "
                    "niemand verlaat ooit de zorg.",
                    f"Geef vanuit '{fid}', of vanuit een zorgvorm waar die naartoe leidt, een "
                    f"aandeel groter dan 0 aan een bestemming buiten de zorg "
                    f"({nl.join(SINKS, 'of')}).",
                    row=int(first_row[fid]),
                    id=fid,
                )
            )


def _check_instroom(
    instroom: pd.DataFrame, fname: str, baseline_year: int, out: list[Problem]
) -> None:
    for fid, group in instroom.groupby("care_form"):
        first = int(group["year"].min())
        if first > baseline_year:
            out.append(
                Problem(
                    fname,
                    f"de instroom voor '{fid}' begint in {first}, na het jaar van de 0-meting "
                    f"({baseline_year}).",
                    f"Voeg een rij toe voor '{fid}' in {baseline_year}.",
                    row=int(group["_row"].min()),
                    id=str(fid),
                )
            )


def _check_seasonality(seasonality: pd.DataFrame, fname: str, out: list[Problem]) -> None:
    for fid, group in seasonality.groupby("care_form"):
        months = set(int(m) for m in group["month"])
        row = int(group["_row"].min())
        if months != set(range(1, 13)):
            missing = sorted(set(range(1, 13)) - months)
            out.append(
                Problem(
                    fname,
                    f"bij '{fid}' ontbreken de maanden {nl.join(str(m) for m in missing)}.",
                    "Geef een factor voor elk van de 12 maanden.",
                    row=row,
                    id=str(fid),
                )
            )
            continue
        mean = float(group["factor"].mean())
        if abs(mean - 1) > SEASONALITY_TOLERANCE:
            out.append(
                Problem(
                    fname,
                    f"de factoren voor '{fid}' zijn gemiddeld {figure(mean, 4)}, niet 1; zo "
                    "zouden ze de instroom per jaar veranderen.",
                    f"Deel elke factor voor '{fid}' door {figure(mean, 4)}.",
                    row=row,
                    column="factor",
                    id=str(fid),
                )
            )


def _check_age(age: pd.DataFrame, fname: str, forms: pd.DataFrame, out: list[Problem]) -> None:
    max_age = forms.drop_duplicates("care_form").set_index("care_form")["max_age_years"]
    for _, r in age.iterrows():
        fid = str(r["care_form"])
        if r["age_max_years"] <= r["age_min_years"]:
            out.append(
                Problem(
                    fname,
                    f"de leeftijdsband {limit(r['age_min_years'])}-{limit(r['age_max_years'])} "
                    "is leeg.",
                    "Maak age_max_years groter dan age_min_years.",
                    row=int(r["_row"]),
                    id=fid,
                )
            )
        elif fid in max_age.index and r["age_max_years"] > max_age[fid]:
            out.append(
                Problem(
                    fname,
                    f"de leeftijdsband tot {limit(r['age_max_years'])} gaat verder dan "
                    f"max_age_years {limit(max_age[fid])} van '{fid}'.",
                    f"Laat de band eindigen bij {limit(max_age[fid])}, of verhoog max_age_years "
                    "in care_forms.",
                    row=int(r["_row"]),
                    id=fid,
                )
            )
    for form_id, group in age.groupby("care_form"):
        total = float(group["share"].sum())
        if abs(total - 1) > SHARE_TOLERANCE:
            out.append(
                Problem(
                    fname,
                    f"de leeftijdsaandelen voor '{form_id}' tellen op tot {figure(total)}, "
                    "niet tot 1.",
                    f"Verander de aandelen voor '{form_id}' in totaal met "
                    f"{figure(1 - total, sign=True)}.",
                    row=int(group["_row"].min()),
                    column="share",
                    id=str(form_id),
                )
            )


def _check_beds(beds: pd.DataFrame, fname: str, forms: pd.DataFrame, out: list[Problem]) -> None:
    for fid in forms["care_form"]:
        if fid not in set(beds["care_form"]):
            out.append(
                Problem(
                    fname,
                    f"zorgvorm '{fid}' heeft geen rij in de 0-meting.",
                    f"Voeg rijen toe (provider, '{fid}', beds); gebruik 0 bedden als de regio "
                    "er geen heeft.",
                    id=str(fid),
                )
            )
    for _, r in beds.iterrows():
        if pd.notna(r["occupied"]) and r["occupied"] > r["beds"]:
            out.append(
                Problem(
                    fname,
                    f"occupied = {nl.number(r['occupied'])} is meer dan de "
                    f"{nl.number(r['beds'])} bedden van '{r['provider']}' voor "
                    f"'{r['care_form']}'.",
                    "Verlaag occupied of verhoog beds.",
                    row=int(r["_row"]),
                    column="occupied",
                    id=str(r["provider"]),
                )
            )
    if beds["occupied"].notna().any() and beds["occupied"].isna().any():
        row = int(beds.loc[beds["occupied"].isna(), "_row"].min())
        out.append(
            Problem(
                fname,
                "occupied is in sommige rijen ingevuld en in andere leeg.",
                "Vul occupied in op elke rij (de beginstand) of op geen enkele (leeg beginnen).",
                row=row,
                column="occupied",
            )
        )


def _check_costs(
    costs: pd.DataFrame, beds: pd.DataFrame, fname: str, forms: pd.DataFrame, out: list[Problem]
) -> None:
    for _, r in costs.iterrows():
        day, trajectory = r["cost_per_bed_day_eur"], r.get("cost_per_trajectory_eur")
        if pd.notna(day) == pd.notna(trajectory):
            out.append(
                Problem(
                    fname,
                    "geef precies één tarief: cost_per_bed_day_eur of cost_per_trajectory_eur"
                    + (" (nu allebei)." if pd.notna(day) else " (nu geen van beide)."),
                    "Vul een tarief per dag in, of voor ambulante zorg een prijs per traject.",
                    row=int(r["_row"]),
                    id=str(r["care_form"]),
                )
            )
    defaults = set(costs.loc[costs["provider"] == "", "care_form"])
    specific = set(zip(costs["care_form"], costs["provider"], strict=True))
    known_forms = set(forms["care_form"])
    for _, r in beds.iterrows():
        fid, code = r["care_form"], r["provider"]
        if fid in known_forms and fid not in defaults and (fid, code) not in specific:
            out.append(
                Problem(
                    fname,
                    f"er is geen tarief per beddag voor '{fid}' bij aanbieder '{code}'.",
                    f"Voeg een rij toe voor '{fid}' met een lege provider (alle aanbieders) of "
                    f"met '{code}'.",
                    id=str(fid),
                )
            )


def _check_kinds(
    tables: dict[str, pd.DataFrame], files: dict[str, str], forms: pd.DataFrame, out: list[Problem]
) -> None:
    """Ambulant and housing forms: what only they have, and that people can use and leave them."""
    fname = files["care_forms"]
    routing = tables["routing"]
    for _, f in forms.iterrows():
        row, fid, kind = int(f["_row"]), str(f["care_form"]), str(f["kind"])
        if kind != AMBULANT and pd.notna(f["failure_share"]):
            out.append(
                Problem(
                    fname,
                    f"failure_share geldt alleen voor ambulante zorg (kind ambulant; hier {kind}).",
                    "Maak failure_share leeg, of zet kind op ambulant.",
                    row=row,
                    column="failure_share",
                    id=fid,
                )
            )
        # (no places in the 0-meting is allowed: a scenario may open them later; a scenario
        # whose ambulant or housing form never has a place is refused there)
        if kind == WOONPLEK:
            onward = routing[(routing["from_care_form"] == fid) & (routing["share"] > 0)]
            back = onward[~onward["to"].isin(list(SINKS))]
            if len(back):
                out.append(
                    Problem(
                        files["routing"],
                        f"vanuit woonplek '{fid}' gaat de doorstroom terug naar zorgvormen "
                        f"({nl.join(sorted(set(back['to'])))}); een woonplek is de laatste stap.",
                        f"Laat '{fid}' alleen doorstromen naar bestemmingen buiten de zorg "
                        f"({nl.join(SINKS, 'of')}).",
                        row=int(back["_row"].min()),
                        id=fid,
                    )
                )
            feeding = forms[forms["age_out_to"] == fid]
            young = feeding[feeding["max_age_years"] >= f["max_age_years"]]
            if len(young):
                out.append(
                    Problem(
                        fname,
                        f"woonplek '{fid}' houdt op bij max_age_years "
                        f"{limit(f['max_age_years'])}, maar "
                        f"{nl.join(sorted(young['care_form']))} laat jongeren er pas bij "
                        f"{limit(young['max_age_years'].max())} jaar heen gaan: ze zouden er "
                        "geen dag blijven.",
                        f"Verhoog max_age_years van '{fid}' (bijvoorbeeld 23 of 27).",
                        row=row,
                        column="max_age_years",
                        id=fid,
                    )
                )
            if f["age_out_to"] not in SINKS:
                out.append(
                    Problem(
                        fname,
                        f"woonplek '{fid}' laat jongvolwassenen bij max_age_years naar "
                        f"'{f['age_out_to']}' gaan; vanuit een woonplek kan dat alleen naar "
                        "buiten de zorg.",
                        "Gebruik een van: " + ", ".join(SINKS) + ".",
                        row=row,
                        column="age_out_to",
                        id=fid,
                    )
                )


def _check_los_provider(
    tables: dict[str, pd.DataFrame],
    files: dict[str, str],
    form_ids: set[str],
    provider_ids: set[str],
    out: list[Problem],
) -> None:
    """Check that a provider's own length of stay names a pair of the 0-meting.

    Unknown forms and providers are reported by the reference check.
    """
    table, fname = tables["los_provider"], files["los_provider"]
    offered = set(zip(tables["beds"]["provider"], tables["beds"]["care_form"], strict=True))
    for _, r in table.iterrows():
        row, code, fid = int(r["_row"]), str(r["provider"]), str(r["care_form"])
        if fid in form_ids and code in provider_ids and (code, fid) not in offered:
            out.append(
                Problem(
                    fname,
                    f"'{code}' biedt geen '{fid}' aan in de 0-meting; een eigen verblijfsduur "
                    "zou nergens gelden.",
                    f"Verwijder de rij, of voeg '{code}' met '{fid}' toe aan {files['beds']}.",
                    row=row,
                    id=code,
                )
            )
