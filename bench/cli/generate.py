"""polebench generate: build a synthetic corpus from a spec."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from bench.cli.common import console, corpus_dir_for, positive_int, progress_bar
from bench.corpus.generate import generate, load_spec
from bench.corpus.store import Manifest

HELP = "generate a synthetic POLE corpus (records + separate truth) from a spec YAML"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help=HELP, description=HELP + (
        ". Writes corpora/<name>/ (manifest.json, records.jsonl.gz, truth/) atomically: "
        "an interrupted run leaves nothing half-written. Same spec and seed give byte-identical files."))
    p.add_argument("spec", type=Path, help="corpus spec, e.g. corpora/ci.yaml")
    p.add_argument("--out", type=Path, help="output folder (default: the spec path without .yaml)")
    p.add_argument("--workers", type=positive_int, default=None, help="processes (default: all cores)")
    p.add_argument("--force", action="store_true",
                   help="replace the output folder even if it holds something other than this corpus")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    out = args.out or corpus_dir_for(args.spec)
    with progress_bar(f"generating {spec.name}", spec.records) as advance:
        manifest = generate(spec, out, workers=args.workers, progress=advance, force=args.force)
    print_summary(manifest, out)
    return 0


def print_summary(m: Manifest, out: Path) -> None:
    made = f"seed {m.seed}" if m.seed is not None else f"{m.origin}; licence: {m.licence}"
    console.print(f"[bold]{m.name}[/] -> {out}  ({'SYNTHETIC data' if m.synthetic else 'NOT synthetic'}, {made})")
    t = Table(title="records per source system")
    t.add_column("source")
    t.add_column("records", justify="right")
    for k, v in m.counts["per_source"].items():
        t.add_row(k, f"{v:,}")
    console.print(t)
    t = Table(title="mentions per entity type")
    t.add_column("type")
    t.add_column("mentions", justify="right")
    for k, v in m.counts["mentions"].items():
        t.add_row(k, f"{v:,}")
    console.print(t)
    t = Table(title="corruptions applied (eligible mentions)")
    t.add_column("kind")
    t.add_column("applied", justify="right")
    t.add_column("eligible", justify="right")
    t.add_column("hidden later", justify="right")
    kinds: dict[str, list[int]] = {}
    for per in m.corruption.values():
        for k, c in per.items():
            kinds.setdefault(k, [0, 0, 0])
            kinds[k][0] += c.applied
            kinds[k][1] += c.eligible
            kinds[k][2] += c.hidden
    for k, (a, e, hid) in kinds.items():
        t.add_row(k, f"{a:,}", f"{e:,}", f"{hid:,}")
    if kinds:  # an imported corpus has no corruption of ours: its errors came with it
        console.print(t)
    if "entities" in m.counts:
        console.print("true entities: " + ", ".join(f"{v:,} {k}" for k, v in m.counts["entities"].items()))
