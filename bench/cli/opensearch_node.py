"""polebench opensearch-node: a real OpenSearch node without Docker, from Maven artifacts."""

from __future__ import annotations

import argparse

from bench import opensearch_node as node
from bench.cli.common import console
from bench.errors import BackendError

HELP = "start, stop or check a local OpenSearch 2.19 node built from Maven artifacts (no Docker needed)"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("opensearch-node", help=HELP, description=HELP + (
        ". Needs Java 17 and Maven; the first start builds tools/opensearch-node (cached). The node "
        "listens on 127.0.0.1 on a free port, keeps its data in a temporary folder, and runs without "
        "the security plugin: for local benchmarking only. Use the printed URL with "
        "`polebench run --backend opensearch --opensearch-url URL` or POLEBENCH_OPENSEARCH_URL."))
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--port", type=int, help="HTTP port (default: a free one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "start":
        info = node.start(port=args.port)
        console.print(f"OpenSearch node up at {info.url} (pid {info.pid}, log {info.log})")
        console.print(f"export POLEBENCH_OPENSEARCH_URL={info.url}")
        return 0
    if args.action == "stop":
        console.print("stopped" if node.stop() else "no node was running")
        return 0
    info = node.status()
    console.print(f"running at {info.url} (pid {info.pid})" if info else "not running")
    return 0 if info else BackendError.exit_code  # 1 would read as a failed gate
