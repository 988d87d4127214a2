"""The national example (models/nederland/) recounted from its files with pandas.

Recounts only: the tables are read as plain CSV (not through the national model reader)
and every rule of the format is counted again here: 42 regions with slug ids, each in
exactly one JeugdzorgPlus pool, pools with locations whose occupants fit their beds and add
up to the regions' young people, fixed shares that add up to 1, travel times for every
region and location of its pool, national totals near the public figures, and a script
that writes the committed files again byte for byte. The reference region model is read by
the project's own region model reader.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from capaciteit.io.model_files import load_model

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "models" / "nederland"
SCRIPT = ROOT / "scripts" / "make_national_example.py"
VOORBEELDREGIO = ROOT / "models" / "voorbeeldregio"

NL_INHABITANTS = 17_900_000
"""DOMAIN.md: 17.9 million inhabitants (CBS 1 January 2023: 17,811,291)."""
NL_YOUTH = 3_300_000
"""DOMAIN.md: about 3.3 million aged 0-17."""
JZP_BEDS = (575, 625)
"""Agreed range of JeugdzorgPlus beds in 2023 (Jeugdautoriteit: 609 on 1 January 2023)."""
JZP_OCCUPANCY = (0.78, 0.90)
"""Occupancy of JeugdzorgPlus in 2023 (Jeugdautoriteit: 83% on 1 January, 85% at year end)."""
REFERENCE_INHABITANTS = 300_000
"""The Voorbeeldregio's inhabitants (its model.yaml), the base of ``scale``."""


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(FOLDER / name, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    return _csv("regions.csv")


@pytest.fixture(scope="module")
def pools() -> pd.DataFrame:
    return _csv("pools.csv")


@pytest.fixture(scope="module")
def pool_regions() -> pd.DataFrame:
    return _csv("pool_regions.csv")


@pytest.fixture(scope="module")
def pool_beds() -> pd.DataFrame:
    return _csv("pool_beds.csv")


@pytest.fixture(scope="module")
def travel() -> pd.DataFrame:
    return _csv("travel.csv")


def test_national_yaml_says_what_it_is() -> None:
    meta = yaml.safe_load((FOLDER / "national.yaml").read_text(encoding="utf-8"))
    assert set(meta) == {"schema_version", "name", "baseline_year", "synthetic", "description"}
    assert meta["schema_version"] == 1
    assert meta["name"] == "Nederland – 42 jeugdregio's"
    assert meta["baseline_year"] == 2023
    assert meta["synthetic"] is True
    for word in ("Public", "Synthetic", "CBS", "Jeugdautoriteit"):
        assert word in meta["description"]


def test_tables_have_the_agreed_columns(
    regions: pd.DataFrame,
    pools: pd.DataFrame,
    pool_regions: pd.DataFrame,
    pool_beds: pd.DataFrame,
    travel: pd.DataFrame,
) -> None:
    assert list(regions.columns) == [
        "region",
        "name",
        "model",
        "scale",
        "inhabitants",
        "youth_0_17",
        "landsdeel",
        "source",
    ]
    assert list(pools.columns) == ["pool", "name", "care_form", "cost_key"]
    assert list(pool_regions.columns) == ["pool", "region", "fixed_share", "occupied"]
    assert list(pool_beds.columns) == [
        "pool",
        "provider",
        "name",
        "beds",
        "occupied",
        "cost_per_bed_day_eur",
        "max_beds",
        "min_beds_open",
    ]
    assert list(travel.columns) == ["region", "provider", "minutes"]


def test_42_regions_with_unique_slug_ids(regions: pd.DataFrame) -> None:
    assert len(regions) == 42
    assert regions["region"].is_unique
    assert regions["region"].str.fullmatch(r"[a-z0-9-]+").all()
    assert regions["name"].is_unique
    assert (regions["name"].str.strip() != "").all()
    assert set(regions["landsdeel"]) == {
        "Noord-Nederland",
        "Oost-Nederland",
        "West-Nederland",
        "Zuid-Nederland",
    }
    assert (regions["source"].str.strip() != "").all()


def test_every_region_uses_an_existing_model_folder(regions: pd.DataFrame) -> None:
    for model in set(regions["model"]):
        assert (FOLDER / model / "model.yaml").is_file(), model


def test_inhabitants_and_youth_add_up_to_the_national_figures(regions: pd.DataFrame) -> None:
    assert (regions["inhabitants"] > 0).all()
    assert (regions["youth_0_17"] > 0).all()
    assert (regions["youth_0_17"] < regions["inhabitants"]).all()
    assert abs(regions["inhabitants"].sum() / NL_INHABITANTS - 1) <= 0.03
    assert abs(regions["youth_0_17"].sum() / NL_YOUTH - 1) <= 0.05
    share = regions["youth_0_17"] / regions["inhabitants"]
    assert share.between(0.12, 0.26).all(), share.describe()


def test_scale_is_youth_over_the_reference_regions_youth(regions: pd.DataFrame) -> None:
    national_share = regions["youth_0_17"].sum() / regions["inhabitants"].sum()
    reference_youth = REFERENCE_INHABITANTS * national_share
    expected = regions["youth_0_17"] / reference_youth
    assert (regions["scale"] > 0).all()
    assert ((regions["scale"] - expected).abs() <= 0.00005 + 1e-12).all()
    # So the scaled reference models together are the country's inhabitants over 300,000.
    assert regions["scale"].sum() == pytest.approx(
        regions["inhabitants"].sum() / REFERENCE_INHABITANTS, abs=0.01
    )


def test_pools_are_jeugdzorgplus_with_every_cost_key(pools: pd.DataFrame) -> None:
    assert 10 <= len(pools) <= 12
    assert pools["pool"].is_unique
    assert pools["pool"].str.fullmatch(r"[a-z0-9-]+").all()
    assert set(pools["care_form"]) == {"jeugdzorgplus"}
    assert set(pools["cost_key"]) == {"use", "inhabitants", "fixed"}
    assert (pools["cost_key"] == "use").sum() > len(pools) / 2


def test_every_region_is_in_exactly_one_jeugdzorgplus_pool(
    regions: pd.DataFrame, pools: pd.DataFrame, pool_regions: pd.DataFrame
) -> None:
    assert not pool_regions.duplicated(["pool", "region"]).any()
    assert set(pool_regions["pool"]) == set(pools["pool"])
    members = pool_regions.merge(pools[["pool", "care_form"]], on="pool", how="left")
    jzp = members[members["care_form"] == "jeugdzorgplus"]
    counts = jzp["region"].value_counts()
    assert set(counts.index) == set(regions["region"])
    assert (counts == 1).all(), counts[counts != 1]


def test_every_pool_has_a_location_and_occupants_fit_the_beds(
    pools: pd.DataFrame, pool_beds: pd.DataFrame
) -> None:
    assert set(pool_beds["pool"]) == set(pools["pool"])
    assert pool_beds["provider"].is_unique
    assert pool_beds["provider"].str.fullmatch(r"[a-z0-9-]+").all()
    assert (pool_beds["occupied"] >= 0).all()
    assert (pool_beds["occupied"] <= pool_beds["beds"]).all()
    assert pool_beds["cost_per_bed_day_eur"].between(500, 800).all()
    # small-scale places a provider can keep: half its 0-meting beds, a multiple of 4
    assert (pool_beds["max_beds"] == -(-pool_beds["beds"] // 8) * 4).all()
    assert (pool_beds["min_beds_open"] >= 1).all()
    assert (pool_beds["min_beds_open"] <= pool_beds["max_beds"]).all()


def test_occupants_of_each_pool_add_up(pool_regions: pd.DataFrame, pool_beds: pd.DataFrame) -> None:
    assert (pool_regions["occupied"] >= 0).all()
    assert pd.api.types.is_integer_dtype(pool_regions["occupied"])
    in_beds = pool_beds.groupby("pool")["occupied"].sum()
    of_regions = pool_regions.groupby("pool")["occupied"].sum()
    pd.testing.assert_series_equal(in_beds.sort_index(), of_regions.sort_index())


def test_occupants_are_split_by_youth(regions: pd.DataFrame, pool_regions: pd.DataFrame) -> None:
    youth = regions.set_index("region")["youth_0_17"]
    for _, members in pool_regions.groupby("pool"):
        weights = youth[members["region"]].to_numpy()
        exact = members["occupied"].sum() * weights / weights.sum()
        # Largest remainder: each region gets its exact share rounded down or up.
        assert (members["occupied"].to_numpy() >= [math.floor(x) for x in exact]).all()
        assert (members["occupied"].to_numpy() <= [math.ceil(x) for x in exact]).all()


def test_fixed_shares_only_and_always_for_fixed_pools(
    pools: pd.DataFrame, pool_regions: pd.DataFrame
) -> None:
    key = pools.set_index("pool")["cost_key"]
    for pool, members in pool_regions.groupby("pool"):
        shares = members["fixed_share"]
        if key[pool] == "fixed":
            assert shares.notna().all(), pool
            assert shares.between(0, 1).all(), pool
            assert shares.sum() == pytest.approx(1.0, abs=1e-9), pool
        else:
            assert shares.isna().all(), pool


def test_travel_covers_every_region_and_location_of_its_pool(
    pool_regions: pd.DataFrame, pool_beds: pd.DataFrame, travel: pd.DataFrame
) -> None:
    pairs = pool_regions.merge(pool_beds[["pool", "provider"]], on="pool")
    expected = set(zip(pairs["region"], pairs["provider"], strict=True))
    given = list(zip(travel["region"], travel["provider"], strict=True))
    assert len(given) == len(set(given)), "a region and provider twice in travel.csv"
    assert set(given) == expected
    assert (travel["minutes"] >= 10).all()
    assert (travel["minutes"] <= 24 * 60).all()


def test_national_jeugdzorgplus_beds_are_in_the_agreed_range(pool_beds: pd.DataFrame) -> None:
    beds, occupied = pool_beds["beds"].sum(), pool_beds["occupied"].sum()
    assert JZP_BEDS[0] <= beds <= JZP_BEDS[1]
    assert JZP_OCCUPANCY[0] <= occupied / beds <= JZP_OCCUPANCY[1]


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_the_script_writes_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    made, committed = _tree(tmp_path), _tree(FOLDER)
    assert sorted(made) == sorted(committed)
    differ = [name for name in made if made[name] != committed[name]]
    assert not differ, f"run scripts/make_national_example.py again: {differ} differ"


def test_reference_model_is_the_voorbeeldregio_without_jeugdzorgplus_beds(  # and its referrals
    regions: pd.DataFrame,
) -> None:
    (model_dir,) = set(regions["model"])
    folder = FOLDER / model_dir
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in VOORBEELDREGIO.iterdir()
    )
    beds = pd.read_csv(folder / "beds.csv")
    assert beds.loc[beds["care_form"] == "jeugdzorgplus", "beds"].sum() == 0
    assert beds.loc[beds["care_form"] == "jeugdzorgplus", "occupied"].sum() == 0
    original = pd.read_csv(VOORBEELDREGIO / "beds.csv")
    others = original[original["care_form"] != "jeugdzorgplus"]
    pd.testing.assert_frame_equal(
        beds[beds["care_form"] != "jeugdzorgplus"].reset_index(drop=True),
        others.reset_index(drop=True),
    )
    for name in ("care_forms.csv", "los.csv", "routing.csv"):
        assert (folder / name).read_bytes() == (VOORBEELDREGIO / name).read_bytes(), name
        assert "jeugdzorgplus" in (folder / name).read_text(encoding="utf-8"), name
    # referrals: the Voorbeeldregio's, but JeugdzorgPlus calibrated to the 0-meting
    instroom = pd.read_csv(folder / "instroom.csv")
    original_instroom = pd.read_csv(VOORBEELDREGIO / "instroom.csv")
    jzp = instroom["care_form"] == "jeugdzorgplus"
    assert instroom.loc[jzp, "arrivals_per_year"].tolist() == [6.5]
    pd.testing.assert_frame_equal(
        instroom[~jzp].reset_index(drop=True),
        original_instroom[original_instroom["care_form"] != "jeugdzorgplus"].reset_index(drop=True),
        check_dtype=False,
    )
    meta = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    assert meta["name"] == "Referentieregio (voor de landelijke som)"


def test_reference_model_validates(regions: pd.DataFrame) -> None:
    (model_dir,) = set(regions["model"])
    model = load_model(FOLDER / model_dir)
    assert "jeugdzorgplus" in model.care_form_ids
    assert int(model.beds["beds"].xs("jeugdzorgplus", level="care_form").sum()) == 0
