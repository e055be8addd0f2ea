"""polebench queries: instantiate a query set against a corpus and judge relevance from truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from bench.cli.common import console
from bench.corpus.store import Corpus
from bench.queries.instantiate import instance_dir, instantiate, summary, write_instance

HELP = "instantiate a query set against a corpus; write concrete needs and TREC qrels"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queries", help=HELP, description=HELP + (
        ". Templates sample targets with the set's seed; relevance is judged from the corpus "
        "truth only. Output: corpora/<name>/queries/<set>/ (needs.jsonl, qrels.txt, meta.json)."))
    p.add_argument("query_set", type=Path, help="query set YAML, e.g. queries/standard.yaml")
    p.add_argument("--corpus", type=Path, required=True, help="corpus folder, e.g. corpora/ci")
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
    return 0
