"""polebench solr-node: a real Apache Solr node on loopback, from Maven artifacts, to load an
export into and measure through adapters/solr-export.yaml."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import solr_node as node
from bench.cli.common import console
from bench.errors import BackendError

HELP = "start, stop or check a local Apache Solr 9.10 node built from Maven artifacts (no Solr install needed)"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solr-node", help=HELP, description=HELP + (
        ". Needs Java 17 and Maven; the first start builds tools/solr-node (cached). The node runs standalone "
        "on Solr's embedded Jetty, listens on 127.0.0.1 on a free port (or --port), without authentication: "
        "for local benchmarking only. Its cores live in its Solr home (--home; default $POLEBENCH_SOLR_HOME "
        "or solr-data/ in the polebench folder), which stop leaves in place for the next start; a folder "
        "holding files polebench did not write is refused. Load an export into it with "
        "`polebench load-export EXPORT --engine solr --index CORE`, using the printed address or "
        "POLEBENCH_SOLR_URL."))
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--home", type=Path, default=node.HOME, help=f"the node's Solr home (default: {node.HOME})")
    p.add_argument("--port", type=int, help="HTTP port (default: a free one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "start":
        info = node.start(args.home, port=args.port)
        console.print(f"Solr node up at {info.url} (pid {info.pid}, home {info.home}, log {info.log})", soft_wrap=True)
        console.print(f"export POLEBENCH_SOLR_URL={info.url}", soft_wrap=True)
        return 0
    if args.action == "stop":
        console.print("stopped (its cores stay in its home)" if node.stop(args.home) else "no node was running")
        return 0
    info = node.status(args.home)
    if not info:
        console.print("not running")
        return BackendError.exit_code  # 1 would read as a failed gate
    cores = node.cores(info.url)
    console.print(f"Solr node up at {info.url} (pid {info.pid}, home {info.home}); cores: "
                  + (", ".join(f"{c} ({n:,} documents)" for c, n in cores.items()) or "none"), soft_wrap=True)
    return 0
