"""Shared fixtures: the `ci` corpus is generated once per test session from the shipped spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# No timed unit tests: hypothesis's default 200 ms deadline per example fails a property test on
# a machine busy with other work (a 320 ms first call of test_nickname_comes_from_the_nickname_table
# on two shared cores), which says nothing about the property. Speed lives in benchmarks/.
settings.register_profile("polebench", deadline=None)
settings.load_profile("polebench")

from bench.corpus.generate import generate, load_spec
from bench.corpus.store import Corpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ci_corpus(tmp_path_factory) -> Corpus:
    out = tmp_path_factory.mktemp("corpora") / "ci"
    generate(load_spec(ROOT / "corpora" / "ci.yaml"), out)
    return Corpus(out)


@pytest.fixture(scope="session")
def shipped_instance():
    """shipped_instance(corpus, name): queries/<name>.yaml instantiated on a corpus, once."""
    from bench.queries.instantiate import instance_dir, instantiate, write_instance

    def make(corpus: Corpus, set_name: str) -> Path:
        inst = instance_dir(corpus, set_name)
        if not (inst / "meta.json").exists():
            write_instance(inst, instantiate(ROOT / "queries" / f"{set_name}.yaml", corpus))
        return inst
    return make


@pytest.fixture
def write(tmp_path):
    """Write a text file under tmp_path and return its path."""
    def _write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p
    return _write


def cluster_nodes() -> int:
    """Nodes the OpenSearch integration tests run on: 1, or $POLEBENCH_TEST_OPENSEARCH_NODES
    (`make test-cluster` sets 3)."""
    import os
    return int(os.environ.get("POLEBENCH_TEST_OPENSEARCH_NODES") or 1)


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory):
    """A real OpenSearch node, or cluster: $POLEBENCH_OPENSEARCH_URL if it answers, else one
    started from Maven artifacts for this test session (cluster_nodes() nodes). Skipped, saying
    why, only where Java or Maven is missing."""
    import os

    from bench import opensearch_node as node
    url = os.environ.get("POLEBENCH_OPENSEARCH_URL")
    if url and node.health(url):
        yield url
        return
    missing = node.missing_tools()
    if missing:
        pytest.skip(f"OpenSearch integration tests need {' and '.join(missing)} (to build and run the node)")
    state = tmp_path_factory.mktemp("opensearch-state")
    info = node.start(state=state, nodes=cluster_nodes())
    try:
        yield info.url
    finally:
        node.stop(state=state)


@pytest.fixture(scope="session")
def solr_node(tmp_path_factory):
    """A real Solr node: $POLEBENCH_SOLR_URL if it answers (home None), else one started from
    Maven artifacts for this test session in a home of its own. Skipped, saying why, only where
    Java or Maven is missing."""
    import os

    from bench import solr_node as node
    url = os.environ.get("POLEBENCH_SOLR_URL")
    if url and node.ping(url):
        yield node.SolrInfo(0, url.rstrip("/"), "", "")
        return
    missing = node.missing_tools()
    if missing:
        pytest.skip(f"Solr integration tests need {' and '.join(missing)} (to build and run the node)")
    home = tmp_path_factory.mktemp("solr-home")
    info = node.start(home)
    try:
        yield info
    finally:
        node.stop(home)


@pytest.fixture
def failing_search(monkeypatch):
    """install(when, exc): Backend.search raises `exc` on the calls n (from 1) where when(n);
    returns the call counter. Undone after the test."""
    from bench.backends import base
    real = base.Backend.search

    def install(when, exc: Exception = RuntimeError("engine hiccup")) -> dict:
        calls = {"n": 0}

        def search(self, plan, *args):
            calls["n"] += 1
            if when(calls["n"]):
                raise exc
            return real(self, plan, *args)
        monkeypatch.setattr(base.Backend, "search", search)
        return calls
    return install


@pytest.fixture(scope="session")
def traced_peak():
    """traced_peak(f): the most memory Python and numpy held at once while f ran (tracemalloc)."""
    import gc
    import tracemalloc

    def peak(f) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            f()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak
