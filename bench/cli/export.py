"""polebench export: a corpus's records as files a system under test loads."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from bench.cli.common import console, progress_bar
from bench.corpus.export import export_corpus
from bench.corpus.store import Corpus

HELP = "export a corpus's records (never its truth) as one CSV or JSON Lines file per source system"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help=HELP, description=HELP + (
        ", for a test instance of a real system to load. The export mapping YAML says which field goes to "
        "which column, date formats, name order and how several people of one record are laid out; see "
        "corpora/export-example.yaml. Every row carries the polebench record id, so that what the system "
        "returns maps back (polebench run --backend http)."))
    p.add_argument("--corpus", type=Path, required=True, help="corpus folder, e.g. corpora/ci")
    p.add_argument("--map", type=Path, required=True, dest="mapping", help="export mapping YAML")
    p.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier export)")
    p.add_argument("--force", action="store_true",
                   help="replace the output folder even if it holds files polebench did not write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    corpus = Corpus(args.corpus)
    with progress_bar(f"exporting {corpus.name}", corpus.manifest.counts.get("records")) as advance:
        made = export_corpus(args.corpus, args.mapping, args.out, force=args.force, progress=advance)
    t = Table(title=f"{corpus.name} -> {args.out}")
    for col in ("file", "source system", "records", "rows"):
        t.add_column(col, justify="left" if col in ("file", "source system") else "right")
    for name, f in made["files"].items():
        t.add_row(name, f["source"], f"{f['records']:,}", f"{f['rows']:,}")
    console.print(t)
    console.print(made["note"])
    return 0
