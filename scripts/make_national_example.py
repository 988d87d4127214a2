"""Write the national example of the 42 jeugdregio's with JeugdzorgPlus pools (models/nederland/).

Run from the repository root::

    .venv/bin/python scripts/make_national_example.py [--out models/nederland]

Everything in the folder comes from the tables at the top of this script (each with its
source) and from ``models/voorbeeldregio`` (the reference region model, copied): running it
again writes the same files byte for byte (``tests/test_national_example_data.py`` checks
that). What is public and what is synthetic is said next to each table and in the README
the script writes next to the data; change both together.
"""

# ruff: noqa: E501 (the data tables below keep one row a line, and so do the README's tables)

from __future__ import annotations

import argparse
import csv
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "models" / "nederland"
REFERENCE_SOURCE = ROOT / "models" / "voorbeeldregio"
REFERENCE_DIR = "regiomodel"
"""The reference region model's folder inside the national folder (``regions.model``)."""

POOLED_FORM = "jeugdzorgplus"
ZERO_BED_PROVIDER = "P07"
"""The reference model keeps one row of 0 JeugdzorgPlus beds (for this provider of the
Voorbeeldregio): the region model reader wants a beds row for every care form, and the
national model wants no beds of a pooled form in a member region; 0 beds satisfies both."""

# --- public figures ----------------------------------------------------------------------

NL_INHABITANTS = 17_811_291
"""Inhabitants of the Netherlands on 1 January 2023. Source: CBS StatLine 85496NED
'Bevolking; kerncijfers' (https://www.cbs.nl/nl-nl/cijfers/detail/85496NED); also
https://www.vzinfo.nl/bevolking/bevolkingsomvang."""

REFERENCE_INHABITANTS = 300_000
"""Inhabitants of the Voorbeeldregio (models/voorbeeldregio/model.yaml, 'about 300,000')."""

JZP_BEDS_2023 = 609
JZP_OCCUPIED_2023 = 503
"""JeugdzorgPlus places and young people in them on 1 January 2023 (83% occupied).
Source: Jeugdautoriteit, Monitor JeugdzorgPlus, 'Jeugdautoriteit constateert verdere
daling capaciteit gesloten jeugdzorg' (9 June 2023,
https://www.jeugdautoriteit.nl/actueel/nieuws/2023/06/09/jeugdautoriteit-constateert-verdere-daling-capaciteit-gesloten-jeugdzorg)
and 'Capaciteit en bezetting JeugdzorgPlus in 2023 licht gedaald' (8 May 2024,
https://www.jeugdautoriteit.nl/actueel/nieuws/2024/05/08/capaciteit-en-bezetting-jeugdzorgplus-in-2023-licht-gedaald):
609 places and 503 young people at the start of 2023; 581 and 495 (85%) on 31 December
2023, in 16 accommodaties of which 5 above 90%, 7 between 70 and 90% and 4 below 70%
occupied. The pool_beds table below adds up to 609 and 503 and copies that spread."""

# --- regions -----------------------------------------------------------------------------
# (id, official name, landsdeel, JZ+ pool, central city, lat, lon, inhabitants estimate,
#  share aged 0-17 in %).
#
# Names: the jeugdregio names as CBS and the regions use them (CBS StatLine 85100NED shows
# e.g. 'Kop van Noord-Holland (JZ)', 'Midden-Brabant (Hart van Brabant) (JZ)', 'Rijk van
# Nijmegen (JZ)'; RegioAtlas 'De 42 Jeugdzorgregio's' lists Amsterdam-Amstelland, Gooi- en
# Vechtstreek, Haarlemmermeer, Kop van Noord-Holland, Midden IJssel/Oost Veluwe, Midden
# Kennemerland, Midden-Limburg Oost and West, Noord Veluwe, Utrecht, Zuid-Kennemerland:
# https://www.regioatlas.nl/indelingen/indelingen_indeling/t/jeugdzorgregio_s_1). No full,
# current list of the 42 could be read; the rest is this project's best reconstruction.
# Uncertain: Haarlemmermeer is counted in Zuid-Kennemerland and the municipality
# Vijfheerenlanden in Zuid-Holland Zuid, so that the list has 42 regions.
#
# Inhabitants and youth: SYNTHETIC. Each estimate is the sum of rounded, remembered
# municipal populations (about 2023) of the region's municipalities, not a CBS count per
# region; the estimates are scaled together to the CBS national total NL_INHABITANTS. The
# share aged 0-17 is an estimate per region (national about 18.5%: ~3.3 million of 17.8
# million; higher in Flevoland, the Veluwe and around Utrecht, lower in Limburg and the big
# student cities). The coordinates (WGS84) are those of the region's central city.
REGIONS: list[tuple[str, str, str, str, str, float, float, int, float]] = [
    ("groningen", "Groningen", "Noord-Nederland", "jzp-noord", "Groningen", 53.2194, 6.5665, 596_000, 16.5),
    ("friesland", "Friesland", "Noord-Nederland", "jzp-noord", "Leeuwarden", 53.2012, 5.7999, 659_000, 19.0),
    ("drenthe", "Drenthe", "Noord-Nederland", "jzp-noord", "Assen", 52.9925, 6.5649, 498_000, 17.5),
    ("ijsselland", "IJsselland", "Oost-Nederland", "jzp-overijssel-flevoland", "Zwolle", 52.5168, 6.0830, 440_000, 20.5),
    ("twente", "Twente", "Oost-Nederland", "jzp-overijssel-flevoland", "Enschede", 52.2215, 6.8937, 632_000, 18.5),
    ("flevoland", "Flevoland", "Oost-Nederland", "jzp-overijssel-flevoland", "Almere", 52.3702, 5.2141, 440_000, 21.5),
    ("achterhoek", "Achterhoek", "Oost-Nederland", "jzp-gelderland", "Doetinchem", 51.9650, 6.2886, 305_000, 18.0),
    ("centraal-gelderland", "Centraal Gelderland", "Oost-Nederland", "jzp-gelderland", "Arnhem", 51.9851, 5.8987, 438_000, 18.0),
    ("foodvalley", "FoodValley", "Oost-Nederland", "jzp-gelderland", "Ede", 52.0402, 5.6649, 370_000, 20.5),
    ("midden-ijssel-oost-veluwe", "Midden-IJssel/Oost-Veluwe", "Oost-Nederland", "jzp-gelderland", "Apeldoorn", 52.2112, 5.9699, 448_000, 17.5),
    ("noord-veluwe", "Noord-Veluwe", "Oost-Nederland", "jzp-gelderland", "Harderwijk", 52.3417, 5.6206, 190_000, 21.5),
    ("rijk-van-nijmegen", "Rijk van Nijmegen", "Oost-Nederland", "jzp-gelderland", "Nijmegen", 51.8426, 5.8528, 322_000, 16.5),
    ("rivierenland", "Rivierenland", "Oost-Nederland", "jzp-gelderland", "Tiel", 51.8867, 5.4292, 251_000, 20.0),
    ("regio-amersfoort", "Regio Amersfoort", "West-Nederland", "jzp-utrecht-gooi", "Amersfoort", 52.1561, 5.3878, 299_000, 20.5),
    ("utrecht-stad", "Utrecht Stad", "West-Nederland", "jzp-utrecht-gooi", "Utrecht", 52.0907, 5.1214, 367_000, 19.0),
    ("utrecht-west", "Utrecht West", "West-Nederland", "jzp-utrecht-gooi", "Woerden", 52.0855, 4.8836, 188_000, 20.0),
    ("lekstroom", "Lekstroom", "West-Nederland", "jzp-utrecht-gooi", "Nieuwegein", 52.0290, 5.0806, 164_000, 19.5),
    ("zuidoost-utrecht", "Zuidoost Utrecht", "West-Nederland", "jzp-utrecht-gooi", "Zeist", 52.0894, 5.2331, 200_000, 19.0),
    ("gooi-en-vechtstreek", "Gooi en Vechtstreek", "West-Nederland", "jzp-utrecht-gooi", "Hilversum", 52.2292, 5.1669, 251_000, 19.0),
    ("kop-van-noord-holland", "Kop van Noord-Holland", "West-Nederland", "jzp-noord-holland-noord", "Den Helder", 52.9563, 4.7601, 167_000, 17.0),
    ("regio-alkmaar", "Regio Alkmaar", "West-Nederland", "jzp-noord-holland-noord", "Alkmaar", 52.6324, 4.7534, 304_000, 18.0),
    ("west-friesland", "West-Friesland", "West-Nederland", "jzp-noord-holland-noord", "Hoorn", 52.6424, 5.0597, 218_500, 19.0),
    ("zaanstreek-waterland", "Zaanstreek-Waterland", "West-Nederland", "jzp-amsterdam-kennemerland", "Zaandam", 52.4420, 4.8292, 343_500, 19.0),
    ("amsterdam-amstelland", "Amsterdam-Amstelland", "West-Nederland", "jzp-amsterdam-kennemerland", "Amsterdam", 52.3676, 4.9041, 1_120_500, 16.5),
    ("ijmond", "IJmond", "West-Nederland", "jzp-amsterdam-kennemerland", "IJmuiden", 52.4585, 4.6195, 150_500, 18.0),
    ("zuid-kennemerland", "Zuid-Kennemerland", "West-Nederland", "jzp-amsterdam-kennemerland", "Haarlem", 52.3874, 4.6462, 391_000, 19.5),
    ("holland-rijnland", "Holland Rijnland", "West-Nederland", "jzp-haaglanden-rijnland", "Leiden", 52.1601, 4.4970, 582_000, 19.0),
    ("midden-holland", "Midden-Holland", "West-Nederland", "jzp-haaglanden-rijnland", "Gouda", 52.0116, 4.7105, 247_000, 20.5),
    ("haaglanden", "Haaglanden", "West-Nederland", "jzp-haaglanden-rijnland", "Den Haag", 52.0705, 4.3007, 1_134_000, 19.5),
    ("rijnmond", "Rijnmond", "West-Nederland", "jzp-zuid-west", "Rotterdam", 51.9244, 4.4777, 1_346_500, 19.0),
    ("zuid-holland-zuid", "Zuid-Holland Zuid", "West-Nederland", "jzp-zuid-west", "Dordrecht", 51.8133, 4.6901, 525_500, 19.5),
    ("zeeland", "Zeeland", "West-Nederland", "jzp-zuid-west", "Middelburg", 51.4988, 3.6136, 391_000, 17.5),
    ("west-brabant-west", "West-Brabant-West", "Zuid-Nederland", "jzp-west-midden-brabant", "Roosendaal", 51.5308, 4.4653, 307_000, 17.5),
    ("west-brabant-oost", "West-Brabant-Oost", "Zuid-Nederland", "jzp-west-midden-brabant", "Breda", 51.5719, 4.7683, 411_000, 18.0),
    ("midden-brabant", "Midden-Brabant (Hart van Brabant)", "Zuid-Nederland", "jzp-west-midden-brabant", "Tilburg", 51.5555, 5.0913, 469_500, 18.0),
    ("noordoost-brabant", "Noordoost-Brabant", "Zuid-Nederland", "jzp-oost-brabant", "'s-Hertogenbosch", 51.6978, 5.3037, 626_000, 18.5),
    ("zuidoost-brabant", "Zuidoost-Brabant", "Zuid-Nederland", "jzp-oost-brabant", "Eindhoven", 51.4416, 5.4697, 575_000, 17.0),
    ("helmond-de-peel", "Helmond-De Peel", "Zuid-Nederland", "jzp-oost-brabant", "Helmond", 51.4793, 5.6570, 216_500, 18.5),
    ("noord-limburg", "Noord-Limburg", "Zuid-Nederland", "jzp-limburg", "Venlo", 51.3704, 6.1724, 285_500, 17.0),
    ("midden-limburg-west", "Midden-Limburg West", "Zuid-Nederland", "jzp-limburg", "Weert", 51.2517, 5.7069, 103_500, 16.5),
    ("midden-limburg-oost", "Midden-Limburg Oost", "Zuid-Nederland", "jzp-limburg", "Roermond", 51.1942, 5.9870, 136_000, 16.0),
    ("zuid-limburg", "Zuid-Limburg", "Zuid-Nederland", "jzp-limburg", "Maastricht", 50.8514, 5.6910, 603_000, 15.0),
]  # fmt: skip

# --- pools -------------------------------------------------------------------------------
# (id, name, assumed coordinating municipality, cost key). One pool per bovenregionaal
# gebied for gesloten jeugdhulp. PUBLIC: the 2020 regulation ('Regeling specifieke
# uitkering vastgoedtransitie gesloten jeugdhulp 2020', Stcrt. 2020, 49409,
# https://zoek.officielebekendmakingen.nl/dossier/stcrt-2020-49409.html, and its successor
# 2021, Stcrt. 2021, 43111, https://zoek.officielebekendmakingen.nl/stcrt-2021-43111.html)
# defines a bovenregionaal gebied as a cluster of jeugdregio's under a coordinating
# municipality (bijlage 1) and paid EUR 33.5 million to eleven coordinating municipalities;
# the 2024 regulation (Stcrt. 2024, 37715,
# https://zoek.officielebekendmakingen.nl/stcrt-2024-37715.html) keeps the clusters
# (bijlage 1) and names the providers (bijlage 2). The seventeen municipalities of
# Noord-Holland Noord buy JeugdzorgPlus together (contract 2023-2030 with i-Hub/Horizon:
# https://nieuwsbrief.raadbergen-nh.nl). The bijlagen themselves could not be read here:
# the clusters below and their coordinating municipalities are a PLAUSIBLE RECONSTRUCTION
# (eleven clusters by landsdeel and province), not the regulation's. Cost keys: SYNTHETIC,
# chosen to show all three (use, inhabitants, fixed).
POOLS: list[tuple[str, str, str, str]] = [
    ("jzp-noord", "JeugdzorgPlus Noord-Nederland", "Groningen", "use"),
    ("jzp-overijssel-flevoland", "JeugdzorgPlus Overijssel en Flevoland", "Zwolle", "inhabitants"),
    ("jzp-gelderland", "JeugdzorgPlus Gelderland", "Arnhem", "use"),
    ("jzp-utrecht-gooi", "JeugdzorgPlus Utrecht en Gooi en Vechtstreek", "Utrecht", "use"),
    ("jzp-noord-holland-noord", "JeugdzorgPlus Noord-Holland Noord", "Alkmaar", "fixed"),
    ("jzp-amsterdam-kennemerland", "JeugdzorgPlus Amsterdam, Zaanstreek en Kennemerland", "Amsterdam", "use"),
    ("jzp-haaglanden-rijnland", "JeugdzorgPlus Haaglanden, Holland Rijnland en Midden-Holland", "Den Haag", "use"),
    ("jzp-zuid-west", "JeugdzorgPlus Rijnmond, Zuid-Holland Zuid en Zeeland", "Rotterdam", "use"),
    ("jzp-west-midden-brabant", "JeugdzorgPlus West- en Midden-Brabant", "Tilburg", "use"),
    ("jzp-oost-brabant", "JeugdzorgPlus Noordoost- en Zuidoost-Brabant", "'s-Hertogenbosch", "use"),
    ("jzp-limburg", "JeugdzorgPlus Limburg", "Roermond", "use"),
]  # fmt: skip

FIXED_SHARES: dict[str, dict[str, float]] = {
    "jzp-noord-holland-noord": {
        "kop-van-noord-holland": 0.25,
        "regio-alkmaar": 0.45,
        "west-friesland": 0.30,
    },
}
"""SYNTHETIC: an agreed verdeelsleutel of the pool with cost key ``fixed`` (near the
regions' shares of inhabitants, 24/44/32%, rounded as an agreement would be)."""

# --- JeugdzorgPlus locations -------------------------------------------------------------
# (pool, provider id, name, town, lat, lon, beds, occupied, EUR per bed-day, max_beds,
#  min_beds_open). PUBLIC: the totals (609 beds, 503 occupied on 1 January 2023), the
# number of locations (16 accommodaties) and the spread of their occupancy (5 above 90%,
# 7 between 70 and 90%, 4 below 70%; Jeugdautoriteit, see JZP_BEDS_2023). SYNTHETIC: the
# split over pools and locations (roughly in proportion to youth), the organisations and
# their names (fictional), the towns (places with, or near, closed youth care; not a
# claim about any real organisation), the tariffs (several hundred euros a day: DOMAIN.md
# gives no national figure), max_beds (the small-scale places the provider could keep,
# in groups of at most 8 at several small locations: half its 0-meting beds, rounded up to
# a multiple of 4) and min_beds_open.
PROVIDERS: list[tuple[str, str, str, str, float, float, int, int, float, int, int]] = [
    ("jzp-noord", "noorderlicht-groningen", "Noorderlicht Jeugdzorg, Groningen", "Groningen", 53.2194, 6.5665, 36, 34, 610.0, 20, 4),
    ("jzp-noord", "noorderlicht-heerenveen", "Noorderlicht Jeugdzorg, Heerenveen", "Heerenveen", 52.9597, 5.9193, 24, 16, 655.0, 12, 4),
    ("jzp-overijssel-flevoland", "vechtdal-zwolle", "Vechtdal Jeugdhulp, Zwolle", "Zwolle", 52.5168, 6.0830, 32, 26, 640.0, 16, 4),
    ("jzp-overijssel-flevoland", "twentse-poort-almelo", "De Twentse Poort, Almelo", "Almelo", 52.3570, 6.6625, 24, 21, 600.0, 12, 4),
    ("jzp-gelderland", "betuwehof-zetten", "Betuwehof, Zetten", "Zetten", 51.9283, 5.7150, 52, 48, 585.0, 28, 4),
    ("jzp-gelderland", "kamp-harreveld", "De Achterhoekse Kamp, Harreveld", "Harreveld", 51.9881, 6.5770, 36, 23, 690.0, 20, 4),
    ("jzp-utrecht-gooi", "heuvelrug-zeist", "Heuvelrug Jeugdzorg, Zeist", "Zeist", 52.0894, 5.2331, 48, 42, 720.0, 24, 4),
    ("jzp-noord-holland-noord", "polderwacht-heerhugowaard", "De Polderwacht, Heerhugowaard", "Heerhugowaard", 52.6690, 4.8350, 24, 21, 675.0, 12, 4),
    ("jzp-amsterdam-kennemerland", "amstelhaven-amsterdam", "Amstelhaven, Amsterdam", "Amsterdam", 52.3676, 4.9041, 40, 39, 735.0, 20, 4),
    ("jzp-amsterdam-kennemerland", "zaanhof-zaandam", "Zaanhof, Zaandam", "Zaandam", 52.4420, 4.8292, 24, 16, 700.0, 12, 4),
    ("jzp-haaglanden-rijnland", "hofstad-leidschendam", "Hofstad JeugdzorgPlus, Leidschendam", "Leidschendam", 52.0860, 4.3900, 44, 41, 660.0, 24, 4),
    ("jzp-haaglanden-rijnland", "rijnoever-alphen", "Rijnoever, Alphen aan den Rijn", "Alphen aan den Rijn", 52.1290, 4.6550, 24, 14, 715.0, 12, 4),
    ("jzp-zuid-west", "maasoever-rotterdam", "Maasoever JeugdzorgPlus, Rotterdam", "Rotterdam", 51.9244, 4.4777, 76, 58, 625.0, 40, 4),
    ("jzp-west-midden-brabant", "baronie-oosterhout", "Baronie Jeugdzorg, Oosterhout", "Oosterhout", 51.6450, 4.8600, 40, 33, 595.0, 20, 4),
    ("jzp-oost-brabant", "dommelhof-vught", "Dommelhof, Vught", "Vught", 51.6530, 5.2870, 48, 37, 640.0, 24, 4),
    ("jzp-limburg", "maasdal-roermond", "Maasdal JeugdzorgPlus, Roermond", "Roermond", 51.1942, 5.9870, 37, 34, 570.0, 20, 4),
]  # fmt: skip

# --- travel times ------------------------------------------------------------------------
ROAD_FACTOR = 1.3
"""SYNTHETIC: road distance is about 1.3 times the great-circle distance."""
SPEED_KMH = 80.0
"""SYNTHETIC: average speed by car."""
FIXED_MINUTES = 10.0
"""SYNTHETIC: minutes added to every trip (parking, the last streets)."""
EARTH_RADIUS_KM = 6371.0


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the haversine distance in km between two (lat, lon) points in degrees."""
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def travel_minutes(a: tuple[float, float], b: tuple[float, float]) -> int:
    """Return minutes by car: 1.3 x great circle at 80 km/h plus 10, whole minutes."""
    return round(FIXED_MINUTES + ROAD_FACTOR * great_circle_km(a, b) / SPEED_KMH * 60)


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in whole parts in proportion to ``weights`` (largest remainder).

    The parts add up to ``total`` exactly; ties in the remainder go to the first.
    """
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


# --- the tables --------------------------------------------------------------------------


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class Region:
    """One region's row of ``regions.csv`` with its pool and central city."""

    region: str
    name: str
    landsdeel: str
    pool: str
    city: str
    at: tuple[float, float]
    inhabitants: int
    youth_0_17: int
    scale: float


def region_figures() -> list[Region]:
    """Return each region's inhabitants, youth and scale (estimates scaled to NL)."""
    inhabitants = largest_remainder(NL_INHABITANTS, [r[7] for r in REGIONS])
    youth = [round(n * r[8] / 100) for n, r in zip(inhabitants, REGIONS, strict=True)]
    reference = REFERENCE_INHABITANTS * sum(youth) / sum(inhabitants)
    return [
        Region(r[0], r[1], r[2], r[3], r[4], (r[5], r[6]), n, y, y / reference)
        for r, n, y in zip(REGIONS, inhabitants, youth, strict=True)
    ]


def reference_youth() -> float:
    """Young people aged 0-17 of the reference region: 300,000 x the national share."""
    figures = region_figures()
    youth = sum(f.youth_0_17 for f in figures)
    return REFERENCE_INHABITANTS * youth / sum(f.inhabitants for f in figures)


def tables() -> dict[str, str]:
    """Return the national tables as CSV text, by file name."""
    figures = region_figures()
    regions = _csv(
        ("region", "name", "model", "scale", "inhabitants", "youth_0_17", "landsdeel", "source"),
        [
            (
                f.region,
                f.name,
                REFERENCE_DIR,
                f"{f.scale:.4f}",
                f.inhabitants,
                f.youth_0_17,
                f.landsdeel,
                "synthetisch",
            )
            for f in figures
        ],
    )
    pools = _csv(
        ("pool", "name", "care_form", "cost_key"),
        [(p[0], p[1], POOLED_FORM, p[3]) for p in POOLS],
    )
    pool_rows = []
    for pool, _, _, cost_key in POOLS:
        members = [f for f in figures if f.pool == pool]
        occupied = sum(p[7] for p in PROVIDERS if p[0] == pool)
        split = largest_remainder(occupied, [f.youth_0_17 for f in members])
        for f, n in zip(members, split, strict=True):
            share = f"{FIXED_SHARES[pool][f.region]:.2f}" if cost_key == "fixed" else ""
            pool_rows.append((pool, f.region, share, n))
    pool_regions = _csv(("pool", "region", "fixed_share", "occupied"), pool_rows)
    pool_beds = _csv(
        (
            "pool",
            "provider",
            "name",
            "beds",
            "occupied",
            "cost_per_bed_day_eur",
            "max_beds",
            "min_beds_open",
        ),
        [(p[0], p[1], p[2], p[6], p[7], f"{p[8]:.2f}", p[9], p[10]) for p in PROVIDERS],
    )
    travel = _csv(
        ("region", "provider", "minutes"),
        [
            (f.region, p[1], travel_minutes(f.at, (p[4], p[5])))
            for f in figures
            for p in PROVIDERS
            if p[0] == f.pool
        ],
    )
    return {
        "regions.csv": regions,
        "pools.csv": pools,
        "pool_regions.csv": pool_regions,
        "pool_beds.csv": pool_beds,
        "travel.csv": travel,
    }


def national_yaml() -> str:
    """Return ``national.yaml``."""
    ref = reference_youth()
    description = (
        "Example national model: the 42 jeugdregio's of the Netherlands, each the reference "
        f"region model ({REFERENCE_DIR}/, the Voorbeeldregio without its own JeugdzorgPlus "
        "beds) scaled to its youth population, and JeugdzorgPlus bought in "
        f"{len(POOLS)} bovenregionale pools. "
        f"Public: the national totals ({NL_INHABITANTS:,} inhabitants on 1 January 2023, CBS "
        f"85496NED; {JZP_BEDS_2023} JeugdzorgPlus places with {JZP_OCCUPIED_2023} young "
        "people in them on 1 January 2023 and 16 accommodaties at the end of 2023, "
        "Jeugdautoriteit, Monitor JeugdzorgPlus) and that gesloten jeugdhulp is organised in "
        "bovenregionale clusters of jeugdregio's under a coordinating municipality (Stcrt. 2020, 49409; 2021, 43111; "
        "2024, 37715). "
        "Synthetic: the inhabitants and youth per region (estimates scaled to the national "
        "total), two uncertain boundaries of the list (Haarlemmermeer in Zuid-Kennemerland, "
        "Vijfheerenlanden in Zuid-Holland Zuid), the clustering (a plausible reconstruction, "
        "not the regulation's bijlage 1), the locations and their names (fictional), beds "
        "per location, tariffs, cost keys and travel times (1.3 x great circle at 80 km/h "
        "plus 10 minutes). "
        f"scale = youth_0_17 / {ref:,.0f}, the reference region's youth (300,000 "
        "inhabitants x the national share aged 0-17 of regions.csv). "
        "Made by scripts/make_national_example.py; see README.md. "
        "Do not use these numbers as results."
    )
    body = textwrap.fill(description, width=90, initial_indent="  ", subsequent_indent="  ")
    return (
        "schema_version: 1\n"
        "name: Nederland – 42 jeugdregio's\n"
        "baseline_year: 2023\n"
        "synthetic: true\n"
        f"description: |\n{body}\n"
    )


def reference_model_files() -> dict[str, bytes]:
    """Return the reference region model: the Voorbeeldregio's files, without JZ+ beds."""
    out: dict[str, bytes] = {}
    for path in sorted(REFERENCE_SOURCE.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name == "model.yaml":
            data = _reference_yaml(data.decode("utf-8")).encode("utf-8")
        elif path.name == "beds.csv":
            data = _without_pooled_beds(data.decode("utf-8")).encode("utf-8")
        elif path.name == "instroom.csv":
            data = _calibrated_instroom(data.decode("utf-8")).encode("utf-8")
        out[path.name] = data
    return out


POOLED_INSTROOM_PER_YEAR = 6.5
"""CALIBRATED: the reference region's referrals to JeugdzorgPlus a year (the Voorbeeldregio
has 5). With 5, the national run held about 467 young people in JeugdzorgPlus in 2023
against the 503 of the 0-meting (77% of the 609 beds instead of 83%); with 6.5 its first
year holds about the 0-meting's number, so the simulation starts near its steady state."""


def _calibrated_instroom(text: str) -> str:
    """Return instroom.csv with the pooled form's referrals set to the calibrated number."""
    lines = text.splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    form_at, value_at = header.index("care_form"), header.index("arrivals_per_year")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.rstrip("\n").split(",")
        if cells[form_at] == POOLED_FORM:
            cells[value_at] = f"{POOLED_INSTROOM_PER_YEAR:g}"
        out.append(",".join(cells) + "\n")
    return "".join(out)


REFERENCE_NAME = "Referentieregio (voor de landelijke som)"
REFERENCE_DESCRIPTION = """\
  The Voorbeeldregio (models/voorbeeldregio, a synthetic jeugdregio of about 300,000
  inhabitants) without its own JeugdzorgPlus beds, as the reference region model of the
  national example (models/nederland): every jeugdregio uses it multiplied by its scale.
  JeugdzorgPlus is bought in the bovenregionale pools of the national model, so beds.csv
  has one row of 0 jeugdzorgplus beds (the model needs a row per care form); the form
  stays in care_forms, los, routing and instroom, so referrals and doorstroom still go to
  it. All other files are the Voorbeeldregio's, copied by scripts/make_national_example.py.
  Providers and their names are fictional. Do not use these numbers as results.
"""


def _reference_yaml(text: str) -> str:
    """Return the Voorbeeldregio's model.yaml with the reference name and description."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for line in lines:
        if skipping:
            if line.startswith((" ", "\t")) or not line.strip():
                continue
            skipping = False
        if line.startswith("name:"):
            out.append(f"name: {REFERENCE_NAME}\n")
        elif line.startswith("description:"):
            out.append("description: |\n")
            out.append(REFERENCE_DESCRIPTION)
            skipping = True
        else:
            out.append(line)
    return "".join(out)


def _without_pooled_beds(text: str) -> str:
    """Return beds.csv without the pooled form's beds: one row of 0 beds for it instead."""
    lines = text.splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    form_at = header.index("care_form")
    kept = [line for line in lines[1:] if line.split(",")[form_at] != POOLED_FORM]
    zero = {"provider": ZERO_BED_PROVIDER, "care_form": POOLED_FORM, "beds": "0", "occupied": "0"}
    row = ",".join(zero.get(column, "") for column in header) + "\n"
    return "".join([lines[0], *kept, row])


def readme() -> str:
    """Return README.md of the national folder."""
    figures = region_figures()
    ref = reference_youth()
    inhabitants = sum(f.inhabitants for f in figures)
    youth = sum(f.youth_0_17 for f in figures)
    scale = sum(f.scale for f in figures)
    pool_rows = []
    for pool, _, coordinating, cost_key in POOLS:
        members = [f.name for f in figures if f.pool == pool]
        locations = [p for p in PROVIDERS if p[0] == pool]
        towns = ", ".join(p[3] for p in locations)
        pool_rows.append(
            f"| `{pool}` | {', '.join(members)} | {coordinating} | {cost_key} | {towns} | "
            f"{sum(p[6] for p in locations)} | {sum(p[7] for p in locations)} |"
        )
    pool_table = "\n".join(pool_rows)
    beds = sum(p[6] for p in PROVIDERS)
    occupied = sum(p[7] for p in PROVIDERS)
    tariffs = [p[8] for p in PROVIDERS]
    return f"""# National example: the 42 jeugdregio's with JeugdzorgPlus pools (partly synthetic)

This folder is an example **national model**: the 42 jeugdregio's of the Netherlands, each
a region model scaled to its youth population, and JeugdzorgPlus (gesloten jeugdhulp)
bought *bovenregionaal* in 11 pools that several regions share (the providers, one waiting
list, the costs under a verdeelsleutel). It is example input for the national model reader
(`capaciteit.io.national_files`): the national totals are public, most of the rest is
**synthetic** (see *What is public and what is synthetic*). Do not use its numbers as
results.

## How it was made

Everything here is written by `scripts/make_national_example.py` from the tables at the top
of that script (each with its source in a comment) and from `models/voorbeeldregio`: run
`.venv/bin/python scripts/make_national_example.py` to make it again (the files come out
byte for byte the same; `tests/test_national_example_data.py` checks that, and recounts the
rules below). Change the script, not the files.

## The files

| file | what it holds |
|---|---|
| `national.yaml` | `schema_version`, `name`, `baseline_year` (2023), `synthetic: true`, `description` (the sources in brief) |
| `regions.csv` | one row per jeugdregio: `region` (id), `name`, `model` (the region model folder, relative to this folder: `{REFERENCE_DIR}` for all), `scale`, `inhabitants`, `youth_0_17`, `landsdeel`, `source` |
| `pools.csv` | one row per pool: `pool`, `name`, `care_form` (`jeugdzorgplus` for all), `cost_key` (`use`, `inhabitants` or `fixed`) |
| `pool_regions.csv` | the regions of each pool: `pool`, `region`, `fixed_share` (only for cost key `fixed`; the shares of a pool add up to 1), `occupied` (young people of the region in the pool on 1 January 2023) |
| `pool_beds.csv` | the JeugdzorgPlus locations of each pool on 1 January 2023: `pool`, `provider`, `name`, `beds`, `occupied`, `cost_per_bed_day_eur`, `max_beds` (the small-scale places the provider could keep, in small groups: half its 0-meting beds, rounded up to a multiple of 4), `min_beds_open` |
| `travel.csv` | `minutes` by car from each region's central city to each location of its pool (every region × location of the pool, nothing else) |
| `{REFERENCE_DIR}/` | the reference region model: the Voorbeeldregio's files, with no JeugdzorgPlus beds |

Rules the files keep (and the test recounts): 42 regions with unique ids (`[a-z0-9-]+`);
every region is in exactly one JeugdzorgPlus pool; every pool has at least one location;
`occupied` ≤ `beds` for every location; per pool the occupied beds of `pool_beds.csv` equal
the young people of its regions in `pool_regions.csv`; the fixed shares of a pool add up
to 1; `travel.csv` has every region × location of its pool.

## The reference region model (`{REFERENCE_DIR}/`)

A copy of every file of `models/voorbeeldregio` (a synthetic jeugdregio of about 300,000
inhabitants), named "{REFERENCE_NAME}", with two changes. Its referrals to JeugdzorgPlus
are {POOLED_INSTROOM_PER_YEAR:g} a year instead of 5, calibrated so that the national run
starts near its steady state: with 5 it held about 467 young people in JeugdzorgPlus in
2023 against the 503 of the 0-meting. And
`beds.csv` has no JeugdzorgPlus beds, only a row `{ZERO_BED_PROVIDER},jeugdzorgplus,0,0`.
JeugdzorgPlus is bought in the pools now; the form stays in `care_forms.csv`, `los.csv`,
`routing.csv` and `instroom.csv`, so referrals and doorstroom still go to it (in the
national model: to the pool). The 0-bed row is there because the region model reader
refuses a care form without a row in the 0-meting ("zorgvorm 'jeugdzorgplus' heeft geen
rij in de 0-meting"; its fix is "gebruik 0 bedden als de regio er geen heeft"), and the
national model refuses beds of a pooled form in a member region: 0 beds meets both. On
its own the model validates (`capaciteit validate models/nederland/{REFERENCE_DIR}`); its
JeugdzorgPlus referrals then wait 14 days and go outside the region.

**Scale.** Each region uses the reference model multiplied by `scale` = the region's
`youth_0_17` / the reference region's youth. The reference youth is 300,000 (the
Voorbeeldregio's inhabitants) × the national share aged 0–17 of `regions.csv`
({youth:,} / {inhabitants:,} = {youth / inhabitants:.4f}), so {ref:,.0f}.
The scales add up to {scale:.2f}: {inhabitants:,} / 300,000 Voorbeeldregio's.

## The regions and pools

- {len(figures)} regions with {inhabitants:,} inhabitants (the CBS total on 1 January 2023),
  {youth:,} of them aged 0–17 ({youth / inhabitants:.1%}; DOMAIN.md: ~3.3 million).
- {len(POOLS)} pools with {len(PROVIDERS)} JeugdzorgPlus locations: {beds} beds, {occupied}
  occupied ({occupied / beds:.0%}) on 1 January 2023.

| pool | regions | coordinating municipality (assumed) | cost key | locations | beds | occupied |
|---|---|---|---|---|---|---|
{pool_table}

`jzp-overijssel-flevoland` splits its costs by inhabitants, `jzp-noord-holland-noord` by
fixed shares (Kop van Noord-Holland 0.25, Regio Alkmaar 0.45, West-Friesland 0.30), the
others by use (bed-days of each region's young people). `pool_regions.occupied` splits each
pool's occupied beds over its regions in proportion to their youth (largest remainder, so
the sums match exactly).

## What is public and what is synthetic

**Public** (read on the pages named):

- The inhabitants of the Netherlands on 1 January 2023: {NL_INHABITANTS:,} (CBS StatLine
  85496NED, https://www.cbs.nl/nl-nl/cijfers/detail/85496NED).
- JeugdzorgPlus on 1 January 2023: {JZP_BEDS_2023} places with {JZP_OCCUPIED_2023} young
  people in them (83%); on 31 December 2023 581 places and 495 young people (85%) in 16
  accommodaties, 5 of them above 90% occupied, 7 between 70 and 90%, 4 below 70%
  (Jeugdautoriteit, Monitor JeugdzorgPlus:
  https://www.jeugdautoriteit.nl/actueel/nieuws/2023/06/09/jeugdautoriteit-constateert-verdere-daling-capaciteit-gesloten-jeugdzorg,
  https://www.jeugdautoriteit.nl/actueel/nieuws/2024/05/08/capaciteit-en-bezetting-jeugdzorgplus-in-2023-licht-gedaald).
  Mid 2025: 525 places, 421 young people, 81%
  (https://www.skipr.nl/nieuws/nog-steeds-meer-jongeren-in-gesloten-jeugdhulp/). The
  locations here add up to the 1 January 2023 figures and copy the spread of occupancy.
- Gesloten jeugdhulp is organised in *bovenregionale gebieden*: clusters of jeugdregio's
  under a coordinating municipality, listed in bijlage 1 of the regulations on its
  vastgoedtransitie and af- en ombouw, which paid EUR 33.5 million to eleven coordinating
  municipalities in 2020 (Stcrt. 2020, 49409,
  https://zoek.officielebekendmakingen.nl/dossier/stcrt-2020-49409.html; Stcrt. 2021, 43111,
  https://zoek.officielebekendmakingen.nl/stcrt-2021-43111.html; Stcrt. 2024, 37715,
  https://zoek.officielebekendmakingen.nl/stcrt-2024-37715.html, whose bijlage 2 names the
  providers). The seventeen municipalities of Noord-Holland Noord buy JeugdzorgPlus
  together (https://nieuwsbrief.raadbergen-nh.nl).
- The names of the jeugdregio's as far as public pages showed them: CBS StatLine 85100NED
  ("Kop van Noord-Holland (JZ)", "Midden-Brabant (Hart van Brabant) (JZ)", "Rijk van
  Nijmegen (JZ)") and RegioAtlas, "De 42 Jeugdzorgregio's"
  (https://www.regioatlas.nl/indelingen/indelingen_indeling/t/jeugdzorgregio_s_1).

**Synthetic** (made up or estimated; `source` says `synthetisch`):

- The list of 42 is a reconstruction: no full, current list could be read here. Two
  boundaries are uncertain: Haarlemmermeer is counted in Zuid-Kennemerland and the
  municipality Vijfheerenlanden in Zuid-Holland Zuid.
- Inhabitants and youth per region: sums of rounded municipal populations (about 2023)
  scaled together to the CBS national total, and an estimated share aged 0–17 per region.
  They are not CBS counts per jeugdregio.
- The clustering into 11 pools and their coordinating municipalities: a plausible
  reconstruction by landsdeel and province, **not** bijlage 1 of the regulations (its text
  could not be read here). Replace it with bijlage 1 when at hand.
- The locations: their organisations and names are fictional, their towns chosen to
  spread the locations over each pool's area; no figure here is a claim about a real
  organisation or site. Beds per location (the public totals split roughly by youth),
  tariffs (EUR {min(tariffs):.0f}–{max(tariffs):.0f} a bed-day), `max_beds`
  ({min(p[9] for p in PROVIDERS)}–{max(p[9] for p in PROVIDERS)}) and `min_beds_open`
  ({min(p[10] for p in PROVIDERS)}) are made up.
- The cost keys and the fixed shares of Noord-Holland Noord.
- Travel times: great-circle distance between approximate coordinates of the region's
  central city and the location's town, × 1.3 for the road, at 80 km/h, plus 10 minutes.
- Everything in the reference region model (see `models/voorbeeldregio/model.yaml`).
"""


def files() -> dict[str, bytes]:
    """Return every file of the national folder by relative path."""
    out = {"national.yaml": national_yaml().encode("utf-8")}
    out.update({name: text.encode("utf-8") for name, text in tables().items()})
    out["README.md"] = readme().encode("utf-8")
    out.update({f"{REFERENCE_DIR}/{name}": data for name, data in reference_model_files().items()})
    return out


def write(out: Path) -> list[Path]:
    """Write the national folder to ``out`` and return the paths written."""
    written = []
    for name, data in files().items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main() -> None:
    """Write the folder to --out and say what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    written = write(args.out)
    figures = region_figures()
    print(
        f"{args.out}: {len(written)} files; {len(figures)} regions, "
        f"{sum(f.inhabitants for f in figures):,} inhabitants, "
        f"{sum(f.youth_0_17 for f in figures):,} aged 0-17; {len(POOLS)} pools, "
        f"{len(PROVIDERS)} locations, {sum(p[6] for p in PROVIDERS)} beds, "
        f"{sum(p[7] for p in PROVIDERS)} occupied"
    )


if __name__ == "__main__":
    main()
