"""polebench bench: speed and memory benchmarks (pytest-benchmark), apart from the tests."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from bench.cli.common import console
from bench.errors import PolebenchError
from bench.scale import STAGES

HELP = "run the speed benchmarks (pytest-benchmark) and write their JSON under results/"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help=HELP, description=HELP + (
        ". Targets (2-core machine): generate the 1M-record `large` corpus in <= 20 s, index it in "
        "<= 20 s, 1,000 needs x 4 profiles in <= 60 s, harness overhead <= 1.5x the bare engine, "
        "run bookkeeping <= 20% of engine time, import a 1M-row CSV in about the time the csv module "
        "takes to read it. Figures are reported as ratios measured in one run."))
    p.add_argument("--scale", choices=("ci", "default", "large", "huge"), default="large",
                   help="corpus to benchmark on (default: %(default)s; `ci` is a quick smoke run; `huge`, 10M "
                        "records, measures the stages only, see --stages)")
    p.add_argument("--stages", nargs="?", const=",".join(STAGES), metavar="LIST",
                   help="instead of the benchmark suite, measure what each stage costs on the scale's corpus "
                        "(wall time, CPU time, peak memory of its processes together (PSS), disk left behind), each in a "
                        f"process of its own: some of {','.join(STAGES)} (default: all; always so for huge). "
                        "The corpus and its results go under results/bench-corpora/")
    p.add_argument("--benchmarks", type=Path, default=Path("benchmarks"), help="benchmark folder (default: %(default)s)")
    p.add_argument("--out", type=Path, help="JSON path (default: results/bench-<scale>-<time>.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.scale == "huge" or args.stages:
        return _stages(args)
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


def _stages(args: argparse.Namespace) -> int:
    import json

    from rich.table import Table

    from bench.scale import as_json, run_stages
    stages = tuple(s.strip() for s in (args.stages or ",".join(STAGES)).split(",") if s.strip())
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise PolebenchError(f"--stages: unknown stage {unknown[0]!r}; the stages are {', '.join(STAGES)}")
    spec = Path("corpora") / f"{args.scale}.yaml"
    if not spec.is_file():
        raise PolebenchError(f"{spec}: corpus spec not found (run from the repository root)")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("results") / f"bench-stages-{args.scale}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    root = Path("results") / "bench-corpora"
    root.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    console.print(f"stages {', '.join(stages)} on {spec}; their output goes to {log}")
    costs = run_stages(spec, root, stages, log, report=lambda c: console.print(
        f"{c.stage}: {c.wall_s:.1f} s wall, {c.cpu_s:.1f} s CPU, peak {c.peak_mem_mb:,.0f} MB, "
        f"disk {c.disk_mb:,.0f} MB, exit {c.exit_code}"))
    out.write_text(json.dumps(as_json(spec, costs), indent=2) + "\n")
    t = Table(title=f"stage costs, {args.scale} (one run each; load = 1-minute load average at the start)")
    for col in ("stage", "wall s", "CPU s", "peak memory MB", "disk MB", "load"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    for c in costs:
        t.add_row(c.stage, f"{c.wall_s:.1f}", f"{c.cpu_s:.1f}", f"{c.peak_mem_mb:,.0f}", f"{c.disk_mb:,.0f}",
                  f"{c.load_before:.1f}")
    console.print(t)
    console.print(f"stage JSON: {out}")
    failed = next((c for c in costs if c.exit_code), None)
    if failed:
        console.print(f"[red]{failed.stage} failed (exit {failed.exit_code}); see {log}[/red]")
        return failed.exit_code
    return 0


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
