"""The command line, run as a user runs it: the installed entry point in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import BASIS, EXAMPLE_MODEL

CLI = [str(Path(sys.executable).with_name("capaciteit"))]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_validate_example() -> None:
    done = run("validate", str(EXAMPLE_MODEL))
    assert done.returncode == 0, done.stderr
    assert "is geldig" in done.stdout and "Synthetische gegevens" in done.stdout
    done = run("validate", str(BASIS))
    assert done.returncode == 0 and "Scenario" in done.stdout


def test_broken_model_lists_every_problem_without_traceback(tmp_path: Path) -> None:
    model = tmp_path / "kapot"
    shutil.copytree(EXAMPLE_MODEL, model)
    (model / "beds.csv").write_text(
        "provider,care_form,beds,occupied\nP01,pleegzorg,-3,0\nP77,crisis,4,2\n", encoding="utf-8"
    )
    routing = (model / "routing.csv").read_text(encoding="utf-8")
    (model / "routing.csv").write_text(routing.replace("crisis,thuis,0.53", "crisis,thuis,0.50"))
    done = run("validate", str(model))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    for text in ("beds.csv", "P77", "tot 0,97", "-3", "geen rij in de 0-meting"):
        assert text in done.stderr, text


def test_simulate_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("simulate", str(BASIS), "--out", str(out), "--replications", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    for name in (
        "summary.json",
        "kpis.csv",
        "kpis_per_replication.csv",
        "stays.csv",
        "occupancy_daily.csv",
        "queues_daily.csv",
        "occupancy.png",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 2
    assert set(summary["kpis"]) == {
        "pleegzorg",
        "gezinshuis",
        "residentieel",
        "jeugdzorgplus",
        "crisis",
    }
    assert str(out) in done.stdout


def test_user_errors_exit_2_with_a_message(tmp_path: Path) -> None:
    done = run("simulate", str(tmp_path / "geen.yaml"), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "bestaat niet" in done.stderr
    done = run("simulate", str(BASIS), "--out", str(tmp_path / "o"), "--executor", "threads")
    assert done.returncode == 2 and "onbekende uitvoerder" in done.stderr
    assert "Traceback" not in done.stderr
    done = run("--version")
    assert done.returncode == 0 and "capaciteit" in done.stdout


def test_an_unwritable_out_fails_before_simulating(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    done = run("simulate", str(BASIS), "--out", str(blocker / "sub"), "-q")
    assert done.returncode == 2
    assert "kan de resultaten niet in" in done.stderr
    assert "Traceback" not in done.stderr


def test_beds_writes_the_comparison_with_the_0_meting(tmp_path: Path) -> None:
    out = tmp_path / "beds"
    done = run("beds", str(BASIS), "--out", str(out), "--replications", "4", "-q")
    assert done.returncode == 0, done.stderr
    for name in (
        "beds.csv",
        "beds.json",
        "service_levels.csv",
        "coupling.csv",
        "beds.png",
        "coupling.png",
        "beds_per_provider.csv",
    ):
        assert (out / name).is_file(), name
    import pandas as pd

    beds = pd.read_csv(out / "beds.csv")
    assert len(beds) == 5 * 8
    assert (beds["surplus_beds"] == beds["current_beds"] - beds["minimal_beds"]).all()
    assert (beds["surplus_vs_0_meting_beds"] == beds["baseline_beds"] - beds["minimal_beds"]).all()
    summary = json.loads((out / "beds.json").read_text(encoding="utf-8"))
    assert summary["solver"]["status"] == "optimal"
    assert any("Crisisopvang" in text for text in summary["unreachable"])
    per_provider = pd.read_csv(out / "beds_per_provider.csv")
    totals = per_provider.groupby(["care_form", "year"])["minimal_beds"].sum()
    assert totals.to_dict() == beds.set_index(["care_form", "year"])["minimal_beds"].to_dict()
