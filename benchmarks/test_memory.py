"""Memory against the number of needs (issue 21): a run writes its per-need rows to per_query.csv
as it measures them and aggregates from that file, and the statistics lay their resamples out in
blocks of at most stats.WORK_BYTES, so what the aggregation holds grows with the needs by a few
numbers each, not by a dict of thirty Python objects (about 4 KB) and a 1,000-row block (8 KB).

Measured with tracemalloc (Python's and numpy's allocations): the peak of reading the rows back
and aggregating them, over N and 4N needs. The resample matrices kept for reuse have their own
fixed budget (stats.CACHE_BYTES, held by tests/metrics/test_stats.py) and are off here, so that
what is measured is what grows with the needs. Peak RSS of whole runs, with the command, is in
benchmarks/measured/."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import numpy as np

from bench.metrics import stats
from bench.metrics.aggregate import aggregate
from bench.metrics.registry import PER_QUERY_COLUMNS
from bench.run.rows import read_rows

N = 2500
# What 3N more needs may add to the peak, per need (a row of numbers, and its share of the lists
# the statistics are computed from; 1.3 KB measured): half of one dict row (~4 KB).
PER_NEED_BYTES = 2048
KINDS = ("person", "vehicle", "location", "sar")


def _rows(path: Path, n: int, seed: int = 5) -> None:
    """n needs of one profile, numbers drawn as a run gives them (some undefined, some lost)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=PER_QUERY_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for i in range(n):
            volume = float(rng.integers(0, 400))
            relevant = float(rng.integers(1, 30))
            found = float(min(relevant, rng.integers(0, 30)))
            row = {c: float(rng.random()) for c in PER_QUERY_COLUMNS}
            row.update(profile="crimint", qid=f"q{i:06d}", kind=KINDS[i % len(KINDS)], purpose="identify",
                       error="", volume=volume, relevant=relevant, found=found, missed=relevant - found,
                       examined=float(rng.integers(0, 200)), searches=1.0, total=volume, inflation=1.0,
                       precision=found / volume if volume else "", esl=float(rng.integers(0, 9)) if found else "",
                       effort_r80="" if i % 3 else 12.0, effort_r95="" if i % 2 else 30.0,
                       lost_capabilities="phonetic;nickname" if i % 4 == 0 else "", missed_by_kind="")
            w.writerow(row)


def _peak(path: Path) -> int:
    tracemalloc.start()
    try:
        aggregate(read_rows(path), ["crimint"], "crimint", seed=0)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_aggregation_memory_does_not_grow_with_the_needs(tmp_path, monkeypatch):
    monkeypatch.setattr(stats, "_CACHE", stats._Compact(budget=0))
    small, large = tmp_path / "n.csv", tmp_path / "4n.csv"
    _rows(small, N)
    _rows(large, 4 * N)
    a, b = _peak(small), _peak(large)
    print(f"aggregation peak: {a / 2**20:.1f} MB over {N} needs, {b / 2**20:.1f} MB over {4 * N}; "
          f"{(b - a) / (3 * N):.0f} bytes per added need")
    assert b - a <= 3 * N * PER_NEED_BYTES, (a, b)
