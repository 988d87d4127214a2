"""An independent checker of simulated stays: every rule of the model, re-verified.

It reads only the stays table and the spec, and knows nothing of the engine's internals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from capaciteit.simulation.spec import SimSpec

EPS = 1e-7


def check_stays(spec: SimSpec, stays: pd.DataFrame) -> list[str]:
    """Return a description of every violated rule (empty when all hold)."""
    errors: list[str] = []
    forms = spec.care_forms
    s = stays
    admitted = s["start_day"].notna()
    # time order within a stay
    if (s.loc[admitted, "start_day"] < s.loc[admitted, "requested_day"] - EPS).any():
        errors.append("admission before request")
    done = admitted & s["service_end_day"].notna()
    if (s.loc[done, "service_end_day"] < s.loc[done, "start_day"] - EPS).any():
        errors.append("stay ends before it starts")
    ended = done & s["end_day"].notna()
    if (s.loc[ended, "end_day"] < s.loc[ended, "service_end_day"] - EPS).any():
        errors.append("bed released before the stay ended")
    # outcome consistency
    overflow = s["outcome"] == "overflow"
    if (s.loc[overflow, "next"] != "buiten_regio").any() or s.loc[
        overflow, "start_day"
    ].notna().any():
        errors.append("overflow that was admitted or did not go buiten_regio")
    aged = s["outcome"] == "aged_out"
    # reaching the limit of the form asked for, or of the form whose bed was kept
    to_asked = forms["age_out_to"].reindex(s.loc[aged, "care_form"].astype(str)).to_numpy()
    held = s.loc[aged, "waited_in"].astype(str)
    to_held = held.map(forms["age_out_to"]).astype(object).fillna("").to_numpy()
    nxt = s.loc[aged, "next"].astype(str).to_numpy()
    if s.loc[aged, "start_day"].notna().any() or ((nxt != to_asked) & (nxt != to_held)).any():
        errors.append("aged out while waiting, but admitted or not sent to age_out_to")
    waiting = s["outcome"] == "waiting"
    if s.loc[waiting, "start_day"].notna().any() or s.loc[waiting, "end_day"].notna().any():
        errors.append("a waiting request with an admission or an end")
    # overflow only after at most max_wait_days
    max_wait = forms["max_wait_days"].reindex(s["care_form"].astype(str)).to_numpy()
    waited = (s["end_day"] - s["requested_day"]).to_numpy()
    limit = np.where(np.isnan(max_wait), np.inf, max_wait)
    if (overflow.to_numpy() & (waited > limit + EPS)).any():
        errors.append("overflow after more than max_wait_days")
    # capacity: at every admission, occupied beds of the pair stay within that year's beds
    bounds = spec.year_start_day.to_numpy()
    for (form, provider), g in s[admitted].groupby(["care_form", "provider"], observed=True):
        starts = g["start_day"].to_numpy()
        ends = g["end_day"].fillna(math.inf).to_numpy()
        events = [(t, 1) for t in starts] + [(t, -1) for t in ends if np.isfinite(t)]
        by_time: dict[float, int] = {}
        for t, delta in events:
            by_time[t] = by_time.get(t, 0) + delta
        level = 0
        cap_row = spec.capacity.loc[(form, provider)]
        for t in sorted(by_time):
            net = by_time[t]
            level += net
            # Initial occupants started before the run; a move in place or a swap admits
            # someone as someone else leaves the same bed (net 0). Only a net admission
            # during the run must fit within that year's beds.
            if net > 0 and t >= -spec.warm_up_days - EPS:
                year_idx = int(np.searchsorted(bounds, t, side="right")) - 1
                year = spec.years[min(max(year_idx, 0), len(spec.years) - 1)]
                if level > int(cap_row[year]):
                    errors.append(f"{form}/{provider}: {level} in {int(cap_row[year])} beds at {t}")
                    break
    # a person's requests form a chain in time
    for person, g in s.sort_values(["person", "requested_day"]).groupby("person"):
        if len(g) < 2:
            continue
        prev_end = g["service_end_day"].to_numpy()[:-1]
        nxt_req = g["requested_day"].to_numpy()[1:]
        if (np.abs(prev_end - nxt_req) > EPS).any():
            errors.append(f"person {person}: next request not at the end of the previous stay")
            break
    errors += _check_places(spec, s)
    # age rule
    if not spec.age_bands.empty:
        max_age = forms["max_age_years"].reindex(s["care_form"].astype(str)).to_numpy()
        age_at_end = s["age_years"] + (s["service_end_day"] - s["requested_day"]) / 365.25
        if (age_at_end.to_numpy() > max_age + 1e-6).any():
            errors.append("a stay continued past max_age_years")
    return errors


def _check_places(spec: SimSpec, s: pd.DataFrame) -> list[str]:
    """Rules of ambulant places and housing: only beds block; diverted only when full."""
    errors: list[str] = []
    forms = spec.care_forms
    kind = forms["kind"] if "kind" in forms.columns else pd.Series("verblijf", index=forms.index)
    form = s["care_form"].astype(str)
    nxt = s["next"].astype(str)
    ended = s["start_day"].notna() & s["end_day"].notna() & s["service_end_day"].notna()
    blocked = ended & (s["end_day"] > s["service_end_day"] + EPS)
    if (blocked & form.map(kind).ne("verblijf")).any():
        errors.append("an ambulant or housing place was kept while waiting for the next form")
    if (blocked & nxt.map(kind).eq("ambulant")).any():
        errors.append("a bed was kept while waiting for ambulant care")
    # where a stay can lead: its routing, an age limit (its own or of the form asked next),
    # outside the region (a full next form), and for an ambulant form the bed it replaced
    routes = spec.routing[spec.routing > 0]
    allowed: dict[str, set[str]] = {str(f): set() for f in forms.index}
    for src, dst in routes.index:
        allowed[str(src)].add(str(dst))
    anywhere = {str(x) for x in forms["age_out_to"]} | {"buiten_regio"}
    if not spec.substitution.empty:
        for _, src, dst in spec.substitution[spec.substitution > 0].index:
            allowed[str(dst)].add(str(src))
    went = s[s["end_day"].notna() & s["start_day"].notna()]
    for fid, group in went.groupby(form[went.index]):
        wrong = set(group["next"].astype(str)) - allowed[str(fid)] - anywhere
        if wrong:
            errors.append(f"{fid}: stays went to {sorted(wrong)}, which nothing allows")
    diverted = s["outcome"] == "diverted"
    d = s[diverted]
    if len(d):
        if d["start_day"].notna().any() or (d["end_day"] - d["requested_day"]).abs().max() > EPS:
            errors.append("a diverted request was admitted or took time")
        if (form[diverted].map(kind) != "ambulant").any():
            errors.append("a request was diverted from a form that is not ambulant")
        if (nxt[diverted].map(kind) != "verblijf").any():
            errors.append("a diverted request did not go to a bed")
        bounds = spec.year_start_day.to_numpy()
        beds = spec.capacity.groupby(level="care_form").sum()
        for fid, group in d.groupby(form[diverted]):
            admitted = s[(form == fid) & s["start_day"].notna()]
            starts = np.sort(admitted["start_day"].to_numpy())
            ends = np.sort(admitted["end_day"].fillna(math.inf).to_numpy())
            # a sibling group goes to ambulant care only together: all need a free place
            size = group.groupby(["sibling_group", "requested_day"]).size()
            for t, sib in zip(group["requested_day"], group["sibling_group"], strict=True):
                k_group = int(size[(sib, t)]) if sib >= 0 else 1
                occupied = (
                    np.searchsorted(starts, t, side="right")
                    - np.searchsorted(ends, t, side="right")
                    + k_group
                    - 1
                )
                k = min(
                    max(int(np.searchsorted(bounds, t, side="right")) - 1, 0), len(spec.years) - 1
                )
                if occupied < int(beds.at[fid, spec.years[k]]):
                    errors.append(f"{fid}: diverted at {t} with a free place")
                    break
    return errors


def conservation(stays: pd.DataFrame, sinks: tuple[str, ...]) -> tuple[int, int, int, int]:
    """(persons, in a bed, waiting, gone) at the end of a run, from the stays only.

    A diverted request (ambulant care full) is an attempt, not a place: the same person's
    request for the bed follows at the same moment.
    """
    tried = stays[stays["outcome"] != "diverted"]
    last = tried.sort_values(["person", "requested_day"]).groupby("person").tail(1)
    in_bed = last["start_day"].notna() & last["end_day"].isna()
    waiting = last["outcome"] == "waiting"
    gone = last["next"].isin(list(sinks))
    return int(last["person"].nunique()), int(in_bed.sum()), int(waiting.sum()), int(gone.sum())
