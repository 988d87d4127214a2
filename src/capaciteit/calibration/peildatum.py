"""The 0-meting from the records: occupants on the peildatum, beds, the waiting list."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from capaciteit.calibration.figures import Window, add_row
from capaciteit.core import nl


def occupied_on(stays: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Count the stays in a bed on ``day`` per (provider, care_form)."""
    inside = (stays["start"] <= day) & (stays["end"].isna() | (stays["end"] > day))
    return stays[inside].groupby(["provider", "care_form"]).size()


def _peak_occupancy(stays: pd.DataFrame, a: pd.Timestamp, b: pd.Timestamp) -> pd.Series:
    """Count the most in a bed on any day of ``[a, b]`` per (provider, care_form)."""
    out: dict[tuple[str, str], int] = {}
    for key, group in stays.groupby(["provider", "care_form"]):
        start = group["start"].to_numpy()
        end = group["end"].fillna(b + pd.Timedelta(days=1)).to_numpy()
        events = np.concatenate([start, end])
        steps = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
        # on one day, leaving before arriving: a bed freed in the morning is taken again
        order = np.lexsort((steps, events))
        level = np.cumsum(steps[order])
        times = events[order]
        before = level[times < np.datetime64(a)]
        at_a = int(before[-1]) if len(before) else 0
        inside = level[(times >= np.datetime64(a)) & (times <= np.datetime64(b))]
        out[(str(key[0]), str(key[1]))] = int(max([at_a, *inside.tolist()]))
    return pd.Series(out, dtype="int64")


def estimate_beds(
    stays: pd.DataFrame,
    forms: list[str],
    window: Window,
    beds: pd.DataFrame | None,
    rows: list[dict[str, object]],
    notes: list[str],
) -> pd.DataFrame:
    """Return beds.csv on the peildatum: beds, occupants counted, the waiting list."""
    occupied = occupied_on(stays, window.zero)
    pairs = sorted(
        {(str(p), str(f)) for p, f in zip(stays["provider"], stays["care_form"], strict=True)}
    )
    waiting = pd.Series(dtype="int64")
    if stays["referral"].notna().any():
        on_list = (stays["referral"] <= window.zero) & (stays["start"] > window.zero)
        waiting = stays[on_list].groupby(["provider", "care_form"]).size()
        if window.zero >= window.end:
            notes.append(
                "Wachtend op de peildatum is 0: wie op de extractiedatum nog wacht, heeft geen "
                "verblijf in het extract. Kies een eerdere --peildatum om de wachtlijst te tellen."
            )
    given: dict[tuple[str, str], int] = {}
    counted_there: dict[tuple[str, str], int] = {}
    year_before = max(window.zero - pd.DateOffset(years=1), window.start)
    peak = _peak_occupancy(stays, pd.Timestamp(year_before), window.zero)
    day = nl.date(window.zero.date())
    if beds is not None:
        for r in beds.to_dict(orient="records"):
            key = (str(r["provider"]), str(r["care_form"]))
            if key[1] not in forms:
                notes.append(
                    f"0-meting: {key[1]} bij {key[0]} genegeerd, die zorgvorm heeft geen "
                    "verblijven in de gegevens."
                )
                continue
            given[key] = int(r["beds"])
            if "occupied" in r and not pd.isna(r["occupied"]):
                counted_there[key] = int(r["occupied"])
        missing = [k for k in pairs if k[1] in forms and k not in given]
        for provider, form in missing:
            notes.append(
                f"0-meting: {form} bij {provider} ontbreekt; bedden geschat als de hoogste "
                f"bezetting in het jaar voor {day} ({int(peak.get((provider, form), 0))})."
            )
        pairs = sorted(set(pairs) | set(given))
        notes.append(f"Bedden uit de opgegeven 0-meting; bezet geteld uit de verblijven op {day}.")
    else:
        notes.append(
            "Geen 0-meting opgegeven: bedden geschat als de hoogste bezetting in het jaar voor "
            f"de peildatum ({day}). Lever een 0-meting aan (capaciteit intake) voor het "
            "werkelijke aantal."
        )
    table: list[dict[str, object]] = []
    for provider, form in pairs:
        if form not in forms:
            continue
        occ = int(occupied.get((provider, form), 0))
        estimated = (provider, form) not in given
        count = given.get((provider, form), int(peak.get((provider, form), occ)))
        add_row(rows, "occupied", form, provider, occ, math.nan, math.nan, occ)
        note = "geschat: hoogste bezetting in het jaar ervoor" if estimated else ""
        there = counted_there.get((provider, form))
        if there is not None and there != occ:
            notes.append(
                f"{form}, {provider}: de 0-meting noemt {there} bezet, de verblijven tellen "
                f"er {occ} op {day}; beds.csv neemt de telling uit de verblijven."
            )
        if count < occ:
            # a model cannot start with more young people than beds; the registered beds
            # are out of date (or the peildatum differs), so the count is raised and said
            note = f"0-meting noemt {count}, maar {occ} jeugdigen in zorg: verhoogd tot {occ}"
            notes.append(f"{form}, {provider}: {note}; controleer de 0-meting.")
            count = occ
        add_row(rows, "beds", form, provider, count, math.nan, math.nan, occ, note)
        table.append(
            {
                "provider": provider,
                "care_form": form,
                "beds": count,
                "occupied": occ,
                "waiting": int(waiting.get((provider, form), 0)),
            }
        )
    return pd.DataFrame(table, columns=["provider", "care_form", "beds", "occupied", "waiting"])


__all__ = ["estimate_beds", "occupied_on"]
