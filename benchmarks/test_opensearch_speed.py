"""OpenSearch against embedded on the `default` corpus (whatever --scale says): node start time,
bulk indexing rate, and the standard set on all four profiles, as ratios measured in one run.
Skipped, saying why, where Java or Maven is missing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench import opensearch_node as node
from bench.backends.registry import open_backend
from bench.corpus.generate import generate, load_spec
from bench.corpus.store import Corpus
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["crimint", "connect", "iip", "connect+iip"]


@pytest.fixture(scope="module")
def default_corpus(bench_root) -> Corpus:
    out = bench_root / "default"
    try:
        return Corpus(out)
    except Exception:
        generate(load_spec(ROOT / "corpora" / "default.yaml"), out)
        return Corpus(out)


def test_opensearch_against_embedded(benchmark, default_corpus, tmp_path):
    if node.missing_tools():
        pytest.skip(f"needs {' and '.join(node.missing_tools())} to run the OpenSearch node")
    state = tmp_path / "state"
    node.build()
    t0 = time.perf_counter()
    info = node.start(state=state)
    start_s = time.perf_counter() - t0
    try:
        emb = open_backend("embedded", default_corpus)
        t0 = time.perf_counter()
        emb.prepare()
        embedded_index_s = time.perf_counter() - t0  # reuse is fine here only if already built
        osb = open_backend("opensearch", default_corpus, url=info.url)
        index_s = benchmark.pedantic(osb.prepare, rounds=1, iterations=1) or benchmark.stats.stats.mean
        index_s = benchmark.stats.stats.mean
        n = default_corpus.manifest.counts["records"]
        inst = instance_dir(default_corpus, "standard")
        write_instance(inst, instantiate(ROOT / "queries" / "standard.yaml", default_corpus))
        times = {}
        for backend in ("embedded", "opensearch"):
            s = RunSettings(corpus=default_corpus.root, instance=inst, profiles=PROFILES, backend=backend,
                            results=tmp_path / backend, backend_options={"url": info.url} if backend == "opensearch" else {})
            times[backend] = run_benchmark(s).run["timings"]["engine_s"]
        benchmark.extra_info.update(
            node_start_s=start_s, records=n, opensearch_index_records_per_s=n / index_s,
            embedded_prepare_s=embedded_index_s, standard_engine_s_embedded=times["embedded"],
            standard_engine_s_opensearch=times["opensearch"],
            opensearch_over_embedded=times["opensearch"] / times["embedded"])
    finally:
        node.stop(state=state)
