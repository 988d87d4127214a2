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
``capaciteit sjabloon realisatie SCENARIO --out FILE.xlsx [--plan plan.csv]``
    the workbook providers fill in every quarter (places, occupied, instroom, waiting).
``capaciteit sjabloon 0-meting --out FILE.xlsx [--model DIR] [--aanbieder P01] [--peildatum D]``
    the workbook a provider fills in for the 0-meting: beds, occupied and waiting per
    location and care form (also ``capaciteit template 0-meting``).
``capaciteit intake FILLED.xlsx ... --out DIR [--model DIR]``
    the filled-in 0-meting templates added up to ``beds.csv`` (and ``locaties.csv``),
    every problem of every file listed.
``capaciteit realisatie SCENARIO --plan plan.csv --actuals K1.xlsx --out DIR``
    the quarters filled in against the agreed plan and the simulated band: fan charts, a
    workbook and a PDF report, every quarter off course named with its reason.
``capaciteit calibrate RECORDS --out DIR [--basis MODEL] [--bedden beds.csv]``
    a region model estimated from stay records, every estimate with its interval, and a
    calibration report.
``capaciteit backtest RECORDS --knip 2023-01-01 --out DIR``
    calibrate on the records before the cut, simulate the quarters after it from the real
    occupants, and compare with what happened (coverage of the bands, MAPE).
``capaciteit verschil PLAN_A.csv PLAN_B.csv --out DIR [--scenario SCENARIO]``
    two afbouw plans cell by cell: places and euros, totals, targets met in each.
``capaciteit voorbeeld-dienst --database F.db --afspraak DIR --herplan DIR --realisatie K1.xlsx``
    a service database with the example's ontwikkeltafel cycle, for ``capaciteit serve``.
``capaciteit serve [--host] [--port]``
    the HTTP service; ``capaciteit token create --role ROLE`` makes its bearer tokens.

A user's mistake (an invalid model, a missing file, an unreachable Dask scheduler) ends
with a list of problems and exit code 2, never with a traceback. Everything the command
prints for people is Dutch, with Dutch number formats; file and column names stay English.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from capaciteit import __version__
from capaciteit._pandas import as_float, as_int, as_str
from capaciteit.core import nl
from capaciteit.errors import CapaciteitError, InvalidInputError

if TYPE_CHECKING:
    from capaciteit.matching import MatchWeights
    from capaciteit.simulation.executors import Executor

app = typer.Typer(
    name="capaciteit",
    help="Capaciteitsplanning voor jeugdhulp met verblijf: modellen controleren, scenario's "
    "simuleren, minimale bedden, afbouwplannen en matching.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Written to a file or a pipe, rich would wrap the tables at 80 columns and cut the names
# of the care forms; a log or CI output has room for the whole table.
console = Console(width=None if Console().is_terminal else 120)
err_console = Console(stderr=True)

EXIT_USER_ERROR = 2

ScenarioArg = Annotated[Path, typer.Argument(help="Scenariobestand (.yaml).")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Map voor de resultaten.")]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        help="serial, processes (standaard), dask-local[:N] (een Dask-cluster op deze "
        "machine) of dask://HOST:PORT."
    ),
]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Aantal lokale werkprocessen.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Geen voortgang tonen.")]
SolverOpt = Annotated[
    Literal["ortools", "pulp"],
    typer.Option(help="ortools (CP-SAT, standaard) of pulp (CBC)."),
]
POLICIES_NL = {
    "queue": "wacht thuis",
    "block": "wacht in huidige plek",
    "overflow": "na max. wachttijd buiten de regio",
}
STATUS_NL = {
    "verified": "bepaald",
    "not_reached": "niet overal bereikt",
    "infeasible": "onhaalbaar",
    "timeout": "tijd op",
    "targets_met": "alle doelen gehaald",
    "conflicts": "niet alle doelen haalbaar",
    "optimal": "optimaal",
    "feasible": "toelaatbaar",
}
MARK = {"met": "[green]✓[/]", "missed": "[red]✗[/]", "undecided": "[yellow]?[/]", "no_data": "–"}


def _fail(exc: CapaciteitError) -> typer.Exit:
    if isinstance(exc, InvalidInputError):
        count = nl.plural(len(exc.problems), "probleem", "problemen")
        err_console.print(f"[bold red]{exc.what} is ongeldig[/] ({count}):")
        table = Table(show_lines=False, header_style="bold")
        for col in ("bestand", "rij", "id", "probleem", "oplossing"):
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
        err_console.print(f"[bold red]fout:[/] {exc}")
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
            f"kan de resultaten niet in '{out}' schrijven ({exc.strerror or type(exc).__name__})."
            " Kies een andere map met --out."
        ) from None


@contextmanager
def _status(name: str, what: str, quiet: bool) -> Iterator[Callable[[float | None, str], None]]:
    """Show one line of progress (step, bar when known, elapsed time); yield its updater.

    The updater is a use case's ``progress(fraction, message)``
    (:data:`capaciteit.pipelines.Progress`).
    """
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
    ) as progress:
        task = progress.add_task(f"{name}: {what}", total=None)

        def update(fraction: float | None, text: str) -> None:
            progress.update(task, description=f"{name}: {text}")
            if fraction is not None:
                progress.update(task, total=1.0, completed=fraction)

        yield update


def _executor(spec: str | None, workers: int | None) -> Executor:
    """Build the executor asked for, else the settings' one (``CAPACITEIT_EXECUTOR``)."""
    from capaciteit.settings import get_settings
    from capaciteit.simulation.executors import make_executor

    settings = get_settings()
    return make_executor(spec or settings.executor, workers or settings.workers)


def _version(value: bool) -> None:
    if value:
        console.print(f"capaciteit {__version__}")
        raise typer.Exit()


@app.callback(help="Capaciteitsplanning voor jeugdhulp met verblijf.")
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Toon de versie."),
    ] = False,
) -> None:
    """Plan capacity for jeugdhulp met verblijf."""


@app.command(
    help="Controleer een regiomodel, een landelijk model of een scenario met zijn model; noem "
    "elk probleem."
)
def validate(
    path: Annotated[
        Path,
        typer.Argument(help="Een map met een regiomodel of landelijk model, of een scenario."),
    ],
) -> None:
    """Check a region model (or a scenario and its model); list every problem."""
    from capaciteit.io.model_files import load_model
    from capaciteit.io.national_files import is_national, is_national_scenario
    from capaciteit.io.scenario_files import load_scenario

    if is_national(path) or is_national_scenario(path):
        _validate_national(path)
        return
    try:
        if path.is_file():
            scenario = load_scenario(path)
            model = scenario.model
            console.print(
                f"[green]Scenario '{scenario.name}' is geldig[/]: {scenario.start_year}–"
                f"{scenario.end_year}, "
                f"{nl.plural(scenario.replications, 'replicatie', 'replicaties')}, "
                f"seed {scenario.seed}."
            )
        else:
            model = load_model(path)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    table = Table(title=f"{model.meta.name}: 0-meting {model.meta.baseline_year}")
    for col in (
        "zorgvorm",
        "bij een volle zorgvorm",
        "aanbieders",
        "bedden/plekken",
        "instroom/jaar",
    ):
        table.add_column(
            col, justify="left" if col in ("zorgvorm", "bij een volle zorgvorm") else "right"
        )
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
            f"{as_str(model.care_forms.at[fid, 'name'])} ({fid})",
            POLICIES_NL.get(str(model.care_forms.at[fid, "waiting_policy"]), ""),
            nl.number(int((at_form > 0).sum())),
            nl.number(int(at_form.sum())),
            nl.number(arrivals, 1 if arrivals % 1 else 0),
        )
    console.print(table)
    console.print(
        f"[green]Model '{model.meta.name}' is geldig[/] "
        f"({nl.plural(len(model.provider_ids), 'aanbieder', 'aanbieders')}, "
        f"{nl.plural(len(model.care_form_ids), 'zorgvorm', 'zorgvormen')})."
        + (" [yellow]Synthetische gegevens.[/]" if model.meta.synthetic else "")
    )


def _validate_national(path: Path) -> None:
    """Check a national model (or scenario): every region model, pool and table."""
    from capaciteit.io.national_files import load_national, load_national_scenario

    try:
        model = load_national(path) if path.is_dir() else load_national_scenario(path).model
    except CapaciteitError as exc:
        raise _fail(exc) from None
    table = Table(title=f"{model.name}: pools")
    for col in ("pool", "zorgvorm", "verdeling", "regio's", "aanbieders", "bedden", "bezet"):
        table.add_column(
            col, justify="left" if col in ("pool", "zorgvorm", "verdeling") else "right"
        )
    keys = {"use": "naar gebruik", "inhabitants": "naar inwoners", "fixed": "vaste verdeling"}
    for pool, row in model.pools.iterrows():
        pool = str(pool)
        beds = model.pool_beds.loc[pool]
        table.add_row(
            str(row["name"]),
            str(row["care_form"]),
            keys.get(str(row["cost_key"]), str(row["cost_key"])),
            nl.number(len(model.pool_regions.loc[pool])),
            nl.number(len(beds)),
            nl.number(int(beds["beds"].sum())),
            nl.number(int(beds["occupied"].sum())),
        )
    console.print(table)
    groups = model.groups()
    regions = nl.plural(len(model.region_ids), "regio", "regio's")
    console.print(
        f"[green]Landelijk model '{model.name}' is geldig[/] "
        f"({regions}, "
        f"{nl.plural(len(model.pools), 'pool', 'pools')}; "
        f"{nl.plural(len(groups), 'groep', 'groepen')} die samen worden gesimuleerd)."
        + (" [yellow]Synthetische gegevens.[/]" if model.synthetic else "")
    )


@app.command(help="Simuleer een scenario; schrijf summary.json, tabellen en een grafiek naar OUT.")
def simulate(
    scenario_file: ScenarioArg,
    out: OutOpt,
    replications: Annotated[
        int | None, typer.Option(min=1, help="Aantal replicaties (in plaats van het scenario).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed (in plaats van die van het scenario).")
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    fmt: Annotated[
        Literal["csv", "parquet"], typer.Option("--format", help="Formaat van de tabellen.")
    ] = "csv",
    quiet: QuietOpt = False,
) -> None:
    """Simulate a scenario; write summary.json, tables and a chart to OUT."""
    from capaciteit.pipelines.simulate import simulate as run

    try:
        _prepare_out(out)
        runner = _executor(executor, workers)
        with _status(scenario_file.stem, "simulatie", quiet) as say:
            done = run(
                scenario_file,
                out,
                replications=replications,
                seed=seed,
                executor=runner,
                fmt=fmt,
                progress=say,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    scenario, result, summary, files, elapsed = (
        done.scenario,
        done.result,
        done.summary,
        done.files,
        done.elapsed_s,
    )
    names = {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()}
    _print_missed(summary["missed"])
    _print_norms(summary, names)
    for year in dict.fromkeys([*summary["target_years"], scenario.end_year]):
        _print_headlines(summary, year, names)
    _print_transformation(summary)
    console.print(
        f"{nl.plural(scenario.replications, 'replicatie', 'replicaties')} met samen "
        f"{nl.number(len(result.stays))} verblijven gesimuleerd in {nl.number(elapsed, 1)} s. "
        f"Resultaten in [bold]{out}[/]:"
    )
    for path in files.values():
        console.print(f"  {path}")


@app.command(
    help="Minimaal aantal plaatsen per zorgvorm en jaar vanuit de 0-meting, en op lange termijn."
)
def beds(
    scenario_file: ScenarioArg,
    out: OutOpt,
    solver: SolverOpt = "ortools",
    replications: Annotated[
        int | None, typer.Option(min=2, help="Replicaties per gesimuleerde variant.")
    ] = None,
    max_iterations: Annotated[
        int | None, typer.Option(min=1, help="Rondes van de lange simulatie (lange termijn).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(min=0.1, help="Rekentijd van de solver (s).")
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Compute minimal beds per care form and year from the 0-meting, and in the long run."""
    from capaciteit.pipelines.beds import minimal_beds_report

    try:
        _prepare_out(out)
        runner = _executor(executor, workers)
        with _status(scenario_file.stem, "minimale bedden", quiet) as say:
            done = minimal_beds_report(
                scenario_file,
                out,
                solver=solver,
                replications=replications,
                max_iterations=max_iterations,
                time_limit_s=time_limit,
                executor=runner,
                progress=say,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    scenario, result, files, elapsed = done.scenario, done.result, done.files, done.elapsed_s
    _print_beds(result.table, dict(scenario.model.care_forms["name"]))
    colour = "green" if result.status == "verified" else "yellow"
    console.print(f"[{colour}]{STATUS_NL.get(result.status, result.status)}[/]: {result.message}")
    for text in result.explanations:
        console.print(f"• {text}")
    console.print(f"Klaar in {nl.number(elapsed, 1)} s. Resultaten in [bold]{out}[/]:")
    for path in files.values():
        console.print(f"  {path}")
    if result.status in ("infeasible", "timeout"):
        raise typer.Exit(1)


@app.command(help="Afbouwplan per aanbieder en jaar onder de behoefte en de doelen.")
def afbouw(
    scenario_file: ScenarioArg,
    out: OutOpt,
    solver: SolverOpt = "ortools",
    lp: Annotated[
        Path | None, typer.Option(help="Schrijf het model ook als .lp-bestand (ter controle).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=2, help="Replicaties voor de simulaties.")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(min=0.1, help="Rekentijd van de solver (s).")
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
    reference: Annotated[
        Path | None,
        typer.Option(
            help="Plan dicht bij deze afspraak (plan.csv van een eerdere afbouwrun); "
            "vervangt afbouw.reference.file van het scenario."
        ),
    ] = None,
) -> None:
    """Make the afbouw plan per provider and year under the needs and the targets."""
    from capaciteit.pipelines.afbouw import afbouw_report

    try:
        _prepare_out(out)
        runner = _executor(executor, workers)
        with _status(scenario_file.stem, "afbouwplan", quiet) as say:
            done = afbouw_report(
                scenario_file,
                out,
                solver=solver,
                replications=replications,
                time_limit_s=time_limit,
                lp_file=lp,
                executor=runner,
                progress=say,
                reference=reference,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    result, files, elapsed = done.result, done.files, done.elapsed_s
    if result.reference_source is not None and len(result.changes):
        changes = Table(title=f"Wijzigingen t.o.v. de afspraak ({result.reference_source})")
        for col in ("aanbieder", "zorgvorm", "jaar", "afspraak", "plan", "reden"):
            changes.add_column(col, justify="right" if col in ("afspraak", "plan") else "left")
        for row in result.changes.to_dict(orient="records"):
            changes.add_row(
                str(row["provider"]),
                str(row["care_form"]),
                str(row["year"]),
                nl.number(row["reference_beds"]),
                nl.number(row["beds"]),
                str(row["reason"]),
            )
        console.print(changes)
    if len(result.targets):
        table = Table(title="Doelen (uit de getallen van het plan)")
        for col in ("doel", "jaar", "grens", "gepland", "gehaald"):
            table.add_column(col, justify="left" if col == "doel" else "right")
        for row in result.targets.to_dict(orient="records"):
            table.add_row(
                str(row["target"]),
                str(row["year"]),
                nl.number(row["bound_beds"]),
                nl.number(row["planned_beds"]),
                "[green]ja[/]" if row["met"] else "[red]nee[/]",
            )
        console.print(table)
    colour = "green" if result.status == "targets_met" else "yellow"
    console.print(f"[{colour}]{STATUS_NL.get(result.status, result.status)}[/]: {result.message}")
    console.print(f"Klaar in {nl.number(elapsed, 1)} s. Resultaten in [bold]{out}[/]:")
    for path in files.values():
        console.print(f"  {path}")
    if lp is not None:
        console.print(f"  {lp}")
    if result.status in ("infeasible", "timeout"):
        raise typer.Exit(1)


@app.command(help="Suggesties voor één kind, of de beste toewijzing van de hele wachtlijst.")
def match(
    children: Annotated[Path, typer.Option(help="Tabel met kinderen (.csv of .xlsx).")],
    placements: Annotated[Path, typer.Option(help="Tabel met gezinnen (.csv of .xlsx).")],
    out: OutOpt,
    child: Annotated[str | None, typer.Option(help="Alleen suggesties voor dit child_id.")] = None,
    top: Annotated[int, typer.Option(min=1, help="Suggesties per kind.")] = 5,
    pc4: Annotated[
        Path | None, typer.Option(help="Tabel met PC4-middelpunten (pc4, lat, lon).")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="YAML/JSON-bestand met gewichten van de criteria.")
    ] = None,
    time_limit: Annotated[float, typer.Option(min=0.1, help="Rekentijd van de solver (s).")] = 30.0,
    quiet: QuietOpt = False,
) -> None:
    """Suggest families for one child, or assign the whole waiting list."""
    from capaciteit.io.pool_files import load_pc4, load_pool
    from capaciteit.pipelines.match import assign, suggest_for

    try:
        _prepare_out(out)
        chosen = _weights(weights)
        centroids = load_pc4(pc4) if pc4 is not None else None
        kids, pool = load_pool(children, placements, centroids)
        if child is not None:
            suggested = suggest_for(kids, pool, child, out, top=top, weights=chosen)
            result, files = suggested.result, suggested.files
        else:
            with _status("matching", "toewijzing", quiet) as say:
                assigned = assign(
                    kids, pool, out, weights=chosen, time_limit_s=time_limit, progress=say
                )
            batch, files = assigned.result, assigned.files
    except CapaciteitError as exc:
        raise _fail(exc) from None
    if child is not None:
        table = Table(title=f"Suggesties voor {child}")
        for col in ("rang", "placement_id", "score", "redenen"):
            table.add_column(col, overflow="fold")
        for row in result.table.to_dict(orient="records"):
            table.add_row(
                str(row["rank"]), row["placement_id"], nl.number(row["score"], 1), row["reasons"]
            )
        console.print(table)
        console.print(result.summary())
    else:
        if batch.status == "optimal":
            proven = "bewezen optimaal"
        else:
            gap = batch.gap or 0.0
            shown = nl.percent(gap, 3) if gap >= 1e-5 else "minder dan 0,001%"
            most = (
                f"hoogstens {nl.number(batch.max_placed)} te plaatsen, "
                if batch.max_placed is not None
                else ""
            )
            proven = f"niet bewezen optimaal: {most}afstand tot de grens {shown}"
        console.print(
            f"{nl.number(batch.placed)} van {nl.number(batch.children)} kinderen geplaatst "
            f"({proven}, {nl.number(batch.time_s, 1)} s); {nl.number(len(batch.unplaced))} niet "
            "geplaatst, elk met de reden."
        )
    console.print(f"Resultaten in [bold]{out}[/]:")
    for path in files.values():
        console.print(f"  {path}")
    if child is None and batch.status not in ("optimal", "feasible"):
        raise typer.Exit(1)


def _weights(path: Path | None) -> MatchWeights:
    from pydantic import ValidationError

    from capaciteit.errors import Problem
    from capaciteit.io.pydantic_nl import dutch_error
    from capaciteit.io.yaml_files import read_yaml
    from capaciteit.matching import MatchWeights

    if path is None:
        return MatchWeights()
    problems: list[Problem] = []
    raw = read_yaml(path, problems)
    if raw is None:
        raise InvalidInputError(f"Het gewichtenbestand {path.name}", problems)
    try:
        return MatchWeights.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            message, fix = dutch_error(e)
            problems.append(
                Problem(
                    path.name,
                    f"{where}: {message}",
                    fix or "Gebruik de criteria van MatchWeights met getallen >= 0 (zie README).",
                    column=where,
                )
            )
        raise InvalidInputError(f"Het gewichtenbestand {path.name}", problems) from None


@app.command(
    "generate-pool",
    help="Schrijf een synthetische wachtlijst en gezinnen (children.csv, placements.csv).",
)
def generate_pool(
    out: OutOpt,
    children: Annotated[int, typer.Option(min=1, help="Kinderen op de wachtlijst.")] = 100,
    families: Annotated[int, typer.Option(min=1, help="Gezinnen en gezinshuizen.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed van het toeval.")] = 1,
) -> None:
    """Write a synthetic waiting list and family pool."""
    from capaciteit.matching import synthetic_pool
    from capaciteit.results.cells import write_csv

    try:
        _prepare_out(out)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    kids, places = synthetic_pool(children, families, seed)
    write_csv(kids, out / "children.csv")
    write_csv(places, out / "placements.csv")
    console.print(
        f"{nl.plural(len(kids), 'kind', 'kinderen')} en "
        f"{nl.plural(len(places), 'gezin', 'gezinnen')} (synthetisch, seed {seed}) in "
        f"[bold]{out}[/]: children.csv, placements.csv"
    )


@app.command(help="Start de HTTP-service (FastAPI + uvicorn) met zijn werkprocessen.")
def serve(
    host: Annotated[str, typer.Option(help="Adres om op te luisteren.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Poort.")] = 8000,
) -> None:
    """Start the HTTP service with its job workers."""
    import uvicorn

    from capaciteit.service.config import service_settings

    try:
        settings = service_settings()
    except CapaciteitError as exc:
        raise _fail(exc) from None
    console.print(
        f"capaciteit-service op http://{host}:{port}/ (API: /v1, OpenAPI: /v1/docs), database "
        f"{settings.database_url.split('@')[-1]}, "
        f"{nl.plural(settings.job_workers, 'werkproces', 'werkprocessen')}"
    )
    uvicorn.run(
        "capaciteit.service.app:create_app", factory=True, host=host, port=port, log_level="info"
    )


@app.command(
    "voorbeeld-dienst",
    help="Vul een database met de ontwikkeltafel van de voorbeeldregio (voor 'serve').",
)
def voorbeeld_dienst(
    database: Annotated[Path, typer.Option(help="Het SQLite-bestand dat ontstaat (nieuw).")],
    afspraak: Annotated[
        Path, typer.Option(help="Uitvoermap van 'afbouw': het plan dat afgesproken wordt.")
    ],
    herplan: Annotated[
        Path, typer.Option(help="Uitvoermap van 'afbouw --reference': het nieuwe voorstel.")
    ],
    realisatie: Annotated[
        list[Path], typer.Option(help="Ingevulde realisatie (.xlsx); herhaal per kwartaal.")
    ],
    model: Annotated[Path, typer.Option(help="Het regiomodel.")] = Path("models/voorbeeldregio"),
    scenario: Annotated[Path, typer.Option(help="Het scenario.")] = Path(
        "simulations/voorbeeldregio-transformatie.yaml"
    ),
) -> None:
    """Fill a new service database with the example region's ontwikkeltafel cycle."""
    from capaciteit.service.example import seed_example

    if database.exists():
        err_console.print(
            f"[bold red]fout:[/] {database} bestaat al. Kies een nieuw bestand of verwijder het."
        )
        raise typer.Exit(EXIT_USER_ERROR)
    database.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{database.resolve()}"
    try:
        made = seed_example(
            url,
            model_dir=model,
            scenario_file=scenario,
            agreed_run=afspraak,
            replan_run=herplan,
            realisation=list(realisatie),
        )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    table = Table(title="Wie aan tafel zit (meld u aan met het token)")
    for col in ("naam", "rol", "token"):
        table.add_column(col)
    roles = {"planner": "planner", "olga": "lid", "otto": "lid", "vera": "voorzitter"}
    for key, token in made.tokens.items():
        table.add_row(made.names[key], roles.get(key, "matcher"), token)
    console.print(table)
    console.print(
        f"Afgesproken plan: /plans/{made.agreed_id} · voorstel: /plans/{made.proposal_id} · "
        f"kwartaalrapport: /runs/{made.report_job_id} (wordt gemaakt zodra de dienst draait)."
    )
    console.print(f"Start de dienst: [bold]CAPACITEIT_DATABASE_URL={url} capaciteit serve[/]")


@app.command(help="Vergelijk de realisatie per kwartaal met het afgesproken plan en het model.")
def realisatie(
    scenario_file: ScenarioArg,
    plan: Annotated[Path, typer.Option(help="Het afgesproken plan (plan.csv van 'afbouw').")],
    actuals: Annotated[
        list[Path],
        typer.Option(help="Ingevuld realisatiesjabloon (.xlsx); herhaal voor meer bestanden."),
    ],
    out: OutOpt,
    replications: Annotated[
        int | None, typer.Option(min=20, help="Replicaties voor de band (standaard 200).")
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Compare the quarterly realisation with the agreed plan and the simulated band."""
    from capaciteit.pipelines.realisation import realisation_report

    try:
        _prepare_out(out)
        runner = _executor(executor, workers)
        with _status(scenario_file.stem, "realisatie", quiet) as say:
            done = realisation_report(
                scenario_file,
                plan,
                list(actuals),
                out,
                replications=replications,
                executor=runner,
                progress=say,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    names = {str(k): str(v) for k, v in done.scenario.model.care_forms["name"].items()}
    forms = done.comparison[done.comparison["level"] == "care_form"]
    table = Table(title="Realisatie per zorgvorm en kwartaal [95%-band van het model bij het plan]")
    for col in ("zorgvorm", "kwartaal", "plaatsen (plan)", "bezet", "instroom", "wachtlijst"):
        table.add_column(col, justify="left" if col in ("zorgvorm", "kwartaal") else "right")
    table.add_column("oordeel")
    for row in forms.to_dict(orient="records"):
        cells = [
            f"{nl.number(row[m])} [{nl.number(row[m + '_low'])}–{nl.number(row[m + '_high'])}]"
            for m in ("occupied", "admissions", "waiting")
        ]
        table.add_row(
            names.get(str(row["care_form"]), str(row["care_form"])),
            str(row["quarter"]),
            f"{nl.number(row['beds'])} ({nl.number(row['planned_beds'])})",
            *cells,
            "[green]op koers[/]" if row["on_track"] else "[red]niet op koers[/]",
        )
    console.print(table)
    off = done.comparison[~done.comparison["on_track"].astype(bool)]
    if len(off):
        console.print("[bold red]Niet op koers:[/]")
        for row in off.to_dict(orient="records"):
            who = names.get(str(row["care_form"]), str(row["care_form"]))
            if row["level"] == "provider":
                who = f"{row['provider']}, {who}"
            console.print(f"• {who}, {row['quarter']}: {row['reason']}", markup=False)
    else:
        console.print("[green]Alle zorgvormen en aanbieders zijn op koers.[/]")
    console.print(
        f"Klaar in {nl.number(done.elapsed_s, 1)} s (PDF {nl.number(done.pdf_s, 1)} s). "
        f"Resultaten in [bold]{out}[/]:"
    )
    for path in done.files.values():
        console.print(f"  {path}")


RecordsArg = Annotated[
    Path, typer.Argument(help="Verblijfsgegevens (.csv of .xlsx): één rij per verblijf.")
]
DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y"]
"""Dates on the command line: ``2024-03-01`` or ``01-03-2024``."""
BaseOpt = Annotated[
    Path | None,
    typer.Option(
        "--basis", help="Regiomodel waaruit wachtbeleid, namen en tarieven komen (niet geschat)."
    ),
]
BedsOpt = Annotated[
    Path | None,
    typer.Option("--bedden", help="0-meting (beds.csv, bijvoorbeeld van 'capaciteit intake')."),
]


def _day(value: datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@app.command(help="Schat een regiomodel uit verblijfsgegevens, met intervallen en een rapport.")
def calibrate(
    records: RecordsArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Map van het nieuwe regiomodel.")],
    basis: BaseOpt = None,
    bedden: BedsOpt = None,
    vanaf: Annotated[
        datetime | None,
        typer.Option(
            formats=DATE_FORMATS,
            help="Begin van het venster waarin alle verblijven in het extract staan "
            "(standaard: de eerste van de maand van de vroegste einddatum).",
        ),
    ] = None,
    peildatum: Annotated[
        datetime | None,
        typer.Option(
            formats=DATE_FORMATS,
            help="Dag van de 0-meting in beds.csv (standaard: de extractiedatum).",
        ),
    ] = None,
    extractiedatum: Annotated[
        datetime | None,
        typer.Option(
            formats=DATE_FORMATS,
            help="Dag van het extract (standaard: de laatste datum in de gegevens).",
        ),
    ] = None,
    naam: Annotated[str | None, typer.Option(help="Naam van het regiomodel.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Calibrate a region model from stay records."""
    from capaciteit.pipelines.calibrate import calibrate_records

    try:
        _prepare_out(out)
        with _status(records.name, "kalibreren", quiet) as say:
            done = calibrate_records(
                records,
                out,
                base_dir=basis,
                beds_file=bedden,
                window_start=_day(vanaf),
                zero_date=_day(peildatum),
                extract_date=_day(extractiedatum),
                name=naam,
                progress=say,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    cal = done.calibration
    names = {str(k): str(v) for k, v in done.model.care_forms["name"].items()}
    console.print(
        f"{nl.number(len(done.records.stays))} verblijven van {nl.date(cal.window_start)} tot "
        f"{nl.date(cal.extract_date)}; 0-meting op {nl.date(cal.zero_date)}."
    )
    table = Table(title="Geschat per zorgvorm [95%-interval] (aantal verblijven)")
    for col in (
        "zorgvorm",
        "instroom per jaar (in het model)",
        "verblijfsduur (dagen)",
        "verdeling",
    ):
        table.add_column(col, justify="left" if col in ("zorgvorm", "verdeling") else "right")
    e = cal.estimates
    for form in done.model.care_form_ids:
        inflow = e[(e["quantity"] == "instroom") & (e["care_form"] == form)].dropna(
            subset=["estimate"]
        )
        # the model's rate: over all years, or the last year's when the years differ
        pooled = inflow[inflow["key"] == "alle jaren"]
        if len(pooled) and not str(pooled.iloc[0]["note"]):
            inflow = pooled
        else:
            inflow = inflow[inflow["key"] != "alle jaren"]
        los = e[(e["quantity"] == "los_mean") & (e["care_form"] == form)]
        table.add_row(
            names.get(form, form),
            _estimate_text(inflow.iloc[-1]) if len(inflow) else "–",
            _estimate_text(los.iloc[0]) if len(los) else "–",
            str(los.iloc[0]["note"]) if len(los) else "",
        )
    console.print(table)
    for note in cal.notes:
        console.print(f"• {note}", markup=False)
    console.print(
        f"Klaar in {nl.number(done.elapsed_s, 1)} s. Het regiomodel staat in [bold]{out}[/]"
    )
    console.print(f"  (controleer het met: capaciteit validate {out}); het rapport:")
    for key, path in done.files.items():
        if key not in ("model",):
            console.print(f"  {path}")


def _estimate_text(row: Any) -> str:
    """``62 [48–79] (60)``: an estimate, its interval and the records it rests on."""
    estimate = float(row["estimate"])
    if math.isnan(estimate):
        return f"niet geschat ({nl.number(row['n'])})"
    low, high = float(row["low"]), float(row["high"])
    interval = "" if math.isnan(low) else f" [{nl.number(low)}–{nl.number(high)}]"
    return f"{nl.number(estimate)}{interval} ({nl.number(row['n'])})"


@app.command(help="Kalibreer tot een datum en vergelijk de voorspelde kwartalen met wat gebeurde.")
def backtest(
    records: RecordsArg,
    knip: Annotated[
        datetime,
        typer.Option(
            formats=DATE_FORMATS,
            help="1 januari waarop de gegevens worden geknipt (kalibratie ervoor, toets erna).",
        ),
    ],
    out: OutOpt,
    kwartalen: Annotated[int, typer.Option(min=4, max=8, help="Kwartalen na de knip.")] = 8,
    replicaties: Annotated[int, typer.Option(min=20, max=2000, help="Replicaties.")] = 100,
    seed: Annotated[int, typer.Option(min=0, help="Seed van de simulatie.")] = 1,
    basis: BaseOpt = None,
    bedden: BedsOpt = None,
    vanaf: Annotated[
        datetime | None,
        typer.Option(formats=DATE_FORMATS, help="Begin van het waarnemingsvenster."),
    ] = None,
    extractiedatum: Annotated[
        datetime | None,
        typer.Option(formats=DATE_FORMATS, help="Dag van het extract."),
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Backtest a calibration against what the records show happened."""
    from capaciteit.calibration.backtest_report import coverage_sentence
    from capaciteit.pipelines.calibrate import backtest_records
    from capaciteit.realisation.band import MEASURES_NL

    try:
        _prepare_out(out)
        runner = _executor(executor, workers)
        with _status(records.name, "backtest", quiet) as say:
            done = backtest_records(
                records,
                knip.date(),
                out,
                quarters=kwartalen,
                replications=replicaties,
                seed=seed,
                base_dir=basis,
                beds_file=bedden,
                window_start=_day(vanaf),
                extract_date=_day(extractiedatum),
                executor=runner,
                progress=say,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    result = done.result
    names = {str(k): str(v) for k, v in result.model.care_forms["name"].items()}
    known = result.table[result.table["realised"].notna()]
    table = Table(title="Binnen de 95%-band per zorgvorm (gerealiseerde kwartalen)")
    table.add_column("zorgvorm")
    for measure in MEASURES_NL.values():
        table.add_column(measure, justify="right")
    for form, rows in known.groupby("care_form", sort=False):
        cells = []
        for measure in MEASURES_NL:
            mine = rows[rows["measure"] == measure]
            inside = int(mine["inside"].sum())
            cells.append(f"{inside} van {len(mine)}" if len(mine) else "–")
        table.add_row(names.get(str(form), str(form)), *cells)
    console.print(table)
    outside = known[~known["inside"].astype(bool)]
    if len(outside):
        console.print("[bold]Buiten de band[/] (voorspeld gemiddelde [95%-band], gerealiseerd):")
    for row in outside.to_dict(orient="records"):
        console.print(
            f"• {names.get(str(row['care_form']), str(row['care_form']))}, {row['quarter']}, "
            f"{MEASURES_NL[str(row['measure'])]}: {nl.number(row['predicted'], 1)} "
            f"[{nl.number(row['low'], 1)}–{nl.number(row['high'], 1)}], gerealiseerd "
            f"{nl.number(row['realised'], 1)}",
            markup=False,
        )
    console.print(coverage_sentence(result))
    console.print(f"Klaar in {nl.number(done.elapsed_s, 1)} s. Resultaten in [bold]{out}[/]:")
    for path in done.files.values():
        console.print(f"  {path}")


@app.command(
    help="Vergelijk twee afbouwplannen (plan.csv): welke cellen veranderen, en wat kost het."
)
def verschil(
    plan_a: Annotated[Path, typer.Argument(help="Het eerste plan, bijvoorbeeld de afspraak.")],
    plan_b: Annotated[Path, typer.Argument(help="Het tweede plan, bijvoorbeeld een voorstel.")],
    out: OutOpt,
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario: namen van aanbieders en zorgvormen, doelen.")
    ] = None,
) -> None:
    """Compare two afbouw plans cell by cell."""
    from capaciteit.pipelines.plan_diff import plan_diff_report

    try:
        _prepare_out(out)
        done = plan_diff_report(plan_a, plan_b, out, scenario_file=scenario)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    diff, names = done.diff, done.names
    changed = diff.cells[diff.cells["changed"]]
    table = Table(
        title=f"{nl.number(len(changed))} cellen verschillen ({plan_a.name} → {plan_b.name})"
    )
    for col in ("zorgvorm", "aanbieder", "jaar", "a", "b", "verschil", "euro"):
        table.add_column(col, justify="left" if col in ("zorgvorm", "aanbieder") else "right")
    for row in changed.to_dict(orient="records"):
        table.add_row(
            names.get(str(row["care_form"]), str(row["care_form"])),
            str(row["provider"]),
            str(row["year"]),
            nl.number(row["beds_a"]),
            nl.number(row["beds_b"]),
            f"{int(row['change_beds']):+d}",
            nl.euro(row["change_eur"]),
        )
    console.print(table)
    moved = diff.targets[diff.targets["met_a"] != diff.targets["met_b"]]
    for row in moved.to_dict(orient="records"):
        now = "gehaald" if row["met_b"] else "niet meer gehaald"
        console.print(f"Doel '{row['target']}' in {row['year']}: {now} in {plan_b.name}.")
    console.print(f"Resultaten in [bold]{out}[/]:")
    for path in done.files.values():
        console.print(f"  {path}")


sjabloon_app = typer.Typer(help="Sjablonen om in te vullen.", no_args_is_help=True)
app.add_typer(sjabloon_app, name="sjabloon")


@sjabloon_app.command(
    "realisatie", help="Werkmap waarin aanbieders per kwartaal hun realisatie invullen."
)
def sjabloon_realisatie(
    scenario_file: ScenarioArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Het sjabloon (.xlsx) dat ontstaat.")],
    plan: Annotated[
        Path | None, typer.Option(help="Het afgesproken plan (plan.csv): rijen en plaatsen.")
    ] = None,
    kwartalen: Annotated[
        str | None,
        typer.Option(
            help="Kwartalen, bijvoorbeeld 2025-K1,2025-K2 (standaard: het jaar na de 0-meting)."
        ),
    ] = None,
) -> None:
    """Write the realisation template for providers to fill in."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.realisation.plan import read_plan
    from capaciteit.realisation.template import write_template

    quarters = [q.strip() for q in (kwartalen or "").split(",") if q.strip()]
    try:
        if out.suffix.lower() != ".xlsx":
            raise CapaciteitError(f"'{out}' moet een .xlsx-bestand zijn. Kies --out NAAM.xlsx.")
        scenario = load_scenario(scenario_file)
        agreed = read_plan(plan, scenario) if plan is not None else None
        path = write_template(scenario, agreed, out, quarters)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        err_console.print(
            f"[bold red]fout:[/] kan '{out}' niet schrijven ({exc.strerror or type(exc).__name__})."
        )
        raise typer.Exit(EXIT_USER_ERROR) from None
    console.print(f"Sjabloon geschreven: [bold]{path}[/]")


@sjabloon_app.command(
    "0-meting",
    help="Werkmap waarin een aanbieder per locatie en zorgvorm bedden, bezet en wachtenden "
    "op de peildatum invult (de 0-meting).",
)
def sjabloon_0_meting(
    out: Annotated[Path, typer.Option("--out", "-o", help="Het sjabloon (.xlsx) dat ontstaat.")],
    model: Annotated[
        Path | None,
        typer.Option(help="Regiomodel: zijn zorgvormen en aanbieders komen in de keuzelijsten."),
    ] = None,
    aanbieder: Annotated[
        str | None, typer.Option(help="Code van de aanbieder voor wie het sjabloon is.")
    ] = None,
    peildatum: Annotated[
        str | None,
        typer.Option(
            help="De dag waarop geteld wordt (JJJJ-MM-DD); anders vult de aanbieder hem in."
        ),
    ] = None,
    contact: Annotated[
        str | None,
        typer.Option(help="Naar wie het ingevulde sjabloon terug moet (naam, e-mailadres)."),
    ] = None,
) -> None:
    """Write the 0-meting template for providers to fill in."""
    from capaciteit.intake.template import make_template

    if out.suffix.lower() != ".xlsx":
        raise _fail(CapaciteitError(f"'{out}' moet een .xlsx-bestand zijn. Kies --out NAAM.xlsx."))
    try:
        path = make_template(out, model, aanbieder, peildatum, contact)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _fail(CapaciteitError(f"kan '{out}' niet schrijven ({reason}).")) from None
    console.print(f"Sjabloon voor de 0-meting geschreven: [bold]{path}[/]")


# The issue and English-speaking users call the group 'template'; same commands, not listed.
app.add_typer(sjabloon_app, name="template", hidden=True)


@app.command(
    help="Voeg de ingevulde 0-metingsjablonen van de aanbieders samen tot beds.csv "
    "(en locaties.csv); noem elk probleem van elk bestand."
)
def intake(
    filled: Annotated[
        list[Path],
        typer.Argument(
            help="Ingevulde sjablonen (.xlsx) van 'sjabloon 0-meting'.", show_default=False
        ),
    ],
    out: OutOpt,
    model: Annotated[
        Path | None,
        typer.Option(help="Regiomodel: aanbieders en zorgvormen moeten erin staan."),
    ] = None,
) -> None:
    """Merge the providers' filled-in 0-meting templates into beds.csv."""
    from capaciteit.intake.merge import run_intake

    try:
        _prepare_out(out)
        done = run_intake(filled, out, model)
    except CapaciteitError as exc:
        raise _fail(exc) from None
    locations = done.locations
    console.print(
        f"0-meting op {nl.date(done.peildatum)} uit "
        f"{nl.plural(len(done.sources), 'bestand', 'bestanden')}: "
        f"{nl.plural(locations['provider'].nunique(), 'aanbieder', 'aanbieders')}, "
        f"{nl.plural(len(locations), 'locatierij', 'locatierijen')}."
    )
    table = Table(title=f"0-meting per zorgvorm op {nl.date(done.peildatum)}")
    for col in ("zorgvorm", "aanbieders", "locaties", "bedden", "bezet", "wachtend"):
        table.add_column(col, justify="left" if col == "zorgvorm" else "right")
    totals = done.by_form()
    for form, row in totals.iterrows():
        name = done.care_form_names.get(str(form))
        table.add_row(f"{name} ({form})" if name else str(form), *(nl.number(int(v)) for v in row))
    table.add_row(
        "[bold]totaal[/]",
        nl.number(locations["provider"].nunique()),
        nl.number(len(locations)),
        *(nl.number(int(totals[c].sum())) for c in ("beds", "occupied", "waiting")),
    )
    console.print(table)
    if done.warnings:
        console.print(f"[bold yellow]Let op[/] ({len(done.warnings)}; wel overgenomen):")
        for p in done.warnings:
            console.print(f"• {p.location()}: {p.message}\n  {p.fix}", markup=False)
    console.print(f"Resultaten in [bold]{out}[/]:")
    for path in done.files.values():
        console.print(f"  {path}")


token_app = typer.Typer(help="Toegangstokens van de service.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create", help="Maak een token (één keer getoond; bewaard als hash).")
def token_create(
    role: Annotated[
        str, typer.Option(help="planner, ontwikkeltafel, landelijk, matcher of admin.")
    ],
    name: Annotated[str, typer.Option(help="Wie of wat het token gebruikt.")] = "cli",
    organisation: Annotated[
        list[str] | None,
        typer.Option(
            help="Organisatie die het token ziet (herhaal voor meer; nieuw: wordt gemaakt). "
            "Zonder: 'standaard'."
        ),
    ] = None,
) -> None:
    """Create a token (printed once; stored hashed)."""
    from capaciteit.service.config import service_settings
    from capaciteit.service.db import make_engine, migrate, session_factory
    from capaciteit.service.security import ROLES, create_token, organisation_named

    if role not in ROLES:
        err_console.print(f"[bold red]fout:[/] de rol moet een van deze zijn: {', '.join(ROLES)}.")
        raise typer.Exit(EXIT_USER_ERROR)
    try:
        settings = service_settings()
    except CapaciteitError as exc:
        raise _fail(exc) from None
    migrate(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    with session_factory(engine)() as session:
        ids = [organisation_named(session, n) for n in organisation or []]
        token = create_token(session, role, name, ids)
    engine.dispose()
    print(token)


def _print_beds(table: object, names: dict[str, str]) -> None:
    """Minimal beds per year and form, with the scenario's beds and the long run."""
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    years = sorted({int(y) for y in table.index.get_level_values("year")})
    present = {str(f) for f in table.index.get_level_values("care_form")}
    forms = [f for f in names if f in present] + sorted(present - set(names))
    out = Table(
        title="Minimaal aantal plaatsen per jaar (tussen haakjes: in het scenario)",
        caption="rood: het scenario heeft minder plaatsen dan nodig",
    )
    out.add_column("jaar")
    for fid in forms:
        out.add_column(names.get(fid, fid), justify="right")
    for y in years:
        cells = []
        for fid in forms:
            minimal = as_float(table.at[(fid, y), "minimal_beds"])
            current = int(as_float(table.at[(fid, y), "current_beds"]))
            if math.isnan(minimal):
                cells.append(f"– ({nl.number(current)})")
                continue
            need = int(minimal)
            text = f"{nl.number(need)} ({nl.number(current)})"
            cells.append(f"[red]{text}[/]" if need > current else text)
        out.add_row(str(y), *cells)
    long_run = []
    for fid in forms:
        values = table.xs(fid, level="care_form")["long_run_beds"]
        long_run.append(
            "–" if values.isna().any() else _span_text([int(v) for v in values.tolist()])
        )
    out.add_row("lange termijn", *long_run, style="dim")
    console.print(out)


def _span_text(values: list[int]) -> str:
    low, high = min(values), max(values)
    return nl.number(low) if low == high else f"{nl.number(low)}–{nl.number(high)}"


def _print_missed(missed: str) -> None:
    """Say what a scenario misses, plainly, before any table."""
    if missed:
        console.print(f"[bold red]Niet gehaald:[/] {missed}")
    else:
        console.print("[green]Elke norm en elk doel wordt gehaald of is niet te onderscheiden.[/]")


def _short(row: dict[str, object]) -> str:
    """Write a norm in a few characters for a column header: ``≥80% ≤28 d``."""
    target = float(str(row["target"]))
    measure = str(row["measure"])
    share = nl.percent(target)
    if measure.startswith("placed_within_"):
        return f"≥{share} ≤{nl.number(float(str(row['days'])))} d"
    if measure == "refused_share":
        return f"≤{share} buiten"
    if measure == "stays_over_max_share":
        return f"≤{share} >{nl.number(float(str(row['days'])))} d"
    return f"bezet ≤{share}"


def _print_norms(summary: dict[str, object], names: dict[str, str]) -> None:
    """Every norm per year: the mean and its verdict (✓ gehaald, ✗ niet, ? onbeslist)."""
    norms = summary["norms"]
    assert isinstance(norms, list)
    if not norms:
        return
    marked = set(summary.get("target_years", []))  # type: ignore[call-overload]
    columns = list(dict.fromkeys((str(r["care_form"]), str(r["measure"])) for r in norms))
    headers = {}
    cells: dict[int, dict[tuple[str, str], str]] = {}
    for r in norms:
        key = (str(r["care_form"]), str(r["measure"]))
        headers[key] = f"{names.get(key[0], key[0])}\n{_short(r)}"
        mark = MARK.get(str(r["verdict"]), "")
        mean = r["mean"]
        cells.setdefault(int(r["year"]), {})[key] = (
            f"{nl.percent(mean)} {mark}" if mean is not None else MARK["no_data"]
        )
    table = Table(
        title="Normen per jaar (gemiddelde over de replicaties)",
        caption="✓ gehaald, ✗ niet gehaald, ? niet te onderscheiden van de norm, – geen "
        "aanvragen; * doeljaar. Intervallen: summary.json (norms).",
    )
    table.add_column("jaar")
    for key in columns:
        table.add_column(headers[key], justify="right")
    for year in sorted(cells):
        label = f"{year}*" if year in marked else str(year)
        table.add_row(label, *[cells[year].get(key, "") for key in columns])
    console.print(table)


TRANSFORMATION_NL = {
    "verblijf_beds": ("bedden", 0),
    "ambulant_places": ("ambulante\nplekken", 0),
    "ambulant_per_verblijf_places": ("ambulant\nper bed", 2),
    "ambulant_per_verblijf_in_care": ("in zorg:\nambulant\nper bed", 2),
    "diverted_count": ("ambulant\nvol: naar\neen bed", 1),
    "housing_waiting_in_bed": ("18+ wachtend\nop woonplek\n(in bed)", 1),
    "housing_blocked_bed_days": ("beddagen\nbezet door\n18+", 0),
}
"""Columns of the ombouw table: the transformation figures, in Dutch."""


def _print_transformation(summary: dict[str, object]) -> None:
    """Ambulant against verblijf and 18+ waiting for housing per year (means)."""
    per_year = summary.get("transformation")
    if not isinstance(per_year, dict) or not per_year:
        return
    table = Table(
        title="Ombouw en 18+ per jaar (gemiddelde)",
        caption="95%-intervallen: transformation.csv; geblokkeerde bedden per aanbieder: "
        "blocking.csv",
    )
    table.add_column("jaar")
    for label, _ in TRANSFORMATION_NL.values():
        table.add_column(label, justify="right")
    for year, figures in per_year.items():
        cells = []
        for key, (_, digits) in TRANSFORMATION_NL.items():
            value = figures.get(key, {}).get("mean")
            cells.append("–" if value is None else nl.number(value, digits))
        table.add_row(str(year), *cells)
    console.print(table)


def _print_headlines(summary: dict[str, object], year: int, names: dict[str, str]) -> None:
    """Key figures of one year (means; the 95% intervals are in summary.json)."""
    kpis = summary["kpis"]
    assert isinstance(kpis, dict)
    table = Table(
        title=f"Kerncijfers {year} (gemiddelde)",
        caption="95%-intervallen: summary.json en kpis.csv",
    )
    for col in (
        "zorgvorm",
        "bedden/\nplekken",
        "bezet",
        "bezettings-\ngraad",
        "boven\ncapaciteit",
        "wachttijd\n(dagen)",
        "wachtend\n31-12",
        "buiten\nregio",
    ):
        table.add_column(col, justify="right" if col != "zorgvorm" else "left")

    def mean(v: dict[str, float | None], digits: int = 1, share: bool = False) -> str:
        value = v.get("mean")
        if value is None:
            return "–"
        return nl.percent(value, digits) if share else nl.number(value, digits)

    for fid, by_year in kpis.items():
        k = by_year.get(str(year))
        if k is None:
            continue
        beds = k["capacity_beds"]["mean"]
        wait = mean(k["mean_wait_days"], 0)
        table.add_row(
            names.get(str(fid), str(fid)),
            nl.number(beds),
            mean(k["occupied_beds"]),
            mean(k["occupancy_rate"], 0, share=True) if beds else "geen bedden",
            mean(k.get("over_capacity_beds", {})),
            "geen opnames" if wait == "–" else wait,
            mean(k["waiting_at_year_end"]),
            mean(k["overflow_count"]),
        )
    console.print(table)


national_app = typer.Typer(
    help="Meerdere regio's samen: gedeelde (bovenregionale) pools en het landelijke beeld.",
    no_args_is_help=True,
)
app.add_typer(national_app, name="national")
app.add_typer(national_app, name="landelijk", hidden=True)


@national_app.command(
    "simulate",
    help="Simuleer een landelijk scenario: per regio, per pool met de kostenverdeling, en "
    "landelijk.",
)
def national_simulate(
    scenario_file: ScenarioArg,
    out: OutOpt,
    replications: Annotated[
        int | None, typer.Option(min=1, help="Aantal replicaties (in plaats van het scenario).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed (in plaats van die van het scenario).")
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    stays: Annotated[
        bool,
        typer.Option(
            "--verblijven/--geen-verblijven",
            help="Schrijf alle verblijven als Parquet-bestanden (één per taak) in OUT/stays.",
        ),
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Simulate a national scenario; write per region, per pool and national results."""
    from capaciteit.pipelines.national import simulate_national

    try:
        _prepare_out(out)
        runner = _executor(executor, workers)
        with _status(scenario_file.stem, "landelijke simulatie", quiet) as say:
            done = simulate_national(
                scenario_file,
                out,
                replications=replications,
                seed=seed,
                executor=runner,
                keep_stays=stays,
                progress=say,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    _print_national(done, out)


@national_app.command(
    "afbouw",
    help="Minimale plekken en afbouwplan per gedeelde pool (welke aanbieders welke plekken "
    "houden), met de reistijd per regio; het plan wordt nagerekend.",
)
def national_afbouw(
    scenario_file: ScenarioArg,
    out: OutOpt,
    replications: Annotated[
        int | None, typer.Option(min=2, help="Replicaties van de simulaties.")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed.")] = None,
    solver: Annotated[
        Literal["cp-sat", "cbc"], typer.Option(help="cp-sat (OR-Tools, standaard) of cbc (PuLP).")
    ] = "cp-sat",
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Plan the afbouw of every shared pool and simulate the plan."""
    from capaciteit.pipelines.national_afbouw import plan_national_afbouw
    from capaciteit.results.national_afbouw import STATUS_NL

    try:
        _prepare_out(out)
        runner = _executor(executor, workers)
        with _status(scenario_file.stem, "afbouw van de pools", quiet) as say:
            done = plan_national_afbouw(
                scenario_file,
                out,
                replications=replications,
                seed=seed,
                executor=runner,
                solver=solver,
                progress=say,
            )
    except CapaciteitError as exc:
        raise _fail(exc) from None
    model = done.scenario.model
    years = model.years[1:]
    table = Table(title="Plekken per pool: minimaal nodig / gepland")
    table.add_column("pool")
    table.add_column("plan")
    for year in years:
        table.add_column(str(year), justify="right")
    for item in done.plans:
        planned = item.plan.beds
        table.add_row(
            str(model.pools.at[item.pool, "name"]),
            STATUS_NL.get(item.plan.status, item.plan.status),
            *[
                f"{as_int(item.minimal.at[y, 'beds'])} / "
                + ("–" if planned is None else str(int(planned[y].sum())))
                for y in years
            ],
        )
    console.print(table)
    for item in done.plans:
        for line in item.plan.explanation:
            console.print(f"[yellow]{as_str(model.pools.at[item.pool, 'name'])}[/]: {line}")
    check = done.check[done.check["planned"]]
    missed = check[check["verdict"] == "missed"]
    for row in missed.itertuples():
        console.print(
            f"[red]Nagerekend: {as_str(model.pools.at[row.pool, 'name'])} {row.year}: "
            f"{nl.percent(as_float(row.refused_share), 1)} elders geplaatst, boven de norm van "
            f"{nl.percent(as_float(row.max_refused_share), 1)}.[/]"
        )
    met = int((check["verdict"] == "met").sum())
    if len(check):
        console.print(
            f"Nagerekend: in {met} van {len(check)} geplande pool-jaren is de norm zeker "
            f"gehaald, in {len(missed)} niet; de rest is niet van de norm te onderscheiden "
            "(blad Controle; meer replicaties maken dat scherper)."
        )
    unplanned = [item for item in done.plans if item.plan.beds is None]
    for item in unplanned:
        console.print(
            f"[red]{as_str(model.pools.at[item.pool, 'name'])}: geen plan "
            f"({STATUS_NL.get(item.plan.status, item.plan.status)}); de pool houdt in "
            "pool_capacity.csv haar plekken van de 0-meting.[/]"
        )
    console.print(
        f"Afbouw van {nl.plural(len(done.plans), 'pool', 'pools')} in "
        f"{nl.number(done.elapsed_s, 1)} s. "
        f"Resultaten in [bold]{out}[/]:"
    )
    for path in done.files.values():
        console.print(f"  {path}")
    if unplanned:
        raise typer.Exit(1)


def _print_national(done: Any, out: Path) -> None:
    """Key national figures: the pools' care forms per year, each pool's cost split."""
    from capaciteit.national.model import NationalModel

    model: NationalModel = done.scenario.model
    results = done.results
    for note in model.notes:
        console.print(f"[yellow]Let op:[/] {note}")
    national = results.national.set_index(["care_form", "year", "kpi"])["mean"]
    first = model.scenarios[model.region_ids[0]].model.care_forms["name"]
    for form in dict.fromkeys(str(f) for f in model.pools["care_form"]):
        name = as_str(first[form]) if form in first.index else form
        table = Table(title=f"{name}: landelijk (gemiddelde van de replicaties)")
        for col in ("jaar", "bedden", "bezet", "bezettingsgraad", "buiten regio", "kosten"):
            table.add_column(col, justify="right")
        for year in model.years:

            def value(kpi: str, year: int = year, form: str = form) -> float:
                return as_float(national.get((form, year, kpi), float("nan")))

            rate = value("occupancy_rate")
            table.add_row(
                str(year),
                nl.number(value("capacity_beds")),
                nl.number(value("occupied_beds"), 1),
                "geen bedden" if rate != rate else nl.percent(rate),
                nl.number(value("overflow_count"), 1),
                nl.euro(value("cost_eur")),
            )
        console.print(table)
    last = model.end_year
    costs = results.costs[results.costs["year"] == last]
    names = {str(k): str(v) for k, v in model.regions["name"].items()}
    keys = {"use": "naar gebruik", "inhabitants": "naar inwoners", "fixed": "vaste verdeling"}
    table = Table(title=f"Kostenverdeling van de pools in {last} (gemiddelde)")
    for col in ("pool", "verdeling", "regio", "aandeel", "kosten"):
        table.add_column(col, justify="left" if col in ("pool", "regio", "verdeling") else "right")
    for row in costs.itertuples():
        table.add_row(
            str(model.pools.at[row.pool, "name"]),
            keys.get(str(row.cost_key), str(row.cost_key)),
            names.get(str(row.region), str(row.region)),
            nl.percent(as_float(row.key_share)),
            nl.euro(as_float(row.mean)),
        )
    if len(costs):
        console.print(table)
    regions = nl.plural(len(model.region_ids), "regio", "regio's")
    console.print(
        f"{regions}, {nl.plural(len(model.pools), 'pool', 'pools')}: "
        f"{nl.plural(done.tasks, 'taak', 'taken')} ({done.executor}), "
        f"{nl.number(done.stays)} verblijven gesimuleerd in {nl.number(done.elapsed_s, 1)} s. "
        f"Resultaten in [bold]{out}[/]:"
    )
    for path in done.files.values():
        console.print(f"  {path}")


def main() -> None:
    """Entry point of the ``capaciteit`` command."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("onderbroken")
        sys.exit(130)


if __name__ == "__main__":
    main()
