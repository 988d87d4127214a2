"""What records cannot tell: care form settings, provider names and tariffs.

They come from a base region model when one is given; otherwise from the documented
defaults here, each said in the calibration's notes so that nobody takes them for data.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.core import nl
from capaciteit.domain.model import RegionModel

DEFAULT_FORMS: dict[str, dict[str, object]] = {
    "pleegzorg": {"name": "Pleegzorg", "max_age_years": 21, "sibling_group_share": 0.0},
    "gezinshuis": {"name": "Gezinshuis", "max_age_years": 21},
    "residentieel": {"name": "Residentiële jeugdhulp"},
    "jeugdzorgplus": {
        "name": "JeugdzorgPlus (gesloten)",
        "waiting_policy": "overflow",
        "max_wait_days": 14,
    },
    "crisis": {
        "name": "Crisisopvang",
        "waiting_policy": "overflow",
        "max_wait_days": 1,
        "priority": 0,
        "age_out_to": "thuis",
        "max_stay_days": 28,
        "funding": "availability",
    },
}
"""Care form attributes records cannot tell, for known forms when no base model is given."""
FORM_DEFAULT: dict[str, object] = {
    "kind": "verblijf",
    "waiting_policy": "queue",
    "max_wait_days": "",
    "max_queue_length": "",
    "priority": 1,
    "max_age_years": 18,
    "age_out_to": "zelfstandig",
    "max_stay_days": "",
    "funding": "occupancy",
    "sibling_group_share": 0.0,
    "sibling_group_size": 2,
}
REFERENCE_TARIFF_EUR = {
    "pleegzorg": 75.0,
    "gezinshuis": 164.0,
    "residentieel": 180.0,
    "jeugdzorgplus": 650.0,
    "crisis": 250.0,
}
"""Tariffs per bed-day (national ranges) when no base model gives the region's own."""
FALLBACK_TARIFF_EUR = 180.0


def max_age(form: str, base: RegionModel | None) -> tuple[float, str]:
    """Return a form's age limit and where it sends those who reach it."""
    if base is not None:
        forms = base.care_forms
        return as_float(forms.at[form, "max_age_years"]), str(forms.at[form, "age_out_to"])
    spec = {**FORM_DEFAULT, **DEFAULT_FORMS.get(form, {})}
    return float(str(spec["max_age_years"])), str(spec["age_out_to"])


# --- what records cannot tell ------------------------------------------------------------


def care_forms_table(
    forms: Sequence[str], base: RegionModel | None, notes: list[str]
) -> pd.DataFrame:
    """Return care_forms.csv: the base model's rows, or the defaults (said in a note)."""
    if base is not None:
        table = base.care_forms.loc[list(forms)].reset_index()
        return table
    rows = []
    for form in forms:
        row = {"care_form": form, "name": form.capitalize(), **FORM_DEFAULT}
        row.update(DEFAULT_FORMS.get(form, {}))
        rows.append(row)
    notes.append(
        "Geen basismodel: wachtbeleid, leeftijdsgrens, prioriteit en financiering van de "
        "zorgvormen zijn standaardwaarden (care_forms.csv); controleer ze."
    )
    return pd.DataFrame(rows)


def providers_table(beds: pd.DataFrame, base: RegionModel | None) -> pd.DataFrame:
    """Return providers.csv: the providers with beds, named as in the base model."""
    codes = sorted(beds["provider"].unique())
    names = {}
    if base is not None:
        names = {str(k): str(v) for k, v in base.providers["name"].items()}
    return pd.DataFrame({"provider": codes, "name": [names.get(c, c) for c in codes]})


def costs_table(forms: Sequence[str], base: RegionModel | None, notes: list[str]) -> pd.DataFrame:
    """Return costs.csv: the base model's tariffs, or reference tariffs (said in a note)."""
    if base is not None:
        costs = base.costs.reset_index()
        return costs[costs["care_form"].isin(list(forms))]
    shown = ", ".join(
        f"{form} {nl.euro(REFERENCE_TARIFF_EUR.get(form, FALLBACK_TARIFF_EUR))}" for form in forms
    )
    notes.append(
        f"Geen basismodel: tarieven per bed-dag zijn landelijke richtbedragen ({shown}); "
        "vervang ze door de regionale tarieven in costs.csv."
    )
    return pd.DataFrame(
        {
            "care_form": list(forms),
            "provider": "",
            "cost_per_bed_day_eur": [
                REFERENCE_TARIFF_EUR.get(f, FALLBACK_TARIFF_EUR) for f in forms
            ],
        }
    )


__all__ = [
    "DEFAULT_FORMS",
    "FORM_DEFAULT",
    "REFERENCE_TARIFF_EUR",
    "care_forms_table",
    "costs_table",
    "max_age",
    "providers_table",
]
