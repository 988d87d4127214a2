"""Quarterly realisation report of the example region: total time and the PDF's time.

Runs :func:`capaciteit.pipelines.realisation.realisation_report` on the example's two
synthetic quarters (``models/voorbeeldregio-realisatie/``) with the default 200
replications for the band, then lays the same HTML report out as a PDF ``--repeat`` more
times (WeasyPrint only) and keeps the best. Prints the steps' times, the PDF's pages and
size, and a final ``RESULT`` line. No target is asserted.

    .venv/bin/python bench/realisation.py [--replications 200] [--repeat 3]
        [--executor serial|processes] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from capaciteit.pipelines.realisation import realisation_report
from capaciteit.realisation.pdf import write_pdf
from capaciteit.simulation.executors import make_executor

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "models" / "voorbeeldregio-realisatie"
SCENARIO = ROOT / "simulations" / "voorbeeldregio-transformatie.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--executor", default="serial")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="realisation-bench-"))
    actuals = sorted(EXAMPLE.glob("realisatie-*.xlsx"))
    started = time.perf_counter()
    done = realisation_report(
        SCENARIO,
        EXAMPLE / "afgesproken_plan.csv",
        actuals,
        out,
        replications=args.replications,
        executor=make_executor(args.executor),
    )
    total = time.perf_counter() - started
    html = done.files["html"].read_text(encoding="utf-8")
    times = [done.pdf_s]
    for _ in range(args.repeat):
        t = time.perf_counter()
        write_pdf(html, out / "again.pdf")
        times.append(time.perf_counter() - t)
    pages = "?"
    try:
        from pypdf import PdfReader

        pages = str(len(PdfReader(done.files["pdf"]).pages))
    except ImportError:  # pragma: no cover - pypdf is in the dev extra
        pass
    size_kb = done.files["pdf"].stat().st_size / 1000
    off = done.comparison[~done.comparison["on_track"].astype(bool)]
    print(f"quarters: {', '.join(p.name for p in actuals)}; results in {out}")
    print(f"band: {args.replications} replications on {args.executor}")
    print(f"{'step':<34}{'seconds':>10}")
    print(f"{'whole report (pipeline)':<34}{total:>10.2f}")
    print(f"{'  of which the PDF (first)':<34}{done.pdf_s:>10.2f}")
    for i, t in enumerate(times[1:], start=1):
        print(f"{f'  PDF again ({i})':<34}{t:>10.2f}")
    print(f"PDF: {pages} pages, {size_kb:.0f} kB; rows not on course: {len(off)}")
    print(
        f"RESULT pdf_best_s={min(times):.2f} pdf_first_s={done.pdf_s:.2f} "
        f"report_s={total:.2f} replications={args.replications} pages={pages}"
    )


if __name__ == "__main__":
    main()
