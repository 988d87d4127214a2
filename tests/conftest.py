"""Shared fixtures: small models written to disk and read back through the real loader."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from capaciteit.io.model_writer import write_model_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MODEL = ROOT / "models" / "voorbeeldregio"
BASIS = ROOT / "simulations" / "voorbeeldregio-basis.yaml"
TRANSFORMATIE = ROOT / "simulations" / "voorbeeldregio-transformatie.yaml"
CHROMIUM = Path("/usr/bin/chromium")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly, at the end of the run, that the browser tests did not run, and why."""
    if CHROMIUM.exists():
        return
    terminalreporter.section("BROWSER TESTS DID NOT RUN", sep="!", red=True, bold=True)
    terminalreporter.line(
        f"{CHROMIUM} is missing, so the web pages were not tested in a browser "
        "(tests/test_web.py, tests/test_web_review.py). Install Debian's Chromium:",
        red=True,
    )
    terminalreporter.line("    sudo apt-get install chromium chromium-driver", bold=True)
    terminalreporter.line(
        "CI (.ci/run) installs it and sets CAPACITEIT_REQUIRE_BROWSER=1, so there the "
        "missing browser fails the run instead.",
    )


def one_form_tables(
    *,
    policy: str = "queue",
    beds: int = 5,
    arrivals_per_year: float = 365.0,
    mean_days: float = 4.0,
    max_wait_days: float | None = None,
    max_queue_length: int | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Tables of a one-form, one-provider model."""
    form: dict[str, Any] = {"care_form": "a", "name": "A", "waiting_policy": policy}
    if max_wait_days is not None:
        form["max_wait_days"] = max_wait_days
    if max_queue_length is not None:
        form["max_queue_length"] = max_queue_length
    return {
        "care_forms": [form],
        "providers": [{"provider": "P1", "name": "Een"}],
        "beds": [{"provider": "P1", "care_form": "a", "beds": beds}],
        "instroom": [{"care_form": "a", "year": 2023, "arrivals_per_year": arrivals_per_year}],
        "los": [{"care_form": "a", "distribution": "exponential", "mean_days": mean_days}],
        "routing": [{"from_care_form": "a", "to": "thuis", "share": 1.0}],
        "costs": [{"care_form": "a", "provider": "", "cost_per_bed_day_eur": 100.0}],
    }


@pytest.fixture
def dask_cluster() -> Iterator[Any]:
    """A local Dask cluster of 2 worker processes (one thread each) for one test."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    ) as cluster:
        yield cluster


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A writable copy of the example region's model folder."""
    target = tmp_path / "voorbeeldregio"
    shutil.copytree(EXAMPLE_MODEL, target)
    return target


@pytest.fixture
def write_model(tmp_path: Path) -> Callable[..., Path]:
    """Write a model folder under tmp_path from table rows."""

    def _write(tables: dict[str, Any], name: str = "m", **meta: Any) -> Path:
        return write_model_dir(tmp_path / name, tables, **meta)

    return _write
