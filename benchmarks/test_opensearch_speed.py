"""OpenSearch against embedded on the `default` corpus (whatever --scale says): node start time,
bulk indexing rate, and the standard set on all four profiles, as ratios measured in one run: on
the node just started, again on it with its query caches cleared, and on the node restarted (a new
JVM whose index files are still in the OS page cache), which tells JVM warm-up from cold files.
Skipped, saying why, where Java or Maven is missing."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest

from bench import opensearch_node as node
from bench.backends.registry import open_backend
from bench.corpus.store import Corpus
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["crimint", "connect", "iip", "connect+iip"]


@pytest.fixture(scope="module")
def default_corpus(corpus_of) -> Corpus:
    return corpus_of("default")


def _jvm_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _own_cpu_s() -> float:
    """This process and its children that have ended (the bulk workers)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


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
        # CPU as well as wall time: on a machine shared with other work, wall time measures the
        # share of the cores we got; CPU-seconds (the node's and ours) say what loading costs.
        cpu0 = _jvm_cpu_s(info.pid), _own_cpu_s()
        benchmark.pedantic(osb.prepare, rounds=1, iterations=1)
        index_s = benchmark.stats.stats.mean
        node_cpu, own_cpu = _jvm_cpu_s(info.pid) - cpu0[0], _own_cpu_s() - cpu0[1]
        n = default_corpus.manifest.counts["records"]
        inst = instance_dir(default_corpus, "standard")
        write_instance(inst, instantiate(ROOT / "queries" / "standard.yaml", default_corpus))
        times = {}

        def engine_s(backend: str, key: str) -> None:
            s = RunSettings(corpus=default_corpus.root, instance=inst, profiles=PROFILES, backend=backend,
                            results=tmp_path / key, backend_options={"url": info.url} if backend == "opensearch" else {})
            times[key] = run_benchmark(s).run.timings["engine_s"]
        # the first OpenSearch run is on a node just started (its JIT cold); the second on the same
        # node once its caches of filter results are cleared, so that it does not read the answers
        # of the first run's identical searches
        for backend, key in (("embedded", "embedded"), ("opensearch", "opensearch"), ("embedded", "embedded_2"),
                             ("opensearch", "opensearch_2")):
            if key == "opensearch_2":
                osb.client.indices.clear_cache(index="polebench-*", query=True, request=True, fielddata=True)
            engine_s(backend, key)
        node.stop(state=state)
        info = node.start(state=state)  # same data folder: the index is reused, the JVM is new
        engine_s("embedded", "embedded_3")
        engine_s("opensearch", "opensearch_new_jvm")
        benchmark.extra_info.update(
            node_start_s=start_s, records=n, opensearch_index_records_per_s=n / index_s,
            opensearch_index_cpu_s=node_cpu, python_index_cpu_s=own_cpu,
            index_records_per_s_if_two_cores_were_ours=2 * n / (node_cpu + own_cpu),
            load_average_1min_at_end=os.getloadavg()[0],
            embedded_prepare_s=embedded_index_s, standard_engine_s_embedded=times["embedded"],
            standard_engine_s_opensearch=times["opensearch"],
            opensearch_over_embedded=times["opensearch"] / times["embedded"],
            standard_engine_s_embedded_second=times["embedded_2"],
            standard_engine_s_opensearch_second_run_caches_cleared=times["opensearch_2"],
            opensearch_over_embedded_second_run=times["opensearch_2"] / times["embedded_2"],
            standard_engine_s_embedded_third=times["embedded_3"],
            standard_engine_s_opensearch_restarted_node=times["opensearch_new_jvm"],
            opensearch_over_embedded_restarted_node=times["opensearch_new_jvm"] / times["embedded_3"])
    finally:
        node.stop(state=state)
