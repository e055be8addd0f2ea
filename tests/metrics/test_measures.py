"""Measures on small hand-computed cases, the stated edge-case rules, and seeded statistics."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpy as np

from bench.analyst.model import Reader
from bench.metrics.measures import Judgements, inflation
from bench.metrics.stats import mean_ci, paired_test, ratio_of_totals_ci

# record numbers: a=0, b=1, z=2 are relevant (b at grade 2); x=3, y=4, w=5 are not
a, b, z, x, y, w = range(6)
JUDGED = Judgements({"q1": {a: 1, b: 2, z: 1}}, n_records=6)


# pages of two records; gives up after one page with nothing relevant
READER = Reader(page_size=2, empty_pages=1, read_cap=100, persistence=0.5, miss_rate=0.0)


def measure(ranked, seconds_per_record=30.0, purpose="everything"):
    return JUDGED.measure("q1", np.asarray(ranked, np.int64), seconds_per_record, purpose, READER)[0]


def examined(ranked, purpose="everything"):
    return measure(ranked, purpose=purpose)["examined"]


def test_hand_computed_case():
    # Presented: a(rel) x b(rel) y. Relevant: a, b, z (z never returned).
    m = measure([a, x, b, y], seconds_per_record=36)
    assert m["volume"] == 4 and m["found"] == 2 and m["missed"] == 1
    assert m["precision"] == pytest.approx(2 / 4)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert m["p_at_10"] == pytest.approx(2 / 10)
    assert m["ap"] == pytest.approx((1 / 1 + 2 / 3) / 3)  # precision at each relevant hit / all relevant
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg_at_10"] == pytest.approx(dcg / idcg)
    # pages [a x] [b y]: both hold something relevant, the list ends: all 4 read
    assert m["examined"] == 4 and m["sift_hours"] == pytest.approx(4 * 36 / 3600)
    assert m["recall_at_stop"] == pytest.approx(2 / 3)
    assert m["esl"] == 0 and m["rbp"] == pytest.approx(0.5 * (1 + 0.5 ** 2))
    assert m["effort_r80"] is None  # 3 of 3 needed, the list holds 2
    assert measure([x, a, b, z])["effort_r80"] == 4 and measure([x, a, b, z])["esl"] == 1


def test_nothing_returned():
    """Precision of an empty list is 0/0: undefined (None), not 0; recall is 0."""
    m = measure([])
    assert m["volume"] == 0 and m["recall"] == 0 and m["precision"] is None and m["examined"] == 0
    assert m["f1"] == 0


def test_mean_precision_leaves_out_needs_that_returned_nothing():
    """Hand-computed: three needs; one returned nothing. Mean precision is over the two that
    returned something ((1/2 + 1) / 2), mean recall over all three ((1/2 + 1 + 0) / 3), and the
    empty one is counted apart."""
    from bench.metrics.aggregate import aggregate
    j = Judgements({"q1": {1: 1, 2: 1}, "q2": {3: 1}, "q3": {4: 1}}, 10)
    rows = []
    for q, ranked in (("q1", [1, 5]), ("q2", [3]), ("q3", [])):
        m = j.measure(q, np.asarray(ranked, np.int64), 30.0, "everything", READER)[0]
        rows.append({**m, "profile": "p", "qid": q, "kind": "person", "error": None, "latency_ms": 1.0, "searches": 1.0,
                     "lost_capabilities": []})
    block = aggregate(rows, ["p"], "p")["profiles"]["p"]
    assert block["mean"]["precision"]["value"] == pytest.approx(0.75) and block["mean"]["precision"]["n"] == 2
    assert block["mean"]["recall"]["value"] == pytest.approx(0.5) and block["mean"]["recall"]["n"] == 3
    assert block["returned_nothing"] == 1 and block["queries"] == 3


def test_a_reader_does_not_know_where_the_last_relevant_record_is():
    # The old oracle read [a x y] to a (1 record); a real reader reads on to see the page out,
    # then one page with nothing relevant before giving up.
    assert examined([a, x, y, w, x, y]) == 4
    # ... and never reaches a relevant record behind an empty page
    assert examined([x, y, b]) == 2
    # an identification need stops at the first relevant record
    assert examined([x, y, b], purpose="identify") == 3
    # a subject access request reads everything
    assert examined([a, x, y, w, x, y], purpose="read_all") == 6


def test_inflation_rule():
    assert inflation(40, 10) == 4
    assert inflation(0, 10) == 0
    assert inflation(5, 0) is None  # undefined: counted apart, never divided by zero


def test_ties_keep_the_presented_order():
    # Two engines giving the same set in different orders must score differently on AP.
    first, second = measure([a, x])["ap"], measure([x, a])["ap"]
    assert first == pytest.approx(1 / 3) and second == pytest.approx(0.5 / 3)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    x = [1, 5, 2, 8, 3, 9, 4, 4, 6, 1]
    a, b = mean_ci(x, seed=3), mean_ci(x, seed=3)
    assert a == b and a.lo <= a.value <= a.hi and a.value == pytest.approx(4.3)
    r = ratio_of_totals_ci([10, 20, 30], [1, 2, 3], seed=1)
    assert r.value == pytest.approx(10) and r.lo == pytest.approx(10) and r.hi == pytest.approx(10)


def test_paired_test_detects_a_shift_and_not_noise():
    import numpy as np
    rng = np.random.default_rng(0)
    base = rng.normal(size=40)
    assert paired_test(base + 1.0, base, seed=0) < 0.01
    assert paired_test(base, base, seed=0) == 1.0


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_every_ranked_measure_is_trec_evals(data):
    """For any ranked list and graded judgements, the numpy measures equal what ir_measures
    (pytrec_eval, trec_eval's code) computes from the same list in TREC form."""
    import ir_measures
    n = 300
    rel = data.draw(st.dictionaries(st.integers(0, n - 1), st.integers(1, 3), min_size=1, max_size=40))
    ranked = data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=150))
    m = Judgements({"q": rel}, n).measure("q", np.asarray(ranked, np.int64), 30.0, "everything", READER)[0]
    measures = {"precision": ir_measures.SetP, "recall": ir_measures.SetR, "f1": ir_measures.SetF,
                "p_at_10": ir_measures.P @ 10, "r_at_100": ir_measures.R @ 100, "ap": ir_measures.AP,
                "ndcg_at_10": ir_measures.nDCG @ 10}
    qrels = {"q": {f"d{r}": g for r, g in rel.items()}}
    run = {"q": {f"d{r}": float(len(ranked) - i) for i, r in enumerate(ranked)}}
    expected = {k: 0.0 for k in measures}  # trec_eval -c: a query with nothing returned scores 0
    for v in ir_measures.iter_calc(list(measures.values()), qrels, run):
        expected[next(k for k, x in measures.items() if x == v.measure)] = v.value
    if not ranked:  # ... except precision, undefined there, which trec_eval's default mean leaves out
        assert m["precision"] is None
        del expected["precision"]
    for k, v in expected.items():
        assert m[k] == pytest.approx(v, abs=1e-9), k


def test_every_measure_computed_is_registered_and_every_registered_one_reaches_the_csv():
    """A measure computed but not in the registry would be dropped from per_query.csv and the
    definitions without a word; one registered but never computed would be an empty column."""
    from bench.metrics.registry import BY_NAME, PER_QUERY_COLUMNS
    m = measure([a, x, b, y])
    computed = set(m) - {"relevant", "found"}
    assert computed <= set(BY_NAME)
    added_by_the_run = {"inflation", "latency_ms", "lost", "searches"}  # need the baseline, the engine, the plan
    per_need = {n for n, spec in BY_NAME.items() if spec.per_need}
    assert per_need == computed | added_by_the_run
    assert per_need <= set(PER_QUERY_COLUMNS)
