"""The ports the local search-engine nodes are started on (no JVM is started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import jvm_node as jvm
from bench import opensearch_node


def test_ports_chosen_together_are_all_different():
    """Linux gives bind() a random port of the odd half of its ephemeral range (about 14,000), and
    one let go may be given again: chosen one at a time, 500 ports held about ten repeats."""
    ports = jvm.free_ports(500)
    assert len(set(ports)) == 500


class _Launched(Exception):
    pass


def test_a_clusters_nodes_are_started_on_the_ports_chosen_together(monkeypatch, tmp_path):
    """Three nodes take six ports (HTTP and transport each), all from one free_ports call; each
    node is told every node's transport port."""
    monkeypatch.setattr(opensearch_node, "build", lambda: ["classes"])
    monkeypatch.setattr(opensearch_node.tempfile, "mkdtemp", lambda prefix: str(tmp_path))
    monkeypatch.setattr(jvm, "free_ports", lambda n: list(range(40001, 40001 + n)))
    args: list[list[str]] = []

    def launch(classpath: list[str], main: str, argv: list[str], log: Path, opts: list[str]):
        args.append(argv)
        if len(args) == 3:
            raise _Launched
        return type("Proc", (), {"pid": 0})()
    monkeypatch.setattr(jvm, "launch", launch)
    with pytest.raises(_Launched):
        opensearch_node.start(state=tmp_path / "state", nodes=3)
    assert [(a[1], a[4]) for a in args] == [("40001", "40004"), ("40002", "40005"), ("40003", "40006")]
    assert {a[5] for a in args} == {"127.0.0.1:40004,127.0.0.1:40005,127.0.0.1:40006"}
