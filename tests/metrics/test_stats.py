"""The shared-resample bootstrap and the sign-flip test agree with scipy's own implementations
(up to Monte Carlo error), and hold their rules for any sample (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bench.metrics.stats import (mean_ci, means_ci, median_ci, paired_test, ratio_of_totals_ci,
                                 ratios_ci)

RNG = np.random.default_rng(7)
SKEWED = RNG.lognormal(1.0, 1.2, size=170)  # like volumes: long right tail


def _scipy_ci(data, statistic, paired=False):
    res = stats.bootstrap(data, statistic, n_resamples=20_000, method="percentile", paired=paired,
                          vectorized=True, rng=np.random.default_rng(1))
    return res.confidence_interval.low, res.confidence_interval.high


def _close(ours, theirs, spread):
    # 2000 resamples: percentile bounds move by a few percent of the spread from seed to seed
    assert abs(ours - theirs) < 0.08 * spread, (ours, theirs)


def test_mean_interval_matches_scipy():
    e = mean_ci(SKEWED)
    lo, hi = _scipy_ci((SKEWED,), np.mean)
    _close(e.lo, lo, hi - lo)
    _close(e.hi, hi, hi - lo)
    assert e.value == pytest.approx(SKEWED.mean())


def test_median_interval_matches_scipy():
    e = median_ci(SKEWED)
    lo, hi = _scipy_ci((SKEWED,), np.median)
    _close(e.lo, lo, hi - lo)
    _close(e.hi, hi, hi - lo)
    assert e.value == pytest.approx(np.median(SKEWED))


def test_ratio_of_totals_interval_matches_scipy():
    den = RNG.integers(1, 50, size=170).astype(float)
    num = den * SKEWED
    e = ratio_of_totals_ci(num, den)
    lo, hi = _scipy_ci((num, den), lambda x, y, axis=-1: x.sum(axis=axis) / y.sum(axis=axis), paired=True)
    _close(e.lo, lo, hi - lo)
    _close(e.hi, hi, hi - lo)


@pytest.mark.parametrize("shift", [0.0, 0.15, 0.4])
def test_paired_test_matches_scipy(shift):
    base = RNG.normal(size=60)
    other = base + shift + RNG.normal(scale=0.8, size=60)
    theirs = stats.permutation_test((other, base), lambda u, v, axis=-1: np.mean(u - v, axis=axis),
                                    permutation_type="samples", vectorized=True, n_resamples=50_000,
                                    rng=np.random.default_rng(2)).pvalue
    ours = paired_test(other, base)
    assert abs(ours - theirs) < 0.02 + 0.1 * theirs, (ours, theirs)


def test_small_samples_are_tested_exactly():
    # 6 needs: all 64 sign flips enumerated, as scipy does; the smallest two-sided p is 2/64
    a = np.array([3.0, 4, 5, 6, 7, 8])
    assert paired_test(a, np.zeros(6)) == pytest.approx(2 / 64)
    theirs = stats.permutation_test((a, np.zeros(6)), lambda u, v, axis=-1: np.mean(u - v, axis=axis),
                                    permutation_type="samples", vectorized=True).pvalue
    assert paired_test(a, np.zeros(6)) == pytest.approx(theirs)


def test_rows_share_resamples_but_keep_their_own_constant_rule():
    m = np.vstack([SKEWED, np.full(170, 2.0)])
    wide, flat = means_ci(m)
    assert wide.lo < wide.value < wide.hi
    assert flat.lo == flat.value == flat.hi == 2.0
    one, other = ratios_ci([[1, 2, 3], [0, 0, 0]], [[1, 2, 3], [0, 0, 0]])
    assert one.value == one.lo == one.hi == 1.0
    assert np.isnan(other.value)  # 0 / 0: undefined, never a division error


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60), st.integers(0, 5))
def test_intervals_bracket_their_estimate_and_are_reproducible(xs, seed):
    for f in (mean_ci, median_ci):
        e = f(xs, seed)
        assert e == f(xs, seed)
        assert e.lo <= e.value + 1e-6 * (1 + abs(e.value)) and e.value <= e.hi + 1e-6 * (1 + abs(e.value))
        assert min(xs) - 1e-6 <= e.lo and e.hi <= max(xs) + 1e-6
