"""polebench import: an external record set with its truth, as a corpus folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.common import console, progress_bar
from bench.cli.generate import print_summary
from bench.corpus.importer import import_records

HELP = "import an external CSV/JSONL record set whose rows name their true entity, as a corpus folder"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help=HELP, description=HELP + (
        ". The mapping YAML says which column is which POLE field and how to find each row's true "
        "entity (a column, or a regex over one); see corpora/import-example.yaml. Written fields are "
        "kept as written; the result works with queries, run, report and every backend unchanged, and "
        "queries/imported.yaml asks what such a file can answer (people by name and date of birth, by "
        "name alone, subject access)."))
    p.add_argument("source", type=Path, help="file.csv, file.jsonl or either .gz")
    p.add_argument("--map", type=Path, required=True, dest="mapping", help="mapping YAML")
    p.add_argument("--name", required=True, help="corpus name (folder corpora/<name> unless --out)")
    p.add_argument("--out", type=Path, help="output folder (default: corpora/<name>)")
    p.add_argument("--force", action="store_true",
                   help="replace the output folder even if it holds something other than this corpus")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.out or Path("corpora") / args.name
    with progress_bar(f"importing {args.source.name}", None) as advance:
        manifest, skipped, reasons = import_records(args.source, args.mapping, args.name, out, advance,
                                                    force=args.force, option="--out" if args.out else "--name")
    print_summary(manifest, out)
    blanked = manifest.counts.get("blanked_fields", 0)
    if skipped or blanked:
        said = [f"{skipped} rows skipped (on_error: skip)"] if skipped else []
        said += [f"{blanked} fields left blank in rows kept (on_error: blank)"] if blanked else []
        console.print(f"[yellow]{'; '.join(said)}[/]; first ones:")
        for r in reasons:
            console.print(f"  {r}")
    return 0
