"""polebench load-export: an export's rows into a search engine (an OpenSearch index, a Solr core),
as a test instance of a system under test would hold them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench.cli.common import console, progress_bar
from bench.corpus.load_export import ENGINES, load_export

HELP = "load an export (polebench export) into an OpenSearch index or a Solr core through its REST API"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("load-export", help=HELP, description=HELP + (
        ": one document per row, each exported column a field as a plain search engine holds it, for "
        "`polebench run --backend http --backend-config adapters/<engine>-export.yaml` to search. The index "
        "or core is replaced only where load-export made it; one of any other making is refused and kept."))
    p.add_argument("export", type=Path, help="the folder polebench export wrote")
    p.add_argument("--engine", choices=sorted(ENGINES), default="opensearch",
                   help="the engine to load into (default: opensearch)")
    p.add_argument("--url", "--opensearch-url", dest="url", default=None, help=(
        "the engine's address; default: " + "; ".join(f"{e.name}: ${e.url_env} or {e.default_url}"
                                                      for e in ENGINES.values())))
    p.add_argument("--index", required=True, help="the OpenSearch index or Solr core to (re)write, e.g. ci-export")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = ENGINES[args.engine]
    url = args.url or os.environ.get(engine.url_env) or engine.default_url
    with progress_bar(f"loading {args.export.name}", None) as advance:
        n = load_export(args.export, url, args.index, advance, engine=engine.name)
    console.print(f"{n:,} rows loaded into the {engine.name} {engine.index_word} {args.index}")
    return 0
