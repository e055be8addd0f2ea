"""What each kind of data-entry error garbles is declared once (bench.corpus.spec.CORRUPTS); the
report's entity errors are derived from it, and the generator labels each kind only on what the
declaration says it garbles."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict

from bench.corpus.spec import CORRUPTION_KINDS, CORRUPTS, ENTITY_ERRORS, Corruption
from bench.report import model

WHAT = {"P": "entity", "V": "entity", "T": "entity", "L": "place"}  # entity id prefixes in the truth


def test_every_rate_of_the_spec_is_a_declared_kind():
    assert set(Corruption.model_fields) == set(CORRUPTS) and CORRUPTION_KINDS == tuple(CORRUPTS)
    assert model.ENTITY_ERRORS is ENTITY_ERRORS


def test_the_generator_labels_each_kind_only_on_what_it_is_declared_to_garble(ci_corpus):
    seen: dict[str, set[str]] = defaultdict(set)  # kind -> what it was labelled on
    with gzip.open(ci_corpus.root / "truth" / "mentions.jsonl.gz", "rt") as f:
        for line in f:
            rec = json.loads(line)
            for m in rec["mentions"]:
                for k in m["kinds"]:
                    seen[k].add(WHAT[m["entity"][0]])
            for k in rec["record_kinds"]:
                seen[k].add("event")
    seen = {k: v for k, v in seen.items() if k in CORRUPTS}  # record_kinds also names what a record leaves out
    assert set(seen) == set(CORRUPTS)  # ci's rates exercise every kind
    for kind, on in seen.items():
        assert on == ({"entity", "place"} if CORRUPTS[kind] == "any" else {CORRUPTS[kind]}), kind
    assert set(ENTITY_ERRORS) == {k for k, on in seen.items() if on == {"entity"}}
