"""polebench clean: remove the corpora and runs polebench wrote, and nothing else.

`make clean` calls it. It used to be `rm -rf corpora/*/ results`, which also took a user's own
folder put under corpora/ (raw files waiting for `polebench import`) and the search audit log
(results/audit.jsonl), which is a record to keep, not a cache."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bench.cli.common import console
from bench.corpus.store import clean_abandoned, our_corpus
from bench.errors import PolebenchError
from bench.run.results import read_results
from bench.run.store import clean_runs

HELP = "remove the corpora and run folders polebench wrote (keeping the audit log and anything else)"

# What a run folder holds once the run, its report, its explorer and its gates have written into
# it; a folder with anything else in it holds something of the user's and is kept.
RUN_ENTRIES = frozenset({"run.json", "audit.jsonl", "outcomes", "per_query.csv", "qrels.txt", "runs",
                         "report.md", "report.html", "report.pdf", "explorer.html", "junit.xml"})


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clean", help=HELP, description=HELP + (
        ". A corpus folder is removed when its manifest says polebench wrote it and it holds only what "
        "polebench writes there; a results folder when it holds a run.json polebench wrote and only what a "
        "run and its report write. What killed commands left half-written goes too, a killed run's partial "
        "folder (which --resume would have continued) among it, unless a process still holds that run. "
        "Everything else is kept and listed: the audit log of searches (results/audit.jsonl), sweeps, bench outputs, and "
        "any file or folder of yours."))
    p.add_argument("--corpora", type=Path, default=Path("corpora"), help="corpora root (default: %(default)s)")
    p.add_argument("--results", type=Path, default=Path("results"), help="results root (default: %(default)s)")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    p.set_defaults(func=run)


def is_corpus(folder: Path) -> bool:
    return our_corpus(folder) is not None


def is_run(folder: Path) -> bool:
    try:
        read_results(folder)
    except PolebenchError:
        return False
    return {e.name for e in folder.iterdir()} <= RUN_ENTRIES


def plan(corpora: Path, results: Path) -> tuple[list[Path], list[Path]]:
    """(to remove, kept): the folders directly under each root, sorted; symlinks are never followed."""
    remove: list[Path] = []
    kept: list[Path] = []
    for root, ours in ((corpora, is_corpus), (results, is_run)):
        for entry in sorted(root.iterdir()) if root.is_dir() else []:
            if entry.name.startswith("."):
                continue  # a half-written output: clean_abandoned decides, by its owner's lock
            if entry.is_dir() and not entry.is_symlink() and ours(entry):
                remove.append(entry)
            elif entry.is_dir() or root == results:
                kept.append(entry)  # corpus specs (*.yaml) beside the corpora are the project's own files
    return remove, kept


def run(args: argparse.Namespace) -> int:
    remove, kept = plan(args.corpora, args.results)
    for folder in remove:
        if not args.dry_run:
            shutil.rmtree(folder)
        console.print(f"{'would remove' if args.dry_run else 'removed'} {folder}")
    if not args.dry_run:
        for left in [*clean_abandoned(args.corpora), *clean_abandoned(args.results), *clean_runs(args.results)]:
            console.print(f"removed {left} (left by a killed command, or a run's lock)")
    for entry in kept:
        console.print(f"kept {entry} (not a corpus or run folder polebench wrote; delete it yourself if you mean to)")
    return 0
