"""polebench queries: instantiate a query set against a corpus and judge relevance from truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from bench.cli.common import console
from bench.corpus.store import Corpus
from bench.profiles.coverage import ENOUGH, Coverage, coverage
from bench.profiles.model import ProfileSet, shipped_names
from bench.queries.instantiate import instance_dir, instantiate, summary, write_instance

HELP = "instantiate a query set against a corpus; write concrete needs and TREC qrels"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queries", help=HELP, description=HELP + (
        ". Templates sample targets with the set's seed; relevance is judged from the corpus "
        "truth only. Output: corpora/<name>/queries/<set>/ (needs.jsonl, qrels.txt, meta.json)."))
    p.add_argument("query_set", type=Path, help="query set YAML, e.g. queries/standard.yaml")
    p.add_argument("--corpus", type=Path, required=True, help="corpus folder, e.g. corpora/ci")
    p.add_argument("--coverage", action="store_true",
                   help="also print which profile capabilities the needs exercise, and how often (a need "
                        "exercises a capability when its plan changes without it)")
    p.add_argument("--profiles", default=None,
                   help="profiles whose capabilities --coverage counts (default: every shipped profile)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    corpus = Corpus(args.corpus)
    inst = instantiate(args.query_set, corpus)
    out = instance_dir(corpus, inst.meta["query_set"])
    write_instance(out, inst)
    t = Table(title=f"{inst.meta['query_set']} on {corpus.name}: relevant records per query (from truth)")
    for col in ("kind", "queries", "min", "median", "max"):
        t.add_column(col, justify="right" if col != "kind" else "left")
    for kind, s in summary(inst).items():
        t.add_row(kind, str(s["queries"]), str(s["min"]), f"{s['median']:g}", str(s["max"]))
    console.print(t)
    console.print(f"wrote {out}")
    if args.coverage:
        names = [x.strip() for x in args.profiles.split(",") if x.strip()] if args.profiles else shipped_names()
        print_coverage(coverage(inst.needs, ProfileSet(names)), len(inst.needs))
    return 0


def print_coverage(cov: Coverage, total: int) -> None:
    t = Table(title=f"capabilities exercised by the {total} needs (a need exercises a capability when "
                    f"its plan changes without it)")
    for col in ("field", "mode", "declared by", "needs", "share"):
        t.add_column(col, justify="right" if col in ("needs", "share") else "left")
    for (field, mode), by in cov.declared_by.items():
        k = cov.count((field, mode))
        t.add_row(field, mode, ", ".join(by), f"[red]{k}[/]" if k < ENOUGH else str(k), f"{k / total:.0%}" if total else "")
    console.print(t)
    short = [f"{f}:{m}" for (f, m) in cov.declared_by if cov.count((f, m)) < ENOUGH]
    if short:
        console.print(f"[yellow]{len(short)} capabilities exercised by fewer than {ENOUGH} needs "
                      f"(too few for a confidence interval):[/] {', '.join(short)}")
