"""polebench gate: fail the build when a run crosses a threshold; write JUnit XML."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from bench.cli.common import console
from bench.errors import GateFailed, PolebenchError
from bench.gates import junit
from bench.gates.rules import evaluate, load_gates
from bench.run.incomplete import require_complete
from bench.run.results import input_differences, read_results, run_inputs

HELP = "check a finished run against gate thresholds; exit 1 if any fails; write JUnit XML"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help=HELP, description=HELP + ". See gates.example.yaml for the format.")
    p.add_argument("run_dir", type=Path, help="a results/<run-id> folder")
    p.add_argument("--gates", type=Path, required=True, help="gates YAML, e.g. gates.example.yaml")
    p.add_argument("--previous", type=Path, help="an earlier run folder, for max_increase / max_decrease gates")
    p.add_argument("--allow-different-inputs", action="store_true",
                   help="compare with a previous run on another corpus or query set all the same; every relative "
                        "gate's outcome then says so")
    p.add_argument("--junit", type=Path, help="JUnit XML path (default: <run_dir>/junit.xml)")
    p.add_argument("--partial", action="store_true",
                   help="gate a run whose searches did not all succeed, on the needs it completed (refused otherwise)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    current = read_results(args.run_dir)
    require_complete(current, args.run_dir, args.partial, "gate")
    previous = read_results(args.previous) if args.previous else None
    if previous is not None:
        require_complete(previous, args.previous, args.partial, "gate")
    gates = load_gates(args.gates, current)
    diffs = input_differences(run_inputs(current), run_inputs(previous), "the previous run") if previous else []
    if diffs and not args.allow_different_inputs:
        raise PolebenchError(f"{args.previous}: not a run of the same needs on the same records, so a change "
                             f"against it is no regression: " + "; ".join(diffs)
                             + ". Compare with a run on the same corpus and query set, or pass --allow-different-inputs")
    outcomes = evaluate(gates, current, previous, caveat=("DIFFERENT INPUTS (" + "; ".join(diffs) + "): ") if diffs else "")
    junit.write(args.junit or args.run_dir / "junit.xml", outcomes, f"polebench gates: {current.run_id}"
                + (" (PARTIAL: an incomplete run)" if current.failed else ""))
    t = Table(title=f"gates ({args.gates})")
    for col in ("gate", "status", "detail"):
        t.add_column(col)
    colour = {"passed": "green", "failed": "red", "skipped": "yellow"}
    for o in outcomes:
        t.add_row(escape(o.gate.name), f"[{colour[o.status]}]{o.status}[/]", escape(o.message))
    console.print(t)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise GateFailed(f"{len(failed)} of {len(outcomes)} gates failed: " + ", ".join(o.gate.name for o in failed))
    return 0
