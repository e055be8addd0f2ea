"""Confidence intervals and paired tests, seeded so that reruns give the same numbers.

A run asks for a few hundred intervals, nearly all over the same needs. Rather than a fresh
`scipy.stats.bootstrap` call for each (a new set of resamples and a few milliseconds of set-up
every time), the needs are resampled once per sample size as a matrix of counts, and every
statistic over those needs is read from the same resamples: means and totals are one matrix
product, medians one cumulative sum. Sharing resamples across measures is also what a paired
analysis wants (the same bootstrap worlds for recall and volume). The percentile intervals and
the sign-flip test agree with scipy's (tests/metrics/test_stats.py checks them against it)."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from scipy import stats

N_BOOT = 2000
N_PERM = 5000
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    value: float
    lo: float
    hi: float
    n: int

    def as_dict(self) -> dict:
        return {"value": self.value, "lo": self.lo, "hi": self.hi, "n": self.n}


NAN = Estimate(float("nan"), float("nan"), float("nan"), 0)


# Resamples (or sign flips) laid out at a time. BLAS's sums depend on how it splits a product:
# OpenBLAS on two threads gives each half of the 2,000 resamples, so blocks of 1,000 add up in
# the same order as the whole matrix did and every figure stays as it was, to the last bit
# (blocks of 256 moved some by one unit in the last place).
BLOCK = 1000
# ...but no block larger than this (float64): a block of 1,000 x needs is 8 KB a need, and the
# statistics' working memory would grow with the needs without bound. 20 MB keeps 1,000 rows, and
# every figure to the last bit, up to 2,500 needs; beyond, fewer rows a block (the same draws, and
# the same figures but for the last place of some).
WORK_BYTES = 20 << 20
STEP = 100  # rows drawn at a time while a block is filled (the random stream does not depend on it)
# Resample matrices kept, compact, for the run's other intervals. 32 MB took no more CPU than 128
# did where measured (ci corpus, six profiles: 1,000 needs 16.2 against 15.7 CPU-s, 5,000 needs
# 66.2 against 65.9; none kept, 20.3 and 86.8) and holds 23 and 112 MB less at the resident peak
# (303 and 360 MB): past a few matrices, a larger budget kept what was not asked for again.
CACHE_BYTES = 32 << 20


class _Compact:
    """Matrices of small integers kept for reuse as int8, the least recently used dropped once
    they pass the budget: a run asks for hundreds of intervals over a few sample sizes. A float64
    matrix kept per size (2,000 x needs, and 5,000 x needs for a paired test) is what made a
    run's memory grow with its needs (5,000 needs on the ci corpus: 1.19 GB at peak)."""

    def __init__(self, budget: int):
        self.budget, self.kept = budget, {}

    def blocks(self, key: tuple, make, rows: int) -> Iterator[np.ndarray]:
        """The float64 row blocks `make()` yields, `rows` at a time, or the same from the kept copy."""
        if key in self.kept:
            m = self.kept.pop(key)
            self.kept[key] = m  # most recently used last
            for i in range(0, len(m), rows):
                yield m[i: i + rows].astype(np.float64)
            return
        parts, small = [], True
        for b in make():
            small = small and b.min() >= -128 and b.max() <= 127 and \
                sum(x.nbytes for x in parts) + b.size <= self.budget
            parts = [*parts, b.astype(np.int8)] if small else []
            yield b
        if small:
            size = sum(x.nbytes for x in parts)
            while self.kept and sum(x.nbytes for x in self.kept.values()) + size > self.budget:
                self.kept.pop(next(iter(self.kept)))
            self.kept[key] = np.concatenate(parts)


_CACHE = _Compact(CACHE_BYTES)


def block_rows(n: int) -> int:
    """Resamples laid out at a time for n items: BLOCK, or fewer where that would pass WORK_BYTES."""
    return max(1, min(BLOCK, WORK_BYTES // (8 * max(1, n))))


def step_rows(n: int) -> int:
    """Rows drawn at a time while a block is filled: STEP, or fewer where the draws (int64, and as
    many again for their counts) would pass an eighth of WORK_BYTES."""
    return max(1, min(STEP, WORK_BYTES // 8 // (16 * max(1, n))))


def resample_blocks(n: int, seed: int) -> Iterator[np.ndarray]:
    """The (N_BOOT, n) matrix of how often each of n items is drawn in each bootstrap resample,
    BLOCK rows at a time (the same draws as laying it out whole)."""
    per, step = block_rows(n), step_rows(n)

    def make() -> Iterator[np.ndarray]:
        rng = np.random.default_rng([seed, n])
        for i in range(0, N_BOOT, per):
            block = np.empty((min(per, N_BOOT - i), n))
            for j in range(0, len(block), step):
                rows = min(step, len(block) - j)
                draws = rng.integers(0, n, size=(rows, n)) + np.arange(rows)[:, None] * n
                block[j: j + rows] = np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n)
            yield block
    return _CACHE.blocks(("boot", n, seed), make, per)


def _by_block(n: int, seed: int, f) -> np.ndarray:
    """f applied to every block of resample counts, the results stacked as one matrix would give."""
    return np.concatenate([f(w) for w in resample_blocks(n, seed)])


def _interval(boot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column of a (resamples, statistics) matrix; resamples where a
    statistic is undefined (a zero denominator) are left out."""
    tail = (1 - LEVEL) / 2 * 100
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column undefined in every resample: NaN
        lo, hi = np.nanpercentile(boot, [tail, 100 - tail], axis=0) if np.isnan(boot).any() \
            else np.percentile(boot, [tail, 100 - tail], axis=0)
    return lo, hi


def means_ci(matrix, seed: int = 0) -> list[Estimate]:
    """Mean and CI of every row of a (measures x needs) matrix, from one set of resamples."""
    m = np.asarray(matrix, float)
    if m.ndim != 2 or m.shape[1] == 0:
        return [NAN for _ in range(len(m))]
    n = m.shape[1]
    means = m.mean(axis=1)
    if n < 2:
        return [Estimate(float(v), float(v), float(v), n) for v in means]
    lo, hi = _interval(_by_block(n, seed, lambda w: w @ m.T / n))
    constant = np.all(m == m[:, :1], axis=1)  # no spread to resample: the interval is the value
    return [Estimate(float(v), float(v if c else a), float(v if c else b), n)
            for v, a, b, c in zip(means, lo, hi, constant)]


def mean_ci(values, seed: int = 0) -> Estimate:
    return means_ci([values], seed)[0] if len(values) else NAN


def median_ci(values, seed: int = 0) -> Estimate:
    x = np.sort(np.asarray(values, float))
    n = len(x)
    if n == 0:
        return NAN
    value = float(np.median(x))
    if n < 2 or x[0] == x[-1]:
        return Estimate(value, value, value, n)
    # The k-th smallest of a resample is the first sorted value whose cumulative count exceeds k.
    def middle(w: np.ndarray) -> np.ndarray:
        cum = np.cumsum(w, axis=1)
        return (x[np.argmax(cum > (n - 1) // 2, axis=1)] + x[np.argmax(cum > n // 2, axis=1)]) / 2
    lo, hi = _interval(_by_block(n, seed, middle)[:, None])
    return Estimate(value, float(lo[0]), float(hi[0]), n)


def ratios_ci(num, den, seed: int = 0) -> list[Estimate]:
    """sum(num[i]) / sum(den[i]) for every row i of two (cells x needs) matrices, with a paired
    bootstrap over needs (one set of resamples for all rows)."""
    a, b = np.asarray(num, float), np.asarray(den, float)
    if a.ndim != 2 or a.shape[1] == 0:
        return [Estimate(float("nan"), float("nan"), float("nan"), a.shape[-1]) for _ in range(len(a))]
    n = a.shape[1]
    tot_a, tot_b = a.sum(axis=1), b.sum(axis=1)
    with np.errstate(all="ignore"):
        values = np.where(tot_b > 0, tot_a / np.where(tot_b > 0, tot_b, 1), np.nan)
        ra = _by_block(n, seed, lambda w: w @ a.T)
        rb = _by_block(n, seed, lambda w: w @ b.T)
        boot = np.where(rb > 0, ra / np.where(rb > 0, rb, 1), np.nan)
    lo, hi = _interval(boot) if n > 1 else (values, values)
    out = []
    for i in range(len(a)):
        if tot_b[i] == 0:
            out.append(Estimate(float("nan"), float("nan"), float("nan"), n))
        elif np.all(a[i] * tot_b[i] == b[i] * tot_a[i]):  # every need has the same ratio
            out.append(Estimate(float(values[i]), float(values[i]), float(values[i]), n))
        else:
            out.append(Estimate(float(values[i]), float(lo[i]), float(hi[i]), n))
    return out


def ratio_of_totals_ci(num, den, seed: int = 0) -> Estimate:
    """sum(num) / sum(den) with a paired bootstrap over needs."""
    return ratios_ci([num], [den], seed)[0]


def _sign_blocks(n: int, seed: int) -> tuple[Iterator[np.ndarray], bool]:
    """Sign flips for a paired randomisation test of n needs, BLOCK rows at a time: every one of
    the 2^n when that is no more than N_PERM (an exact test), else N_PERM random ones."""
    if 2 ** n <= N_PERM:
        return iter([np.array(list(itertools.product((1.0, -1.0), repeat=n)))]), True

    per, step = block_rows(n), step_rows(n)

    def make() -> Iterator[np.ndarray]:
        rng = np.random.default_rng([seed, n, 1])
        for i in range(0, N_PERM, per):
            block = np.empty((min(per, N_PERM - i), n))
            for j in range(0, len(block), step):
                block[j: j + step] = rng.choice((1.0, -1.0), size=(len(block[j: j + step]), n))
            yield block
    return _CACHE.blocks(("signs", n, seed), make, per), False


def paired_test(a, b, seed: int = 0) -> float:
    """Two-sided paired randomisation test of mean(a - b) = 0 (sign flips of the differences),
    with scipy.stats.permutation_test's conventions for p-values and ties."""
    d = np.asarray(a, float) - np.asarray(b, float)
    n = len(d)
    if n < 2 or np.allclose(d, 0):
        return 1.0
    blocks, exact = _sign_blocks(n, seed)
    null = np.concatenate([s @ d / n for s in blocks])
    observed = d.mean()
    gamma = np.abs(np.finfo(float).eps * observed) * 10  # ties within rounding count as ties
    adjust = 0 if exact else 1
    greater = (np.count_nonzero(null >= observed - gamma) + adjust) / (len(null) + adjust)
    less = (np.count_nonzero(null <= observed + gamma) + adjust) / (len(null) + adjust)
    return float(min(1.0, 2 * min(greater, less)))


def adjust(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg correction for the family of comparisons in one run."""
    if not pvalues:
        return []
    return [float(p) for p in stats.false_discovery_control(np.asarray(pvalues), method="bh")]
