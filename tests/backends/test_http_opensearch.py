"""The http backend on a real engine: adapters/opensearch-rest.yaml drives the OpenSearch node
through its REST API alone (Jinja2 templates to Query DSL, JMESPath over the answers, search_after
paging) and returns what the native OpenSearch backend (opensearch-py) returns on the standard set:
the same records in the same order with the same scores, for every profile. (An export loaded by
load-export and searched through adapters/opensearch-export.yaml: test_http_export.py.)"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench.queries.instantiate import Instance, instance_dir, instantiate, write_instance
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ["crimint", "connect", "iip", "connect+iip", "iip-naive"]


@pytest.fixture(scope="module")
def runs(ci_corpus, opensearch_url, tmp_path_factory):
    d = instance_dir(ci_corpus, "standard")
    if not (d / "meta.json").is_file():
        write_instance(d, instantiate(ROOT / "queries" / "standard.yaml", ci_corpus))
    inst = Instance.load(d)
    mp = pytest.MonkeyPatch()
    mp.setenv("POLEBENCH_OPENSEARCH_URL", opensearch_url)  # the adapter's base_url_env
    try:
        out = {}
        for backend, options in (("opensearch", {"url": opensearch_url}),
                                 ("http", {"config": str(ROOT / "adapters" / "opensearch-rest.yaml")})):
            s = RunSettings(corpus=ci_corpus.root, instance=inst.dir, profiles=PROFILES, backend=backend,
                            results=tmp_path_factory.mktemp(backend), backend_options=options)
            out[backend] = run_benchmark(s)
        yield out
    finally:
        mp.undo()


def _outcomes(d: Path, profile: str) -> list[dict]:
    rows = [json.loads(x) for x in gzip.decompress((d / "outcomes" / f"{profile}.jsonl.gz").read_bytes()).splitlines()]
    return [{k: r[k] for k in ("qid", "returned", "total", "searches", "lost", "error")} for r in rows]


@pytest.mark.parametrize("profile", PROFILES)
def test_the_rest_adapter_returns_what_the_native_backend_returns(runs, profile):
    native, http = runs["opensearch"], runs["http"]
    assert native.failed == 0 and http.failed == 0
    a = (native.dir / "runs" / f"{profile}.run").read_text().splitlines()
    b = (http.dir / "runs" / f"{profile}.run").read_text().splitlines()
    assert len(a) > 1000  # the standard set returns thousands of records per profile
    # the same records, in the same order, with the same scores (the run name column differs)
    assert [x.split()[:5] for x in a] == [x.split()[:5] for x in b]
    assert _outcomes(native.dir, profile) == _outcomes(http.dir, profile)


def test_every_request_is_audited(runs):
    """Each search that returned records made requests, each audited with its need and profile
    (a union profile merges its members' lists and asks nothing itself)."""
    lines = [json.loads(x) for x in (runs["http"].dir / "audit.jsonl").read_text().splitlines()]
    requests = [x for x in lines if x["event"] == "request"]
    asked = {(x["profile"], x["need"]) for x in requests}
    assert all(x["status"] == 200 and x["url"].endswith("/_search") and x["records"] is not None for x in requests)
    profiles = json.loads((runs["http"].dir / "run.json").read_text())["profiles"]
    unions = {p for p, v in profiles.items() if v["union_of"]}
    searched = [(x["profile"], x["need"]) for x in lines if x["event"] == "search" and x["returned"] > 0
                and x["profile"].split("~")[0] not in unions]  # a narrowing twin is its profile's
    assert searched and all(s in asked for s in searched)
    assert sum(x["records"] for x in requests if x["profile"] == "crimint") >= sum(
        x["returned"] for x in lines if x["event"] == "search" and x["profile"] == "crimint")


def test_the_person_form_adapter_returns_what_its_rule_picks_out_of_the_corpus(ci_corpus, runs, opensearch_url,
                                                                            tmp_path, monkeypatch):
    """adapters/person-form.yaml, need by need: the records with a person written with the
    need's surname, forename and date of birth (case and punctuation aside), by record number."""
    from bench import fields as F
    monkeypatch.setenv("POLEBENCH_OPENSEARCH_URL", opensearch_url)
    inst = Instance.load(instance_dir(ci_corpus, "standard"))
    res = run_benchmark(RunSettings(corpus=ci_corpus.root, instance=inst.dir, profiles=["crimint"], backend="http",
                                    results=tmp_path, backend_options={
                                        "config": str(ROOT / "adapters" / "person-form.yaml")}))
    assert res.failed == 0
    records = list(ci_corpus.records())
    lists: dict[str, list[str]] = {}
    for line in (res.dir / "runs" / "crimint.run").read_text().splitlines():
        qid, _, rid, *_ = line.split()
        lists.setdefault(qid, []).append(rid)
    outcomes = {r["qid"]: r for r in _outcomes(res.dir, "crimint")}
    rnum = {r["rid"]: i for i, r in enumerate(records)}
    checked = 0
    for need in inst.needs:
        p = need.person
        if p is None or not p.surname or any(c in (p.surname + (p.forename or "")) for c in "*?"):
            continue  # the form's rule is exact: wildcards are the system's to read, not the oracle's
        want = {r["rid"] for r in records if any(
            F.norm(m["surname"]) == F.norm(p.surname) and (not p.forename or F.norm(m["forename"]) == F.norm(p.forename))
            and (not p.dob or m["dob"] == p.dob.isoformat()) for m in r["people"])}
        got = lists.get(need.id, [])
        assert set(got) == want, need.id
        assert [rnum[r] for r in got] == sorted(rnum[r] for r in got), need.id  # by record number
        checked += bool(want)
    assert checked >= 50  # the standard set's person needs
    lost = {x["criterion"] for o in outcomes.values() for x in o["lost"]}
    assert {"vehicle.vrm", "phone.number", "person.alias"} <= lost

