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
from functools import lru_cache

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


@lru_cache(maxsize=16)
def resample_counts(n: int, seed: int) -> np.ndarray:
    """(N_BOOT, n) float matrix: how often each of n items is drawn in each bootstrap resample."""
    rng = np.random.default_rng([seed, n])
    draws = rng.integers(0, n, size=(N_BOOT, n)) + np.arange(N_BOOT)[:, None] * n
    out = np.bincount(draws.ravel(), minlength=N_BOOT * n).reshape(N_BOOT, n).astype(np.float64)
    out.flags.writeable = False
    return out


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
    lo, hi = _interval(resample_counts(n, seed) @ m.T / n)
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
    cum = np.cumsum(resample_counts(n, seed), axis=1)
    lower = x[np.argmax(cum > (n - 1) // 2, axis=1)]
    upper = x[np.argmax(cum > n // 2, axis=1)]
    lo, hi = _interval(((lower + upper) / 2)[:, None])
    return Estimate(value, float(lo[0]), float(hi[0]), n)


def ratios_ci(num, den, seed: int = 0) -> list[Estimate]:
    """sum(num[i]) / sum(den[i]) for every row i of two (cells x needs) matrices, with a paired
    bootstrap over needs (one set of resamples for all rows)."""
    a, b = np.asarray(num, float), np.asarray(den, float)
    if a.ndim != 2 or a.shape[1] == 0:
        return [Estimate(float("nan"), float("nan"), float("nan"), a.shape[-1]) for _ in range(len(a))]
    n = a.shape[1]
    tot_a, tot_b = a.sum(axis=1), b.sum(axis=1)
    w = resample_counts(n, seed)
    with np.errstate(all="ignore"):
        values = np.where(tot_b > 0, tot_a / np.where(tot_b > 0, tot_b, 1), np.nan)
        ra, rb = w @ a.T, w @ b.T
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


@lru_cache(maxsize=64)
def _signs(n: int, seed: int) -> tuple[np.ndarray, bool]:
    """Sign flips for a paired randomisation test of n needs: every one of the 2^n when that is
    no more than N_PERM (an exact test), else N_PERM random ones."""
    if 2 ** n <= N_PERM:
        return np.array(list(itertools.product((1.0, -1.0), repeat=n))), True
    rng = np.random.default_rng([seed, n, 1])
    return rng.choice((1.0, -1.0), size=(N_PERM, n)), False


def paired_test(a, b, seed: int = 0) -> float:
    """Two-sided paired randomisation test of mean(a - b) = 0 (sign flips of the differences),
    with scipy.stats.permutation_test's conventions for p-values and ties."""
    d = np.asarray(a, float) - np.asarray(b, float)
    n = len(d)
    if n < 2 or np.allclose(d, 0):
        return 1.0
    signs, exact = _signs(n, seed)
    null = signs @ d / n
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
