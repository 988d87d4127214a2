"""Review of the national model's input: every defect named, never a traceback.

* Hypothesis builds small valid national models (2-4 one-form regions, one pool, 1-3
  providers, any cost key, with or without travel times), checks they load, then injects
  exactly one defect and expects exactly that problem: in the right file, with the
  right words and a Dutch fix, and no other file blamed.
* ``scaled()``: beds and people stay whole, occupants never above the beds, scale 1 is the
  model itself.
* Hostile folders: a model or scenario outside the folder, a huge scale, a region twice
  in a pool, negative travel, an invalid region model, ids that clash with the group's
  naming. All are refused with the file (and row and id where there is one); none may
  end in a traceback.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capaciteit.domain.scenario import Horizon
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.model_files import load_model
from capaciteit.io.national_files import load_national, scaled
from capaciteit.national.model import NationalScenario, PoolAfbouwIn
from capaciteit.national.results import national_results
from capaciteit.national.run import run_national
from capaciteit.simulation.executors import SerialExecutor
from tests.national_models import EXAMPLE, example_pool, write
from tests.test_national_review import loaded_or_problems, one_form_region

DUTCH = (
    " de ", " het ", " een ", " van ", " of ", " en ", " toe", " aan ", "geef ", "zet ",
    "voeg ", "laat ", "verwijder ", "corrigeer ", "houd ", "maak ", "pas ", " moet ",
    " mag ", "schrijf ", "gebruik ", "rond ", "vul ",
)  # fmt: skip


def dutch(text: str) -> bool:
    padded = f" {text.lower()} "
    return any(word in padded for word in DUTCH)


def problems_of(folder: Path) -> list[Problem]:
    """The problems load_national names; fails on any other exception (a traceback)."""
    with pytest.raises(InvalidInputError) as err:
        load_national(folder)
    problems = list(err.value.problems)
    assert problems
    for p in problems:
        assert p.message and p.fix, p
        assert dutch(p.fix), p.fix
    return problems


# --------------------------------------------------------------------------------------
# A valid small national model, drawn by hypothesis
# --------------------------------------------------------------------------------------

KEYS = ("use", "inhabitants", "fixed")


@st.composite
def national_tables(draw: st.DrawFn) -> dict[str, str]:
    n_regions = draw(st.integers(2, 4))
    regions = [f"r{i}" for i in range(n_regions)]
    members = regions[: draw(st.integers(2, n_regions))]
    n_providers = draw(st.integers(1, 3))
    providers = [f"P{i}" for i in range(n_providers)]
    beds = [draw(st.integers(1, 30)) for _ in providers]
    occupied = [draw(st.integers(0, b)) for b in beds]
    # the occupants split over the member regions
    total = sum(occupied)
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=len(members) - 1,
                                max_size=len(members) - 1)))  # fmt: skip
    per_region = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    key = draw(st.sampled_from(KEYS))
    shares = [""] * len(members)
    if key == "fixed":
        shares = [repr(1 / len(members))] * len(members)
    travel = draw(st.booleans())
    tables = {
        "national.yaml": "schema_version: 1\nname: Hypothese\nbaseline_year: 2023\n",
        "regions.csv": "region,name,model,inhabitants\n"
        + "\n".join(f"{r},Regio {r},m,{1000 * (i + 1)}" for i, r in enumerate(regions)),
        "pools.csv": f"pool,name,care_form,cost_key\njzp,JZ+,jeugdzorgplus,{key}",
        "pool_regions.csv": "pool,region,fixed_share,occupied\n"
        + "\n".join(
            f"jzp,{r},{s},{o}" for r, s, o in zip(members, shares, per_region, strict=True)
        ),
        "pool_beds.csv": "pool,provider,name,beds,occupied,cost_per_bed_day_eur\n"
        + "\n".join(
            f"jzp,{p},Aanbieder {p},{b},{o},600"
            for p, b, o in zip(providers, beds, occupied, strict=True)
        ),
    }
    if travel:
        tables["travel.csv"] = "region,provider,minutes\n" + "\n".join(
            f"{r},{p},{draw(st.integers(5, 200))}" for r in members for p in providers
        )
    return tables


def rows(text: str) -> list[str]:
    return text.strip().splitlines()


def add_row(tables: dict[str, str], name: str, row: str, header: str) -> None:
    tables[name] = tables.get(name, header).rstrip("\n") + "\n" + row


def inject(tables: dict[str, str], defect: str) -> tuple[str, str, int | None]:
    """Put one defect into ``tables``; return the file, words and row it must be named by."""
    regions_in = [line.split(",")[1] for line in rows(tables["pool_regions.csv"])[1:]]
    n_regions = len(regions_in)
    key = rows(tables["pools.csv"])[1].split(",")[3]
    if defect == "unknown_region":
        add_row(tables, "pool_regions.csv", "jzp,onbekend,,0", "")
        return "pool_regions.csv", "regio 'onbekend' staat niet in regions.csv", n_regions + 2
    if defect == "unknown_pool":
        add_row(tables, "pool_regions.csv", "xx,r0,,0", "")
        return "pool_regions.csv", "pool 'xx' staat niet in pools.csv", n_regions + 2
    if defect == "occupied_do_not_add_up":
        lines = rows(tables["pool_regions.csv"])
        pool, region, share, occupied = lines[1].split(",")
        lines[1] = f"{pool},{region},{share},{int(occupied) + 1}"
        tables["pool_regions.csv"] = "\n".join(lines)
        return "pool_regions.csv", "maar de regio's tellen", None
    if defect == "occupied_above_beds":
        lines = rows(tables["pool_beds.csv"])
        cells = lines[1].split(",")
        extra = int(cells[3]) + 1 - int(cells[4])
        cells[4] = str(int(cells[3]) + 1)
        lines[1] = ",".join(cells)
        tables["pool_beds.csv"] = "\n".join(lines)
        # the regions count the extra occupants, so only the provider's row is wrong
        regions = rows(tables["pool_regions.csv"])
        pool, region, share, occupied = regions[1].split(",")
        regions[1] = f"{pool},{region},{share},{int(occupied) + extra}"
        tables["pool_regions.csv"] = "\n".join(regions)
        return "pool_beds.csv", "bezet op", 2
    if defect == "travel_missing":
        if "travel.csv" not in tables:
            # one pair only: the pool's other pairs are missing
            tables["travel.csv"] = f"region,provider,minutes\n{regions_in[0]},P0,10"
        else:
            tables["travel.csv"] = "\n".join(rows(tables["travel.csv"])[:-1])
        return "travel.csv", "ontbreken voor", None
    if defect == "travel_stray":
        lines = rows(tables.get("travel.csv", "region,provider,minutes"))
        lines.append("r0,ZZ,10")
        tables["travel.csv"] = "\n".join(lines)
        return "travel.csv", "gebruikt geen pool met aanbieder 'ZZ'", len(lines)
    if defect == "capacity_unknown_provider":
        tables["pool_capacity.csv"] = "pool,provider,year,beds\njzp,ZZ,2025,3"
        return "pool_capacity.csv", "aanbieder 'ZZ' heeft geen bedden in pool 'jzp'", 2
    if defect == "fixed_share_under_another_key":
        if key == "fixed":
            lines = rows(tables["pool_regions.csv"])
            pool, region, _, occupied = lines[1].split(",")
            lines[1] = f"{pool},{region},0.9,{occupied}"
            tables["pool_regions.csv"] = "\n".join(lines)
            return "pool_regions.csv", "tellen op tot", None
        lines = rows(tables["pool_regions.csv"])
        pool, region, _, occupied = lines[1].split(",")
        lines[1] = f"{pool},{region},0.5,{occupied}"
        tables["pool_regions.csv"] = "\n".join(lines)
        return "pool_regions.csv", "een vast aandeel bij pool 'jzp'", 2
    if defect == "region_twice":
        lines = rows(tables["pool_regions.csv"])
        pool, region, share, _ = lines[1].split(",")
        lines.append(f"{pool},{region},{share},0")
        tables["pool_regions.csv"] = "\n".join(lines)
        return "pool_regions.csv", "komt meer dan één keer voor", len(lines)
    if defect == "pool_without_beds":
        lines = rows(tables["pools.csv"])
        lines.append("leeg,Lege pool,crisis,use")
        tables["pools.csv"] = "\n".join(lines)
        return "pools.csv", "pool 'leeg' heeft geen regio's", 3
    raise AssertionError(defect)


DEFECTS = (
    "unknown_region",
    "unknown_pool",
    "occupied_do_not_add_up",
    "occupied_above_beds",
    "travel_missing",
    "travel_stray",
    "capacity_unknown_provider",
    "fixed_share_under_another_key",
    "region_twice",
    "pool_without_beds",
)
# a pool without regions is also a pool without beds, and a region nobody knows has no
# travel times either: both are said, each in its own file
ALSO = {"pool_without_beds": {"pool_beds.csv"}, "unknown_region": {"travel.csv"}}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=national_tables(), defect=st.sampled_from(DEFECTS))
def test_one_defect_is_named_in_its_file_with_a_dutch_fix(
    tables: dict[str, str], defect: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one_form_region(folder / "m", 10.0, 100.0, "overflow", "0")
        write(folder, tables)
        load_national(folder)  # the drawn model is valid
        file, words, row = inject(tables, defect)
        write(folder, tables)
        problems = problems_of(folder)
    named = [p for p in problems if p.file == file and words in p.message]
    assert named, (defect, [(p.file, p.message) for p in problems])
    if row is not None:
        assert any(p.row == row for p in named), (defect, [(p.file, p.row) for p in named])
    blamed = {p.file for p in problems}
    assert blamed <= {file, *ALSO.get(defect, set())}, (defect, problems)


# --------------------------------------------------------------------------------------
# scaled(): whole people within the beds
# --------------------------------------------------------------------------------------

REFERENCE = load_model(EXAMPLE)


@settings(max_examples=60, deadline=None)
@given(scale=st.floats(0.01, 50.0, allow_nan=False, allow_infinity=False))
def test_scaling_keeps_beds_and_people_whole_and_occupants_within_the_beds(
    scale: float,
) -> None:
    model = scaled(REFERENCE, scale)
    beds, before = model.beds, REFERENCE.beds
    for column in ("beds", "occupied"):
        values = beds[column].to_numpy(dtype="float64")
        assert (values == np.round(values)).all() and (values >= 0).all()
    assert (beds["occupied"].astype("int64") <= beds["beds"]).all()
    # each bed count is the nearest whole number to the scaled one (ties to even)
    expect = np.round(before["beds"].to_numpy(dtype="float64") * scale)
    assert (beds["beds"].to_numpy(dtype="float64") == expect).all()
    assert (np.abs(beds["beds"].to_numpy() - before["beds"].to_numpy() * scale) <= 0.5).all()
    occupied = np.round(before["occupied"].to_numpy(dtype="float64") * scale)
    assert (beds["occupied"].to_numpy(dtype="float64") == np.minimum(occupied, expect)).all()
    ratio = model.instroom["arrivals_per_year"] / REFERENCE.instroom["arrivals_per_year"]
    assert np.allclose(ratio.dropna().to_numpy(), scale)
    # what a region does with its young people is not scaled
    assert model.los.equals(REFERENCE.los)
    assert model.routing.equals(REFERENCE.routing)
    assert model.care_forms.equals(REFERENCE.care_forms)


def test_scale_one_is_the_model_itself() -> None:
    assert scaled(REFERENCE, 1.0) is REFERENCE


# --------------------------------------------------------------------------------------
# Hostile folders
# --------------------------------------------------------------------------------------


def replace_in(name: str, old: str, new: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new), encoding="utf-8")

    return change


def with_scenario(target: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        (folder / "regions.csv").write_text(
            "region,name,model,scale,inhabitants,scenario\n"
            f"noord,Noord,regio,1.0,300000,{target}\n"
            "zuid,Zuid,regio,0.5,150000,\noost,Oost,regio,0.8,240000,\n",
            encoding="utf-8",
        )

    return change


OUTSIDE = "../" * 30  # from any temporary folder up to /

HOSTILE: dict[str, tuple[Callable[[Path], None], str, int | None, str | None, str]] = {
    # name: (change, file, row, id, words in the message)
    "model folder that does not exist": (
        replace_in("regions.csv", "noord,Noord,regio,", "noord,Noord,../../nergens,"),
        "regions.csv", 2, "noord", "bestaat niet",
    ),
    "model folder outside, not a model": (
        replace_in("regions.csv", "noord,Noord,regio,", f"noord,Noord,{OUTSIDE}etc,"),
        f"{OUTSIDE}etc/model.yaml", None, None, "ontbreekt",
    ),
    "scenario outside the folder": (
        with_scenario(f"{OUTSIDE}etc/passwd"), "regions.csv", 2, "noord", "kan niet",
    ),
    "scenario that does not exist": (
        with_scenario("nergens.yaml"), "regions.csv", 2, "noord", "kan niet",
    ),
    "huge scale": (
        replace_in("regions.csv", "noord,Noord,regio,1.0", "noord,Noord,regio,1e9"),
        "regions.csv", 2, "noord", "scale",
    ),
    "zero scale": (
        replace_in("regions.csv", "noord,Noord,regio,1.0", "noord,Noord,regio,0"),
        "regions.csv", 2, "noord", "scale",
    ),
    "a region twice in a pool": (
        replace_in("pool_regions.csv", "jzp,zuid,,3", "jzp,zuid,,3\njzp,zuid,,0"),
        "pool_regions.csv", 4, "jzp", "meer dan één keer",
    ),
    "negative travel time": (
        replace_in("travel.csv", "noord,A,20", "noord,A,-5"), "travel.csv", 2, "noord", "-5",
    ),
    "travel time of a day and more": (
        replace_in("travel.csv", "noord,A,20", "noord,A,1e6"), "travel.csv", 2, "noord", "1e6",
    ),
    "an invalid region model": (
        replace_in("regio/routing.csv", "crisis,thuis,0.53", "crisis,thuis,0.50"),
        "regio/routing.csv", 2, "crisis", "tellen op tot",
    ),
    "negative beds in a pool": (
        replace_in("pool_beds.csv", "jzp,A,Alfa,8,5,650", "jzp,A,Alfa,-8,5,650"),
        "pool_beds.csv", 2, "jzp", "beds",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_folder_is_refused_with_file_row_and_id(tmp_path: Path, case: str) -> None:
    change, file, row, id_, words = HOSTILE[case]
    folder = example_pool(tmp_path / "land")
    change(folder)
    problems = problems_of(folder)
    named = [p for p in problems if p.file == file and words in p.message]
    assert named, (case, [(p.file, p.row, p.id, p.message) for p in problems])
    if row is not None:
        assert any(p.row == row for p in named), [(p.row, p.id) for p in named]
    if id_ is not None:
        assert any(p.id == id_ for p in named), [(p.row, p.id) for p in named]


@pytest.mark.parametrize("case", ["huge scale", "negative travel time", "negative beds in a pool"])
def test_a_bad_value_is_named_once_not_also_as_a_missing_row(tmp_path: Path, case: str) -> None:
    change = HOSTILE[case][0]
    folder = example_pool(tmp_path / "land")
    change(folder)
    problems = problems_of(folder)
    assert len(problems) == 1, [(p.file, p.message) for p in problems]


def test_a_pooled_form_the_region_does_not_know_is_refused(tmp_path: Path) -> None:
    folder = example_pool(tmp_path / "land")
    replace_in("pools.csv", ",jeugdzorgplus,", ",gesloten,")(folder)
    problems = problems_of(folder)
    named = [p for p in problems if p.file == "pools.csv" and "kent die zorgvorm" in p.message]
    assert named and all(p.id == "jzp" for p in named)


IDS_THAT_CLASH = {
    "a pool id with the separator": "jz/plus",
    "a pool id that is a sink": "thuis",
    "a pool id that is another sink": "buiten_regio",
}


@pytest.mark.parametrize("case", list(IDS_THAT_CLASH))
def test_a_pool_id_that_clashes_with_the_naming_is_refused_or_runs(
    tmp_path: Path, case: str
) -> None:
    folder = example_pool(tmp_path / "land")
    pool = IDS_THAT_CLASH[case]
    for name in ("pools.csv", "pool_regions.csv", "pool_beds.csv"):
        replace_in(name, "jzp,", f"{pool},")(folder)
    model = loaded_or_problems(
        lambda: load_national(folder, Horizon(start_year=2023, end_year=2023))
    )
    if isinstance(model, list):
        assert any(p.file == "pools.csv" for p in model)
        return
    scenario = NationalScenario("t", "", None, model, 1, 1, PoolAfbouwIn())
    results = national_results(run_national(scenario, SerialExecutor()))
    assert pool in set(results.pools["pool"])


def test_the_hostile_cases_start_from_a_valid_folder(tmp_path: Path) -> None:
    folder = example_pool(tmp_path / "land")
    model = load_national(folder)
    assert [len(g) for g in model.groups()] == [2, 1]
    assert math.isclose(float(model.regions.at["zuid", "scale"]), 0.5)
    shutil.rmtree(folder)


# --------------------------------------------------------------------------------------
# One waiting list, one set of rules: what the checks do not compare yet
# --------------------------------------------------------------------------------------


def two_models(tmp_path: Path, region: str, change: Callable[[Path], None]) -> Path:
    """The example pool with ``region`` on a copy of the reference model, changed."""
    folder = example_pool(tmp_path / "land")
    shutil.copytree(folder / "regio", folder / "regio2")
    change(folder / "regio2")
    name = region.title()
    replace_in("regions.csv", f"{region},{name},regio,", f"{region},{name},regio2,")(folder)
    return folder


RULES_THAT_DIFFER = {
    # zuid's young people waiting in a crisis bed for JeugdzorgPlus get another priority
    # on the pool's one list than noord's (care_forms.priority of the form they wait in)
    "priority of a form that waits for the pool": replace_in(
        "care_forms.csv", "crisis,Crisisopvang,overflow,1,,0,", "crisis,Crisisopvang,overflow,1,,1,"
    ),
    # the pool takes the sibling groups of its first member only
    "sibling groups of the pooled form": replace_in(
        "care_forms.csv",
        "jeugdzorgplus,JeugdzorgPlus (gesloten),overflow,14,,1,18,zelfstandig,,occupancy,0,2",
        "jeugdzorgplus,JeugdzorgPlus (gesloten),overflow,14,,1,18,zelfstandig,,occupancy,0.5,3",
    ),
    # the pool takes the ages at entry of its first member only
    "age bands of the pooled form": replace_in(
        "age.csv",
        "jeugdzorgplus,12,16,0.45\njeugdzorgplus,16,18,0.55",
        "jeugdzorgplus,16,17,0.5\njeugdzorgplus,17,18,0.5",
    ),
}


@pytest.mark.parametrize("case", list(RULES_THAT_DIFFER))
def test_members_of_a_pool_that_differ_in_its_rules_are_refused(tmp_path: Path, case: str) -> None:
    folder = two_models(tmp_path, "zuid", RULES_THAT_DIFFER[case])
    problems = problems_of(folder)
    assert any("zuid" in p.file or "zuid" in p.message for p in problems)


def test_a_region_in_no_pool_may_give_home_another_priority(tmp_path: Path) -> None:
    folder = two_models(
        tmp_path, "oost", replace_in("model.yaml", "home_priority: 1", "home_priority: 2")
    )
    load_national(folder)


@pytest.mark.parametrize(
    ("file", "old", "new", "unit"),
    [
        ("travel.csv", "noord,A,20", "noord,A,-5", "minuten"),
        ("pool_beds.csv", "jzp,A,Alfa,8,5,650", "jzp,A,Alfa,8,5,-650", "euro"),
    ],
)
def test_units_in_the_national_messages_are_dutch(
    tmp_path: Path, file: str, old: str, new: str, unit: str
) -> None:
    folder = example_pool(tmp_path / "land")
    replace_in(file, old, new)(folder)
    (problem,) = problems_of(folder)
    assert unit in problem.fix, problem.fix
