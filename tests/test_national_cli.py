"""The national commands as a user runs them: the installed entry point in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from tests.national_models import example_pool
from tests.test_cli import run


def scenario(folder: Path) -> Path:
    model = example_pool(folder / "model")
    path = folder / "land.yaml"
    path.write_text(
        f"schema_version: 1\nname: Drie regio's\nnational: {model}\n"
        "horizon: {start_year: 2023, end_year: 2025}\nreplications: 2\nseed: 3\n",
        encoding="utf-8",
    )
    return path


def test_national_simulate_writes_the_report_and_says_where(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("national", "simulate", str(scenario(tmp_path)), "--out", str(out), "-q",
               "--executor", "serial", "--verblijven")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "JeugdzorgPlus (gesloten): landelijk" in done.stdout
    assert "Kostenverdeling van de pools in 2025" in done.stdout
    assert f"Resultaten in {out}" in " ".join(done.stdout.split())
    for name in ("landelijk.xlsx", "summary.json", "cost_split.csv", "stays/groups.csv"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 2
    assert "Traceback" not in done.stderr


def test_validate_takes_a_national_model_and_names_its_problems(tmp_path: Path) -> None:
    folder = example_pool(tmp_path / "model")
    done = run("validate", str(folder))
    assert done.returncode == 0, done.stderr
    assert "is geldig" in done.stdout and "2 groepen" in done.stdout
    (folder / "pools.csv").write_text(
        "pool,name,care_form,cost_key\nthuis,JZ+,jeugdzorgplus,use\n", encoding="utf-8"
    )
    done = run("validate", str(folder))
    assert done.returncode == 2
    assert "is de naam van een uitstroom" in done.stderr
    assert "Traceback" not in done.stderr
