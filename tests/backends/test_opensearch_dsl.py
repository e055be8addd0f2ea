"""The OpenSearch backend without a server: the Query DSL of every plan node kind, the mapping,
the bulk payload, and the error a user gets when nothing listens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.backends import opensearch as osb
from bench import fields as F
from bench.fields import MENTION_NAMES
from bench.errors import BackendError
from bench.plans import (All, Any, Fuzzy, GeoRadius, Range, Regex, Scoped, Term, Terms,
                         Text)

GOLDEN = Path(__file__).with_name("golden")

CASES = {
    "term": Term("surname", "smith"),
    "terms": Terms("forename_nick", ("bill", "william")),
    "fuzzy": Fuzzy("surname", "smith", 1),
    "regex": Regex("vrm", "AB12.*"),
    "range": Range("dob", 7000, 7400),
    "geo": GeoRadius(51.5, -0.1, 400.0),
    "text_or": Text("all_text", "John SMITH john", "or"),
    "text_and": Text("narrative", "side gate", "and"),
    "all": All((Term("surname", "smith"), Range("dob", 1, 2))),
    "any": Any((Term("surname_soundex", "S530"), Term("surname", "smith"))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dsl_golden(name):
    got = osb.dsl(CASES[name])
    path = GOLDEN / f"dsl_{name}.json"
    assert got == json.loads(path.read_text()), json.dumps(got)


def test_scoped_queries_filter_by_scope_and_keep_scores_only_for_text():
    kind, q, scored = osb.scoped_query(Scoped("person", Term("surname", "smith")))
    assert kind == "mention" and not scored
    assert q == {"constant_score": {"filter": {"bool": {"filter": [{"term": {"scope": "person"}},
                                                                    {"term": {"surname": "smith"}}]}}}}
    kind, q, scored = osb.scoped_query(Scoped("record", Text("all_text", "smith", "or")))
    assert kind == "record" and scored and "match" in q


def test_mapping_follows_the_field_model():
    m = osb.mapping(MENTION_NAMES, "abc")
    props = m["mappings"]["properties"]
    assert props["surname"]["type"] == "keyword" and props["dob"]["type"] == "long"
    assert props["street"]["analyzer"] == "polebench_words"
    assert m["mappings"]["dynamic"] == "strict" and m["mappings"]["_meta"]["corpus_checksum"] == "abc"
    assert m["settings"]["number_of_shards"] == 1


def test_bulk_payload(ci_corpus):
    import gzip
    lines = gzip.open(ci_corpus.root / "records.jsonl.gz").read().splitlines()[:2]
    body, rids, dates, n = osb.bulk_body(lines, 7, {"record": "r", "mention": "m"})
    rows = [json.loads(x) for x in body.splitlines()]
    actions, docs = rows[0::2], rows[1::2]
    assert len(docs) == n and rids == [json.loads(x)["rid"] for x in lines]
    assert dates == [F.days(json.loads(x)["date"]) for x in lines]
    assert [a["index"]["_index"] for a, d in zip(actions, docs) if d["scope"] == "record"] == ["r", "r"]
    assert all(a["index"]["_index"] == "m" for a, d in zip(actions, docs) if d["scope"] != "record")
    # no _id (OpenSearch appends without a lookup); doc_id, the sort tiebreak, unique by record
    assert all(set(a["index"]) == {"_index"} for a in actions)
    assert len({d["doc_id"] for d in docs}) == len(docs)
    first = [d["doc_id"] for d in docs if d["rnum"] == 7]
    assert first == list(range(7000, 7000 + len(first))) and {d["rnum"] for d in docs} == {7, 8}
    assert docs[0] == {**F.docs_for_record(json.loads(lines[0]), 7)[0], "doc_id": 7000}


def test_mapping_keeps_doc_values_only_where_read():
    props = osb.mapping(MENTION_NAMES, "abc")["mappings"]["properties"]
    assert props["surname"]["doc_values"] is False and props["dob"]["doc_values"] is False
    assert "doc_values" not in props["person_key"] and "doc_values" not in props["rnum"]
    assert osb.mapping(MENTION_NAMES, "abc", shards=6)["settings"]["number_of_shards"] == 6


@pytest.mark.parametrize("opts,message", [({"shards": "0"}, "shards=0: expected a whole number of at least 1"),
                                          ({"replicas": "-1"}, "replicas=-1: expected a whole number"),
                                          ({"shards": "six"}, "shards=six")])
def test_bad_layout_options_are_refused(opts, message):
    from bench.errors import PolebenchError
    with pytest.raises(PolebenchError, match=message):
        osb.layout_options(opts)
    assert osb.layout_options({"shards": "6", "replicas": 1}) == {"shards": 6, "replicas": 1}


def test_nothing_listening_is_one_clear_error(ci_corpus):
    from bench.opensearch_node import free_port
    b = osb.OpenSearchBackend(ci_corpus, url=f"http://127.0.0.1:{free_port()}", retries=1, max_retries=0, timeout=2)
    with pytest.raises(BackendError, match="not reachable.*opensearch-node start"):
        b.prepare()


def _java_float(x: float) -> str:
    """A score as OpenSearch writes one (Java's Float.toString: 1.0E-4 below 10^-3)."""
    import numpy as np
    f = np.float32(x)
    return repr(float(f)).replace("e-0", "E-").replace("e-", "E-") if abs(f) < 1e-3 and f else repr(float(f))


_kinds = [  # the hits of one search are all of one kind
    st.tuples(st.floats(0, 50, allow_nan=False, width=32), st.integers(0, 10**7)).map(
        lambda t: '{"sort":[%s,%d,%d]}' % (_java_float(t[0]), t[1], t[1] * 1000 + 3)),
    st.integers(0, 10**7).map(lambda r: '{"sort":[%d,%d]}' % (r, r * 1000)),
    st.integers(0, 10**7).map(lambda r: '{"fields":{"lat_e6":[%d],"lon_e6":[-120]},"sort":[%d,%d]}' % (r, r, r)),
    st.integers(0, 10**7).map(lambda r: '{"sort":[null,%d]}' % r),
]


@given(st.lists(st.sampled_from(_kinds).flatmap(lambda k: st.lists(k, max_size=6)), max_size=4))
def test_msearch_answers_read_fast_are_read_as_json_reads_them(responses):
    """read_msearch cuts lists of sort-only hits out of the text and reads their numbers in one
    call; every answer, whatever its hits hold, gives the pages orjson's reading gives (a list
    holding fields or a null is left to orjson)."""
    import numpy as np
    text = '{"responses":[' + ",".join(
        '{"_shards":{"failed":0},"hits":{"total":{"value":%d},"hits":[%s]},"status":200}' % (len(h), ",".join(h))
        for h in responses) + "]}"
    fast = [osb._Page.read(r["hits"]) for r in osb.read_msearch(text)["responses"]]
    slow = [osb._Page.read(r["hits"]) for r in __import__("orjson").loads(text)["responses"]]
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        assert a.total == b.total and a.fields == b.fields
        assert np.array_equal(a.sorts, b.sorts, equal_nan=True) if a.sorts.dtype == b.sorts.dtype == float \
            else a.sorts.tolist() == b.sorts.tolist()


def test_msearch_hits_are_read_as_arrays_and_resumed_from_the_last():
    text = ('{"responses":[{"_shards":{"failed":0},"hits":{"total":{"value":5},"hits":[{"sort":[1.0E-4,7,7002]},'
            '{"sort":[0.5,3,3000]}]},"status":200},{"hits":{"total":{"value":0},"hits":[]},"status":200}]}')
    out = osb._Json().loads(text)
    page = osb._Page.read(out["responses"][0]["hits"])
    assert out["responses"][0]["hits"]["hits"] == [] and page.sorts.tolist() == [[1e-4, 7, 7002], [0.5, 3, 3000]]
    assert page.after(scored=True) == [0.5, 3, 3000] and type(page.after(True)[1]) is int
    assert len(osb._Page.read(out["responses"][1]["hits"])) == 0


def test_a_needs_clauses_are_read_once_for_all_its_profiles_in_one_request(ci_corpus, monkeypatch):
    """begin_need asks each distinct scoped clause of the need's plans once, all in one msearch;
    the searches then ask nothing more and borrow that time into their latency; after the need
    (begin_need with no plans) a search asks again."""
    import time

    import numpy as np

    from bench.plans import Intersect, Plan
    b = osb.OpenSearchBackend(ci_corpus)
    b.rids, b.dates = np.array([f"r{i}" for i in range(10)]), np.zeros(10, np.int64)
    sent: list[list] = []

    def msearch(self, pairs):
        sent.append(pairs)
        time.sleep(0.02)  # so that the borrowed time is not nothing
        return [osb._Page(3, np.array([[1000.0], [2000.0], [5001.0]]), None) for _ in pairs]  # doc_ids
    monkeypatch.setattr(osb.OpenSearchBackend, "_msearch", msearch)
    smith, dob = Scoped("person", Term("surname", "smith")), Scoped("person", Range("dob", 1, 2))
    alone, both = Plan(smith, "date_desc", None), Plan(Intersect((smith, dob)), "date_desc", None)
    b.begin_need([alone, both, alone])
    assert len(sent) == 1 and len(sent[0]) == 2
    first, second = b.search(alone), b.search(both)
    assert len(sent) == 1
    assert first.rnums.tolist() == second.rnums.tolist() == [1, 2, 5]  # doc_id // 1000
    assert first.borrowed_ms > 0 and second.borrowed_ms > first.borrowed_ms  # two clauses' share
    b.begin_need(())
    assert b.search(alone).borrowed_ms == 0 and len(sent) == 2
