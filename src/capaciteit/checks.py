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

from capaciteit.domain.model import SINKS
from capaciteit.errors import Problem

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
            Problem(files["care_forms"], "defines no care form.", "Add at least one care form.")
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
    return problems


def _check_forms(forms: pd.DataFrame, form_ids: set[str], fname: str, out: list[Problem]) -> None:
    for _, f in forms.iterrows():
        row, fid = int(f["_row"]), str(f["care_form"])
        if fid in SINKS:
            out.append(
                Problem(
                    fname,
                    f"'{fid}' is a destination outside care (a sink), not a care form.",
                    "Rename the care form; sinks are " + ", ".join(SINKS) + ".",
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
                    "waiting_policy overflow needs max_wait_days.",
                    "Fill in max_wait_days (0 refuses at once when full).",
                    row=row,
                    column="max_wait_days",
                    id=fid,
                )
            )
        if policy != "overflow" and has_wait:
            out.append(
                Problem(
                    fname,
                    f"max_wait_days is only used with waiting_policy overflow (here: {policy}).",
                    "Empty max_wait_days, or set waiting_policy to overflow.",
                    row=row,
                    column="max_wait_days",
                    id=fid,
                )
            )
        if f["age_out_to"] not in SINKS:
            out.append(
                Problem(
                    fname,
                    f"age_out_to '{f['age_out_to']}' is not a destination outside care.",
                    "Use one of: " + ", ".join(SINKS) + ".",
                    row=row,
                    column="age_out_to",
                    id=fid,
                )
            )


def _unknown(fname: str, row: int, column: str, value: str, known: set[str], what: str) -> Problem:
    options = ", ".join(sorted(known)) if known else "(none defined)"
    return Problem(
        fname,
        f"{what} '{value}' is not defined.",
        f"Use one of: {options}; or add '{value}' to the {what} table.",
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
    ):
        for _, r in tables[table].iterrows():
            if r[column] not in form_ids:
                out.append(
                    _unknown(
                        files[table], int(r["_row"]), column, str(r[column]), form_ids, "care form"
                    )
                )
    for table in ("beds", "costs"):
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
                        "provider",
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
                    "care form or sink",
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
                f"care form '{fid}' has no length of stay.",
                f"Add a row for '{fid}' with its distribution and mean_days.",
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
                        "an empirical distribution takes its mean and spread from the observed "
                        "stays; mean_days and cv would be ignored.",
                        "Empty mean_days and cv for this row.",
                        row=row,
                        id=fid,
                    )
                )
            if int(observed.get(fid, 0)) < 2:
                out.append(
                    Problem(
                        files["los_observed"],
                        f"care form '{fid}' uses an empirical length of stay but has fewer than "
                        "2 observed stays.",
                        f"Add observed stays for '{fid}' (care_form, los_days) to los_observed.",
                        id=fid,
                    )
                )
            continue
        if pd.isna(r["mean_days"]):
            out.append(
                Problem(
                    fname,
                    "mean_days is empty.",
                    "Fill in the mean stay in days.",
                    row=row,
                    column="mean_days",
                    id=fid,
                )
            )
        if dist in ("lognormal", "gamma") and pd.isna(r["cv"]):
            out.append(
                Problem(
                    fname,
                    f"a {dist} distribution needs cv (standard deviation / mean).",
                    "Fill in cv, e.g. 1.0.",
                    row=row,
                    column="cv",
                    id=fid,
                )
            )
        if dist == "exponential" and pd.notna(r["cv"]):
            out.append(
                Problem(
                    fname,
                    "an exponential distribution has cv = 1; another cv would be ignored.",
                    "Empty cv, or choose gamma or lognormal.",
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
                    f"care form '{fid}' has no doorstroom rows.",
                    f"Add rows from '{fid}' to the next forms or sinks with shares summing to 1.",
                    id=fid,
                )
            )
            continue
        total = float(sums[fid])
        if abs(total - 1.0) > SHARE_TOLERANCE:
            out.append(
                Problem(
                    fname,
                    f"shares from '{fid}' sum to {total:.6g}, not 1.",
                    f"Change the shares from '{fid}' by {1 - total:+.6g} in total.",
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
                    f"from '{fid}' the routing only leads to other care forms in a cycle; "
                    "nobody ever leaves care.",
                    "Give a positive share to a sink (thuis, ambulant, zelfstandig, wlz, "
                    f"buiten_regio) from '{fid}' or from a form it leads to.",
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
                    f"instroom for '{fid}' starts in {first}, after the baseline year "
                    f"{baseline_year} of the 0-meting.",
                    f"Add a row for '{fid}' in {baseline_year}.",
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
                    f"'{fid}' lacks months {missing}.",
                    "Give a factor for each of the 12 months.",
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
                    f"factors for '{fid}' average {mean:.4g}, not 1, so they would change the "
                    "yearly instroom.",
                    f"Divide each factor for '{fid}' by {mean:.4g}.",
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
                    f"age band {r['age_min_years']:g}-{r['age_max_years']:g} is empty.",
                    "Make age_max_years larger than age_min_years.",
                    row=int(r["_row"]),
                    id=fid,
                )
            )
        elif fid in max_age.index and r["age_max_years"] > max_age[fid]:
            out.append(
                Problem(
                    fname,
                    f"age band up to {r['age_max_years']:g} exceeds max_age_years "
                    f"{max_age[fid]:g} of '{fid}'.",
                    f"End the band at {max_age[fid]:g} or raise max_age_years in care_forms.",
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
                    f"age shares for '{form_id}' sum to {total:.6g}, not 1.",
                    f"Change the shares for '{form_id}' by {1 - total:+.6g} in total.",
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
                    f"care form '{fid}' has no row in the 0-meting.",
                    f"Add rows (provider, '{fid}', beds); use 0 beds if the region has none.",
                    id=str(fid),
                )
            )
    for _, r in beds.iterrows():
        if pd.notna(r["occupied"]) and r["occupied"] > r["beds"]:
            out.append(
                Problem(
                    fname,
                    f"{r['occupied']} occupied exceeds {r['beds']} beds of '{r['provider']}' "
                    f"for '{r['care_form']}'.",
                    "Lower occupied or raise beds.",
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
                "occupied is filled for some rows and empty for others.",
                "Fill occupied on every row (the initial state) or on none (start empty).",
                row=row,
                column="occupied",
            )
        )


def _check_costs(
    costs: pd.DataFrame, beds: pd.DataFrame, fname: str, forms: pd.DataFrame, out: list[Problem]
) -> None:
    defaults = set(costs.loc[costs["provider"] == "", "care_form"])
    specific = set(zip(costs["care_form"], costs["provider"], strict=True))
    known_forms = set(forms["care_form"])
    for _, r in beds.iterrows():
        fid, code = r["care_form"], r["provider"]
        if fid in known_forms and fid not in defaults and (fid, code) not in specific:
            out.append(
                Problem(
                    fname,
                    f"no cost per bed-day for '{fid}' at provider '{code}'.",
                    f"Add a row for '{fid}' with an empty provider (all providers) or for "
                    f"'{code}'.",
                    id=str(fid),
                )
            )
