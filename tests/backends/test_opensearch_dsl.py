"""The OpenSearch backend without a server: the Query DSL of every plan node kind, the mapping,
the bulk payload, and the error a user gets when nothing listens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.backends import opensearch as osb
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
    assert props["surname"] == {"type": "keyword"} and props["dob"] == {"type": "long"}
    assert props["street"]["analyzer"] == "polebench_words"
    assert m["mappings"]["dynamic"] == "strict" and m["mappings"]["_meta"]["corpus_checksum"] == "abc"
    assert m["settings"]["number_of_shards"] == 1


def test_bulk_payload(ci_corpus):
    actions = list(osb.bulk_actions(iter([next(ci_corpus.records())]), {"record": "r", "mention": "m"}))
    assert actions[0]["_index"] == "r" and actions[0]["_source"]["scope"] == "record"
    assert all(a["_index"] == "m" for a in actions[1:])
    assert [a["_source"]["doc_id"] for a in actions] == list(range(len(actions)))
    assert {a["_source"]["rnum"] for a in actions} == {0}


def test_nothing_listening_is_one_clear_error(ci_corpus):
    from bench.opensearch_node import free_port
    b = osb.OpenSearchBackend(ci_corpus, url=f"http://127.0.0.1:{free_port()}", retries=1, max_retries=0, timeout=2)
    with pytest.raises(BackendError, match="not reachable.*opensearch-node start"):
        b.prepare()
