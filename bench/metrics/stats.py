"""Confidence intervals and paired tests, from scipy, seeded so that reruns give the same numbers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

N_BOOT = 2000
N_PERM = 5000


@dataclass(frozen=True)
class Estimate:
    value: float
    lo: float
    hi: float
    n: int

    def as_dict(self) -> dict:
        return {"value": self.value, "lo": self.lo, "hi": self.hi, "n": self.n}


def _ci(data: tuple, statistic, seed: int, paired: bool = False) -> tuple[float, float]:
    n = len(data[0])
    if n < 2 or all(np.all(d == d[0]) for d in data):
        v = float(statistic(*data, axis=-1))
        return v, v
    with warnings.catch_warnings():  # near-degenerate samples (e.g. all but one need equal) are fine here
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(data, statistic, n_resamples=N_BOOT, confidence_level=0.95, method="percentile",
                              paired=paired, vectorized=True, rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def mean_ci(values, seed: int = 0) -> Estimate:
    x = np.asarray(values, float)
    if len(x) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = _ci((x,), np.mean, seed)
    return Estimate(float(np.mean(x)), lo, hi, len(x))  # statistic takes axis=-1 (vectorised)


def means_ci(matrix, seed: int = 0) -> list[Estimate]:
    """Mean and CI of every row of a (measures x needs) matrix in one bootstrap: the same needs
    are resampled for every measure, as they should be, at a fraction of the cost."""
    m = np.asarray(matrix, float)
    if m.ndim != 2 or m.shape[1] == 0:
        return [Estimate(float("nan"), float("nan"), float("nan"), 0) for _ in range(len(m))]
    means = m.mean(axis=1)
    if m.shape[1] < 2:
        return [Estimate(float(v), float(v), float(v), m.shape[1]) for v in means]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.bootstrap((m,), np.mean, n_resamples=N_BOOT, confidence_level=0.95, method="percentile",
                              axis=-1, vectorized=True, rng=np.random.default_rng(seed))
    lo, hi = res.confidence_interval.low, res.confidence_interval.high
    out = []
    for i, v in enumerate(means):
        constant = np.all(m[i] == m[i][0])
        out.append(Estimate(float(v), float(v if constant else lo[i]), float(v if constant else hi[i]), m.shape[1]))
    return out


def median_ci(values, seed: int = 0) -> Estimate:
    x = np.asarray(values, float)
    if len(x) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = _ci((x,), np.median, seed)
    return Estimate(float(np.median(x)), lo, hi, len(x))


def ratio_of_totals_ci(num, den, seed: int = 0) -> Estimate:
    """sum(num) / sum(den) with a paired bootstrap over needs."""
    a, b = np.asarray(num, float), np.asarray(den, float)
    if len(a) == 0 or b.sum() == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), len(a))
    def stat(x, y, axis=-1):
        den = y.sum(axis=axis)
        return np.where(den > 0, x.sum(axis=axis) / np.where(den > 0, den, 1), np.nan)
    lo, hi = _ci((a, b), stat, seed, paired=True)
    return Estimate(float(a.sum() / b.sum()), lo, hi, len(a))


def paired_test(a, b, seed: int = 0) -> float:
    """Two-sided paired randomisation test of mean(a - b) = 0 (sign flips of the differences)."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    if len(x) < 2 or np.allclose(x, y):
        return 1.0
    res = stats.permutation_test((x, y), lambda u, v, axis=-1: np.mean(u - v, axis=axis),
                                 permutation_type="samples", vectorized=True, n_resamples=N_PERM,
                                 alternative="two-sided", rng=np.random.default_rng(seed))
    return float(res.pvalue)


def adjust(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg correction for the family of comparisons in one run."""
    if not pvalues:
        return []
    return [float(p) for p in stats.false_discovery_control(np.asarray(pvalues), method="bh")]
