"""Synthetic waiting lists and family pools, shaped after the national figures.

For tests, demos and benchmarks; never real children. The shares follow DOMAIN figures
where there are any: ~17.6k foster children in ~16.6k families (so most families have one
free place at a time), ~1,050 gezinshuizen with ~4 children each, ~900 children waiting,
47% network families (here: some children on the list have a network family that can take
them), sibling groups "samen, tenzij". Locations are scattered around six regional centres.
The same ``seed`` gives the same tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CENTRES = {
    "utrecht": (52.09, 5.12),
    "amsterdam": (52.37, 4.90),
    "rijnmond": (51.92, 4.48),
    "zuidoost-brabant": (51.44, 5.47),
    "groningen": (53.22, 6.57),
    "ijsselland": (52.52, 6.08),
}
TREDE_SHARES = {"voltijd": 0.55, "deeltijd": 0.2, "netwerk-deeltijd": 0.1, "gezinshuis": 0.15}
NEED_SHARES = {
    "trauma": 0.35,
    "gedrag": 0.25,
    "lvb": 0.15,
    "autisme": 0.08,
    "medisch": 0.05,
    "psychiatrie": 0.05,
    "verslaving": 0.02,
}
HANDLE_SHARES = {
    "trauma": 0.55,
    "gedrag": 0.45,
    "lvb": 0.35,
    "autisme": 0.3,
    "medisch": 0.2,
    "psychiatrie": 0.15,
    "verslaving": 0.1,
}
IDENTITIES = ("christelijk", "islamitisch", "hindoestaans", "joods", "surinaams", "turks")
AS_OF = pd.Timestamp("2026-11-01")
FULL_SHARE = 0.85


def _scatter(
    rng: np.random.Generator, n: int, km: float
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = list(CENTRES)
    region = rng.choice(len(names), size=n)
    lat = np.array([CENTRES[names[r]][0] for r in region]) + rng.normal(0, km / 111.0, n)
    lon = np.array([CENTRES[names[r]][1] for r in region]) + rng.normal(0, km / 70.0, n)
    return np.round(lat, 5), np.round(lon, 5), [names[r] for r in region]


def _tags(rng: np.random.Generator, shares: dict[str, float]) -> str:
    return "|".join(t for t, p in shares.items() if rng.random() < p)


def synthetic_pool(
    children: int = 100,
    families: int = 500,
    seed: int = 1,
    sibling_share: float = 0.15,
    network_share: float = 0.1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (children, placements) tables with the columns of the matching input.

    ``sibling_share`` of the children are in sibling pairs (one in ten of them with a
    contra-indication); ``network_share`` of the children have a network family in the
    pool that is only for them.
    """
    rng = np.random.default_rng(seed)
    lat, lon, region = _scatter(rng, children, 12.0)
    trede_names = list(TREDE_SHARES)
    kids = []
    n_pairs = min(round(children * sibling_share / 2), children // 2)
    for i in range(children):
        age = int(rng.integers(0, 18))
        pair = i // 2 if i < 2 * n_pairs else None
        school = age >= 4
        kids.append(
            {
                "child_id": f"K{i:05d}",
                "age": age,
                "trede": str(rng.choice(trede_names, p=list(TREDE_SHARES.values()))),
                "sibling_group": f"S{pair:04d}" if pair is not None else "",
                "sibling_contra_indication": int(pair is not None and rng.random() < 0.1),
                "needs": _tags(rng, NEED_SHARES),
                "home_lat": lat[i],
                "home_lon": lon[i],
                "school_lat": round(lat[i] + rng.normal(0, 0.02), 5) if school else np.nan,
                "school_lon": round(lon[i] + rng.normal(0, 0.03), 5) if school else np.nan,
                "region": region[i],
                "perspective": "long" if rng.random() < 0.6 else "short",
                "identity": str(rng.choice(IDENTITIES)) if rng.random() < 0.25 else "",
                "waiting_since": (AS_OF - pd.Timedelta(days=int(rng.integers(0, 365)))).strftime(
                    "%Y-%m-%d"
                ),
                "urgency": int(rng.choice(4, p=[0.7, 0.15, 0.1, 0.05])),
                "network_family": "",
            }
        )
    for i in range(0, 2 * n_pairs, 2):
        # siblings: same home, same trede, ages apart
        for col in ("home_lat", "home_lon", "region", "trede", "perspective"):
            kids[i + 1][col] = kids[i][col]
        kids[i + 1]["age"] = int(np.clip(kids[i]["age"] + rng.integers(-4, 5), 0, 17))
        school = kids[i + 1]["age"] >= 4
        kids[i + 1]["school_lat"] = kids[i]["school_lat"] if school else np.nan
        kids[i + 1]["school_lon"] = kids[i]["school_lon"] if school else np.nan
        if school and np.isnan(kids[i]["school_lat"]):
            kids[i + 1]["school_lat"] = round(kids[i]["home_lat"] + rng.normal(0, 0.02), 5)
            kids[i + 1]["school_lon"] = round(kids[i]["home_lon"] + rng.normal(0, 0.03), 5)
    flat, flon, fregion = _scatter(rng, families, 20.0)
    places = []
    for j in range(families):
        gezinshuis = rng.random() < 0.15
        age_min = int(rng.integers(0, 15))
        handles = _tags(rng, HANDLE_SHARES)
        offered = (
            ["gezinshuis"]
            if gezinshuis
            else list(
                rng.choice(
                    ["voltijd", "deeltijd", "netwerk-deeltijd"],
                    size=int(rng.choice([1, 2], p=[0.8, 0.2])),
                    replace=False,
                    p=[0.6, 0.3, 0.1],
                )
            )
        )
        # most families are full: ~17.6k children live in ~16.6k families
        free = int(rng.choice([0, 1, 2, 3], p=[FULL_SHARE, 0.1, 0.04, 0.01]))
        places.append(
            {
                "placement_id": f"G{j:05d}",
                "type": "gezinshuis" if gezinshuis else "pleeggezin",
                "tredes": "|".join(offered),
                "free_places": free,
                "age_min": age_min,
                "age_max": min(23, age_min + int(rng.integers(2, 8))),
                "can_handle": handles,
                "experience": "|".join(t for t in handles.split("|") if t and rng.random() < 0.5),
                "lat": flat[j],
                "lon": flon[j],
                "region": fregion[j],
                "identity": str(rng.choice(IDENTITIES)) if rng.random() < 0.3 else "",
                "perspective": str(
                    rng.choice(["short", "long", "short|long"], p=[0.25, 0.45, 0.3])
                ),
                "max_siblings": max(1, free),
                "network_for_child": "",
                "available": int(rng.random() < 0.9),
                "children_in_family": int(rng.choice(4, p=[0.4, 0.3, 0.2, 0.1])),
            }
        )
    # network families: a relative's family near the child, only for that child
    chosen = rng.choice(children, size=round(children * network_share), replace=False)
    for k, i in enumerate(sorted(chosen.tolist())):
        kid = kids[i]
        if kid["trede"] == "gezinshuis" or kid["sibling_contra_indication"]:
            continue
        pid = f"N{k:05d}"
        group = [
            o for o in kids if kid["sibling_group"] and o["sibling_group"] == kid["sibling_group"]
        ]
        needs = sorted({t for o in group or [kid] for t in str(o["needs"]).split("|") if t})
        places.append(
            {
                "placement_id": pid,
                "type": "pleeggezin",
                "tredes": "netwerk-deeltijd|deeltijd|voltijd",
                "free_places": 2 if kid["sibling_group"] else 1,
                "age_min": 0,
                "age_max": 21,
                "can_handle": "|".join(needs),
                "experience": "",
                "lat": round(kid["home_lat"] + rng.normal(0, 0.05), 5),
                "lon": round(kid["home_lon"] + rng.normal(0, 0.07), 5),
                "region": kid["region"],
                "identity": kid["identity"],
                "perspective": "short|long",
                "max_siblings": 2,
                "network_for_child": kid["child_id"],
                "available": 1,
                "children_in_family": int(rng.integers(0, 3)),
            }
        )
        kid["network_family"] = pid
    return pd.DataFrame(kids), pd.DataFrame(places)
