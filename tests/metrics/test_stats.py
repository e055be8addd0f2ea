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


def _whole_matrix_figures(values: np.ndarray, other: np.ndarray, seed: int) -> list[float]:
    """The intervals and p-value as computed before resamples were laid out in blocks: one float
    matrix of all 2,000 resamples (and all 5,000 sign flips), by hand from the same draws."""
    from bench.metrics.stats import LEVEL, N_BOOT, N_PERM
    n = len(values)
    rng = np.random.default_rng([seed, n])
    draws = rng.integers(0, n, size=(N_BOOT, n)) + np.arange(N_BOOT)[:, None] * n
    w = np.bincount(draws.ravel(), minlength=N_BOOT * n).reshape(N_BOOT, n).astype(np.float64)
    tail = (1 - LEVEL) / 2 * 100
    m = np.vstack([values, other])
    means = np.percentile(w @ m.T / n, [tail, 100 - tail], axis=0)
    x = np.sort(values)
    cum = np.cumsum(w, axis=1)
    mid = (x[np.argmax(cum > (n - 1) // 2, axis=1)] + x[np.argmax(cum > n // 2, axis=1)]) / 2
    medians = np.percentile(mid, [tail, 100 - tail])
    ratios = np.percentile((w @ values) / (w @ other), [tail, 100 - tail])
    signs = np.random.default_rng([seed, n, 1]).choice((1.0, -1.0), size=(N_PERM, n))
    d = values - other
    null = signs @ d / n
    gamma = np.abs(np.finfo(float).eps * d.mean()) * 10
    p = min(1.0, 2 * min((np.count_nonzero(null >= d.mean() - gamma) + 1) / (N_PERM + 1),
                         (np.count_nonzero(null <= d.mean() + gamma) + 1) / (N_PERM + 1)))
    return [*means.ravel(), *medians, *ratios, p]


@pytest.mark.parametrize("n", [13, 130, 257, 1001, 2500])
def test_blocks_of_resamples_give_the_whole_matrix_figures_exactly(n):
    """A run's memory no longer grows with a matrix per sample size, and not one figure moves:
    every interval and p-value equals the one-matrix computation bit for bit, first from fresh
    draws and then from the kept copy."""
    rng = np.random.default_rng(n)
    values, other = rng.lognormal(1.0, 1.2, n), rng.lognormal(1.0, 1.0, n)
    expected = _whole_matrix_figures(values, other, seed=3)
    for _ in range(2):  # second time round the resamples come from the cache
        a, b = means_ci([values, other], seed=3)
        med = median_ci(values, seed=3)
        r = ratio_of_totals_ci(values, other, seed=3)
        got = [a.lo, b.lo, a.hi, b.hi, med.lo, med.hi, r.lo, r.hi, paired_test(values, other, seed=3)]
        assert got == expected


def test_kept_resamples_stay_within_their_budget(monkeypatch):
    from bench.metrics import stats as s
    cache = s._Compact(budget=3 * s.N_BOOT * 504)  # room for three such matrices
    monkeypatch.setattr(s, "_CACHE", cache)
    for n in (500, 501, 502, 503, 504):
        mean_ci(np.arange(n, dtype=float), seed=1)
    assert list(k[1] for k in cache.kept) == [502, 503, 504]  # the least recently used went first
    assert sum(m.nbytes for m in cache.kept.values()) <= cache.budget
    too_big = s._Compact(budget=10)
    monkeypatch.setattr(s, "_CACHE", too_big)
    assert mean_ci(np.arange(50, dtype=float), seed=1) == mean_ci(np.arange(50, dtype=float), seed=1)
    assert not too_big.kept
