"""A real OpenSearch node, or a cluster of them, for machines without Docker: built once from
OpenSearch's Maven artifacts (tools/opensearch-node), started in the background on free loopback
ports (a cluster's nodes find each other there), waited for until every node has joined and the
cluster is healthy (yellow is normal for one node), and stopped cleanly."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import jvm_node as jvm
from bench.errors import BackendError, PolebenchError
from bench.jvm_node import free_port, missing_tools  # noqa: F401  (part of this module's interface)

TOOL = jvm.TOOLS / "opensearch-node"
STATE = Path(os.environ.get("POLEBENCH_STATE", Path.home() / ".cache" / "polebench")) / "opensearch-node"
JVM_OPTS = ["-Dopensearch.set.netty.runtime.available.processors=false"]
HEAP = ["-Xms512m", "-Xmx1g"]  # one node; each node of a cluster has the same: three fit in 3 GB


@dataclass
class NodeInfo:
    pid: int
    url: str
    home: str
    log: str


@dataclass
class ClusterInfo:
    """The nodes started together (one, or a cluster on loopback)."""
    nodes: list[NodeInfo]
    home: str

    @property
    def url(self) -> str:
        """Every node's address, comma separated: the backend sends to any that answers."""
        return ",".join(n.url for n in self.nodes)

    @property
    def pid(self) -> int:
        return self.nodes[0].pid

    @property
    def log(self) -> str:
        return self.nodes[0].log

    def dump(self) -> str:
        return json.dumps({"home": self.home, "nodes": [n.__dict__ for n in self.nodes]})

    @classmethod
    def load(cls, text: str) -> "ClusterInfo":
        d = json.loads(text)
        if "nodes" not in d:  # a single node's file as an earlier version wrote it
            return cls([NodeInfo(**d)], d["home"])
        return cls([NodeInfo(**n) for n in d["nodes"]], d["home"])


def build() -> list[str]:
    """Compile the launcher and resolve its classpath, once per launcher version; return the classpath."""
    return jvm.build(TOOL, "OpenSearch node")


def health(url: str, timeout: float = 2.0) -> str | None:
    """green, yellow or red from the first node of `url` (comma-separated) that answers."""
    h = cluster_health(url, timeout)
    return h["status"] if h else None


def cluster_health(url: str, timeout: float = 2.0) -> dict | None:
    """The cluster's health as the first answering node reports it, or None."""
    for u in url.split(","):
        try:
            with urllib.request.urlopen(f"{u}/_cluster/health", timeout=timeout) as r:
                return json.loads(r.read())
        except Exception:
            continue
    return None


def start(port: int | None = None, timeout: float = 180.0, state: Path = STATE, nodes: int = 1) -> ClusterInfo:
    """Start a node, or `nodes` nodes as one cluster on loopback, each with a fresh data folder
    and a heap of its own, and wait until every node has joined and the cluster answers yellow
    or green. A cluster already running is returned as it is."""
    current = status(state)
    if current:
        return current
    if nodes < 1:
        raise PolebenchError(f"--nodes {nodes}: at least one node")
    cp = build()
    home = Path(tempfile.mkdtemp(prefix="polebench-opensearch-"))
    ports = jvm.free_ports(2 * nodes if nodes > 1 else 1)  # a cluster's nodes find each other by transport port
    http = [port or ports[0], *ports[1:nodes]]
    transport = ports[nodes:]
    names = [f"polebench-{i + 1}" for i in range(nodes)]
    procs, infos = [], []
    for i in range(nodes):
        d = home / names[i] if nodes > 1 else home
        d.mkdir(exist_ok=True)
        extra = ([names[i], str(transport[i]), ",".join(f"127.0.0.1:{t}" for t in transport), ",".join(names)]
                 if nodes > 1 else [])
        proc = jvm.launch(cp, "polebench.PolebenchNode", [str(d), str(http[i]), str(d / "ready"), *extra],
                          d / "node.log", HEAP + JVM_OPTS)
        procs.append(proc)
        infos.append(NodeInfo(proc.pid, f"http://127.0.0.1:{http[i]}", str(d), str(d / "node.log")))
    info = ClusterInfo(infos, str(home))
    deadline = time.monotonic() + timeout * (1 + (nodes - 1) / 2)  # two cores start them in turn
    while time.monotonic() < deadline:
        for proc, n in zip(procs, infos):
            if proc.poll() is not None:
                _stop_all(info)
                raise BackendError(f"the OpenSearch node {n.url} exited during start-up:\n{jvm.tail(n.log)}")
        h = cluster_health(info.url)
        if (all((Path(n.home) / "ready").exists() for n in infos) and h
                and h["status"] in ("yellow", "green") and h["number_of_nodes"] == nodes):
            state.mkdir(parents=True, exist_ok=True)
            (state / "node.json").write_text(info.dump())
            return info
        time.sleep(0.5)
    _stop_all(info)
    raise BackendError(f"the OpenSearch node(s) did not become healthy in {timeout:.0f} s:\n{jvm.tail(infos[0].log)}")


def status(state: Path = STATE) -> ClusterInfo | None:
    """What was started, while at least one of its nodes is alive and answers."""
    f = state / "node.json"
    if not f.is_file():
        return None
    info = ClusterInfo.load(f.read_text())
    alive = [n for n in info.nodes if jvm.alive(n.pid)]
    if alive and cluster_health(",".join(n.url for n in alive)):
        return info
    return None


def _stop_all(info: ClusterInfo) -> None:
    for n in info.nodes:  # SIGTERM to all first: they shut down side by side
        jvm.signal_group(n.pid)
    for n in info.nodes:
        jvm.terminate(n.pid)
    shutil.rmtree(info.home, ignore_errors=True)


def stop(state: Path = STATE) -> bool:
    f = state / "node.json"
    if not f.is_file():
        return False
    _stop_all(ClusterInfo.load(f.read_text()))
    f.unlink()
    return True
