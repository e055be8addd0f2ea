"""The OpenSearch backend on a real node: the standard set on all four profiles agrees with the
embedded backend, and a node that dies mid-run is survived with --resume."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from bench import opensearch_node as node
from bench.backends.registry import open_backend
from bench.plans import Range, Scoped, Term, Text
from bench.queries.instantiate import Instance, instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ["crimint", "connect", "iip", "connect+iip"]
OVERLAP_AT_10 = 0.95  # stated threshold for free-text ranking agreement
VOLUME_TOLERANCE = 0.0  # same analyser rule and BM25 matching: totals must be equal


@pytest.fixture(scope="module")
def inst(ci_corpus) -> Instance:
    d = instance_dir(ci_corpus, "standard")
    if not (d / "meta.json").is_file():
        write_instance(d, instantiate(ROOT / "queries" / "standard.yaml", ci_corpus))
    return Instance.load(d)


@pytest.fixture(scope="module")
def runs(ci_corpus, inst, opensearch_url, tmp_path_factory):
    out = {}
    for backend in ("embedded", "opensearch"):
        s = RunSettings(corpus=ci_corpus.root, instance=inst.dir, profiles=PROFILES, backend=backend,
                        results=tmp_path_factory.mktemp(backend), backend_options=(
                            {"url": opensearch_url} if backend == "opensearch" else {}))
        out[backend] = run_benchmark(s)
    return out


def _rows(d: Path) -> dict[tuple[str, str], dict]:
    with open(d / "per_query.csv") as f:
        return {(r["profile"], r["qid"]): r for r in csv.DictReader(f)}


def _lists(d: Path, profile: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (d / "runs" / f"{profile}.run").read_text().splitlines():
        qid, _, rid, *_ = line.split()
        out.setdefault(qid, []).append(rid)
    return out


@pytest.mark.parametrize("profile", ["crimint", "connect"])
def test_structured_profiles_return_the_same_records(runs, profile):
    a, b = (_lists(runs[k].dir, profile) for k in ("embedded", "opensearch"))
    assert a.keys() == b.keys()
    for qid in a:
        assert set(a[qid]) == set(b[qid]), qid
    assert runs["opensearch"].failed == 0


@pytest.mark.parametrize("profile", ["iip", "connect+iip"])
def test_free_text_agrees_on_volume_and_ranking(runs, profile):
    ea, ob = (_rows(runs[k].dir) for k in ("embedded", "opensearch"))
    a, b = (_lists(runs[k].dir, profile) for k in ("embedded", "opensearch"))
    overlaps = []
    for (p, qid), row in ea.items():
        if p != profile:
            continue
        va, vb = float(row["volume"]), float(ob[(p, qid)]["volume"])
        assert abs(va - vb) <= VOLUME_TOLERANCE * max(va, 1), qid
        if a.get(qid):
            overlaps.append(len(set(a[qid][:10]) & set(b[qid][:10])) / min(10, len(a[qid])))
    assert sum(overlaps) / len(overlaps) >= OVERLAP_AT_10


def test_trec_runs_are_byte_identical_to_the_embedded_backends(runs):
    """Same records in the same order for every profile and need (ties broken by record number
    on both): the run files are equal byte for byte."""
    for profile in PROFILES:
        a, b = ((runs[k].dir / "runs" / f"{profile}.run").read_bytes() for k in ("embedded", "opensearch"))
        assert a == b, profile


@pytest.fixture(scope="module")
def engines(ci_corpus, opensearch_url, runs):
    emb, osb = open_backend("embedded", ci_corpus), open_backend("opensearch", ci_corpus, url=opensearch_url)
    emb.prepare()
    osb.prepare()
    return emb, osb


def _surnames(corpus) -> tuple[str, str]:
    """The most common written surname, and the short one with the most distinct written
    surnames within two edits of it (more than OpenSearch's default 50 fuzzy expansions)."""
    from collections import Counter

    import jellyfish
    from bench.fields import norm
    counts = Counter(norm(p["surname"]) for r in corpus.records() for p in r.get("people", ()))
    near = {t: sum(jellyfish.damerau_levenshtein_distance(t, x) <= 2 for x in counts)
            for t in counts if len(t) <= 4}
    short = max(near, key=lambda t: (near[t], t))
    assert near[short] > 50, near[short]
    return counts.most_common(1)[0][0], short


def _nodes(corpus) -> dict[str, object]:
    """Plan nodes whose OpenSearch form once differed, or that take the server's own paths: a
    fuzzy match at distance 2 has far more than OpenSearch's default 50 expansions on a common
    surname; an Intersect of a small part and a large one (a date window over every record)
    fetches the large one within the small one's records; a Union_ goes in one request."""
    from bench.plans import Fuzzy, Intersect, Range, Term, Union_
    sn, short = _surnames(corpus)
    person = Scoped("person", Fuzzy("surname", short, 2))
    window = Scoped("record", Range("date", 0, 40_000))
    text = Scoped("record", Text("all_text", "theft", "or"))
    return {"fuzzy2": person,
            "intersect_small_large": Intersect((Scoped("person", Term("surname", sn)), window)),
            "intersect_scored": Intersect((text, Scoped("person", Fuzzy("surname", sn, 1)), window)),
            "intersect_empty": Intersect((Scoped("person", Term("surname", "nosuchname")), window)),
            "union": Union_((person, Scoped("vehicle", Term("colour", "red")), text))}


@pytest.mark.parametrize("name", ["fuzzy2", "intersect_small_large", "intersect_scored", "intersect_empty", "union"])
def test_plan_nodes_agree_with_the_embedded_backend(engines, ci_corpus, name):
    from bench.plans import Plan
    node = _nodes(ci_corpus)[name]
    plan = Plan(root=node, order="relevance", cap=None)
    a, b = (e.search(plan) for e in engines)
    assert a.total == b.total and a.rnums.tolist() == b.rnums.tolist()
    assert name == "intersect_empty" or a.total > 0  # a case that matches nothing proves little


def test_a_criterion_asked_about_a_few_records_reads_only_those(engines, ci_corpus, monkeypatch):
    """Saying why a profile missed asks each criterion about the need's relevant records only: a
    date window over every record was fetched whole (millions of hits at 10M) and cut down after."""
    emb, osb = engines
    window, sex = Scoped("record", Range("date", 0, 40_000)), Scoped("person", Term("sex", "F"))
    whole = {node: osb.matches(node) for node in (window, sex)}
    assert len(whole[window]) == ci_corpus.manifest.counts["records"]  # the window is every record
    assert 1_000 < len(whole[sex]) < len(whole[window])
    within = np.array([3, 17, 17, 250, 4_000, 10**9], np.int64)  # a duplicate, a number no record has
    totals = []
    real = osb._msearch
    monkeypatch.setattr(osb, "_msearch", lambda pairs: [totals.append(pg.total) or pg for pg in real(pairs)])
    for node in (window, sex):
        got = osb.matches(node, within).tolist()
        assert len(got) == len(set(got)) and set(got) == set(emb.matches(node, within).tolist()) \
            == set(whole[node][np.isin(whole[node], within)].tolist())
    assert sorted(osb.matches(window, within).tolist()) == [3, 17, 250, 4_000]
    assert totals and max(totals) <= 50  # the asked records' documents, never the window's 20,000 records


def test_index_is_reused(ci_corpus, opensearch_url, runs):
    b = open_backend("opensearch", ci_corpus, url=opensearch_url)
    assert b._fresh()


def _comparable(d: Path) -> list[tuple]:
    with open(d / "per_query.csv") as f:
        return [tuple(v for k, v in r.items() if k != "latency_ms") for r in csv.DictReader(f)]


def test_node_stopped_mid_run_then_resume(ci_corpus, inst, runs, tmp_path, monkeypatch):
    if node.missing_tools():
        pytest.skip("needs Java and Maven")
    if os.environ.get("POLEBENCH_TEST_OPENSEARCH_NODES"):
        pytest.skip("a single node's loss and --resume: `make test` runs it; on a cluster see test_opensearch_cluster")
    from bench.backends.opensearch import OpenSearchBackend
    state = tmp_path / "state"
    first = node.start(state=state)
    # The index is built (or found) with the backend's usual timeout: the run's short one is for
    # noticing a dead node, and bulk loading on a busy 2-core machine can outlast it.
    open_backend("opensearch", ci_corpus, url=first.url).prepare()
    real = OpenSearchBackend._msearch  # every search request goes through it
    calls = {"n": 0}

    def dying(self, pairs):
        calls["n"] += 1
        if calls["n"] == 150:
            node.stop(state=state)
        return real(self, pairs)
    monkeypatch.setattr(OpenSearchBackend, "_msearch", dying)
    opts = {"url": first.url, "retries": 1, "max_retries": 0, "timeout": 5}
    s = RunSettings(corpus=ci_corpus.root, instance=inst.dir, profiles=PROFILES, backend="opensearch",
                    results=tmp_path / "results", backend_options=opts)
    from bench.errors import Unreachable
    try:
        with pytest.raises(Unreachable, match="in a row could not reach the engine.*--resume"):  # the circuit breaker
            run_benchmark(s)
    finally:  # a failure before the kill must not leave the node running
        node.stop(state=state)
    assert not [d for d in (tmp_path / "results").iterdir() if d.name.startswith("standard-")]
    monkeypatch.setattr(OpenSearchBackend, "_msearch", real)
    second = node.start(state=state)
    try:
        open_backend("opensearch", ci_corpus, url=second.url).prepare()
        s.backend_options = {**opts, "url": second.url}
        s.resume = True
        fixed = run_benchmark(s)
    finally:
        node.stop(state=state)
    assert fixed.failed == 0
    assert _comparable(fixed.dir) == _comparable(runs["opensearch"].dir)
