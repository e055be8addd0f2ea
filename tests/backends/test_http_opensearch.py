"""The http backend on a real engine: an export loaded into the OpenSearch node by load-export and
searched through adapters/opensearch-export.yaml (Jinja2 templates to Query DSL over REST, JMESPath
over the answers, search_after paging)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench.queries.instantiate import Instance, instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]


def _outcomes(d: Path, profile: str) -> list[dict]:
    rows = [json.loads(x) for x in gzip.decompress((d / "outcomes" / f"{profile}.jsonl.gz").read_bytes()).splitlines()]
    return [{k: r[k] for k in ("qid", "returned", "total", "searches", "lost", "error")} for r in rows]


def _lists(d: Path, profile: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in (d / "runs" / f"{profile}.run").read_text().splitlines():
        qid, _, rid, *_ = line.split()
        out.setdefault(qid, set()).add(rid)
    return out


def test_an_export_loaded_into_opensearch_is_measured_with_what_it_cannot_ask_lost(ci_corpus, opensearch_url, tmp_path,
                                                                                   monkeypatch):
    """The issue's whole path on a real engine: export the ci corpus, load it with load-export,
    run the standard set through adapters/opensearch-export.yaml. The system knows the exported
    columns only: what it cannot ask is lost, and a structured plan it can ask in full returns
    what the embedded engine returns for it."""
    from bench.cli.main import main
    monkeypatch.setenv("POLEBENCH_OPENSEARCH_URL", opensearch_url)
    export = tmp_path / "export"
    assert main(["export", "--corpus", str(ci_corpus.root), "--map", str(ROOT / "corpora" / "export-example.yaml"),
                 "--out", str(export)]) == 0
    assert main(["load-export", str(export), "--index", "ci-export"]) == 0
    d = instance_dir(ci_corpus, "standard")
    if not (d / "meta.json").is_file():
        write_instance(d, instantiate(ROOT / "queries" / "standard.yaml", ci_corpus))
    inst = Instance.load(d)
    profiles = ["crimint", "connect", "iip"]
    res = {b: run_benchmark(RunSettings(corpus=ci_corpus.root, instance=inst.dir, profiles=profiles, backend=b,
                                        results=tmp_path / b, backend_options=o))
           for b, o in (("embedded", {}), ("http", {"config": str(ROOT / "adapters" / "opensearch-export.yaml")}))}
    assert res["http"].failed == 0
    compared = 0
    for profile in ("crimint", "connect"):
        want, got = _lists(res["embedded"].dir, profile), _lists(res["http"].dir, profile)
        outcomes = {o["qid"]: o for o in _outcomes(res["http"].dir, profile)}
        for qid, o in outcomes.items():
            if not any(x["capability"] == "adapter" for x in o["lost"]):
                assert got.get(qid, set()) == want.get(qid, set()), (profile, qid)
                compared += bool(want.get(qid))
    lost = {x["criterion"] for p in profiles for o in _outcomes(res["http"].dir, p) for x in o["lost"]
            if x["capability"] == "adapter"}
    assert compared >= 20 and {"person.surname_soundex", "association"} <= lost, (compared, sorted(lost))
