"""The http backend on real engines: an export loaded by load-export into the OpenSearch node and
into the Solr node, each searched through the adapter that ships for it (adapters/opensearch-export.yaml:
Query DSL, search_after paging; adapters/solr-export.yaml: the Lucene query syntax through Solr's
JSON Request API, cursorMark paging). Jinja2 templates to requests, JMESPath over the answers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench.backends.http_adapter import load_adapter
from bench.plans import All, Any, Linked, Node, Plan, Scoped, Sequence
from bench.profiles.compile import compile_need
from bench.profiles.model import load_profile
from bench.queries.instantiate import Instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]
ENGINES = {  # engine: (the fixture that gives its address, the variable the adapter reads it from)
    "opensearch": ("opensearch_url", "POLEBENCH_OPENSEARCH_URL"),
    "solr": ("solr_node", "POLEBENCH_SOLR_URL"),
}
PROFILES = ["crimint", "connect", "iip"]


def _outcomes(d: Path, profile: str) -> list[dict]:
    rows = [json.loads(x) for x in gzip.decompress((d / "outcomes" / f"{profile}.jsonl.gz").read_bytes()).splitlines()]
    return [{k: r[k] for k in ("qid", "returned", "total", "searches", "lost", "error")} for r in rows]


def _lists(d: Path, profile: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in (d / "runs" / f"{profile}.run").read_text().splitlines():
        qid, _, rid, *_ = line.split()
        out.setdefault(qid, set()).add(rid)
    return out


def _beyond(plan: Plan | None, fields: set[str]) -> set[str]:
    """What of a plan an adapter knowing only `fields` (and no links) cannot be asked, worked out
    from the plan itself: every scope.field outside them, and association for a link search."""
    def clause(scope: str, c) -> set[str]:
        if isinstance(c, (All, Any)):
            return {x for part in c.clauses for x in clause(scope, part)}
        field = getattr(c, "field", None)
        return {f"{scope}.{field}"} if field is not None and field not in fields else set()

    def node(n: Node | None) -> set[str]:
        if isinstance(n, Scoped):
            return clause(n.scope, n.clause)
        if isinstance(n, Linked):
            return {"association"}
        if isinstance(n, Sequence):
            return {x for p in n.plans for x in _beyond(p, fields)}
        return {x for part in getattr(n, "parts", ()) for x in node(part)}
    return set() if plan is None else node(plan.root) | _beyond(plan.narrower, fields)


@pytest.fixture(scope="module")
def standard(ci_corpus, shipped_instance) -> Instance:
    return Instance.load(shipped_instance(ci_corpus, "standard"))


@pytest.fixture(scope="module")
def embedded_run(ci_corpus, standard, tmp_path_factory):
    return run_benchmark(RunSettings(corpus=ci_corpus.root, instance=standard.dir, profiles=PROFILES,
                                     backend="embedded", results=tmp_path_factory.mktemp("embedded")))


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_an_export_loaded_into_a_real_engine_is_measured_with_what_it_cannot_ask_lost(
        engine, ci_corpus, standard, embedded_run, tmp_path, monkeypatch, request):
    """The issue's whole path on a real engine: export the ci corpus, load it with load-export,
    run the standard set through the engine's shipped adapter. The system knows the exported
    columns only: a need's plan loses exactly what lies outside them, each loss listed, and a
    structured plan it can ask in full returns what the embedded engine returns for it."""
    from bench.cli.main import main
    fixture, var = ENGINES[engine]
    got = request.getfixturevalue(fixture)
    monkeypatch.setenv(var, getattr(got, "url", got))
    export = tmp_path / "export"
    assert main(["export", "--corpus", str(ci_corpus.root), "--map", str(ROOT / "corpora" / "export-example.yaml"),
                 "--out", str(export)]) == 0
    assert main(["load-export", str(export), "--engine", engine, "--index", "ci-export"]) == 0
    adapter_path = ROOT / "adapters" / f"{engine}-export.yaml"
    run = run_benchmark(RunSettings(corpus=ci_corpus.root, instance=standard.dir, profiles=PROFILES, backend="http",
                                    results=tmp_path / "http", backend_options={"config": str(adapter_path)}))
    assert run.failed == 0
    compared = 0
    for profile in ("crimint", "connect"):
        want, got_lists = _lists(embedded_run.dir, profile), _lists(run.dir, profile)
        for o in _outcomes(run.dir, profile):
            if not any(x["capability"] == "adapter" for x in o["lost"]):
                assert got_lists.get(o["qid"], set()) == want.get(o["qid"], set()), (profile, o["qid"])
                compared += bool(want.get(o["qid"]))
    assert compared >= 20
    fields = set(load_adapter(adapter_path)[0].capabilities.fields or ())
    lost_somewhere = set()
    for profile in PROFILES:
        p = load_profile(profile)
        for need, o in zip(standard.needs, _outcomes(run.dir, profile), strict=True):
            assert o["qid"] == need.id
            lost = {x["criterion"] for x in o["lost"] if x["capability"] == "adapter"}
            assert lost == _beyond(compile_need(need, p), fields), (profile, need.id)
            lost_somewhere |= lost
    assert {"person.surname_soundex", "association"} <= lost_somewhere, sorted(lost_somewhere)
