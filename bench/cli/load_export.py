"""polebench load-export: an export's rows into an OpenSearch index, as a test instance of a
system under test would hold them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench.cli.common import console, progress_bar
from bench.corpus.load_opensearch import load_export

HELP = "load an export (polebench export, CSV) into an OpenSearch index through its REST API"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("load-export", help=HELP, description=HELP + (
        ": one document per row, each exported column a field as a plain search engine holds it, for "
        "`polebench run --backend http --backend-config adapters/opensearch-export.yaml` to search. The index "
        "is replaced."))
    p.add_argument("export", type=Path, help="the folder polebench export wrote")
    p.add_argument("--opensearch-url", default=None,
                   help="default: $POLEBENCH_OPENSEARCH_URL or http://127.0.0.1:9200")
    p.add_argument("--index", required=True, help="the index to (re)write, e.g. ci-export")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url = args.opensearch_url or os.environ.get("POLEBENCH_OPENSEARCH_URL") or "http://127.0.0.1:9200"
    with progress_bar(f"loading {args.export.name}", None) as advance:
        n = load_export(args.export, url, args.index, advance)
    console.print(f"{n:,} rows loaded into {args.index}")
    return 0
