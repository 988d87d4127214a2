"""The ``capaciteit`` command line.

``capaciteit validate PATH``
    check a region model folder (or a scenario file) and list every problem.
``capaciteit simulate SCENARIO --out DIR``
    run the scenario's replications and write summary.json, tables and a chart.
``capaciteit beds SCENARIO --out DIR``
    minimal beds per care form and year, verified by simulation, against the 0-meting.
``capaciteit afbouw SCENARIO --out DIR``
    afbouw plan per provider and year under the needs and the targets, with a workbook.
``capaciteit match --children FILE --placements FILE --out DIR``
    the best assignment of a waiting list to foster families, or with ``--child ID``
    the top families for one child, with reasons.
``capaciteit generate-pool --children N --families N --out DIR``
    a synthetic waiting list and family pool (for demos, tests and benchmarks).
``capaciteit serve [--host] [--port]``
    the HTTP service; ``capaciteit token create --role ROLE`` makes its bearer tokens.

A user's mistake (an invalid model, a missing file, an unreachable Dask scheduler) ends
with a list of problems and exit code 2, never with a traceback.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from capaciteit import __version__
from capaciteit._pandas import as_float, as_str
from capaciteit.errors import CapaciteitError, InvalidInputError

if TYPE_CHECKING:
    from capaciteit.matching import MatchWeights

app = typer.Typer(
    name="capaciteit",
    help="Capacity planning for jeugdhulp met verblijf: validate models, simulate scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

EXIT_USER_ERROR = 2

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario .yaml file.")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for the results.")]
ExecutorOpt = Annotated[
    str | None, typer.Option(help="serial, processes (default) or dask://HOST:PORT.")
]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Local worker processes.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")]
SolverOpt = Annotated[
    Literal["ortools", "pulp"], typer.Option(help="ortools (CP-SAT, default) or pulp (CBC).")
]


def _fail(exc: CapaciteitError) -> typer.Exit:
    if isinstance(exc, InvalidInputError):
        err_console.print(f"[bold red]{exc.what} is invalid[/] ({len(exc.problems)} problem(s)):")
        table = Table(show_lines=False, header_style="bold")
        for col in ("file", "row", "id", "problem", "fix"):
            table.add_column(col, overflow="fold")
        for p in exc.problems:
            where = p.column if p.column else ""
            table.add_row(
                p.file,
                "" if p.row is None else str(p.row),
                p.id or where,
                p.message,
                p.fix,
            )
        err_console.print(table)
    else:
        err_console.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(EXIT_USER_ERROR)


def _prepare_out(out: Path) -> None:
    """Create the results folder before any work, so a bad --out fails at once."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".capaciteit-write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise CapaciteitError(
            f"cannot write results to '{out}' ({exc.strerror or exc}). Choose another --out folder."
        ) from None


@contextmanager
def _status(name: str, what: str, quiet: bool) -> Iterator[Callable[[str], None]]:
    """Show one line of progress (step and elapsed time); yield the function to update it."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
    ) as progress:
        task = progress.add_task(f"{name}: {what}", total=None)
        yield lambda text: progress.update(task, description=f"{name}: {text}")


def _version(value: bool) -> None:
    if value:
        console.print(f"capaciteit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Capacity planning for jeugdhulp met verblijf."""


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A region model folder or a scenario .yaml file.")],
) -> None:
    """Check a region model (or a scenario and its model); list every problem."""
    from capaciteit.io.model_files import load_model
    from capaciteit.io.scenario_files import load_scenario

    try:
        if path.is_file():
            scenario = load_scenario(path)
            model = scenario.model
            console.print(
                f"[green]Scenario '{scenario.name}' is valid[/]: {scenario.start_year}-"
                f"{scenario.end_year}, {scenario.replications} replications, seed {scenario.seed}."
            )
        else:
            model = load_model(path)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    table = Table(title=f"{model.meta.name}: 0-meting {model.meta.baseline_year}")
    for col in ("care form", "policy", "providers", "beds", "instroom/year"):
        table.add_column(col, justify="right" if col not in ("care form", "policy") else "left")
    beds = model.beds["beds"]
    base_year = model.meta.baseline_year
    inflow = model.instroom["arrivals_per_year"].reset_index()
    for fid in model.care_form_ids:
        at_form = beds.xs(fid, level="care_form")
        rows = inflow[(inflow["care_form"] == fid) & (inflow["year"] <= base_year)]
        arrivals = (
            float(rows.sort_values("year")["arrivals_per_year"].iloc[-1]) if len(rows) else 0.0
        )
        table.add_row(
            f"{fid} ({as_str(model.care_forms.at[fid, 'name'])})",
            str(model.care_forms.at[fid, "waiting_policy"]),
            str(int((at_form > 0).sum())),
            str(int(at_form.sum())),
            f"{arrivals:g}",
        )
    console.print(table)
    console.print(
        f"[green]Model '{model.meta.name}' is valid[/] ({len(model.provider_ids)} providers, "
        f"{len(model.care_form_ids)} care forms)."
        + (" [yellow]Synthetic data.[/]" if model.meta.synthetic else "")
    )


@app.command()
def simulate(
    scenario_file: ScenarioArg,
    out: OutOpt,
    replications: Annotated[
        int | None, typer.Option(min=1, help="Override the scenario's replications.")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Override the scenario's seed.")] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    fmt: Annotated[
        Literal["csv", "parquet"], typer.Option("--format", help="Table format.")
    ] = "csv",
    quiet: QuietOpt = False,
) -> None:
    """Simulate a scenario and write summary.json, tables and a chart to OUT."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.results.writer import write_results
    from capaciteit.simulation.executors import make_executor
    from capaciteit.simulation.replications import run_replications
    from capaciteit.simulation.spec import compile_spec

    try:
        _prepare_out(out)
        scenario = load_scenario(scenario_file, replications=replications, seed=seed)
        runner = make_executor(executor, workers)
        spec = compile_spec(scenario)
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=quiet,
            transient=False,
        ) as progress:
            task = progress.add_task(
                f"{scenario.name}: replications on {runner.name}", total=scenario.replications
            )
            result = run_replications(
                spec,
                scenario.replications,
                scenario.seed,
                runner,
                progress=lambda done: progress.update(task, completed=done),
            )
        elapsed = time.perf_counter() - started
        files = write_results(scenario, result, out, fmt)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    _print_headlines(result.summary, scenario.end_year)
    console.print(
        f"Simulated {scenario.replications} replications, {len(result.stays):,} stays, "
        f"in {elapsed:.1f} s. Results in [bold]{out}[/]:"
    )
    for path in files.values():
        console.print(f"  {path}")


@app.command()
def beds(
    scenario_file: ScenarioArg,
    out: OutOpt,
    solver: SolverOpt = "ortools",
    replications: Annotated[
        int | None, typer.Option(min=2, help="Replications per verification round.")
    ] = None,
    max_iterations: Annotated[
        int | None, typer.Option(min=1, help="Rounds of optimise + verify.")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(min=0.1, help="Solver time limit per round (s).")
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Minimal beds per care form and year, verified by simulation; against the 0-meting."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.optimisation.minimal_beds import minimal_beds
    from capaciteit.results.beds_report import write_beds
    from capaciteit.simulation.executors import make_executor

    try:
        _prepare_out(out)
        scenario = load_scenario(scenario_file)
        runner = make_executor(executor, workers)
        started = time.perf_counter()
        with _status(scenario.name, "minimal beds", quiet) as say:
            result = minimal_beds(
                scenario,
                executor=runner,
                solver=solver,
                replications=replications,
                max_iterations=max_iterations,
                time_limit_s=time_limit,
                progress=say,
            )
        elapsed = time.perf_counter() - started
        files = write_beds(scenario, result, out)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    _print_beds(result.table, scenario.end_year)
    colour = "green" if result.status == "verified" else "yellow"
    console.print(f"[{colour}]{result.status}[/]: {result.message}")
    console.print(f"Done in {elapsed:.1f} s. Results in [bold]{out}[/]:")
    for path in files.values():
        console.print(f"  {path}")
    if result.status in ("infeasible", "timeout"):
        raise typer.Exit(1)


@app.command()
def afbouw(
    scenario_file: ScenarioArg,
    out: OutOpt,
    solver: SolverOpt = "ortools",
    lp: Annotated[
        Path | None, typer.Option(help="Also write the model as an .lp file for review.")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=2, help="Replications for the verification.")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(min=0.1, help="Solver time limit (s).")
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Afbouw plan per provider and year under the needs and the 2025/2030 targets."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.optimisation.afbouw_plan import afbouw_plan
    from capaciteit.results.afbouw_report import write_afbouw
    from capaciteit.simulation.executors import make_executor

    try:
        _prepare_out(out)
        scenario = load_scenario(scenario_file)
        runner = make_executor(executor, workers)
        started = time.perf_counter()
        with _status(scenario.name, "afbouw", quiet) as say:
            result = afbouw_plan(
                scenario,
                solver=solver,
                executor=runner,
                replications=replications,
                time_limit_s=time_limit,
                lp_file=lp,
                progress=say,
            )
        elapsed = time.perf_counter() - started
        files = write_afbouw(scenario, result, out)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    if len(result.targets):
        table = Table(title="Targets (from the plan's numbers)")
        for col in ("target", "year", "bound", "planned", "met"):
            table.add_column(col, justify="left" if col == "target" else "right")
        for row in result.targets.to_dict(orient="records"):
            table.add_row(
                str(row["target"]),
                str(row["year"]),
                str(row["bound_beds"]),
                str(row["planned_beds"]),
                "[green]yes[/]" if row["met"] else "[red]no[/]",
            )
        console.print(table)
    colour = "green" if result.status == "targets_met" else "yellow"
    console.print(f"[{colour}]{result.status}[/]: {result.message}")
    console.print(f"Done in {elapsed:.1f} s. Results in [bold]{out}[/]:")
    for path in files.values():
        console.print(f"  {path}")
    if lp is not None:
        console.print(f"  {lp}")
    if result.status in ("infeasible", "timeout"):
        raise typer.Exit(1)


@app.command()
def match(
    children: Annotated[Path, typer.Option(help="Children table (.csv or .xlsx).")],
    placements: Annotated[Path, typer.Option(help="Families table (.csv or .xlsx).")],
    out: OutOpt,
    child: Annotated[str | None, typer.Option(help="Only suggestions for this child_id.")] = None,
    top: Annotated[int, typer.Option(min=1, help="Suggestions per child.")] = 5,
    pc4: Annotated[Path | None, typer.Option(help="PC4 centroid table (pc4, lat, lon).")] = None,
    weights: Annotated[
        Path | None, typer.Option(help="YAML/JSON file with criterion weights.")
    ] = None,
    time_limit: Annotated[float, typer.Option(min=0.1, help="Solver time limit (s).")] = 30.0,
    quiet: QuietOpt = False,
) -> None:
    """Placement suggestions for one child, or the best assignment of the waiting list."""
    from capaciteit.matching import load_pc4, load_pool, match_batch, suggest
    from capaciteit.results.matching import write_batch, write_suggestions

    try:
        _prepare_out(out)
        chosen = _weights(weights)
        centroids = load_pc4(pc4) if pc4 is not None else None
        kids, pool = load_pool(children, placements, centroids)
        if child is not None:
            result = suggest(kids, pool, child, top, chosen)
            files = write_suggestions(result, out)
        else:
            with _status("matching", f"{len(kids.frame)} children, {len(pool)} families", quiet):
                batch = match_batch(kids, pool, chosen, time_limit)
            files = write_batch(batch, chosen, out)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    if child is not None:
        table = Table(title=f"Suggesties voor {child}")
        for col in ("rank", "placement_id", "score", "reasons"):
            table.add_column(col, overflow="fold")
        for row in result.table.to_dict(orient="records"):
            table.add_row(
                str(row["rank"]), row["placement_id"], f"{row['score']:.1f}", row["reasons"]
            )
        console.print(table)
        console.print(result.summary())
    else:
        proven = "proven optimal" if batch.status == "optimal" else f"gap {batch.gap:.2%}"
        console.print(
            f"{batch.placed} of {batch.children} children placed ({batch.status}, {proven}, "
            f"{batch.time_s:.1f} s); {len(batch.unplaced)} unplaced, each with the reason."
        )
    console.print(f"Results in [bold]{out}[/]:")
    for path in files.values():
        console.print(f"  {path}")
    if child is None and batch.status not in ("optimal", "feasible"):
        raise typer.Exit(1)


def _weights(path: Path | None) -> MatchWeights:
    from pydantic import ValidationError

    from capaciteit.errors import Problem
    from capaciteit.io.yaml_files import read_yaml
    from capaciteit.matching import MatchWeights

    if path is None:
        return MatchWeights()
    problems: list[Problem] = []
    raw = read_yaml(path, problems)
    if raw is None:
        raise InvalidInputError(f"weights file {path.name}", problems)
    try:
        return MatchWeights.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(
                path.name,
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}.",
                "Use the criteria of MatchWeights with numbers >= 0 (see README).",
                column=".".join(str(p) for p in e["loc"]),
            )
            for e in exc.errors()
        ]
        raise InvalidInputError(f"weights file {path.name}", problems) from None


@app.command("generate-pool")
def generate_pool(
    out: OutOpt,
    children: Annotated[int, typer.Option(min=1, help="Children on the waiting list.")] = 100,
    families: Annotated[int, typer.Option(min=1, help="Families and gezinshuizen.")] = 500,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Write a synthetic waiting list and family pool (children.csv, placements.csv)."""
    from capaciteit.matching import synthetic_pool

    try:
        _prepare_out(out)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    kids, places = synthetic_pool(children, families, seed)
    kids.to_csv(out / "children.csv", index=False)
    places.to_csv(out / "placements.csv", index=False)
    console.print(
        f"{len(kids)} children and {len(places)} families (synthetic, seed {seed}) in "
        f"[bold]{out}[/]: children.csv, placements.csv"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Start the HTTP service (FastAPI + uvicorn) with its job workers."""
    import uvicorn

    from capaciteit.service.config import service_settings

    try:
        settings = service_settings()
    except CapaciteitError as exc:
        raise _fail(exc) from None
    console.print(
        f"capaciteit service on http://{host}:{port}/v1 (OpenAPI: /v1/docs), database "
        f"{settings.database_url.split('@')[-1]}, {settings.job_workers} job worker(s)"
    )
    uvicorn.run(
        "capaciteit.service.app:create_app", factory=True, host=host, port=port, log_level="info"
    )


token_app = typer.Typer(help="Bearer tokens of the service.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="planner, ontwikkeltafel, matcher or admin.")],
    name: Annotated[str, typer.Option(help="Who or what uses the token.")] = "cli",
) -> None:
    """Create a token (printed once; stored hashed)."""
    from capaciteit.service.config import service_settings
    from capaciteit.service.db import make_engine, migrate, session_factory
    from capaciteit.service.security import ROLES, create_token

    if role not in ROLES:
        err_console.print(f"[bold red]error:[/] role must be one of: {', '.join(ROLES)}.")
        raise typer.Exit(EXIT_USER_ERROR)
    try:
        settings = service_settings()
    except CapaciteitError as exc:
        raise _fail(exc) from None
    migrate(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    with session_factory(engine)() as session:
        token = create_token(session, role, name)
    engine.dispose()
    print(token)


def _print_beds(table: object, year: int) -> None:
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    last = table.xs(year, level="year")
    out = Table(title=f"{year}: beds against the minimum")
    for col in ("care form", "0-meting", "scenario", "minimal", "surplus", "cost diff EUR/yr"):
        out.add_column(col, justify="left" if col == "care form" else "right")
    for fid, row in last.iterrows():
        minimal = row["minimal_beds"]
        out.add_row(
            str(fid),
            str(row["baseline_beds"]),
            str(row["current_beds"]),
            "-" if pd.isna(minimal) else str(int(minimal)),
            "-" if pd.isna(row["surplus_beds"]) else f"{int(row['surplus_beds']):+d}",
            "-" if pd.isna(row["cost_difference_eur"]) else f"{row['cost_difference_eur']:+,.0f}",
        )
    console.print(out)


def _print_headlines(summary: object, year: int) -> None:
    import pandas as pd

    assert isinstance(summary, pd.DataFrame)
    last = summary[summary["year"] == year].set_index(["care_form", "kpi"])
    table = Table(title=f"{year}: mean with 95% CI")
    for col in (
        "care form",
        "beds",
        "occupied",
        "mean wait (days)",
        "overflow",
        "blocked bed-days",
    ):
        table.add_column(col, justify="right" if col != "care form" else "left")

    def cell(fid: str, kpi: str, digits: int = 1) -> str:
        mean = as_float(last.at[(fid, kpi), "mean"])
        high, low = (
            as_float(last.at[(fid, kpi), "ci_high"]),
            as_float(last.at[(fid, kpi), "ci_low"]),
        )
        half = (high - low) / 2
        if math.isnan(mean):
            return "-"
        if math.isnan(half) or half < 0.5 * 10**-digits:
            return f"{mean:.{digits}f}"
        return f"{mean:.{digits}f} ± {half:.{digits}f}"

    for fid in dict.fromkeys(last.index.get_level_values(0)):
        table.add_row(
            str(fid),
            cell(fid, "capacity_beds", 0),
            cell(fid, "occupied_beds"),
            cell(fid, "mean_wait_days"),
            cell(fid, "overflow_count"),
            cell(fid, "blocked_bed_days", 0),
        )
    console.print(table)


def main() -> None:
    """Entry point of the ``capaciteit`` command."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
