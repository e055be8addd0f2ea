"""polebench sweep: how the headlines move with data quality, size, name skew and each assumption."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from bench.cli.common import console, positive_int, progress_bar
from bench.cli.run import last_line
from bench.sweep.runner import run_sweep

HELP = "run the same needs over a grid of corpora and profile variants; write CSV, charts and a summary"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help=HELP, description=HELP + (
        ". Axes: corpus size, corruption scale, one corruption kind at a time, surname skew, and any "
        "profile property. One factor at a time unless the file says design: full_grid. Corpora and "
        "indexes are cached by spec checksum; finished cells are reused, so a sweep resumes. "
        "See sweeps/example.yaml."))
    p.add_argument("sweep", type=Path, help="sweep YAML, e.g. sweeps/example.yaml")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--workers", type=positive_int, help="parallel cells (default: all cores)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        def progress(label: str, total: int):
            return stack.enter_context(progress_bar(label, total))
        res = run_sweep(args.sweep, args.results, args.workers, progress)
    from bench.sweep.report import compared, sentences
    for line in sentences(res.rows, *compared(res.sweep)):
        console.print(f"- {line}")
    console.print(f"table: {res.dir / 'sweep.csv'}  summary: {res.dir / 'sweep.md'}")
    console.print(f"sweep: {res.dir}  (add it to a report: polebench report <run-dir> --sweep {res.dir})")
    last_line(res.dir)
    return 0
