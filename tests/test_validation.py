"""Bad input is refused with every problem listed, each naming file, row, id and fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from capaciteit.errors import CapaciteitError, InvalidInputError, Problem
from capaciteit.io.model_files import load_model
from capaciteit.io.scenario_files import load_scenario
from tests.conftest import BASIS, EXAMPLE_MODEL, TRANSFORMATIE


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(InvalidInputError) as info:
        load_model(path)
    return info.value.problems


def find(problems: list[Problem], file: str, text: str) -> Problem:
    hits = [p for p in problems if p.file == file and text in p.message]
    assert hits, f"no problem in {file} mentioning {text!r}; got:\n" + "\n".join(map(str, problems))
    return hits[0]


def test_example_model_is_valid() -> None:
    model = load_model(EXAMPLE_MODEL)
    assert model.meta.synthetic
    assert set(model.care_form_ids) == {
        "pleegzorg",
        "gezinshuis",
        "residentieel",
        "jeugdzorgplus",
        "crisis",
    }
    assert 6 <= len(model.provider_ids) <= 10
    # indexed by ids, never positions
    assert model.beds.loc[("P07", "jeugdzorgplus"), "beds"] == 10
    assert model.cost_per_bed_day("residentieel", "P05") == 196
    assert model.cost_per_bed_day("residentieel", "P04") == 180


def test_example_scenarios_are_valid() -> None:
    basis = load_scenario(BASIS)
    transformatie = load_scenario(TRANSFORMATIE)
    assert basis.years == list(range(2023, 2031))
    cap = transformatie.capacity.groupby(level="care_form").sum()
    assert cap.loc["residentieel", 2025] == pytest.approx(0.7 * cap.loc["residentieel", 2023])
    # foster places and gezinshuizen grow only as fast as families can be recruited
    limits = transformatie.afbouw.recruitment_per_year
    assert limits == {"pleegzorg": 15, "gezinshuis": 8}
    for form, limit in limits.items():
        growth = cap.loc[form].diff().dropna()
        assert (growth <= limit).all() and growth.sum() > 0, (form, growth.tolist())
    assert cap.loc["jeugdzorgplus", 2030] == 0


def test_every_problem_is_listed_at_once(model_copy: Path) -> None:
    """Unknown ids, shares not summing to 1, negative beds, LOS <= 0, a trapped cycle and a
    care form without length of stay are all reported in one go.
    """
    beds = pd.read_csv(model_copy / "beds.csv")
    beds.loc[0, "beds"] = -5  # negative beds (row 2)
    beds.loc[len(beds)] = ["P99", "crisis", 3, 1]  # unknown provider
    beds.to_csv(model_copy / "beds.csv", index=False)
    los = pd.read_csv(model_copy / "los.csv")
    los.loc[los["care_form"] == "residentieel", "mean_days"] = 0  # LOS <= 0
    los = los[los["care_form"] != "gezinshuis"]  # missing LOS for a form
    los.to_csv(model_copy / "los.csv", index=False)
    routing = pd.read_csv(model_copy / "routing.csv")
    routing.loc[routing["from_care_form"] == "crisis", "share"] *= 0.9  # sums to 0.9
    routing.loc[len(routing)] = ["crisis", "nergens", 0.0]  # unknown destination
    # jeugdzorgplus only leads to residentieel and back: give residentieel no exit either
    routing = routing[routing["from_care_form"] != "jeugdzorgplus"]
    routing = routing[routing["from_care_form"] != "residentieel"]
    routing.loc[len(routing)] = ["jeugdzorgplus", "residentieel", 1.0]
    routing.loc[len(routing)] = ["residentieel", "jeugdzorgplus", 1.0]
    routing.to_csv(model_copy / "routing.csv", index=False)

    problems = problems_of(model_copy)

    negative = find(problems, "beds.csv", "valt buiten het toegestane bereik")
    assert negative.row == 2 and negative.id == "P01" and "minstens 0" in negative.fix
    unknown = find(problems, "beds.csv", "aanbieder 'P99' is onbekend")
    assert unknown.row == len(beds) + 1 and "P01" in unknown.fix
    zero = find(problems, "los.csv", "mean_days = 0")
    assert zero.id == "residentieel" and "groter dan 0" in zero.fix
    missing = find(problems, "los.csv", "'gezinshuis' heeft geen verblijfsduur")
    assert "Voeg een rij toe voor 'gezinshuis'" in missing.fix
    sums = find(problems, "routing.csv", "de aandelen vanuit 'crisis' tellen op tot 0,9,")
    assert sums.id == "crisis" and "met +0,1." in sums.fix
    find(problems, "routing.csv", "zorgvorm of bestemming 'nergens' is onbekend")
    trapped = {p.id for p in problems if "niemand verlaat ooit de zorg" in p.message}
    assert trapped == {"jeugdzorgplus", "residentieel"}
    for p in problems:
        assert p.fix and p.file, p


def test_error_text_names_location_and_fix(model_copy: Path) -> None:
    forms = pd.read_csv(model_copy / "care_forms.csv")
    forms.loc[forms["care_form"] == "crisis", "waiting_policy"] = "wachten"
    forms.to_csv(model_copy / "care_forms.csv", index=False)
    with pytest.raises(CapaciteitError) as info:
        load_model(model_copy)
    text = str(info.value)
    assert "care_forms.csv, rij 6, kolom 'waiting_policy', id 'crisis'" in text
    assert "Oplossing: Gebruik een van: queue, block, overflow" in text


@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        (
            "model.yaml",
            lambda t: t.replace("baseline_year: 2023", "baseline_year: twee"),
            "baseline_year",
        ),
        ("model.yaml", lambda t: t + "\nextra_key: 1\n", "extra_key"),
        (
            "instroom.csv",
            lambda t: t.replace("crisis,2023,157", "crisis,2023,veel"),
            "'veel' is geen getal",
        ),
        (
            "instroom.csv",
            lambda t: t.replace("crisis,2023,157", "crisis,2024,157"),
            "na het jaar van de 0-meting",
        ),
        (
            "care_forms.csv",
            lambda t: t.replace("overflow,1,,0", "overflow,,,0"),
            "heeft max_wait_days nodig",
        ),
        (
            "beds.csv",
            lambda t: t.replace("P07,jeugdzorgplus,10,8", "P07,jeugdzorgplus,10,12"),
            "meer dan de 10 bedden",
        ),
        ("seasonality.csv", lambda t: t.replace("crisis,7,0.85", "crisis,7,1.85"), "gemiddeld"),
        (
            "age.csv",
            lambda t: t.replace("crisis,12,18,0.60", "crisis,12,18,0.50"),
            "de leeftijdsaandelen voor 'crisis' tellen op tot 0,9",
        ),
        ("costs.csv", lambda t: t.replace("crisis,,250\n", ""), "geen tarief per beddag"),
        ("routing.csv", lambda t: t.replace("crisis,thuis", "crisis,huis"), "'huis'"),
        (
            "los.csv",
            lambda t: t.replace("gezinshuis,gamma,1280,0.8", "gezinshuis,gamma,1280,"),
            "heeft cv nodig",
        ),
        (
            "care_forms.csv",
            lambda t: t.replace("pleegzorg,Pleegzorg", "pleeg zorg,Pleegzorg"),
            "bevat spaties",
        ),
    ],
)
def test_single_mistakes(model_copy: Path, file: str, edit, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = model_copy / file
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_model(model_copy)
    assert any(
        expected in p.message or expected in (p.column or "") for p in info.value.problems
    ), str(info.value)


def test_missing_table_and_folder(model_copy: Path, tmp_path: Path) -> None:
    (model_copy / "routing.csv").unlink()
    problems = problems_of(model_copy)
    assert find(problems, "routing.csv", "ontbreekt").fix.startswith("Voeg routing.csv")
    problems = problems_of(tmp_path / "nope")
    assert "is geen map" in problems[0].message


def test_xlsx_tables_are_read_like_csv(model_copy: Path) -> None:
    for name in ("beds", "routing", "los"):
        frame = pd.read_csv(model_copy / f"{name}.csv", dtype=str, keep_default_na=False)
        frame.to_excel(model_copy / f"{name}.xlsx", index=False)
        (model_copy / f"{name}.csv").unlink()
    from_xlsx = load_model(model_copy)
    from_csv = load_model(EXAMPLE_MODEL)
    pd.testing.assert_frame_equal(from_xlsx.beds, from_csv.beds)
    pd.testing.assert_series_equal(from_xlsx.routing["share"], from_csv.routing["share"])
    pd.testing.assert_frame_equal(from_xlsx.los, from_csv.los)


def test_xlsx_errors_name_excel_rows(model_copy: Path) -> None:
    frame = pd.read_csv(model_copy / "beds.csv", dtype=str)
    frame.loc[3, "beds"] = "veel"
    frame.to_excel(model_copy / "beds.xlsx", index=False)
    (model_copy / "beds.csv").unlink()
    problem = find(problems_of(model_copy), "beds.xlsx", "'veel' is geen getal")
    assert problem.row == 5


def test_dutch_excel_csv_with_semicolons_and_decimal_commas(model_copy: Path) -> None:
    frame = pd.read_csv(model_copy / "routing.csv")
    text = frame.to_csv(index=False, sep=";").replace("0.", "0,")
    (model_copy / "routing.csv").write_text(text, encoding="utf-8")
    model = load_model(model_copy)
    assert model.routing.loc[("crisis", "thuis"), "share"] == pytest.approx(0.53)


def write_scenario_text(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"schema_version: 1\nname: t\nmodel: {EXAMPLE_MODEL}\n"
        "horizon: {start_year: 2023, end_year: 2026}\n" + body,
        encoding="utf-8",
    )
    return path


def test_scenario_problems_are_listed(tmp_path: Path) -> None:
    path = write_scenario_text(
        tmp_path,
        """levers:
  instroom_change_pct: {onbekend: {2024: 5}, crisis: {2031: 5}}
  substitution:
    - {year: 2024, from: residentieel, to: pleegzorg, share: 0.7}
    - {year: 2025, from: residentieel, to: gezinshuis, share: 0.5}
  bed_changes:
    - {year: 2024, provider: P99, care_form: crisis, change_beds: 1}
    - {year: 2025, provider: P07, care_form: jeugdzorgplus, change_beds: -11}
""",
    )
    with pytest.raises(InvalidInputError) as info:
        load_scenario(path)
    text = "\n".join(str(p) for p in info.value.problems)
    assert "zorgvorm 'onbekend' staat niet in het model" in text
    assert "jaar 2031 valt buiten de horizon 2023-2026" in text
    assert "tellen in 2025 op tot 1,2" in text
    assert "aanbieder 'P99' staat niet in het model" in text
    assert "'P07' zou in 2025 -1 bedden voor 'jeugdzorgplus' hebben" in text


def test_scenario_schema_errors(tmp_path: Path) -> None:
    path = write_scenario_text(tmp_path, "replications: 0\nunknown: 1\n")
    with pytest.raises(InvalidInputError) as info:
        load_scenario(path)
    columns = {p.column for p in info.value.problems}
    assert {"replications", "unknown"} <= columns
    text = str(info.value)
    assert text.startswith("Het scenario ") and "is ongeldig (2 problemen):" in text
    by_column = {p.column: p for p in info.value.problems}
    assert by_column["replications"].message == "'replications' moet minstens 1 zijn."
    assert by_column["replications"].fix == "Geef 'replications' een waarde van minstens 1."
    assert by_column["unknown"].message == "'unknown' is geen bekende sleutel."
    assert by_column["unknown"].fix.startswith("Verwijder 'unknown'")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="is geen geldige YAML: een lijst met"):
        load_scenario(bad)
    with pytest.raises(InvalidInputError, match="bestaat niet"):
        load_scenario(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("body", "column", "message"),
    [
        (
            "initial_state: vol\n",
            "initial_state",
            "'initial_state' moet een van 'occupied' of 'empty' zijn.",
        ),
        ("seed: veel\n", "seed", "'seed' moet een geheel getal zijn."),
        ("warm_up_days: lang\n", "warm_up_days", "'warm_up_days' moet een getal zijn."),
        ("warm_up_days: 100000\n", "warm_up_days", "'warm_up_days' mag hoogstens 18.250 zijn."),
        (
            "optimisation: {time_limit_s: 0}\n",
            "optimisation.time_limit_s",
            "'optimisation.time_limit_s' moet groter dan 0 zijn.",
        ),
        (
            "service_levels: {crisis: {placed_share_min: 1.5}}\n",
            "service_levels.crisis.placed_share_min",
            "'service_levels.crisis.placed_share_min' moet kleiner dan 1 zijn.",
        ),
        (
            "afbouw: {targets: [{care_forms: [], year: 2025, max_share_of_0_meting: 1}]}\n",
            "afbouw.targets.0.care_forms",
            "'afbouw.targets.0.care_forms' moet minstens 1 waarde bevatten.",
        ),
        (
            "afbouw: {targets: [{care_forms: [crisis], year: 2025}]}\n",
            "afbouw.targets.0",
            "'afbouw.targets.0': geef precies één van max_share_of_0_meting en "
            "min_share_of_0_meting.",
        ),
        ("levers: 5\n", "levers", "'levers' moet bestaan uit sleutels met waarden."),
    ],
)
def test_scenario_schema_errors_are_dutch(
    tmp_path: Path, body: str, column: str, message: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        load_scenario(write_scenario_text(tmp_path, body))
    (problem,) = info.value.problems
    assert (problem.column, problem.message) == (column, message)
    assert problem.fix


def test_horizon_in_the_wrong_order_is_refused_in_dutch(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"schema_version: 2\nname: ''\nmodel: {EXAMPLE_MODEL}\n"
        "horizon: {start_year: 2026, end_year: 2023}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as info:
        load_scenario(path)
    messages = {p.column: p.message for p in info.value.problems}
    assert messages == {
        "schema_version": "'schema_version' moet 1 zijn.",
        "name": "'name' is leeg.",
        "horizon": "'horizon': end_year mag niet vóór start_year liggen.",
    }


def test_scenario_with_missing_model(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "schema_version: 1\nname: t\nmodel: ../geen-model\n"
        "horizon: {start_year: 2023, end_year: 2024}\n",
        encoding="utf-8",
    )
    expected = r"de modelmap '\.\./geen-model' bestaat niet"
    with pytest.raises(InvalidInputError, match=expected):
        load_scenario(path)


def test_invalid_model_behind_a_scenario_is_reported(model_copy: Path, tmp_path: Path) -> None:
    (model_copy / "los.csv").write_text("care_form,distribution,mean_days,cv\n", encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(
        f"schema_version: 1\nname: t\nmodel: {model_copy}\n"
        "horizon: {start_year: 2023, end_year: 2024}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as info:
        load_scenario(path)
    assert info.value.what.startswith("Het regiomodel ")
    assert len(info.value.problems) == 5


def test_readme_format_tables_are_generated_from_the_loader() -> None:
    from capaciteit.docs import END, START, tables_markdown
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    generated = readme.split(START, 1)[1].split(END, 1)[0]
    assert generated.strip() == tables_markdown().strip(), "run: make docs"


def test_semicolon_csv_with_dot_decimals_keeps_its_numbers(model_copy: Path) -> None:
    frame = pd.read_csv(model_copy / "routing.csv")
    (model_copy / "routing.csv").write_text(frame.to_csv(index=False, sep=";"), encoding="utf-8")
    model = load_model(model_copy)
    assert model.routing.loc[("crisis", "thuis"), "share"] == pytest.approx(0.53)
    (model_copy / "instroom.csv").write_text(
        "care_form;year;arrivals_per_year\npleegzorg;2023;1.041,5\ngezinshuis;2023;6\n"
        "residentieel;2023;154\njeugdzorgplus;2023;5\ncrisis;2023;157\n",
        encoding="utf-8",
    )
    model = load_model(model_copy)
    assert model.instroom.loc[("pleegzorg", 2023), "arrivals_per_year"] == pytest.approx(1041.5)


def test_unreadable_files_give_one_clear_problem(model_copy: Path) -> None:
    text = (model_copy / "care_forms.csv").read_text(encoding="utf-8")
    (model_copy / "care_forms.csv").write_bytes(text.encode("cp1252"))
    problems = problems_of(model_copy)
    assert len(problems) == 1
    assert "CSV UTF-8" in problems[0].fix
    (model_copy / "care_forms.csv").write_text(text, encoding="utf-8")
    (model_copy / "beds.xlsx").write_bytes(b"PK\x03\x04 not a real workbook")
    (model_copy / "beds.csv").unlink()
    problems = problems_of(model_copy)
    assert len(problems) == 1
    assert problems[0].file == "beds.xlsx"
    assert "kan niet als tabel worden gelezen" in problems[0].message


def test_excel_leftovers_and_duplicates(model_copy: Path) -> None:
    # a trailing ';' gives an empty unnamed column: nothing to complain about
    frame = pd.read_csv(model_copy / "los.csv", dtype=str, keep_default_na=False)
    (model_copy / "los.csv").write_text(
        "\n".join(";".join(r) + ";" for r in [frame.columns, *frame.to_numpy().tolist()]),
        encoding="utf-8",
    )
    load_model(model_copy)
    # the same table as CSV and as xlsx: refused, not silently picked
    frame.to_excel(model_copy / "los.xlsx", index=False)
    problem = find(problems_of(model_copy), "los.csv", "zowel los.csv als los.xlsx bestaat")
    assert "Houd een van de twee" in problem.fix
    (model_copy / "los.xlsx").unlink()
    # a duplicate care form (with an age table present) is a listed problem, not a crash
    forms = (model_copy / "care_forms.csv").read_text(encoding="utf-8").splitlines()
    (model_copy / "care_forms.csv").write_text("\n".join([*forms, forms[1]]) + "\n", "utf-8")
    find(problems_of(model_copy), "care_forms.csv", "komt meer dan één keer voor")


def test_scenario_edge_cases(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="is een map"):
        load_scenario(EXAMPLE_MODEL)
    path = write_scenario_text(
        tmp_path,
        """levers:
  substitution:
    - {year: 2024, from: residentieel, to: pleegzorg, share: 0.1}
    - {year: 2024, from: residentieel, to: pleegzorg, share: 0.2}
""",
    )
    with pytest.raises(InvalidInputError, match="staat er twee keer in"):
        load_scenario(path)


def test_bad_settings_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    from capaciteit.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("CAPACITEIT_WORKERS", "abc")
    try:
        with pytest.raises(InvalidInputError, match="CAPACITEIT_WORKERS") as info:
            get_settings()
        (problem,) = info.value.problems
        assert problem.file == "omgevingsvariabelen"
        assert problem.message == "CAPACITEIT_WORKERS moet een geheel getal zijn."
        assert problem.fix.endswith("Of verwijder de variabele.")
    finally:
        get_settings.cache_clear()


def test_service_levels_override_field_by_field(tmp_path: Path) -> None:
    path = write_scenario_text(
        tmp_path,
        "service_levels:\n  pleegzorg: {placed_within_days: 42}\n"
        "  crisis: {stays_over_max_share_max: null}\n",
    )
    levels = load_scenario(path).service_levels
    assert levels.at["pleegzorg", "placed_within_days"] == 42
    assert levels.at["pleegzorg", "placed_share_min"] == 0.8  # default kept
    assert pd.isna(levels.at["crisis", "stays_over_max_share_max"])
    assert levels.at["crisis", "placed_share_min"] == 0.95
    half = write_scenario_text(
        tmp_path, "service_levels:\n  jeugdzorgplus: {placed_within_days: 7}\n"
    )
    with pytest.raises(InvalidInputError, match="maar één van placed_within_days"):
        load_scenario(half)
