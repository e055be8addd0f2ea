"""Measures on small hand-computed cases, the stated edge-case rules, and seeded statistics."""

import math

import pytest

from bench.metrics.measures import QueryOutcome, inflation, per_query, sift
from bench.metrics.stats import mean_ci, paired_test, ratio_of_totals_ci

QRELS = {"q1": {"a": 1, "b": 2, "z": 1}}


def outcome(rids, qid="q1"):
    return QueryOutcome(qid, "person", tuple(rids), len(rids), 1.0, ())


def test_hand_computed_case():
    # Presented: a(rel) x b(rel) y. Relevant: a, b, z (z never returned).
    m = per_query([outcome(["a", "x", "b", "y"])], QRELS, seconds_per_record=36)["q1"]
    assert m["volume"] == 4 and m["found"] == 2 and m["missed"] == 1
    assert m["precision"] == pytest.approx(2 / 4)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert m["p_at_10"] == pytest.approx(2 / 10)
    assert m["ap"] == pytest.approx((1 / 1 + 2 / 3) / 3)  # precision at each relevant hit / all relevant
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg_at_10"] == pytest.approx(dcg / idcg)
    assert m["sift_records"] == 3 and m["sift_hours"] == pytest.approx(3 * 36 / 3600)


def test_nothing_returned():
    m = per_query([outcome([])], QRELS, 30)["q1"]
    assert m["volume"] == 0 and m["recall"] == 0 and m["precision"] == 0 and m["sift_records"] == 0


def test_nothing_relevant_returned_means_reading_everything():
    assert sift(["x", "y", "w"], QRELS["q1"]) == 3


def test_sift_with_relevant_last_and_first():
    assert sift(["a", "x", "y"], QRELS["q1"]) == 1
    assert sift(["x", "y", "b"], QRELS["q1"]) == 3


def test_inflation_rule():
    assert inflation(40, 10) == 4
    assert inflation(0, 10) == 0
    assert inflation(5, 0) is None  # undefined: counted apart, never divided by zero


def test_ties_keep_the_presented_order():
    # Two engines giving the same set in different orders must score differently on AP.
    a = per_query([outcome(["a", "x"])], QRELS, 30)["q1"]["ap"]
    b = per_query([outcome(["x", "a"])], QRELS, 30)["q1"]["ap"]
    assert a == pytest.approx(1 / 3) and b == pytest.approx(0.5 / 3)


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
