"""polebench bench: speed and memory benchmarks (pytest-benchmark), apart from the tests."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from bench.cli.common import console
from bench.errors import PolebenchError

HELP = "run the speed benchmarks (pytest-benchmark) and write their JSON under results/"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help=HELP, description=HELP + (
        ". Targets (2-core machine): generate the 1M-record `large` corpus in <= 60 s, index it in "
        "<= 60 s, 1,000 needs x 4 profiles in <= 60 s, harness overhead <= 1.5x the bare engine, "
        "run bookkeeping <= 20% of engine time, import a 1M-row CSV in about the time the csv module "
        "takes to read it. Figures are reported as ratios measured in one run."))
    p.add_argument("--scale", choices=("ci", "default", "large"), default="large",
                   help="corpus to benchmark on (default: %(default)s; `ci` is a quick smoke run)")
    p.add_argument("--benchmarks", type=Path, default=Path("benchmarks"), help="benchmark folder (default: %(default)s)")
    p.add_argument("--out", type=Path, help="JSON path (default: results/bench-<scale>-<time>.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pytest
    if not args.benchmarks.is_dir():
        raise PolebenchError(f"{args.benchmarks}: benchmark folder not found (run from the repository root)")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("results") / f"bench-{args.scale}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    os.environ["POLEBENCH_BENCH_SCALE"] = args.scale
    code = pytest.main([str(args.benchmarks), "-q", "-s", "-p", "no:cacheprovider", "--benchmark-only",
                        f"--benchmark-json={out}", "-o", "addopts=", "--benchmark-columns=min,mean,rounds"])
    if out.is_file():
        _print_figures(out)
    console.print(f"benchmark JSON: {out}")
    return int(code)


def _print_figures(path: Path) -> None:
    import json
    from rich.table import Table
    t = Table(title="benchmark figures (ratios measured in one run)")
    t.add_column("benchmark")
    t.add_column("seconds (median)", justify="right")
    t.add_column("figures")
    for b in json.loads(path.read_text())["benchmarks"]:
        info = ", ".join(f"{k}={_figure(v)}" for k, v in b["extra_info"].items())
        t.add_row(b["name"], f"{b['stats']['median']:.2f}", info)
    console.print(t)


def _figure(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return "[" + ", ".join(_figure(x) for x in v) + "]"
    return str(v)
