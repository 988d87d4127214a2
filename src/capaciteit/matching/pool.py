"""Children waiting for a place and the pool of foster families and gezinshuizen.

Two tables, CSV or xlsx, read by :mod:`capaciteit.io.pool_files` with the same typed
reader as the region model: ``children`` (one row per child on the waiting list) and
``placements`` (one row per foster family or gezinshuis). Children are pseudonymous: an id
only; a column that looks like a name or a BSN is refused, so such data never enters.

Lists of tags (needs, identity, tredes, perspectives) are written in one cell separated by
``|``, spaces or commas (``lvb|trauma``). Needs and tredes come from fixed vocabularies, so
that a typo cannot silently exclude every family. Locations are coordinates (``*_lat``,
``*_lon``) or a 4-digit postcode (``*_pc4``) looked up in a table of PC4 centroids.

After reading, both tables become :class:`Children` and :class:`Pool`: pandas frames keyed
by id plus numpy arrays (tags as bit masks) for the vectorised rules and scores of
:mod:`capaciteit.matching.rules` and :mod:`capaciteit.matching.scoring`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from capaciteit.core import nl
from capaciteit.core.privacy import (
    FORBIDDEN_COLUMNS,
    check_pseudonymous,
)
from capaciteit.core.tables import Column, TableSpec
from capaciteit.errors import InvalidInputError, Problem

TREDES = ("netwerk-deeltijd", "deeltijd", "voltijd", "gezinshuis")
"""Steps of foster care, lightest first (DOMAIN: tredes)."""
NEEDS = ("lvb", "trauma", "gedrag", "medisch", "psychiatrie", "verslaving", "autisme")
"""Needs tags a child can have and a family can handle."""
PERSPECTIVES = ("short", "long")
PLACEMENT_TYPES = ("pleeggezin", "gezinshuis")
TAG_SPLIT = re.compile(r"[|,\s+]+")
MAX_IDENTITY_TAGS = 62
MATCHING_INPUT = "De invoer voor de matching"
"""``InvalidInputError.what`` of refused children and placements tables."""
LOCATION_NL = {"home_": "de locatie van thuis", "school_": "de locatie van school"}
"""How a location (by column prefix) is named in messages; the family's is ``de locatie``."""

CHILDREN = TableSpec(
    "children",
    (
        Column("child_id", "id", description="pseudonymous id (no name, no BSN)"),
        Column("age", "int", unit="years", min=0, max=23, description="age in years"),
        Column("trede", "str", choices=TREDES, description="required step / care form"),
        Column("sibling_group", "str", False, "sibling group id (same id = siblings)", ""),
        Column(
            "sibling_contra_indication",
            "int",
            False,
            "1 if this child must not be placed with its siblings (samen, tenzij)",
            min=0,
            max=1,
            default=0,
        ),
        Column("needs", "str", False, f"needs tags: {', '.join(NEEDS)}", default=""),
        Column("home_lat", "float", False, "home latitude", "degrees", -90, 90),
        Column("home_lon", "float", False, "home longitude", "degrees", -180, 180),
        Column("home_pc4", "str", False, "home postcode (4 digits), instead of lat/lon"),
        Column("school_lat", "float", False, "school latitude", "degrees", -90, 90),
        Column("school_lon", "float", False, "school longitude", "degrees", -180, 180),
        Column("school_pc4", "str", False, "school postcode (4 digits)"),
        Column("region", "str", False, "jeugdregio of the child", default=""),
        Column("perspective", "str", False, "expected duration", choices=PERSPECTIVES),
        Column("identity", "str", False, "identity preferences (culture, religion)", ""),
        Column("waiting_since", "str", False, "date on the waiting list, YYYY-MM-DD", ""),
        Column("urgency", "int", False, "0 (none) to 3 (acute)", min=0, max=3, default=0),
        Column("network_family", "str", False, "placement id of the child's network family"),
    ),
    key=("child_id",),
    description="Children waiting for a foster family or gezinshuis.",
)

PLACEMENTS = TableSpec(
    "placements",
    (
        Column("placement_id", "id", description="family or gezinshuis id"),
        Column("type", "str", choices=PLACEMENT_TYPES, description="pleeggezin or gezinshuis"),
        Column("tredes", "str", description=f"tredes offered: {', '.join(TREDES)}"),
        Column("free_places", "int", unit="children", min=0, description="free places now"),
        Column("age_min", "int", unit="years", min=0, max=23, description="youngest accepted"),
        Column("age_max", "int", unit="years", min=0, max=23, description="oldest accepted"),
        Column("can_handle", "str", False, "needs the family can handle", default=""),
        Column("experience", "str", False, "needs the family has experience with", ""),
        Column("lat", "float", False, "latitude", "degrees", -90, 90),
        Column("lon", "float", False, "longitude", "degrees", -180, 180),
        Column("pc4", "str", False, "postcode (4 digits), instead of lat/lon"),
        Column("region", "str", False, "jeugdregio of the family", default=""),
        Column("identity", "str", False, "identity tags (culture, religion)", default=""),
        Column(
            "perspective", "str", False, "perspectives offered: short, long", default="short|long"
        ),
        Column("max_siblings", "int", False, "most siblings taken together", min=1),
        Column("network_for_child", "str", False, "network family of this child id only"),
        Column("available", "int", False, "0 if not available now", min=0, max=1, default=1),
        Column("children_in_family", "int", False, "children already living there", min=0),
    ),
    key=("placement_id",),
    description="Foster families and gezinshuizen with their free places.",
)

PC4 = TableSpec(
    "pc4",
    (
        Column("pc4", "str", description="4-digit postcode"),
        Column("lat", "float", description="centroid latitude", min=-90, max=90),
        Column("lon", "float", description="centroid longitude", min=-180, max=180),
    ),
    key=("pc4",),
    description="Centroids of 4-digit postcodes.",
)


def tags(text: object) -> list[str]:
    """Split a tag cell (``lvb|trauma``, ``lvb trauma``) into lower-case tags."""
    if not isinstance(text, str):
        return []
    return [t for t in TAG_SPLIT.split(text.strip().lower()) if t]


def mask(values: list[str], vocabulary: dict[str, int]) -> int:
    """Bit mask of ``values`` in ``vocabulary`` (tag -> bit)."""
    out = 0
    for v in values:
        out |= 1 << vocabulary[v]
    return out


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Vocabulary:
    """Bits of every tag: needs and tredes fixed, identity tags as they occur."""

    needs: dict[str, int] = field(default_factory=lambda: {t: i for i, t in enumerate(NEEDS)})
    tredes: dict[str, int] = field(default_factory=lambda: {t: i for i, t in enumerate(TREDES)})
    perspectives: dict[str, int] = field(
        default_factory=lambda: {t: i for i, t in enumerate(PERSPECTIVES)}
    )
    identity: dict[str, int] = field(default_factory=dict)

    def identity_mask(self, values: list[str]) -> int:
        """Bit mask of identity tags, adding unseen tags (at most 62)."""
        for v in values:
            if v not in self.identity:
                if len(self.identity) >= MAX_IDENTITY_TAGS:
                    raise ValueError(
                        f"meer dan {MAX_IDENTITY_TAGS} verschillende waarden in identity"
                    )
                self.identity[v] = len(self.identity)
        return mask(values, self.identity)

    def names(self, bits: int, vocabulary: dict[str, int]) -> list[str]:
        """Tags whose bits are set."""
        return [t for t, b in vocabulary.items() if bits >> b & 1]


@dataclass(frozen=True)
class Children:
    """Children on the waiting list: the frame (indexed by ``child_id``) and arrays."""

    frame: pd.DataFrame
    needs: IntArray
    trede: IntArray
    identity: IntArray
    perspective: IntArray
    home: FloatArray
    school: FloatArray
    vocabulary: Vocabulary
    units: dict[str, list[str]]
    """Per child, the children placed together with it (itself first): see rules."""

    @property
    def ids(self) -> list[str]:
        """Child ids in table order."""
        return [str(i) for i in self.frame.index]

    def position(self, child_id: str) -> int:
        """Row position of a child id."""
        return int(self.frame.index.get_loc(child_id))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Pool:
    """Families and gezinshuizen: the frame (indexed by ``placement_id``) and arrays."""

    frame: pd.DataFrame
    tredes: IntArray
    can_handle: IntArray
    experience: IntArray
    identity: IntArray
    perspective: IntArray
    location: FloatArray
    free_places: IntArray
    max_siblings: IntArray
    age_min: IntArray
    age_max: IntArray
    available: BoolArray
    children_in_family: IntArray
    region: npt.NDArray[np.object_]
    network_for: npt.NDArray[np.object_]
    vocabulary: Vocabulary

    @property
    def ids(self) -> list[str]:
        """Placement ids in table order."""
        return [str(i) for i in self.frame.index]

    def __len__(self) -> int:
        return len(self.frame)


def _check_tags(
    frame: pd.DataFrame,
    column: str,
    vocabulary: tuple[str, ...],
    fname: str,
    key: str,
    problems: list[Problem],
) -> None:
    for row in frame.to_dict(orient="records"):
        bad = [t for t in tags(row[column]) if t not in vocabulary]
        if bad:
            unknown = "onbekende waarde" if len(bad) == 1 else "onbekende waarden"
            problems.append(
                Problem(
                    fname,
                    f"{unknown} in {column}: {', '.join(repr(b) for b in bad)}.",
                    f"Gebruik waarden uit: {', '.join(vocabulary)} (gescheiden door '|').",
                    row=int(row["_row"]),
                    column=column,
                    id=str(row[key]),
                )
            )


def _locate(
    frame: pd.DataFrame,
    prefix: str,
    pc4: dict[str, tuple[float, float]] | None,
    fname: str,
    key: str,
    required: bool,
    problems: list[Problem],
) -> FloatArray:
    """Coordinates per row from ``{prefix}lat/lon`` or ``{prefix}pc4``; NaN when absent."""
    out = np.full((len(frame), 2), np.nan)
    label = LOCATION_NL.get(prefix, "de locatie")
    for i, row in enumerate(frame.to_dict(orient="records")):
        lat, lon, code = row[f"{prefix}lat"], row[f"{prefix}lon"], row[f"{prefix}pc4"]
        if pd.notna(lat) and pd.notna(lon):
            out[i] = (float(lat), float(lon))
        elif isinstance(code, str) and code:
            digits = code.strip()[:4]
            if pc4 is None:
                problems.append(
                    Problem(
                        fname,
                        f"{label} is gegeven als postcode {code}, maar er is geen PC4-tabel "
                        "opgegeven.",
                        f"Geef een tabel met de middelpunten van de postcodes (--pc4 BESTAND), "
                        f"of {prefix}lat/{prefix}lon.",
                        row=int(row["_row"]),
                        column=f"{prefix}pc4",
                        id=str(row[key]),
                    )
                )
            elif digits not in pc4:
                problems.append(
                    Problem(
                        fname,
                        f"postcode {code} staat niet in de PC4-tabel.",
                        "Verbeter de postcode, of voeg hem toe aan de PC4-tabel.",
                        row=int(row["_row"]),
                        column=f"{prefix}pc4",
                        id=str(row[key]),
                    )
                )
            else:
                out[i] = pc4[digits]
        elif pd.notna(lat) != pd.notna(lon):
            problems.append(
                Problem(
                    fname,
                    f"van {label} is maar één van {prefix}lat en {prefix}lon ingevuld.",
                    f"Vul zowel {prefix}lat als {prefix}lon in, of {prefix}pc4.",
                    row=int(row["_row"]),
                    id=str(row[key]),
                )
            )
        elif required:
            problems.append(
                Problem(
                    fname,
                    f"{label} ontbreekt.",
                    f"Vul {prefix}lat en {prefix}lon in, of {prefix}pc4.",
                    row=int(row["_row"]),
                    id=str(row[key]),
                )
            )
    return out


def build(
    kids: pd.DataFrame,
    places: pd.DataFrame,
    pc4: dict[str, tuple[float, float]] | None = None,
    problems: list[Problem] | None = None,
    children_file: str = "children.csv",
    placements_file: str = "placements.csv",
) -> tuple[Children, Pool]:
    """Check the two parsed tables against each other and build the arrays.

    ``kids`` and ``places`` have the columns of :data:`CHILDREN` and :data:`PLACEMENTS`
    (``_row`` optional: the spreadsheet row, for messages).
    """
    problems = [] if problems is None else problems
    for fname, frame in ((children_file, kids), (placements_file, places)):
        for c in frame.columns:
            if FORBIDDEN_COLUMNS.match(str(c).strip()):
                problems.append(
                    Problem(
                        fname,
                        f"de kolom '{c}' lijkt persoonsgegevens te bevatten; capaciteit neemt "
                        "alleen pseudonieme ids aan.",
                        f"Verwijder de kolom '{c}'.",
                        row=1,
                        column=str(c),
                    )
                )
    if problems:
        raise InvalidInputError(MATCHING_INPUT, problems)
    kids = _with_defaults(kids, CHILDREN)
    places = _with_defaults(places, PLACEMENTS)
    check_pseudonymous(
        kids, ("child_id", "network_family", "sibling_group"), children_file, problems
    )
    check_pseudonymous(places, ("placement_id",), placements_file, problems)
    if problems:
        # an id that is personal data is not repeated in any later message either
        raise InvalidInputError(MATCHING_INPUT, problems)
    _check_tags(kids, "needs", NEEDS, children_file, "child_id", problems)
    _check_tags(kids, "trede", TREDES, children_file, "child_id", problems)
    _check_tags(places, "can_handle", NEEDS, placements_file, "placement_id", problems)
    _check_tags(places, "experience", NEEDS, placements_file, "placement_id", problems)
    _check_tags(places, "tredes", TREDES, placements_file, "placement_id", problems)
    _check_tags(places, "perspective", PERSPECTIVES, placements_file, "placement_id", problems)
    home = _locate(kids, "home_", pc4, children_file, "child_id", True, problems)
    school = _locate(kids, "school_", pc4, children_file, "child_id", False, problems)
    location = _locate(places, "", pc4, placements_file, "placement_id", True, problems)
    ids = set(kids["child_id"].astype(str))
    place_ids = set(places["placement_id"].astype(str))
    for row in places.to_dict(orient="records"):
        if int(row["age_min"]) > int(row["age_max"]):
            problems.append(
                _at(
                    placements_file,
                    row,
                    "placement_id",
                    f"age_min {row['age_min']} is hoger dan age_max {row['age_max']}.",
                    "Draai ze om, of verbeter het leeftijdsbereik dat het gezin aanneemt.",
                )
            )
        child = row["network_for_child"]
        if isinstance(child, str) and child and child not in ids:
            problems.append(
                _at(
                    placements_file,
                    row,
                    "placement_id",
                    f"network_for_child '{child}' is geen kind in {children_file}.",
                    "Gebruik de child_id van het kind voor wie dit het netwerkgezin is, of laat "
                    "de cel leeg.",
                    "network_for_child",
                )
            )
    network = {
        str(r["network_for_child"]): str(r["placement_id"])
        for r in places.to_dict(orient="records")
        if isinstance(r["network_for_child"], str) and r["network_for_child"]
    }
    for row in kids.to_dict(orient="records"):
        family = row["network_family"]
        if isinstance(family, str) and family and family not in place_ids:
            problems.append(
                _at(
                    children_file,
                    row,
                    "child_id",
                    f"network_family '{family}' staat niet in {placements_file}.",
                    "Gebruik de placement_id van het netwerkgezin, of laat de cel leeg.",
                    "network_family",
                )
            )
        if isinstance(row["waiting_since"], str) and row["waiting_since"]:
            try:
                pd.Timestamp(row["waiting_since"])
            except ValueError:
                problems.append(
                    _at(
                        children_file,
                        row,
                        "child_id",
                        f"waiting_since '{row['waiting_since']}' is geen datum.",
                        "Schrijf de datum als JJJJ-MM-DD, bijvoorbeeld 2026-03-01.",
                        "waiting_since",
                    )
                )
    for child, family in network.items():
        given = kids.loc[kids["child_id"] == child, "network_family"]
        if len(given) and isinstance(given.iloc[0], str) and given.iloc[0] not in ("", family):
            problems.append(
                Problem(
                    children_file,
                    f"network_family van '{child}' is '{given.iloc[0]}', maar volgens "
                    f"{placements_file} is '{family}' het netwerkgezin van dit kind.",
                    "Zorg dat de twee tabellen hetzelfde netwerkgezin noemen.",
                    id=child,
                )
            )
    identity = {t for v in [*kids["identity"], *places["identity"]] for t in tags(v)}
    if len(identity) > MAX_IDENTITY_TAGS:
        problems.append(
            Problem(
                f"{children_file}, {placements_file}",
                f"de kolommen identity bevatten samen {nl.number(len(identity))} verschillende "
                f"waarden; capaciteit kan er hoogstens {MAX_IDENTITY_TAGS} onderscheiden.",
                "Gebruik minder verschillende waarden in identity (bijvoorbeeld bredere groepen).",
                column="identity",
            )
        )
    if problems:
        raise InvalidInputError(MATCHING_INPUT, problems)
    vocabulary = Vocabulary()
    kids = kids.set_index("child_id", drop=False)
    places = places.set_index("placement_id", drop=False)
    children = Children(
        frame=kids,
        needs=_masks(kids["needs"], vocabulary.needs),
        trede=np.array([1 << vocabulary.tredes[t] for t in kids["trede"]], dtype=np.int64),
        identity=np.array(
            [vocabulary.identity_mask(tags(v)) for v in kids["identity"]], dtype=np.int64
        ),
        perspective=np.array(
            [
                (1 << vocabulary.perspectives[p]) if isinstance(p, str) and p else 0
                for p in kids["perspective"]
            ],
            dtype=np.int64,
        ),
        home=home,
        school=school,
        vocabulary=vocabulary,
        units=_units(kids),
    )
    free = np.asarray(places["free_places"], dtype=np.int64)
    max_sib = places["max_siblings"]
    pool = Pool(
        frame=places,
        tredes=_masks(places["tredes"], vocabulary.tredes),
        can_handle=_masks(places["can_handle"], vocabulary.needs),
        experience=_masks(places["experience"], vocabulary.needs),
        identity=np.array(
            [vocabulary.identity_mask(tags(v)) for v in places["identity"]], dtype=np.int64
        ),
        perspective=_masks(places["perspective"], vocabulary.perspectives),
        location=location,
        free_places=free,
        max_siblings=np.where(max_sib.isna(), np.maximum(free, 1), max_sib.fillna(0)).astype(
            np.int64
        ),
        age_min=np.asarray(places["age_min"], dtype=np.int64),
        age_max=np.asarray(places["age_max"], dtype=np.int64),
        available=places["available"].fillna(1).astype("int64").to_numpy() == 1,
        children_in_family=np.asarray(places["children_in_family"].fillna(0), dtype=np.int64),
        region=places["region"].fillna("").astype(str).to_numpy(dtype=object),
        network_for=places["network_for_child"].fillna("").astype(str).to_numpy(dtype=object),
        vocabulary=vocabulary,
    )
    return children, pool


def _units(kids: pd.DataFrame) -> dict[str, list[str]]:
    """Siblings together (samen, tenzij): a child with a contra-indication alone."""
    groups: dict[str, list[str]] = {}
    for child, group, contra in zip(
        kids.index, kids["sibling_group"], kids["sibling_contra_indication"], strict=True
    ):
        if isinstance(group, str) and group and int(contra) != 1:
            groups.setdefault(group, []).append(str(child))
    out: dict[str, list[str]] = {}
    for child, group, contra in zip(
        kids.index, kids["sibling_group"], kids["sibling_contra_indication"], strict=True
    ):
        members = groups.get(group, []) if isinstance(group, str) and int(contra) != 1 else []
        c = str(child)
        out[c] = [c, *[m for m in members if m != c]] if members else [c]
    return out


def _at(
    fname: str, row: dict[Any, Any], key: str, message: str, fix: str, column: str | None = None
) -> Problem:
    """Describe a problem in one row of a table, named by its spreadsheet row and id."""
    return Problem(fname, message, fix, row=int(row["_row"]), column=column, id=str(row[key]))


def _masks(column: pd.Series, vocabulary: dict[str, int]) -> IntArray:
    return np.array([mask(tags(v), vocabulary) for v in column], dtype=np.int64)


def _with_defaults(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Add absent optional columns (with their defaults) and ``_row``."""
    out = frame.copy()
    if "_row" not in out.columns:
        out["_row"] = np.arange(2, len(out) + 2)
    for col in spec.columns:
        if col.name not in out.columns:
            out[col.name] = col.default if col.default is not None else None
        elif col.default is not None:
            out[col.name] = out[col.name].fillna(col.default)
    for col in spec.columns:
        if col.kind in ("str", "id"):
            out[col.name] = out[col.name].where(out[col.name].notna(), None).astype(object)
    return out
