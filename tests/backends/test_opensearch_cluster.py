"""A three-node OpenSearch cluster on loopback (`make test-cluster`, which CI runs after `make
test`): with a replica of every shard, a node killed mid-run loses nothing; the run completes on
the two nodes left with the embedded backend's results."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bench import opensearch_node as node
from bench.backends.opensearch import OpenSearchBackend
from bench.backends.registry import open_backend
from bench.run.runner import RunSettings, run_benchmark

PROFILES = ["crimint", "connect", "iip", "connect+iip"]
KILL_AT = 120  # the request at which a node is killed: well into the run (about 550 on ci)

NODES = int(os.environ.get("POLEBENCH_TEST_OPENSEARCH_NODES") or 1)  # as tests/conftest.py reads it
pytestmark = pytest.mark.skipif(NODES < 3, reason="runs in `make test-cluster` "
                                "(POLEBENCH_TEST_OPENSEARCH_NODES=3): it starts a cluster of its own")


def _run(ci_corpus, inst: Path, backend: str, results: Path, **options) -> object:
    return run_benchmark(RunSettings(corpus=ci_corpus.root, instance=inst, profiles=PROFILES, backend=backend,
                                     results=results, backend_options=options))


def test_a_node_killed_mid_run_loses_nothing(ci_corpus, shipped_instance, tmp_path, monkeypatch):
    if node.missing_tools():
        pytest.skip("needs Java and Maven")
    inst = shipped_instance(ci_corpus, "standard")
    embedded = _run(ci_corpus, inst, "embedded", tmp_path / "embedded")
    state = tmp_path / "state"
    info = node.start(state=state, nodes=3)
    try:
        opts = {"url": info.url, "shards": "3", "replicas": "1"}
        b = open_backend("opensearch", ci_corpus, **opts)
        b.prepare()
        health = b.client.cluster.health()
        assert health["status"] == "green" and health["active_shards"] == 2 * 3 * 2  # 2 indexes, 3 shards, 2 copies
        # the node holding the first primary of the records index: its shards fail over to replicas
        shards = b.client.cat.shards(index=b.index["record"], format="json")
        victim_name = next(s["node"] for s in shards if s["shard"] == "0" and s["prirep"] == "p")
        victim = info.nodes[int(victim_name.rsplit("-", 1)[1]) - 1]
        real = OpenSearchBackend._msearch
        calls = {"n": 0}

        def killing(self, pairs):
            calls["n"] += 1
            if calls["n"] == KILL_AT:
                os.killpg(victim.pid, signal.SIGKILL)
            return real(self, pairs)
        monkeypatch.setattr(OpenSearchBackend, "_msearch", killing)
        run = _run(ci_corpus, inst, "opensearch", tmp_path / "cluster", **opts)
        assert calls["n"] > KILL_AT and not node.health(victim.url)  # the kill happened mid-run
        after = b.client.cluster.health()
        assert after["number_of_nodes"] == 2
    finally:
        node.stop(state=state)
    assert run.failed == 0
    for profile in PROFILES:
        assert ((run.dir / "runs" / f"{profile}.run").read_bytes()
                == (embedded.dir / "runs" / f"{profile}.run").read_bytes()), profile
