"""polebench opensearch-node: a real OpenSearch node, or a cluster on loopback, without Docker,
from Maven artifacts."""

from __future__ import annotations

import argparse

from bench import opensearch_node as node
from bench.cli.common import console
from bench.errors import BackendError

HELP = "start, stop or check local OpenSearch 2.19 nodes built from Maven artifacts (no Docker needed)"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("opensearch-node", help=HELP, description=HELP + (
        ". Needs Java 17 and Maven; the first start builds tools/opensearch-node (cached). Nodes "
        "listen on 127.0.0.1 on free ports, keep their data in a temporary folder, and run without "
        "the security plugin: for local benchmarking only. With --nodes N they form one cluster "
        "(discovery on loopback; 1 GB heap each). Use the printed address with "
        "`polebench run --backend opensearch --opensearch-url URL` or POLEBENCH_OPENSEARCH_URL."))
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--port", type=int, help="HTTP port of the first node (default: a free one)")
    p.add_argument("--nodes", type=int, default=1, help="nodes to start as one cluster (default: 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "start":
        info = node.start(port=args.port, nodes=args.nodes)
        for n in info.nodes:
            console.print(f"OpenSearch node up at {n.url} (pid {n.pid}, log {n.log})", soft_wrap=True)
        console.print(f"export POLEBENCH_OPENSEARCH_URL={info.url}", soft_wrap=True)
        return 0
    if args.action == "stop":
        console.print("stopped" if node.stop() else "no node was running")
        return 0
    info = node.status()
    if not info:
        console.print("not running")
        return BackendError.exit_code  # 1 would read as a failed gate
    h = node.cluster_health(info.url) or {}
    console.print(f"cluster {h.get('cluster_name')}: {h.get('status')}, {h.get('number_of_nodes')} of "
                  f"{len(info.nodes)} node(s) joined, {h.get('active_shards')} active shards "
                  f"({h.get('unassigned_shards')} unassigned)")
    for n in info.nodes:
        console.print(f"  {n.url} (pid {n.pid}): {'up' if node.health(n.url) else 'down'}")
    return 0
