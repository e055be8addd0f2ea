"""The error breakdown: misses attributed to the only corruption switched on; phonetic matching
measurably buys recall on phonetic respellings; the entity view counts what a person counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.corpus.generate import generate, load_spec
from bench.corpus.store import Corpus
from bench.gates.rules import parse_check
from bench.metrics.breakdown import Exclusions, _entity_view, breakdown
from bench.queries.instantiate import instance_dir, instantiate, write_instance
from bench.run.results import Aggregates
from bench.run.runner import RunSettings, run_benchmark

ROOT = Path(__file__).resolve().parents[2]

ONLY = """\
schema_version: 1
name: only-{kind}
seed: 11
people: 1500
vehicles: 300
phones: 300
addresses: 800
events: 3000
records: 6000
dates: {{start: 2020-01-01, end: 2023-12-31}}
sources:
  intel: {{share: 0.5, corruption: {{{kind}: 0.5}}}}
  crime: {{share: 0.5, corruption: {{{kind}: 0.5}}}}
"""
PEOPLE = """\
schema_version: 1
name: people-true
seed: 5
templates:
  - {template: person_name_dob, id_prefix: p, count: 40, params: {phrasing: {true_details: 1}, min_records: 3}}
"""


def _run(tmp: Path, kind: str, profiles: list[str]) -> Aggregates:
    spec_path = tmp / f"only-{kind}.yaml"
    spec_path.write_text(ONLY.format(kind=kind))
    generate(load_spec(spec_path), tmp / f"only-{kind}")
    corpus = Corpus(tmp / f"only-{kind}")
    qs = tmp / "people.yaml"
    qs.write_text(PEOPLE)
    d = instance_dir(corpus, "people-true")
    write_instance(d, instantiate(qs, corpus))
    res = run_benchmark(RunSettings(corpus=corpus.root, instance=d, profiles=profiles, results=tmp / "results"))
    return res.run.aggregates


def test_with_one_corruption_every_miss_is_that_kind(tmp_path):
    agg = _run(tmp_path, "nickname", ["crimint", "connect"])
    cells = agg.profiles["connect"].breakdown.kind
    assert set(cells) <= {"nickname", "clean"}
    assert cells["clean"].value == pytest.approx(1.0)          # nothing clean is missed
    assert cells["nickname"].found < cells["nickname"].relevant  # the nickname records are
    assert agg.profiles["crimint"].breakdown.kind["nickname"].value == pytest.approx(1.0)


def test_phonetic_matching_buys_recall_on_respellings(tmp_path):
    no_phonetic = (ROOT / "bench" / "profiles" / "crimint.yaml").read_text() \
        .replace("name: crimint", "name: crimint-no-phonetic") \
        .replace("modes: [exact, wildcard, phonetic]", "modes: [exact, wildcard]") \
        .replace("modes: [exact, wildcard, phonetic, nickname, initial]", "modes: [exact, wildcard, nickname, initial]")
    path = tmp_path / "crimint-no-phonetic.yaml"
    path.write_text(no_phonetic)
    agg = _run(tmp_path, "phonetic", ["crimint", str(path)])
    with_p = agg.profiles["crimint"].breakdown.kind["phonetic"]
    without = agg.profiles["crimint-no-phonetic"].breakdown.kind["phonetic"]
    assert with_p.value > without.value + 0.2, (with_p, without)
    assert any(c.kind == "phonetic" for c in agg.collapses)


def test_entity_view_on_a_hand_built_case():
    # records 1..9 (record numbers); record 6 is about nobody in particular
    subjects = np.array([-1, 1, 1, 2, 3, 3, -1, -1, -1, 9])
    # q1 (relevant: records 1, 2): the analyst sees 1 3 4 5 6: the right person is found, 3
    # different people head the records (1, 2, 3), 5 records / 3 people. q2: nothing returned.
    lists = {"q1": np.array([1, 3, 4, 5, 6]), "q2": np.array([], np.int64)}
    view = _entity_view(lists, {"q1": {1}, "q2": set()}, subjects, ["q1", "q2"])
    assert view["person_found"]["value"] == pytest.approx(0.5)
    assert view["distinct_people"]["value"] == pytest.approx(1.5)
    assert view["records_per_person"]["value"] == pytest.approx((5 / 3 + 0) / 2)


def test_breakdown_counts_combined_and_sources():
    details = {"q": {"A": {"rnum": 0, "kinds": ["typo", "nickname"], "source": "intel", "written": "x"},
                     "B": {"rnum": 1, "kinds": [], "source": "custody", "written": "y"}}}
    out = breakdown(found={"p": {"q": {1}}}, lists={"p": {"q": np.array([1])}}, details=details,
                    subjects=np.array([-1, -1]),
                    kinds_of={"q": "person"}, lost={"p": {"q": []}}, baseline="p")
    kinds = out["profiles"]["p"]["kind"]
    assert kinds["typo"]["value"] == 0 and kinds["nickname"]["value"] == 0 and kinds["combined"]["value"] == 0
    assert kinds["clean"]["value"] == 1
    assert out["profiles"]["p"]["source"]["custody"]["value"] == 1
    assert out["profiles"]["p"]["worst"][0]["missed"][0]["rid"] == "A"


def test_breakdown_counts_what_excluded_each_missed_record_per_cell():
    """Two needs; of four intel records three are missed: one fails the date of birth, one the
    date of birth and the surname, one the surname."""
    rec = lambda n, kinds: {"rnum": n, "kinds": kinds, "source": "intel", "written": ""}  # noqa: E731
    details = {"q1": {"A": rec(0, ["typo"]), "B": rec(1, [])}, "q2": {"C": rec(2, ["typo"]), "D": rec(3, [])}}
    excluded = {"p": {"q1": {0: ["date of birth", "surname"]}, "q2": {2: ["surname"], 3: ["date of birth"]}}}
    out = breakdown(found={"p": {"q1": {1}, "q2": set()}}, lists={"p": {}}, details=details,
                    subjects=np.array([-1] * 4), kinds_of={"q1": "person", "q2": "person"},
                    lost={"p": {}}, baseline="p", excluded=Exclusions.of(excluded, details))["profiles"]["p"]
    assert out["source"]["intel"]["missed"] == 3
    assert out["source"]["intel"]["excluded_by"] == [["date of birth", 2], ["surname", 2]]
    assert out["kind"]["typo"]["excluded_by"] == [["surname", 2], ["date of birth", 1]]
    assert out["kind"]["clean"]["excluded_by"] == [["date of birth", 1]] and out["kind"]["clean"]["missed"] == 1


def test_gate_cells_parse():
    assert parse_check("recall[nickname, crimint] >= 0.9") == {
        "profile": "crimint", "op": ">=", "value": 0.9, "metric": "breakdown.kind.nickname"}
    assert parse_check("recall[intel,connect] < 0.5")["metric"] == "breakdown.source.intel"
    assert parse_check("precision[crimint] >= 0.8")["metric"] == "precision"
    with pytest.raises(ValueError, match="unknown cell"):
        parse_check("recall[telepathy, crimint] >= 0.9")


def test_lowest_recall_keeps_the_worst_needs_as_sorting_them_all_would():
    """The worst needs kept a few at a time, ties in recall broken by need id as sorting does."""
    from bench.metrics.breakdown import WORST, _Needs, _lowest_recall
    rng = np.random.default_rng(3)
    rec = lambda n: {"rnum": n, "kinds": [], "source": "intel", "written": ""}  # noqa: E731
    details = {f"q{i:03d}": {f"R{i}-{j}": rec(10 * i + j) for j in range(4)} for i in range(60)}
    found = {"p": {q: {d["rnum"] for d in rel.values() if rng.random() < 0.5} for q, rel in details.items()}}
    got = _lowest_recall(found, details, _Needs(dict.fromkeys(details, "person")))["p"]
    every = sorted((sum(d["rnum"] in found["p"][q] for d in rel.values()) / 4, q) for q, rel in details.items())
    assert got == every[:WORST] and len({r for r, _ in every[:WORST + 3]}) < WORST + 3  # ties were there
